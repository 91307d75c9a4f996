import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPools, dispatcherSuffix } from './pools.js';
test('dispatchers are interned by settings; TLS settings count only for TLS backends', () => {
    const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
    const a = pools.dispatch('HTTPS');
    assert.equal(pools.dispatch('HTTPS'), a, 'same settings, same dispatcher');
    assert.notEqual(pools.dispatch('HTTPS', { servername: 'x.internal' }), a);
    assert.notEqual(pools.dispatch('HTTPS', { material: { id: 'v1' } }), a);
    const plain = pools.dispatch('HTTP');
    assert.equal(pools.dispatch('HTTP', { servername: 'x.internal', verify: true }), plain);
    assert.notEqual(pools.dispatch('HTTP', { connectTimeout: 5000 }), plain, 'a connect timeout is a setting of every protocol');
    assert.equal(dispatcherSuffix('HTTP', { connectTimeout: 5000, verify: true }), ' t=5000');
    assert.equal(dispatcherSuffix('HTTPS', { connectTimeout: 5000, servername: 's', verify: true, material: { id: 'v1' } }), ' t=5000 sni=s verify tls=v1');
    // one pool per endpoint of a dispatcher
    assert.equal(pools.get(a, '10.0.0.1', 443), pools.get(a, '10.0.0.1', 443));
    assert.notEqual(pools.get(a, '10.0.0.1', 443), pools.get(a, '10.0.0.2', 443));
    assert.equal(pools.size(), 2);
    void pools.close();
});
test('retain closes the pools of endpoints gone and of settings no route uses any more (a rotated secret)', () => {
    const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
    const v1 = pools.dispatch('HTTPS', { material: { id: 'v1' } });
    const v2 = pools.dispatch('HTTPS', { material: { id: 'v2' } });
    const plain = pools.dispatch('HTTPS');
    const gone = pools.get(v1, '10.0.0.1', 443);
    const kept = pools.get(v2, '10.0.0.1', 443);
    pools.get(plain, '10.0.0.1', 443);
    pools.get(plain, '10.0.0.9', 443);
    assert.equal(pools.size(), 4);
    pools.retain(new Map([[v2, new Set(['10.0.0.1:443'])], [plain, new Set(['10.0.0.1:443'])]]));
    assert.equal(pools.size(), 2, 'kept: v2 and the plain one on the live endpoint');
    assert.equal(pools.get(v2, '10.0.0.1', 443), kept, 'the v2 pool was kept, not recreated');
    assert.notEqual(pools.dispatch('HTTPS', { material: { id: 'v1' } }), v1, 'the unused v1 dispatcher was forgotten: a new one is interned');
    assert.notEqual(pools.get(pools.dispatch('HTTPS', { material: { id: 'v1' } }), '10.0.0.1', 443), gone);
    // a dispatcher a live route still uses, with no endpoint right now, stays interned
    pools.retain(new Map([[v2, new Set()]]));
    assert.equal(pools.dispatch('HTTPS', { material: { id: 'v2' } }), v2);
    void pools.close();
});
//# sourceMappingURL=pools.test.js.map