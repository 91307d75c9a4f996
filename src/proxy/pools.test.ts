import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createPools, dispatcherSuffix, poolKey } from './pools.js';

test('dispatchers are per endpoint and settings; TLS settings count only for TLS backends', () => {
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  const a = pools.get('10.0.0.1', 443, 'HTTPS');
  assert.equal(pools.get('10.0.0.1', 443, 'HTTPS'), a, 'same settings, same dispatcher');
  assert.notEqual(pools.get('10.0.0.1', 443, 'HTTPS', { servername: 'x.internal' }), a);
  assert.notEqual(pools.get('10.0.0.1', 443, 'HTTPS', { material: { id: 'v1' } }), a);
  const plain = pools.get('10.0.0.2', 80, 'HTTP');
  assert.equal(pools.get('10.0.0.2', 80, 'HTTP', { servername: 'x.internal', verify: true }), plain);
  assert.equal(dispatcherSuffix('HTTP', { connectTimeout: 5000, verify: true }), ' t=5000');
  assert.equal(dispatcherSuffix('HTTPS', { connectTimeout: 5000, servername: 's', verify: true, material: { id: 'v1' } }), ' t=5000 sni=s verify tls=v1');
  void pools.close();
});

test('retain closes dispatchers of endpoints gone and of settings no route uses any more (a rotated secret)', () => {
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  pools.get('10.0.0.1', 443, 'HTTPS', { material: { id: 'v1' } });
  pools.get('10.0.0.1', 443, 'HTTPS', { material: { id: 'v2' } });
  pools.get('10.0.0.1', 443, 'HTTPS');
  pools.get('10.0.0.9', 443, 'HTTPS');
  assert.equal(pools.size(), 4);
  const live = new Set([poolKey('HTTPS', '10.0.0.1', 443)]);
  pools.retain(live, new Set(['', dispatcherSuffix('HTTPS', { material: { id: 'v2' } })]));
  assert.equal(pools.size(), 2, 'kept: v2 and the plain one on the live endpoint');
  const again = pools.get('10.0.0.1', 443, 'HTTPS', { material: { id: 'v2' } });
  assert.equal(pools.size(), 2, 'the v2 dispatcher was the one kept');
  assert.ok(again);
  void pools.close();
});
