/**
 * Regressions found reviewing the merges of the annotation families: what one family refuses or
 * requires must hold on the routes another family adds (CORS fallbacks, server-alias names,
 * from-to-www redirects).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseManifests } from '../../manifests/parse.js';
import { snapshotOf } from '../../control/store.js';
import { createTlsContexts, generateDefaultCert } from '../../tls/contexts.js';
import { inspectClientCaSecret, inspectSecret, inspectUpstreamSecret } from '../../tls/inspect.js';
import { createSelfSigned } from '../../tls/selfsigned.js';
import { translate } from '../translate.js';
const opts = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false, sslRedirect: true, inspect: inspectSecret, inspectUpstream: inspectUpstreamSecret, inspectClientCa: inspectClientCaSecret, now: Date.now() };
const caPem = createSelfSigned({ commonName: 'clients', dnsNames: [], isCA: true }).certPem;
const indented = caPem.trim().split('\n').map((l) => `    ${l}`).join('\n');
const common = `
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Secret
metadata: { name: client-ca, namespace: default }
type: Opaque
stringData:
  ca.crt: |
${indented}
`;
function ingress(name, host, annotations, created = '2024-01-01T00:00:00Z') {
    const a = Object.entries(annotations).map(([k, v]) => `    nginx.ingress.kubernetes.io/${k}: ${JSON.stringify(v)}`).join('\n');
    return `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: default
  creationTimestamp: "${created}"
  annotations:
${a}
spec:
  ingressClassName: portico
  rules:
  - host: ${host}
    http: {paths: [{path: /api, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}
`;
}
function table(...docs) {
    const parsed = parseManifests([common, ...docs].join('\n---\n'));
    assert.deepEqual(parsed.problems, []);
    return translate(snapshotOf(parsed.objects), opts).table;
}
const kinds = (t, host) => t.routes.filter((r) => r.host === host).flatMap((r) => r.policies.map((p) => p.kind));
/** Ways an Ingress is refused at table time (its routes answer 503) that `badValues`/`refused` do not cover. */
const refusedBy = {
    'a missing basic-auth Secret': { 'auth-type': 'basic', 'auth-secret': 'missing' },
    'an invalid auth-tls value': { 'auth-tls-secret': 'default/client-ca', 'auth-tls-verify-client': 'yes' },
    'a missing custom-headers ConfigMap': { 'custom-headers': 'missing' },
};
describe('a refused Ingress is not served in part', () => {
    for (const [why, annotations] of Object.entries(refusedBy)) {
        test(`refused by ${why}: no CORS fallback for its host (no CORS headers, no preflight 204)`, () => {
            const t = table(ingress('app', 'app.test', { ...annotations, 'enable-cors': 'true' }));
            assert.deepEqual(kinds(t, 'app.test'), ['refuse'], 'its routes are refused');
            const f = t.hostFallbacks.get('app.test');
            assert.ok(f === undefined || !f.policies.some((p) => p.kind === 'cors'), `fallback of a refused Ingress carries its CORS policy: ${JSON.stringify(f?.policies.map((p) => p.kind))}`);
        });
        test(`refused by ${why}: its server-snippet edits no other Ingress's routes, and it names no aliases`, () => {
            const t = table(ingress('app', 'app.test', { ...annotations, 'server-snippet': 'more_set_input_headers "X-User: admin";', 'server-alias': 'alias.test' }), ingress('other', 'app.test', {}, '2024-02-01T00:00:00Z').replace('path: /api', 'path: /other'));
            const other = t.routes.find((r) => r.host === 'app.test' && r.path === '/other');
            assert.deepEqual(other?.policies.map((p) => p.kind), [], 'the refused Ingress\'s server-snippet reached another Ingress\'s route');
            assert.deepEqual(kinds(t, 'alias.test'), [], 'a refused Ingress created an alias');
        });
        test(`refused by ${why}: its from-to-www redirect is refused too`, () => {
            const t = table(ingress('app', 'app.test', { ...annotations, 'from-to-www-redirect': 'true' }));
            assert.deepEqual(kinds(t, 'app.test'), ['refuse']);
            assert.deepEqual(kinds(t, 'www.app.test'), ['refuse'], 'the other name still redirects for a refused Ingress');
        });
    }
});
test('server-alias of a host that verifies client certificates: the alias asks for them too (else every request there is 421)', () => {
    const t = table(ingress('app', 'app.test', { 'auth-tls-secret': 'default/client-ca', 'server-alias': 'alias.test' }));
    assert.ok(kinds(t, 'alias.test').includes('clientCert'), 'the alias serves the host routes, with their client-certificate check');
    const tls = createTlsContexts({ minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' }, generateDefaultCert());
    const host = tls.select(t, 'app.test').clientCa;
    assert.notEqual(host, null);
    assert.equal(tls.select(t, 'alias.test').clientCa, host, 'a handshake for the alias must ask for the CA its routes check');
});
test('--add-headers reaches the 404 fallback a CORS host gets, as every Ingress route and host fallback', () => {
    const cm = `
apiVersion: v1
kind: ConfigMap
metadata: { name: h, namespace: default }
data: { X-Global: "1" }
`;
    const parsed = parseManifests([common, cm, ingress('app', 'app.test', { 'enable-cors': 'true' })].join('\n---\n'));
    const t = translate(snapshotOf(parsed.objects), { ...opts, addHeaders: { namespace: 'default', name: 'h' } }).table;
    assert.ok(kinds(t, 'app.test').includes('headerDirectives'), 'the routes get --add-headers');
    assert.deepEqual(t.hostFallbacks.get('app.test')?.policies.map((p) => p.kind), ['cors', 'headerDirectives', 'notFound']);
});
//# sourceMappingURL=host-passes.test.js.map