/**
 * The Gateway API in Kubernetes mode: the real binary against the API-server double, which
 * answers 404 for the Gateway kinds until their CRDs are installed (as a cluster without them
 * does), serves their status subresources, bumps metadata.generation on spec changes, and
 * carries Namespace labels.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApiDouble, type ApiDouble } from './apiserver/double.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { gateway, gatewayClass, httpRoute, ingress, namespace, serviceWithSlices } from './lib/objects.js';
import { podOf, startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-kube-gateway-'));

interface Cond {
  type: string;
  status: string;
  reason: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}
type WithStatus = { metadata: { generation?: number }; status?: Record<string, any> };
const cond = (list: Cond[] | undefined, type: string): Cond | undefined => list?.find((c) => c.type === type);

describe('Gateway API in Kubernetes mode against the API-server double', () => {
  let api: ApiDouble;
  let p: Portico;
  let v1: Pod;
  let v2: Pod;
  const obj = (kind: string, ns: string, name: string): WithStatus => api.get(kind, ns, name) as unknown as WithStatus;

  before(async () => {
    api = await startApiDouble({ crds: false });
    v1 = await startPod('127.0.202.1', 'v1');
    v2 = await startPod('127.0.202.2', 'v2');
    api.apply(namespace('infra', { 'kubernetes.io/metadata.name': 'infra' }));
    api.apply(namespace('apps', { 'kubernetes.io/metadata.name': 'apps' }));
    for (const o of [...serviceWithSlices('v1', [v1], 'infra'), ...serviceWithSlices('v2', [v2], 'infra'), ...serviceWithSlices('app', [v2], 'apps')]) api.apply(o);
    api.apply(ingress('web', 'ingress.test', 'v1', { namespace: 'infra' }));
    const kc = api.kubeconfig(join(dir, 'portico.kubeconfig'), undefined, 'ingress-system');
    p = await startPortico(null, ['--kubeconfig', kc, '--crd-recheck-interval', '300ms', '--publish-status-address', '10.0.0.10,lb.example.com'], { env: { POD_NAME: 'portico-0', POD_NAMESPACE: 'ingress-system' } });
  });

  after(async () => {
    await p?.stop();
    await api?.close();
    await Promise.all([v1?.close(), v2?.close()]);
  });

  test('without the CRDs Ingresses are served and the absence is logged once; installing them is noticed within --crd-recheck-interval', async () => {
    assert.equal((await get(p.httpPort, '/', { host: 'ingress.test' })).status, 200);
    const line = await p.waitForLog((l) => l.kind === 'HTTPRoute' && /not installed/.test(String(l.msg)));
    assert.equal(line.level, 'info');
    assert.equal((await get(p.adminPort, '/readyz')).status, 200);
    api.installCrds();
    api.apply(gatewayClass());
    api.apply(gateway('edge', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'apps', port: 80, protocol: 'HTTP', hostname: 'sel.example', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'a' } } } } }]));
    api.apply(httpRoute('route', 'infra', { parentRefs: [{ name: 'edge', sectionName: 'http' }], hostnames: ['gateway.test'], rules: [{ backendRefs: [{ name: 'v1', port: 80 }] }] }));
    await eventually(async () => (await get(p.httpPort, '/', { host: 'gateway.test' })).status === 200, { ms: 5000, what: 'the HTTPRoute served once the CRDs exist' });
    assert.equal(p.logs.filter((l) => l.kind === 'HTTPRoute' && /not installed/.test(String(l.msg))).length, 1, 'logged once, not at every recheck');
  });

  test('the leader writes status: GatewayClass, Gateway (addresses, listeners) and route parents, at the current generation', async () => {
    await eventually(() => cond(obj('GatewayClass', '', 'portico').status?.conditions, 'Accepted')?.status === 'True', { what: 'GatewayClass accepted' });
    const cls = obj('GatewayClass', '', 'portico');
    assert.equal(cond(cls.status?.conditions, 'Accepted')?.observedGeneration, cls.metadata.generation);
    const features = (cls.status?.supportedFeatures as { name: string }[]).map((f) => f.name);
    assert.deepEqual(features, [...features].sort());
    assert.ok(features.includes('HTTPRoute') && features.includes('GRPCRoute'));

    await eventually(() => cond(obj('Gateway', 'infra', 'edge').status?.conditions, 'Programmed')?.status === 'True', { what: 'Gateway programmed' });
    const gw = obj('Gateway', 'infra', 'edge');
    assert.deepEqual(gw.status?.addresses, [{ type: 'IPAddress', value: '10.0.0.10' }, { type: 'Hostname', value: 'lb.example.com' }]);
    assert.equal(cond(gw.status?.conditions, 'Accepted')?.status, 'True');
    // status is written after each translation: a Gateway status from before the HTTPRoute was seen
    // (attachedRoutes 0) is followed by the one that counts it
    const attached = (): string => JSON.stringify((obj('Gateway', 'infra', 'edge').status?.listeners as { name: string; attachedRoutes: number }[] | undefined)?.map((l) => [l.name, l.attachedRoutes]));
    await eventually(() => attached() === JSON.stringify([['http', 1], ['apps', 0]]), { what: "listeners' attachedRoutes http 1, apps 0" });
    assert.deepEqual((obj('Gateway', 'infra', 'edge').status?.listeners as { name: string; attachedRoutes: number }[]).map((l) => [l.name, l.attachedRoutes]), [['http', 1], ['apps', 0]]);

    await eventually(() => (obj('HTTPRoute', 'infra', 'route').status?.parents as unknown[] | undefined)?.length === 1, { what: 'route parents written' });
    const parent = (obj('HTTPRoute', 'infra', 'route').status?.parents as { controllerName: string; parentRef: Record<string, unknown>; conditions: Cond[] }[])[0]!;
    assert.equal(parent.controllerName, 'portico.dev/gateway-controller');
    assert.deepEqual(parent.parentRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge', sectionName: 'http' });
    assert.equal(cond(parent.conditions, 'Accepted')?.status, 'True');
    assert.equal(cond(parent.conditions, 'ResolvedRefs')?.status, 'True');
    const accepted = cond(parent.conditions, 'Accepted')!;
    assert.equal(accepted.observedGeneration, 1);

    // a spec change: new generation, traffic moves, observedGeneration follows, the transition time stays
    const routePuts = (): number => api.requests.filter((r) => r.method === 'PUT' && r.path.includes('/httproutes/route/status')).length;
    // writes still coming from the route's creation (a loaded machine delays them) are not the change's
    await eventually(
      async () => {
        const n = routePuts();
        await new Promise((r) => setTimeout(r, 300));
        return routePuts() === n;
      },
      { what: 'no route status write for 300 ms before the change' },
    );
    const before = routePuts();
    api.apply(httpRoute('route', 'infra', { parentRefs: [{ name: 'edge', sectionName: 'http' }], hostnames: ['gateway.test'], rules: [{ backendRefs: [{ name: 'v2', port: 80 }] }] }));
    assert.equal(obj('HTTPRoute', 'infra', 'route').metadata.generation, 2);
    await eventually(async () => podOf((await get(p.httpPort, '/', { host: 'gateway.test' })).body) === 'v2', { what: 'traffic on the new backend' });
    await eventually(() => cond((obj('HTTPRoute', 'infra', 'route').status?.parents as { conditions: Cond[] }[])[0]?.conditions, 'Accepted')?.observedGeneration === 2, { what: 'observedGeneration 2' });
    const after = cond((obj('HTTPRoute', 'infra', 'route').status?.parents as { conditions: Cond[] }[])[0]?.conditions, 'Accepted')!;
    assert.equal(after.lastTransitionTime, accepted.lastTransitionTime, 'a condition that kept its status keeps its lastTransitionTime');
    const writes = routePuts() - before;
    assert.ok(writes >= 1 && writes <= 2, `status written ${writes} times for one change`);
  });

  test('a listener that selects namespaces by label: labelling the Namespace attaches the route, removing the label detaches it', async () => {
    api.apply(httpRoute('app', 'apps', { parentRefs: [{ name: 'edge', namespace: 'infra', sectionName: 'apps' }], rules: [{ backendRefs: [{ name: 'app', port: 80 }] }] }));
    const accepted = (): string | undefined => cond((obj('HTTPRoute', 'apps', 'app').status?.parents as { conditions: Cond[] }[] | undefined)?.[0]?.conditions, 'Accepted')?.reason;
    await eventually(() => accepted() === 'NotAllowedByListeners', { what: 'NotAllowedByListeners' });
    assert.equal((await get(p.httpPort, '/', { host: 'sel.example' })).status, 404);
    api.apply(namespace('apps', { 'kubernetes.io/metadata.name': 'apps', team: 'a' }));
    await eventually(async () => (await get(p.httpPort, '/', { host: 'sel.example' })).status === 200, { what: 'attached after labelling' });
    await eventually(() => accepted() === 'Accepted', { what: 'Accepted' });
    api.apply(namespace('apps', { 'kubernetes.io/metadata.name': 'apps' }));
    await eventually(async () => (await get(p.httpPort, '/', { host: 'sel.example' })).status === 404, { what: 'detached after unlabelling' });
  });

  test('a GatewayClass of another controller and its Gateways are left alone: not served, no status written', async () => {
    api.apply(gatewayClass('other', 'example.com/other-controller'));
    api.apply(gateway('theirs', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP' }], 'other'));
    api.apply(httpRoute('theirs', 'infra', { parentRefs: [{ name: 'theirs' }], hostnames: ['theirs.test'], rules: [{ backendRefs: [{ name: 'v1', port: 80 }] }] }));
    // a change Portico does act on, so the leader has certainly run since
    api.apply(httpRoute('marker', 'infra', { parentRefs: [{ name: 'edge', sectionName: 'http' }], hostnames: ['marker.test'], rules: [{ backendRefs: [{ name: 'v1', port: 80 }] }] }));
    await eventually(() => (obj('HTTPRoute', 'infra', 'marker').status?.parents as unknown[] | undefined)?.length === 1, { what: 'marker route status' });
    assert.equal((await get(p.httpPort, '/', { host: 'theirs.test' })).status, 404);
    assert.equal(obj('GatewayClass', '', 'other').status, undefined);
    assert.equal(obj('Gateway', 'infra', 'theirs').status, undefined);
    assert.equal(obj('HTTPRoute', 'infra', 'theirs').status, undefined);
  });
});

describe('--enable-gateway-api=false', () => {
  test('the Gateway kinds and Namespaces are not watched at all', async () => {
    const api = await startApiDouble();
    try {
      const p = await startPortico(null, ['--kubeconfig', api.kubeconfig(join(dir, 'off.kubeconfig')), '--enable-gateway-api=false'], { env: { POD_NAME: 'off', POD_NAMESPACE: 'ingress-system' } });
      await p.stop();
      assert.ok(api.requests.some((r) => r.path.startsWith('/apis/networking.k8s.io/v1/ingresses')));
      assert.deepEqual(api.requests.filter((r) => r.path.includes('gateway.networking.k8s.io') || r.path.startsWith('/api/v1/namespaces?') || r.path === '/api/v1/namespaces').map((r) => r.path), []);
    } finally {
      await api.close();
    }
  });
});
