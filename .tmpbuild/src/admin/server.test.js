import assert from 'node:assert/strict';
import { once } from 'node:events';
import { get as httpGet } from 'node:http';
import { networkInterfaces } from 'node:os';
import { after, describe, test } from 'node:test';
import { EMPTY_TABLE } from '../model/types.js';
import { createAdminServer, debugRefusal } from './server.js';
const view = {
    ready: () => true,
    table: () => EMPTY_TABLE,
    diagnostics: () => [],
    gateways: () => undefined,
    endpointViews: async () => () => ({ requests: 0, errors: 0, recentErrors: 0, consecutiveErrors: 0, lastError: null, lastErrorAt: null, ejected: false, ejectedUntil: null }),
    metrics: { contentType: 'text/plain', text: async () => 'portico_up 1\n' },
};
/** This host's first address that is not loopback (the peer a Service or another pod would be), if it has one. */
const outside = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
function get(address, port, path) {
    return new Promise((resolve, reject) => {
        // the request leaves from the address it goes to, so the peer address is `address` itself
        const req = httpGet({ host: address, port, path, localAddress: address }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
    });
}
const servers = [];
after(() => servers.forEach((s) => s.close()));
async function serve(debugEndpoints, host) {
    const s = createAdminServer(view, { debugEndpoints });
    servers.push(s);
    s.listen(0, host);
    await once(s, 'listening');
    return s.address().port;
}
test('debugRefusal: local serves loopback peers only (IPv4, IPv6, IPv4-mapped); all serves everyone; off nobody', () => {
    const loopback = ['127.0.0.1', '127.12.0.9', '::1', '::ffff:127.0.0.1'];
    const others = ['10.1.2.3', '192.0.2.2', '::ffff:10.1.2.3', 'fd00::2', '::', '0.0.0.0', '128.0.0.1', undefined];
    for (const peer of loopback)
        assert.equal(debugRefusal('local', peer), null, peer);
    for (const peer of others) {
        const r = debugRefusal('local', peer);
        assert.equal(r?.status, 403, peer);
        assert.match(r.body, /^forbidden: .*--debug-endpoints=local.*--debug-endpoints=all.*\n$/);
        assert.equal(r.body.trim().split('\n').length, 1);
    }
    for (const peer of [...loopback, ...others]) {
        assert.equal(debugRefusal('all', peer), null);
        assert.equal(debugRefusal('off', peer)?.status, 404);
    }
});
describe('the admin port over real sockets', () => {
    test('local: /debug/* for loopback peers; 403 naming the flag for others; /metrics, /healthz, /readyz for all', { skip: outside === undefined && 'no non-loopback address on this host' }, async () => {
        const port = await serve('local', '0.0.0.0');
        for (const path of ['/debug/routes', '/debug/backends'])
            assert.equal((await get('127.0.0.1', port, path)).status, 200, path);
        for (const path of ['/debug/routes', '/debug/backends', '/debug/anything']) {
            const r = await get(outside, port, path);
            assert.equal(r.status, 403, path);
            assert.match(r.body, new RegExp(`--debug-endpoints=local; this peer is ${outside.replace(/\./g, '\\.')};`));
        }
        for (const path of ['/metrics', '/healthz', '/readyz'])
            assert.equal((await get(outside, port, path)).status, 200, path);
    });
    test('local on a dual-stack socket: an IPv4-mapped loopback peer is loopback, a mapped outside peer is not', { skip: outside === undefined && 'no non-loopback address on this host' }, async () => {
        const port = await serve('local', '::');
        assert.equal((await get('127.0.0.1', port, '/debug/routes')).status, 200);
        assert.equal((await get('::1', port, '/debug/routes')).status, 200);
        const r = await get(outside, port, '/debug/routes');
        assert.equal(r.status, 403);
        assert.match(r.body, /this peer is ::ffff:/);
    });
    test('all serves /debug/* to any peer', { skip: outside === undefined && 'no non-loopback address on this host' }, async () => {
        const port = await serve('all', '0.0.0.0');
        assert.equal((await get(outside, port, '/debug/routes')).status, 200);
    });
    test('off: 404 for /debug/* even on loopback, and the 404 page no longer offers them; /metrics stays', async () => {
        const port = await serve('off', '127.0.0.1');
        for (const path of ['/debug/routes', '/debug/backends']) {
            const r = await get('127.0.0.1', port, path);
            assert.equal(r.status, 404);
            assert.match(r.body, /--debug-endpoints=off/);
        }
        assert.doesNotMatch((await get('127.0.0.1', port, '/nope')).body, /debug/);
        assert.equal((await get('127.0.0.1', port, '/metrics')).status, 200);
    });
});
//# sourceMappingURL=server.test.js.map