/**
 * The real portico process against pods on loopback addresses: what the pods receive and what
 * clients get back, including every local error answer.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { refusedPort, startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
describe('proxying to pods', () => {
    let p;
    let echo;
    const special = {};
    const ring = [];
    let refused;
    before(async () => {
        echo = await startPod('127.0.20.1', 'echo');
        for (const b of ['reset', 'hang', 'fixed-length', 'chunked', 'hop-headers']) {
            const pod = await startPod(`127.0.20.${Object.keys(special).length + 2}`, b);
            pod.behaviour = b;
            special[b] = pod;
        }
        for (let i = 1; i <= 10; i++)
            ring.push(await startPod(`127.0.21.${i}`, `ring-${i}`));
        refused = await refusedPort('127.0.22.1');
        const retryLive = await startPod('127.0.22.2', 'retry-live');
        ring.push(retryLive); // closed in after()
        const paths = [
            { path: '/echo', service: 'echo' },
            { path: '/exact', pathType: 'Exact', service: 'echo' },
            ...Object.keys(special).map((b) => ({ path: `/${b}`, service: b })),
            { path: '/ring', service: 'ring' },
            { path: '/empty', service: 'empty' },
            { path: '/missing', service: 'missing' },
            { path: '/refused', service: 'refused' },
            { path: '/retry', service: 'retry' },
        ];
        const docs = [
            ingressYaml('main', [{ host: 'app.test', paths }]),
            ingressYaml('vhost', [{ host: 'vhost.test', paths: [{ path: '/echo', service: 'echo' }] }], {}, { 'nginx.ingress.kubernetes.io/upstream-vhost': 'api.example.com:8443' }),
            serviceYaml('echo', [echo]),
            ...Object.entries(special).map(([b, pod]) => serviceYaml(b, [pod])),
            serviceYaml('ring', ring.slice(0, 10)),
            serviceYaml('empty', []),
            serviceYaml('refused', [{ ip: '127.0.22.1', port: refused }]),
            serviceYaml('retry', [{ ip: '127.0.22.1', port: refused }, retryLive]),
        ];
        p = await startPortico({ 'app.yaml': join(...docs) }, ['--proxy-read-timeout', '400ms', '--proxy-body-size', '8m']);
    });
    after(async () => {
        await p.stop();
        await Promise.all([echo, ...Object.values(special), ...ring].map((x) => x.close()));
    });
    test('method, path, query, Host, User-Agent and body reach the pod unchanged over HTTP/1.1', async () => {
        const r = await get(p.httpPort, '/echo/a/b?x=1&y=%20z', { host: 'App.Test:8080', method: 'PATCH', headers: { 'user-agent': 'test-agent/1.0', 'content-type': 'text/plain' }, body: 'hello body' });
        assert.equal(r.status, 200);
        const seen = echo.seen.at(-1);
        assert.equal(seen.method, 'PATCH');
        assert.equal(seen.url, '/echo/a/b?x=1&y=%20z');
        assert.equal(seen.headers.host, 'App.Test:8080');
        assert.equal(seen.headers['user-agent'], 'test-agent/1.0');
        assert.equal(seen.body.toString(), 'hello body');
        assert.equal(seen.httpVersion, '1.1');
    });
    test('X-Forwarded-*, X-Real-IP and a generated X-Request-ID are set; client-sent forwarding headers are replaced', async () => {
        await get(p.httpPort, '/echo', { host: 'app.test', headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-host': 'evil', 'x-real-ip': '6.6.6.6' } });
        const h = echo.seen.at(-1).headers;
        assert.equal(h['x-forwarded-for'], '127.0.0.1');
        assert.equal(h['x-real-ip'], '127.0.0.1');
        assert.equal(h['x-forwarded-proto'], 'http');
        assert.equal(h['x-forwarded-host'], 'app.test');
        assert.equal(h['x-forwarded-port'], String(p.httpPort));
        assert.match(String(h['x-request-id']), /^[0-9a-f]{32}$/);
    });
    test('upstream-vhost replaces the Host header sent to the pod; X-Forwarded-Host keeps the original', async () => {
        assert.equal((await get(p.httpPort, '/echo', { host: 'vhost.test' })).status, 200);
        const h = echo.seen.at(-1).headers;
        assert.equal(h.host, 'api.example.com:8443');
        assert.equal(h['x-forwarded-host'], 'vhost.test');
    });
    test('an incoming X-Request-ID is kept', async () => {
        await get(p.httpPort, '/echo', { host: 'app.test', headers: { 'x-request-id': 'abc-123' } });
        assert.equal(echo.seen.at(-1).headers['x-request-id'], 'abc-123');
    });
    test('hop-by-hop and Connection-listed request headers are stripped', async () => {
        await get(p.httpPort, '/echo', { host: 'app.test', agent: false, headers: { connection: 'keep-alive, x-private', 'x-private': 'no', 'keep-alive': 'timeout=1', te: 'trailers', 'proxy-connection': 'keep-alive', 'x-public': 'yes' } });
        const h = echo.seen.at(-1).headers;
        assert.equal(h['x-private'], undefined);
        assert.equal(h.te, undefined);
        assert.equal(h['proxy-connection'], undefined);
        assert.equal(h['x-public'], 'yes');
    });
    test('hop-by-hop response headers are stripped and Server is portico', async () => {
        const r = await get(p.httpPort, '/hop-headers', { host: 'app.test' });
        assert.equal(r.status, 200);
        assert.equal(r.headers['x-hop'], undefined);
        assert.equal(r.headers['x-kept'], 'yes');
        assert.equal(r.headers.server, 'portico');
        assert.equal(r.rawHeaders.filter((h) => h.toLowerCase() === 'server').length, 1);
    });
    test('an upstream Content-Length is kept (the response is not re-chunked)', async () => {
        const r = await get(p.httpPort, '/fixed-length', { host: 'app.test' });
        assert.equal(r.headers['content-length'], '100000');
        assert.equal(r.headers['transfer-encoding'], undefined);
        assert.equal(r.body.length, 100_000);
    });
    test('a chunked upstream response streams through', async () => {
        const r = await get(p.httpPort, '/chunked', { host: 'app.test' });
        assert.equal(r.headers['transfer-encoding'], 'chunked');
        assert.equal(r.body, 'part1,part2');
    });
    test('a 5 MB request body streams to the pod intact', async () => {
        const body = Buffer.alloc(5 * 1024 * 1024);
        for (let i = 0; i < body.length; i++)
            body[i] = i % 251;
        const r = await get(p.httpPort, '/echo/upload', { host: 'app.test', method: 'POST', body });
        assert.equal(r.status, 200);
        assert.equal(JSON.parse(r.body).bodyLength, body.length);
        assert.ok(echo.seen.at(-1).body.equals(body));
    });
    test('no matching rule: the built-in 404 page', async () => {
        const r = await get(p.httpPort, '/nothing-here', { host: 'app.test' });
        assert.equal(r.status, 404);
        assert.match(r.body, /No Ingress rule matches/);
        assert.equal(r.headers.server, 'portico');
        const other = await get(p.httpPort, '/echo', { host: 'other.test' });
        assert.equal(other.status, 404);
    });
    test('Exact paths do not match a trailing slash', async () => {
        assert.equal((await get(p.httpPort, '/exact', { host: 'app.test' })).status, 200);
        assert.equal((await get(p.httpPort, '/exact/', { host: 'app.test' })).status, 404);
    });
    test('a request target with a bad escape is a 400', async () => {
        const r = await get(p.httpPort, '/echo/%zz', { host: 'app.test' });
        assert.equal(r.status, 400);
    });
    test('a malformed request line gets a 400 and the connection is closed', async () => {
        const reply = await new Promise((resolve) => {
            const s = connect(p.httpPort, '127.0.0.1', () => s.write('GARBAGE / HTTP/9\r\n\r\n'));
            let data = '';
            s.on('data', (d) => (data += d.toString()));
            s.on('close', () => resolve(data));
        });
        assert.match(reply, /^HTTP\/1\.1 400/);
    });
    test('a Service with no endpoints: 503 naming the cause', async () => {
        const r = await get(p.httpPort, '/empty', { host: 'app.test' });
        assert.equal(r.status, 503);
        assert.match(r.body, /no ready endpoints/);
    });
    test('a missing Service: 503, and the rest keeps routing', async () => {
        assert.equal((await get(p.httpPort, '/missing', { host: 'app.test' })).status, 503);
        assert.equal((await get(p.httpPort, '/echo', { host: 'app.test' })).status, 200);
    });
    test('a pod that refuses connections: 502 naming the cause', async () => {
        const r = await get(p.httpPort, '/refused', { host: 'app.test' });
        assert.equal(r.status, 502);
        assert.match(r.body, /refused the connection/);
    });
    test('a pod that resets the connection: 502', async () => {
        const r = await get(p.httpPort, '/reset', { host: 'app.test' });
        assert.equal(r.status, 502);
        assert.match(r.body, /reset|closed/);
    });
    test('a pod that does not answer within --proxy-read-timeout: 504', async () => {
        const r = await get(p.httpPort, '/hang', { host: 'app.test' });
        assert.equal(r.status, 504);
        assert.match(r.body, /timed out/);
    });
    test('a request that never reached a pod (connection refused) is retried on another endpoint', async () => {
        for (let i = 0; i < 20; i++) {
            const r = await get(p.httpPort, '/retry', { host: 'app.test', method: 'POST', body: `n=${i}` });
            assert.equal(r.status, 200, `request ${i}`);
            assert.equal(JSON.parse(r.body).pod, 'retry-live');
        }
    });
    test('round-robin over 10 endpoints reaches every one within 100 requests, evenly', async () => {
        const counts = new Map();
        for (let i = 0; i < 100; i++) {
            const r = await get(p.httpPort, '/ring', { host: 'app.test' });
            assert.equal(r.status, 200);
            const pod = JSON.parse(r.body).pod;
            counts.set(pod, (counts.get(pod) ?? 0) + 1);
        }
        assert.equal(counts.size, 10);
        for (const [pod, n] of counts)
            assert.equal(n, 10, `${pod} got ${n}`);
    });
    test('every request gets one access-log line with host, status, upstream, duration, bytes and request id', async () => {
        await get(p.httpPort, '/echo/logged', { host: 'app.test', headers: { 'x-request-id': 'log-me-1' } });
        const line = await p.waitForLog((l) => l.msg === 'request' && l.request_id === 'log-me-1');
        assert.equal(line.host, 'app.test');
        assert.equal(line.method, 'GET');
        assert.equal(line.path, '/echo/logged');
        assert.equal(line.status, 200);
        assert.equal(line.upstream, `${echo.ip}:${echo.port}`);
        assert.equal(line.ingress, 'main');
        assert.equal(line.service, 'echo');
        assert.ok(typeof line.duration_ms === 'number' && line.duration_ms >= 0);
        assert.ok(typeof line.bytes === 'number' && line.bytes > 0);
    });
});
//# sourceMappingURL=proxy.test.js.map