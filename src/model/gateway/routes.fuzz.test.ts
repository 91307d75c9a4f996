/**
 * HTTPRoutes and GRPCRoutes with RequestMirror, CORS, retry and sessionPersistence, one field
 * mutated to anything: the translator never throws, every route it produces compiles for the data
 * plane (policies, mirrors, retry rules), and a route whose rule went invalid says so in status.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { createBalancer } from '../../proxy/balance.js';
import { createEndpointState } from '../../proxy/endpoints.js';
import { createLimiters } from '../../proxy/limiters.js';
import { createMirrorState } from '../../proxy/mirror.js';
import { createPools } from '../../proxy/pools.js';
import { prepareRoute } from '../../proxy/route.js';
import type { Snapshot } from '../k8s.js';
import { translate } from '../translate.js';
import { mutate } from '../../testing/mutate.js';

const opts = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false, now: 0, gateway: { controllerName: 'portico.dev/gateway-controller', reservedPorts: [] } };
const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
const env = { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503, mirrors: createMirrorState() };

const rules = [
  {
    matches: [{ path: { type: 'PathPrefix', value: '/mirror' } }],
    filters: [
      { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-a', value: 'b' }] } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'v2', port: 8080 }, percent: 20 } },
      { type: 'RequestMirror', requestMirror: { backendRef: { name: 'web', namespace: 'web', port: 8080 }, fraction: { numerator: 1, denominator: 3 } } },
      { type: 'CORS', cors: { allowOrigins: ['https://*.a.com', 'http://b.com:8080'], allowMethods: ['GET', 'PUT'], allowHeaders: ['x-a'], exposeHeaders: ['x-b'], allowCredentials: true, maxAge: 60 } },
    ],
    retry: { codes: [500, 503], attempts: 2, backoff: '10ms' },
    timeouts: { request: '2s', backendRequest: '1s' },
    sessionPersistence: { sessionName: 's', absoluteTimeout: '1h', cookieConfig: { lifetimeType: 'Permanent' } },
    backendRefs: [{ name: 'v1', port: 8080, weight: 2 }, { name: 'v2', port: 8080 }],
  },
];
const valid = {
  route: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'r', namespace: 'infra', generation: 1 }, spec: { parentRefs: [{ name: 'gw' }], rules } },
  grpc: { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'g', namespace: 'infra', generation: 1 }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['g.test'], rules: [{ filters: [rules[0]!.filters[1]], sessionPersistence: { cookie: { name: 'c', path: '/x' } }, backendRefs: [{ name: 'v1', port: 8080 }] }] } },
};
const fixed = {
  gatewayClasses: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'portico', generation: 1 }, spec: { controllerName: 'portico.dev/gateway-controller' } }],
  gateways: [{ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw', namespace: 'infra', generation: 1 }, spec: { gatewayClassName: 'portico', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] } }],
  referenceGrants: [{ apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace: 'web' }, spec: { from: [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'infra' }], to: [{ group: '', kind: 'Service' }] } }],
  services: ['v1', 'v2', 'web'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: name === 'web' ? 'web' : 'infra' }, spec: { ports: [{ port: 8080 }] } })),
};

const weird = fc.oneof(fc.anything(), fc.string({ unit: 'binary' }), fc.constantFrom('', '*', 'http://*', '0s', '1.5s', 'Permanent', 'Header', 'CORS', 'RequestMirror', -1, 0, 101, 600, 1e308, NaN, null, [], {}, true));

function run(route: unknown, grpc: unknown): void {
  const t = translate({ ingresses: [], ingressClasses: [], endpointSlices: [], secrets: [], configMaps: [], ...fixed, httpRoutes: [route], grpcRoutes: [grpc] } as unknown as Snapshot, opts);
  assert.ok(Array.isArray(t.diagnostics));
  for (const r of t.table.routes) prepareRoute(r, { table: t.table, pools, endpoints: createEndpointState(), env, balance: { balancer: createBalancer(), algorithm: 'round_robin' } });
}

test('the valid routes translate to mirrors, CORS, retry and sticky routes', () => {
  const t = translate({ ingresses: [], ingressClasses: [], endpointSlices: [], secrets: [], configMaps: [], ...fixed, httpRoutes: [valid.route], grpcRoutes: [valid.grpc] } as unknown as Snapshot, opts);
  const r = t.table.routes.find((x) => x.path === '/mirror');
  assert.deepEqual(r?.policies.map((p) => p.kind), ['headers', 'mirror', 'mirror', 'cors']);
  assert.deepEqual([r?.settings.retryAttempts, r?.settings.retryCodes, r?.settings.retryBackoff], [2, [500, 503], 10]);
  assert.equal(r?.balancing?.affinity?.maxAge, 3600);
  const target = prepareRoute(r!, { table: t.table, pools, endpoints: createEndpointState(), env });
  assert.equal(target.mirror?.backends.length, 2);
  assert.equal(target.sticky, true);
  assert.equal(target.retry.tries, 3);
});

test('one field mutated to anything never throws, in the translator or when compiling for the data plane', () => {
  fc.assert(
    fc.property(fc.constantFrom('route', 'grpc'), fc.array(fc.nat(50), { minLength: 1, maxLength: 9 }), weird, (which, path, value) => {
      run(which === 'route' ? mutate(valid.route, path, value) : valid.route, which === 'grpc' ? mutate(valid.grpc, path, value) : valid.grpc);
    }),
    { numRuns: 3000, seed: Number(process.env.FUZZ_SEED ?? 20261207) },
  );
});

after(() => pools.close());
