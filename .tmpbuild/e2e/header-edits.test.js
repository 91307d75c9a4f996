/**
 * Header edits without executing configuration, against the real binary with pods on loopback
 * (127.0.192.x-127.0.193.x): snippet directives on the response and on the request the pod sees
 * (more_set_headers -s, add_header with and without always, more_clear_headers,
 * proxy_hide_header, more_*_input_headers, proxy_set_header with variables), server-snippet for a
 * whole host, custom-headers, --add-headers and --proxy-set-headers, and enable-access-log.
 */
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { refusedPort } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
import { echoOf, startStatusPod } from './lib/status-pod.js';
const N = 'nginx.ingress.kubernetes.io/';
const configMap = (name, data) => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data });
const SNIPPET = `
# response
more_set_headers "X-Frame-Options: DENY";
more_set_headers -s 404 "X-Not-Found: yes";
add_header X-Only-Ok "ok";
add_header X-Always "always" always;
more_clear_headers Server;
proxy_hide_header X-Upstream-Secret;
# request
more_set_input_headers "X-From-Query: $arg_id";
more_clear_input_headers X-Remove-Me;
proxy_set_header X-Tenant "$host";
proxy_set_header X-Req "$request_id";
`;
describe('snippets, custom-headers and enable-access-log', () => {
    let app;
    let p;
    before(async () => {
        app = await startStatusPod('127.0.192.1', 'app');
        const dead = await refusedPort('127.0.192.2');
        p = await startPortico({
            'a.yaml': join(ingressYaml('snip', [{ host: 'snip.test', paths: [{ path: '/', service: 'app' }, { path: '/down', service: 'down' }] }], {}, { [`${N}configuration-snippet`]: SNIPPET }), ingressYaml('other', [{ host: 'snip.test', paths: [{ path: '/other', service: 'app' }] }], {}, { [`${N}server-snippet`]: 'more_set_headers "X-Server-Wide: 1";' }), ingressYaml('custom', [{ host: 'custom.test', paths: [{ path: '/', service: 'app' }] }], {}, { [`${N}custom-headers`]: 'default/custom-headers' }), ingressYaml('custom-missing', [{ host: 'custom-missing.test', paths: [{ path: '/', service: 'app' }] }], {}, { [`${N}custom-headers`]: 'default/no-such-configmap' }), ingressYaml('quiet', [{ host: 'quiet.test', paths: [{ path: '/', service: 'app' }] }], {}, { [`${N}enable-access-log`]: 'false' }), ingressYaml('loud', [{ host: 'loud.test', paths: [{ path: '/', service: 'app' }] }]), serviceYaml('app', [app]), serviceYaml('down', [{ ip: '127.0.192.2', port: dead }])),
            'custom-headers.yaml': configMap('custom-headers', { 'My-Custom-Header': '42', 'My-Custom-Header-Dollar': '$remote_addr' }),
        });
    });
    after(async () => {
        await p.stop();
        await app.close();
    });
    test('configuration-snippet: response headers of a 200, and the request the pod sees', async () => {
        const r = await get(p.httpPort, '/page?id=7', { host: 'snip.test', headers: { 'x-remove-me': 'secret', 'x-request-id': 'req-1' } });
        assert.equal(r.status, 200);
        const h = r.headers;
        assert.deepEqual([h['x-frame-options'], h['x-not-found'], h['x-only-ok'], h['x-always'], h.server, h['x-upstream-secret'], h['x-powered-by']], ['DENY', undefined, 'ok', 'always', undefined, undefined, 'test-framework']);
        assert.equal(h['x-server-wide'], '1', 'the host\'s server-snippet applies to every route of the host');
        const seen = echoOf(r.body).headers;
        assert.deepEqual([seen['x-from-query'], seen['x-remove-me'], seen['x-tenant'], seen['x-req'], seen['x-request-id']], ['7', undefined, 'snip.test', 'req-1', 'req-1']);
    });
    test('the same over HTTP/2', async () => {
        const s = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: 'snip.test', rejectUnauthorized: false });
        try {
            const h = await new Promise((resolve, reject) => {
                const r = s.request({ ':path': '/status/404', ':authority': 'snip.test' });
                r.on('response', (headers) => {
                    r.resume();
                    resolve(headers);
                });
                r.on('error', reject);
                r.end();
            });
            assert.deepEqual([h[':status'], h['x-frame-options'], h['x-not-found'], h['x-always'], h['x-only-ok'], h.server, h['x-upstream-secret']], [404, 'DENY', 'yes', 'always', undefined, undefined, undefined]);
        }
        finally {
            s.destroy();
        }
    });
    test('more_set_headers -s 404 and add_header without always follow the status', async () => {
        const r = await get(p.httpPort, '/status/404', { host: 'snip.test' });
        assert.equal(r.status, 404);
        assert.deepEqual([r.headers['x-not-found'], r.headers['x-always'], r.headers['x-only-ok'], r.headers['x-frame-options']], ['yes', 'always', undefined, 'DENY']);
    });
    test('a generated request id is the one the variable gives and the pod gets', async () => {
        const seen = echoOf((await get(p.httpPort, '/', { host: 'snip.test' })).body).headers;
        assert.match(String(seen['x-req']), /^[0-9a-f]{32}$/);
        assert.equal(seen['x-req'], seen['x-request-id']);
    });
    test('Portico\'s own answers get the response edits too (not proxy_hide_header: nothing to hide)', async () => {
        const r = await get(p.httpPort, '/down', { host: 'snip.test' });
        assert.equal(r.status, 502);
        assert.deepEqual([r.headers['x-frame-options'], r.headers['x-always'], r.headers['x-only-ok'], r.headers.server], ['DENY', 'always', undefined, undefined]);
    });
    test('server-snippet: another Ingress\'s route on the host gets it; not the snippet of the first', async () => {
        const r = await get(p.httpPort, '/other', { host: 'snip.test' });
        assert.deepEqual([r.headers['x-server-wide'], r.headers['x-frame-options']], ['1', undefined]);
    });
    test('custom-headers: the ConfigMap\'s headers, values literal; a missing ConfigMap is 503', async () => {
        const r = await get(p.httpPort, '/', { host: 'custom.test' });
        assert.equal(r.status, 200);
        assert.deepEqual([r.headers['my-custom-header'], r.headers['my-custom-header-dollar']], ['42', '$remote_addr']);
        const missing = await get(p.httpPort, '/', { host: 'custom-missing.test' });
        assert.equal(missing.status, 503);
        assert.match(missing.body, /custom-headers has an invalid value/);
    });
    test('a changed ConfigMap is followed', async () => {
        p.write('custom-headers.yaml', configMap('custom-headers', { 'My-Custom-Header': '43' }));
        await eventually(async () => (await get(p.httpPort, '/', { host: 'custom.test' })).headers['my-custom-header'] === '43', { what: 'the new header value' });
    });
    test('enable-access-log: "false": no log line for the Ingress\'s requests, which metrics still count', async () => {
        await get(p.httpPort, '/quiet-path', { host: 'quiet.test' });
        await get(p.httpPort, '/loud-path', { host: 'loud.test' });
        await p.waitForLog((l) => l.msg === 'request' && l.path === '/loud-path');
        assert.equal(p.logs.filter((l) => l.msg === 'request' && l.path === '/quiet-path').length, 0);
        assert.match((await get(p.adminPort, '/metrics')).body, /portico_requests_total\{namespace="default",ingress="quiet",service="app",host="quiet.test",method="GET",status="200"\} 1/);
    });
});
describe('--add-headers and --proxy-set-headers', () => {
    let app;
    let p;
    before(async () => {
        app = await startStatusPod('127.0.193.1', 'app');
        p = await startPortico({
            'a.yaml': join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'app' }] }]), configMap('add-headers', { 'X-First': 'Prepare for trouble!', 'X-Second': 'And make it double!', 'X-Scheme': '$scheme' }), configMap('proxy-headers', { 'X-Via-Portico': '$host$request_uri', 'User-Agent': '' }), serviceYaml('app', [app])),
        }, ['--add-headers', 'default/add-headers', '--proxy-set-headers', 'default/proxy-headers']);
    });
    after(async () => {
        await p.stop();
        await app.close();
    });
    test('every response gets --add-headers (variables expanded), every pod --proxy-set-headers', async () => {
        const r = await get(p.httpPort, '/x?y=1', { host: 'site.test', headers: { 'user-agent': 'curl/8' } });
        assert.deepEqual([r.headers['x-first'], r.headers['x-second'], r.headers['x-scheme']], ['Prepare for trouble!', 'And make it double!', 'http']);
        const seen = echoOf(r.body).headers;
        assert.equal(seen['x-via-portico'], 'site.test/x?y=1');
        assert.equal(seen['user-agent'], undefined, 'an empty value: the header is not sent');
    });
    test('the built-in 404 has no route, hence no headers; a route\'s own 404 has them', async () => {
        assert.equal((await get(p.httpPort, '/', { host: 'nowhere.test' })).headers['x-first'], undefined);
        const r = await get(p.httpPort, '/status/404', { host: 'site.test' });
        assert.deepEqual([r.status, r.headers['x-first']], [404, 'Prepare for trouble!']);
    });
});
//# sourceMappingURL=header-edits.test.js.map