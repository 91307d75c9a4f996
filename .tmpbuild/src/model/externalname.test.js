/** ExternalName Services in the translator: refused unless allowed; served from the resolutions it is given. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseManifests } from '../manifests/parse.js';
import { snapshotOf } from '../control/store.js';
import { translate } from './translate.js';
const objects = (service, port = 'number: 80') => parseManifests(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: site, namespace: default }
spec:
  ingressClassName: portico
  rules: [{ host: a.test, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: ext, port: { ${port} } } } }] } }]
---
apiVersion: v1
kind: Service
metadata: { name: ext, namespace: default }
${service}
`).objects;
const base = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false };
const run = (service, states, port) => translate(snapshotOf(objects(service, port)), { ...base, ...(states === null ? {} : { externalNames: { allow: true, lookup: (n) => states[n] } }) });
const endpoints = (t) => [...t.table.backends.values()].flatMap((b) => b.endpoints.map((e) => `${e.ip}:${e.port}`));
const reasons = (t) => t.diagnostics.map((d) => `${d.reason}: ${d.message}`);
test('without --allow-external-name-services an ExternalName backend is refused, naming the flag', () => {
    const t = run('spec: { type: ExternalName, externalName: api.example.com }', null);
    assert.deepEqual(endpoints(t), []);
    assert.deepEqual(reasons(t), ['UnsupportedBackend: Service default/ext (ExternalName "api.example.com"): ExternalName Services are proxied only with --allow-external-name-services']);
    assert.deepEqual([...t.references.externalNames], [], 'nothing to resolve');
});
test('allowed: the name is asked for, served from its addresses once resolved, on the Ingress port when the Service lists none', () => {
    const svc = 'spec: { type: ExternalName, externalName: api.example.com }';
    const pending = run(svc, {});
    assert.deepEqual(endpoints(pending), []);
    assert.deepEqual(reasons(pending), [], 'resolving is not a problem');
    assert.deepEqual([...pending.references.externalNames], ['api.example.com']);
    const t = run(svc, { 'api.example.com': { addresses: ['10.1.0.2', '10.1.0.1'], denied: 0 } });
    assert.deepEqual(endpoints(t), ['10.1.0.1:80', '10.1.0.2:80']);
    assert.equal([...t.table.backends.values()][0].externalName, 'api.example.com');
    assert.deepEqual(reasons(t), []);
});
test("a listed Service port gives its numeric targetPort, else its port, as ingress-nginx does; a missing one is reported", () => {
    const ok = { 'api.example.com': { addresses: ['10.1.0.1'], denied: 0 } };
    assert.deepEqual(endpoints(run('spec: { type: ExternalName, externalName: api.example.com, ports: [{ name: web, port: 80, targetPort: 8443 }] }', ok, 'name: web')), ['10.1.0.1:8443']);
    assert.deepEqual(endpoints(run('spec: { type: ExternalName, externalName: api.example.com, ports: [{ name: web, port: 80, targetPort: web }] }', ok, 'name: web')), ['10.1.0.1:80']);
    assert.deepEqual(endpoints(run('spec: { type: ExternalName, externalName: api.example.com, ports: [{ port: 80, targetPort: 9000 }] }', ok)), ['10.1.0.1:9000']);
    const missing = run('spec: { type: ExternalName, externalName: api.example.com, ports: [{ name: web, port: 80 }] }', ok, 'name: grpc');
    assert.deepEqual(endpoints(missing), []);
    assert.match(reasons(missing)[0], /^ServicePortNotFound: .* has no port "grpc"$/);
});
test('a failed lookup, addresses all denied, and a malformed name each become a diagnostic', () => {
    const svc = 'spec: { type: ExternalName, externalName: api.example.com }';
    assert.deepEqual(reasons(run(svc, { 'api.example.com': { error: 'ENOTFOUND' } })), ['NoEndpoints: Service default/ext (ExternalName "api.example.com"): cannot resolve api.example.com: ENOTFOUND']);
    assert.deepEqual(reasons(run(svc, { 'api.example.com': { addresses: [], denied: 2 } })), ['UnsupportedBackend: Service default/ext (ExternalName "api.example.com"): api.example.com resolves only to addresses --external-name-denied-cidrs refuses (2)']);
    for (const bad of ['"Not_A_Name"', '"a..b"', '""', '7']) {
        const t = run(`spec: { type: ExternalName, externalName: ${bad} }`, {});
        assert.equal(t.diagnostics[0]?.reason, 'InvalidBackend', bad);
        assert.deepEqual([...t.references.externalNames], []);
    }
    assert.deepEqual(endpoints(run('spec: { type: ExternalName, externalName: 192.0.2.7 }', { '192.0.2.7': { addresses: ['192.0.2.7'], denied: 0 } })), ['192.0.2.7:80'], 'an IP address is a valid externalName');
});
//# sourceMappingURL=externalname.test.js.map