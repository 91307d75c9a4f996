/** What a route compiles to for the data plane: dispatcher settings (SNI, TLS), endpoint slots, policies. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createEndpointState } from './endpoints.js';
import { createPools } from './pools.js';
import { compileTable } from './route.js';
import { createLimiters } from './limiters.js';
const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
const env = { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 };
function tableWith(settings, backend, extra = {}) {
    return {
        routes: [{ host: 'a.test', path: '/', match: 'Prefix', source: { kind: 'Ingress', namespace: 'ns', name: 'i' }, policies: [], backends: [{ backend: backend.id, weight: 1 }], settings, ...extra }],
        hostFallbacks: new Map(),
        defaultBackend: null,
        backends: new Map([[backend.id, backend]]),
        certs: new Map(),
    };
}
const tlsBackend = (externalName) => ({ id: 'ns/s:443+https', namespace: 'ns', service: 's', port: '443', protocol: 'HTTPS', endpoints: [], ...(externalName ? { externalName } : {}) });
const target = (t) => compileTable(t, { pools, endpoints: createEndpointState(), env }).targets[0];
describe('the TLS server name a route sends (proxy-ssl-server-name)', () => {
    const sni = (settings, externalName) => /sni=(\S+)/.exec(target(tableWith(settings, tlsBackend(externalName))).backends[0].dispatch.key)?.[1];
    test('none unless switched on, whatever else is set', () => {
        assert.equal(sni({ sslName: 'x.internal', upstreamVhost: 'y.internal' }, 'z.internal'), undefined);
    });
    test('on: proxy-ssl-name, else the upstream-vhost host without its port, else the ExternalName', () => {
        assert.equal(sni({ sslServerName: true, sslName: 'x.internal', upstreamVhost: 'y.internal' }, 'z.internal'), 'x.internal');
        assert.equal(sni({ sslServerName: true, upstreamVhost: 'y.internal:8443' }, 'z.internal'), 'y.internal');
        assert.equal(sni({ sslServerName: true }, 'z.internal'), 'z.internal');
        assert.equal(sni({ sslServerName: true }), undefined, 'a pod backend with nothing to name');
    });
    test('never an IP address (RFC 6066 names hosts only)', () => {
        assert.equal(sni({ sslServerName: true, upstreamVhost: '10.0.0.1:443' }), undefined);
        assert.equal(sni({ sslServerName: true, upstreamVhost: '[2001:db8::1]:443' }), undefined);
        assert.equal(sni({ sslServerName: true }, '192.0.2.7'), undefined);
    });
});
describe('compiled targets', () => {
    test('routes with the same settings share one dispatcher; upgrades get an HTTP/1.1 one', () => {
        const b = tlsBackend();
        const t = tableWith({ sslVerify: true }, b);
        const two = { ...t, routes: [...t.routes, { ...t.routes[0], path: '/x' }] };
        const { targets } = compileTable(two, { pools, endpoints: createEndpointState(), env });
        assert.equal(targets[0].backends[0].dispatch, targets[1].backends[0].dispatch);
        assert.match(targets[0].backends[0].dispatch.key, /^HTTPS verify$/);
        const grpcs = { ...b, id: 'ns/s:443+grpcs', protocol: 'GRPCS' };
        const g = target(tableWith({}, grpcs)).backends[0];
        assert.equal(g.dispatch.protocol, 'GRPCS');
        assert.equal(g.upgrade.protocol, 'HTTPS');
    });
    test('a target reads its backend\'s live slot; the table is never modified', () => {
        const endpoints = createEndpointState();
        const b = { id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol: 'HTTP', endpoints: [{ ip: '10.0.0.1', port: 80, terminating: false }] };
        const t = tableWith({}, b);
        const { targets } = compileTable(t, { pools, endpoints, env });
        endpoints.apply(t);
        endpoints.patch(new Map([['ns/s:80', [{ ip: '10.0.0.2', port: 80, terminating: false }]]]));
        assert.deepEqual(targets[0].backends[0].slot.endpoints.map((e) => e.ip), ['10.0.0.2']);
        assert.deepEqual(b.endpoints.map((e) => e.ip), ['10.0.0.1']);
    });
    test('labels: the route\'s object, its first backend\'s Service, host and written path', () => {
        const t = target(tableWith({}, tlsBackend()));
        assert.deepEqual([t.namespace, t.ingress, t.service, t.host, t.path], ['ns', 'i', 's', 'a.test', '/']);
    });
});
//# sourceMappingURL=route.test.js.map