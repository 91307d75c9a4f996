/** What is kept of an object from the API server: everything Portico reads, small repeated values shared. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { KubeObject } from '../model/k8s.js';
import { indexServices, resolveBackend } from '../model/endpoints.js';
import type { EndpointSlice, Service } from '../model/k8s.js';
import { createSlimmer, OneAddressEndpoint } from './slim.js';

const parse = (o: unknown): KubeObject => JSON.parse(JSON.stringify(o)) as KubeObject;
/** What a JSON view of a value shows. */
const json = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

test('managedFields go; the rest of metadata stays, in order, annotations included', () => {
  const slim = createSlimmer();
  const meta = { name: 'a', namespace: 'ns', uid: 'u1', resourceVersion: '7', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', 'nginx.ingress.kubernetes.io/rewrite-target': '/' }, labels: { app: 'a' } };
  const o = slim(parse({ kind: 'Ingress', metadata: { ...meta, managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }] }, spec: {} }));
  assert.deepEqual(o.metadata, meta);
  assert.deepEqual(Object.keys(o.metadata ?? {}), Object.keys(meta));
});

test('EndpointSlices and Services keep name, namespace, labels and resourceVersion of their metadata; Ingresses all of it', () => {
  const slim = createSlimmer();
  const meta = { name: 's', namespace: 'ns', uid: 'u', resourceVersion: '9', generation: 2, creationTimestamp: '2020-01-01T00:00:00Z', labels: { 'kubernetes.io/service-name': 'web' }, annotations: { a: 'b' }, ownerReferences: [{ kind: 'Service', name: 'web', uid: 'x' }], generateName: 'web-', managedFields: [{}] };
  for (const kind of ['EndpointSlice', 'Service']) assert.deepEqual(slim(parse({ kind, metadata: meta })).metadata, { name: 's', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' }, resourceVersion: '9' });
  assert.deepEqual(slim(parse({ kind: 'Service', metadata: { name: 's', namespace: 'ns' } })).metadata, { name: 's', namespace: 'ns' });
  const { managedFields: _, ...kept } = meta;
  assert.deepEqual(slim(parse({ kind: 'Ingress', metadata: meta })).metadata, kept);
});

test('EndpointSlice endpoints keep addresses and conditions; equal conditions are one object', () => {
  const slim = createSlimmer();
  const ep = (ip: string, conditions: unknown): unknown => ({ addresses: [ip], conditions, nodeName: 'n1', zone: 'z', targetRef: { kind: 'Pod', name: `p-${ip}`, namespace: 'ns', uid: 'x' }, hints: { forZones: [] } });
  const s1 = slim(parse({ kind: 'EndpointSlice', metadata: { name: 's1', namespace: 'ns' }, addressType: 'IPv4', ports: [{ port: 80 }], endpoints: [ep('10.0.0.1', { ready: true, serving: true, terminating: false }), ep('10.0.0.2', { ready: true, serving: true, terminating: false }), ep('10.0.0.3', { ready: false, serving: true, terminating: true })] })) as KubeObject & { endpoints: { addresses: string[]; conditions: unknown }[]; ports: unknown; addressType: unknown };
  const s2 = slim(parse({ kind: 'EndpointSlice', metadata: { name: 's2', namespace: 'ns' }, endpoints: [ep('10.0.0.4', { ready: true, serving: true, terminating: false }), { addresses: ['10.0.0.5'] }, { addresses: ['10.0.0.6'], conditions: { ready: true, other: 1 } }] })) as KubeObject & { endpoints: { addresses: string[]; conditions?: unknown }[] };
  assert.deepEqual(json(s1.endpoints[0]), { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false } });
  assert.deepEqual(json(s1.endpoints[2]), { addresses: ['10.0.0.3'], conditions: { ready: false, serving: true, terminating: true } });
  assert.equal(s1.endpoints[0]?.conditions, s1.endpoints[1]?.conditions);
  assert.equal(s1.endpoints[0]?.conditions, s2.endpoints[0]?.conditions, 'shared across objects of the stream');
  assert.notEqual(s1.endpoints[0]?.conditions, s1.endpoints[2]?.conditions);
  assert.deepEqual(json(s2.endpoints[1]), { addresses: ['10.0.0.5'] }, 'no conditions: none added (nil means ready)');
  assert.deepEqual(s2.endpoints[2]?.conditions, { ready: true, other: 1 }, 'unknown fields: kept as they are');
  assert.deepEqual(s1.ports, [{ port: 80 }]);
  assert.equal(s1.addressType, 'IPv4');
});

test('Ingress backend ports by number are shared; named ports and everything else stay', () => {
  const slim = createSlimmer();
  const path = (p: string, port: unknown): unknown => ({ path: p, pathType: 'Prefix', backend: { service: { name: 'svc', port } } });
  const ing = slim(parse({ kind: 'Ingress', metadata: { name: 'i', namespace: 'ns' }, spec: { defaultBackend: { service: { name: 'd', port: { number: 80 } } }, rules: [{ host: 'a.test', http: { paths: [path('/a', { number: 80 }), path('/b', { number: 8080 }), path('/c', { name: 'http' })] } }, { host: 'b.test' }, 'junk'] } })) as KubeObject & { spec: { defaultBackend: { service: { port: unknown } }; rules: { http?: { paths: { backend: { service: { port: unknown } } }[] } }[] } };
  const ports = ing.spec.rules[0]?.http?.paths.map((p) => p.backend.service.port) ?? [];
  assert.deepEqual(ports, [{ number: 80 }, { number: 8080 }, { name: 'http' }]);
  assert.equal(ports[0], ing.spec.defaultBackend.service.port);
  assert.notEqual(ports[0], ports[1]);
});

test('paths of a rule naming the same Service port share one backend object; others keep theirs', () => {
  const slim = createSlimmer();
  const path = (p: string, backend: unknown): unknown => ({ path: p, pathType: 'Prefix', backend });
  const svc = (name: string, number: number): unknown => ({ service: { name, port: { number } } });
  const ing = slim(parse({ kind: 'Ingress', metadata: { name: 'i', namespace: 'ns' }, spec: { rules: [{ host: 'a.test', http: { paths: [path('/a', svc('web', 80)), path('/b', svc('web', 80)), path('/c', svc('web', 81)), path('/d', svc('api', 80)), path('/e', { service: { name: 'web', port: { number: 80 } }, resource: { kind: 'X' } })] } }] } })) as KubeObject & { spec: { rules: { http: { paths: { backend: unknown }[] } }[] } };
  const b = ing.spec.rules[0]!.http.paths.map((p) => p.backend);
  assert.equal(b[0], b[1]);
  assert.notEqual(b[0], b[2]);
  assert.notEqual(b[0], b[3]);
  assert.notEqual(b[0], b[4], 'another shape: left alone');
  assert.deepEqual(b[4], { service: { name: 'web', port: { number: 80 } }, resource: { kind: 'X' } });
  assert.deepEqual(b[1], { service: { name: 'web', port: { number: 80 } } });
});

test('an endpoint of one address keeps no array: it reads and shows as the endpoint it was', () => {
  const slim = createSlimmer();
  const wire = {
    kind: 'EndpointSlice',
    apiVersion: 'discovery.k8s.io/v1',
    metadata: { name: 'web-1', namespace: 'ns', labels: { 'kubernetes.io/service-name': 'web' }, resourceVersion: '3' },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: [
      { addresses: ['10.0.0.1'], conditions: { ready: true, serving: true, terminating: false } },
      { addresses: ['10.0.0.2'] },
      { addresses: ['10.0.0.3'], conditions: { ready: false, serving: true, terminating: true } },
      { addresses: ['10.0.0.4', '10.0.0.5'], conditions: { ready: true } },
      { addresses: [], conditions: { ready: true } },
      { addresses: ['10.0.0.6'], conditions: null },
    ],
  };
  const s = slim(parse(wire)) as unknown as EndpointSlice;
  const eps = s.endpoints ?? [];
  assert.equal(JSON.stringify(s), JSON.stringify(wire), 'the JSON view is unchanged, key order included');
  assert.deepEqual(
    eps.map((e) => e instanceof OneAddressEndpoint),
    [true, true, true, false, false, false],
    'one address and conditions an object (or none): no array; anything else stays as it came',
  );
  for (const [i, e] of eps.entries()) {
    assert.deepEqual(e.addresses, wire.endpoints[i]!.addresses);
    assert.ok(Array.isArray(e.addresses));
  }
  // the translator's reader resolves them as it resolved the plain ones
  const svc = parse({ kind: 'Service', metadata: { name: 'web', namespace: 'ns' }, spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }) as unknown as Service;
  const endpointsOf = (slice: EndpointSlice): unknown => resolveBackend(indexServices([svc], [slice]), 'ns', 'web', 80, 'ns/web:80').backend.endpoints;
  assert.deepEqual(endpointsOf(s), endpointsOf(parse(wire) as unknown as EndpointSlice));
  assert.deepEqual(
    (endpointsOf(s) as { ip: string }[]).map((e) => e.ip),
    ['10.0.0.1', '10.0.0.2', '10.0.0.4', '10.0.0.5', '10.0.0.6'],
  );
});

test('anything else, however malformed, passes unchanged and never throws', () => {
  const slim = createSlimmer();
  fc.assert(
    fc.property(fc.constantFrom('Ingress', 'EndpointSlice', 'Service'), fc.anything(), fc.anything(), (kind, spec, endpoints) => {
      const o = { kind, metadata: { name: 'x' }, spec, endpoints } as unknown as KubeObject;
      assert.equal(slim(o), o);
    }),
  );
});
