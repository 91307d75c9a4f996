/**
 * Ingress status as ingress-nginx writes it (internal/ingress/status/status.go): the published
 * Service's addresses by its type, in ingress-nginx's order, written only to our Ingresses and only
 * on change, and removed from an Ingress that stops being ours.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { addressesOf, createStatusWriter, serviceAddresses, sortAddresses } from './status.js';
const svc = (type, extra = {}) => ({
    metadata: { name: 'ctl', namespace: 'ingress-nginx' },
    spec: { ...(type === undefined ? {} : { type }), clusterIP: extra.clusterIP ?? '10.96.0.10', ...(extra.externalIPs ? { externalIPs: extra.externalIPs } : {}), ...(extra.externalName ? { externalName: extra.externalName } : {}) },
    ...(extra.lb ? { status: { loadBalancer: { ingress: extra.lb } } } : {}),
});
describe('the published Service, by type', () => {
    test('LoadBalancer: its entries, an IP and a hostname both kept, then external IPs not already there', () => {
        assert.deepEqual(serviceAddresses(svc('LoadBalancer', { lb: [{ ip: '203.0.113.7' }, { hostname: 'lb.example.net', ip: '203.0.113.8' }], externalIPs: ['198.51.100.1', '203.0.113.7'] })), [
            { ip: '203.0.113.7' },
            { hostname: 'lb.example.net', ip: '203.0.113.8' },
            { ip: '198.51.100.1' },
        ]);
    });
    test('LoadBalancer still pending: nothing (never the ClusterIP), or only its external IPs', () => {
        assert.deepEqual(serviceAddresses(svc('LoadBalancer')), []);
        assert.deepEqual(serviceAddresses(svc('LoadBalancer', { externalIPs: ['198.51.100.1'] })), [{ ip: '198.51.100.1' }]);
    });
    test('NodePort: external IPs, else the ClusterIP; ClusterIP: the ClusterIP (none when headless); ExternalName: the name', () => {
        assert.deepEqual(serviceAddresses(svc('NodePort', { externalIPs: ['198.51.100.1', '198.51.100.2'] })), [{ ip: '198.51.100.1' }, { ip: '198.51.100.2' }]);
        assert.deepEqual(serviceAddresses(svc('NodePort')), [{ ip: '10.96.0.10' }]);
        assert.deepEqual(serviceAddresses(svc('ClusterIP')), [{ ip: '10.96.0.10' }]);
        assert.deepEqual(serviceAddresses(svc(undefined)), [{ ip: '10.96.0.10' }], 'the type defaults to ClusterIP');
        assert.deepEqual(serviceAddresses(svc('ClusterIP', { clusterIP: 'None' })), []);
        assert.deepEqual(serviceAddresses(svc('ExternalName', { externalName: 'edge.example.net' })), [{ hostname: 'edge.example.net' }]);
    });
});
test("ingress-nginx's order: entries without a hostname first, by IP as a string; then by hostname", () => {
    assert.deepEqual(sortAddresses(addressesOf(['lb.example.com', '10.0.0.9', 'a.example.com', '10.0.0.10'])), [{ ip: '10.0.0.10' }, { ip: '10.0.0.9' }, { hostname: 'a.example.com' }, { hostname: 'lb.example.com' }]);
});
describe('the writer', () => {
    const nginxClass = { apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } };
    const ing = (name, cls, lb) => ({
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name, namespace: 'default', ...(cls === 'legacy' ? { annotations: { 'kubernetes.io/ingress.class': 'nginx' } } : {}) },
        spec: cls === undefined || cls === 'legacy' ? {} : { ingressClassName: cls },
        ...(lb ? { status: { loadBalancer: { ingress: lb } } } : {}),
    });
    function run(ingresses, service) {
        const puts = [];
        const client = {
            server: 'https://api.test',
            request: async (method, path, body) => {
                if (method === 'GET')
                    return service;
                puts.push({ path, status: body.status });
                return body;
            },
            watch: () => Promise.reject(new Error('no watches here')),
        };
        const w = createStatusWriter({
            client,
            log: pino({ level: 'silent' }),
            classes: { controllerClass: 'k8s.io/ingress-nginx', ingressClass: 'nginx', watchWithoutClass: false },
            publishStatusAddress: [],
            publishService: { namespace: 'ingress-nginx', name: 'ctl' },
        });
        const snapshot = { ingresses, ingressClasses: [nginxClass], services: [], endpointSlices: [], secrets: [] };
        return w.sync(snapshot).then((written) => ({ written, puts }));
    }
    test('our Ingresses (ingressClassName and the legacy annotation) get the addresses in ingress-nginx\'s order; others are left alone', async () => {
        const lb = svc('LoadBalancer', { lb: [{ hostname: 'lb.example.net' }, { ip: '203.0.113.8' }] });
        const { written, puts } = await run([ing('by-name', 'nginx'), ing('legacy', 'legacy'), ing('other', 'traefik', [{ ip: '192.0.2.1' }]), ing('classless', undefined)], lb);
        assert.equal(written, 2);
        assert.deepEqual(puts, [
            { path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses/by-name/status', status: { loadBalancer: { ingress: [{ ip: '203.0.113.8' }, { hostname: 'lb.example.net' }] } } },
            { path: '/apis/networking.k8s.io/v1/namespaces/default/ingresses/legacy/status', status: { loadBalancer: { ingress: [{ ip: '203.0.113.8' }, { hostname: 'lb.example.net' }] } } },
        ]);
    });
    test('the same addresses in another order are not rewritten; a pending load balancer clears them', async () => {
        const lb = svc('LoadBalancer', { lb: [{ ip: '203.0.113.8' }] });
        assert.equal((await run([ing('done', 'nginx', [{ ip: '203.0.113.8' }])], lb)).written, 0);
        const pending = await run([ing('done', 'nginx', [{ ip: '203.0.113.8' }])], svc('LoadBalancer'));
        assert.deepEqual(pending.puts.map((p) => p.status), [{ loadBalancer: { ingress: [] } }]);
    });
});
//# sourceMappingURL=status.test.js.map