import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import { test } from 'node:test';
import { printTable, routeRows } from '../model/print.js';
import { backendsText, printView, routesText } from './print.js';
const ing = (name) => ({ kind: 'Ingress', namespace: 'ns', name });
const route = (host, path, match, backend, source, redirect = false, settings = {}) => ({ host, path, match, source, policies: redirect ? [{ kind: 'httpsRedirect' }] : [], backends: [{ backend, weight: 1 }], settings });
const table = {
    routes: [
        route('', '/', 'Prefix', 'ns/any:80', ing('catch')),
        route('a.test', '/up', 'Prefix', 'ns/s:80', ing('ing'), true, { bodySize: 1024, readTimeout: 5000 }),
        route('a.test', '/x (odd) -> y', 'Exact', 'ns/s:80', ing('ing')),
    ],
    hostFallbacks: new Map([['a.test', route('a.test', '', 'Prefix', 'ns/fb:80', ing('ing'))]]),
    defaultBackend: route('', '', 'Prefix', 'sys/default:80', { kind: 'DefaultBackend', namespace: 'sys', name: 'default' }),
    backends: new Map(),
    certs: new Map(),
};
test('/debug/routes rows: hosts sorted, routes then the host fallback, the default backend last', () => {
    assert.deepEqual(routeRows(table).map((r) => [r.host, r.match, r.path, r.backend, r.ingress, r.redirect]), [
        ['*', 'Prefix', '/', 'ns/any:80', 'ns/catch', false],
        ['a.test', 'Prefix', '/up', 'ns/s:80', 'ns/ing', true],
        ['a.test', 'Exact', '/x (odd) -> y', 'ns/s:80', 'ns/ing', false],
        ['a.test', 'default', '*', 'ns/fb:80', 'ns/ing', false],
        ['(any)', 'default', '*', 'sys/default:80', '--default-backend-service', false],
    ]);
});
test('portico routes prints a column per field, whatever the path holds, with redirects and per-Ingress limits', () => {
    const text = routesText({ rows: routeRows(table), diagnostics: ['Ingress ns/ing: NoEndpoints: x'] });
    assert.match(text, /^HOST\s+MATCH\s+PATH\s+BACKEND\s+INGRESS$/m);
    assert.match(text, /^a\.test\s+Prefix\s+\/up\s+ns\/s:80\s+ns\/ing \(redirects to https\) \{bodySize=1024 readTimeout=5000\}$/m);
    assert.match(text, /^a\.test\s+Exact\s+\/x \(odd\) -> y\s+ns\/s:80\s+ns\/ing$/m);
    assert.match(text, /^\(any\)\s+default\s+\*\s+sys\/default:80\s+--default-backend-service$/m);
    assert.match(text, /\nDiagnostics:\n {2}Ingress ns\/ing: NoEndpoints: x\n$/);
});
test('portico backends names an ExternalName next to its backend', () => {
    const text = backendsText({
        backends: [
            { id: 'ns/ext:80', externalName: 'api.example.com', endpoints: [{ address: '10.1.0.1:80', terminating: false, requests: 3, errors: 0, recentErrors: 0, lastError: null }] },
            { id: 'ns/web:80', endpoints: [] },
        ],
    });
    assert.match(text, /^ns\/ext:80 \(api\.example\.com\)\s+10\.1\.0\.1:80\s+ready\s+3\s+0\s+0$/m);
    assert.match(text, /^ns\/web:80\s+\(none\)$/m);
});
test('/debug/routes never carries proxy-ssl-secret key material, only what it holds and its id', () => {
    const withSecret = {
        ...table,
        routes: [{ ...table.routes[1], settings: { sslSecret: 'ns/backend-tls' } }],
        upstreamTls: new Map([['ns/backend-tls', { id: 'abcdef0123456789', caPem: '-----BEGIN CERTIFICATE-----\nCA\n', certPem: '-----BEGIN CERTIFICATE-----\nC\n', keyPem: '-----BEGIN PRIVATE KEY-----\nK\n' }]]),
    };
    const view = JSON.stringify({ ...printTable(withSecret), rows: routeRows(withSecret) });
    assert.doesNotMatch(view, /BEGIN/);
    assert.match(view, /"ns\/backend-tls":"trusted CAs \+ client certificate \(id abcdef012345\)"/);
    assert.match(view, /"sslSecret":"ns\/backend-tls"/);
});
test('/debug/routes never carries client-certificate CAs, only their Secret and id', () => {
    const withCa = {
        ...table,
        routes: [{ ...table.routes[1], policies: [{ kind: 'clientCert', secret: 'ns/client-ca', ca: 'fedcba9876543210', verify: 'on', depth: 1, passCertificate: true, matchCn: 'CN=alice' }] }],
        clientAuth: new Map([['a.test', { host: 'a.test', secret: 'ns/client-ca', id: 'fedcba9876543210', caPem: '-----BEGIN CERTIFICATE-----\nCA\n', crlPem: '-----BEGIN X509 CRL-----\nL\n', request: true, source: { kind: 'Ingress', namespace: 'ns', name: 'ing' } }]]),
    };
    const view = JSON.stringify({ ...printTable(withCa), rows: routeRows(withCa) });
    assert.doesNotMatch(view, /BEGIN/);
    assert.match(view, /"a\.test":"ns\/client-ca \(CAs and CRLs, id fedcba987654\)"/);
    assert.match(view, /client certificate on, CA ns\/client-ca \(id fedcba987654\), depth 1, match CN=alice, pass certificate/);
});
test('portico routes with nothing on the admin port asks whether Portico is running there, and says why', async () => {
    const s = createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const { port } = s.address();
    await new Promise((r) => s.close(r)); // the port is free now: nothing answers
    const url = `http://127.0.0.1:${port}`;
    await assert.rejects(printView('routes', url), (err) => err.message === `is Portico running on ${url}? (connect ECONNREFUSED 127.0.0.1:${port})`);
});
test('an admin port that refuses the view: the status and its one-line reason', async () => {
    const s = createServer((_, res) => res.writeHead(403).end('forbidden: loopback only (--debug-endpoints=local)\n')).listen(0, '127.0.0.1');
    await once(s, 'listening');
    const url = `http://127.0.0.1:${s.address().port}`;
    await assert.rejects(printView('backends', url), (err) => err.message === `cannot read ${url}/debug/backends: HTTP 403: forbidden: loopback only (--debug-endpoints=local)`);
    s.closeAllConnections();
    s.close();
});
//# sourceMappingURL=print.test.js.map