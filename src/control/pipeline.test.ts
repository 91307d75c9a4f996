import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../log.js';
import type { KubeObject } from '../model/k8s.js';
import { EMPTY_TABLE } from '../model/types.js';
import { createEndpointState } from '../proxy/endpoints.js';
import { createPools } from '../proxy/pools.js';
import { compileTable, type Target } from '../proxy/route.js';
import type { Matcher } from '../router/compile.js';
import { match } from '../router/match.js';
import { createPipeline, SETTLE_MS, type EndpointPatch } from './pipeline.js';
import { createStore } from './store.js';
import { createLimiters } from '../proxy/limiters.js';

const svc = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' }, spec: { ports: [{ port: 80 }] } }) as KubeObject;
const slice = (name: string, service: string, ips: string[]): KubeObject =>
  ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': service } }, addressType: 'IPv4', ports: [{ port: 8080 }], endpoints: ips.map((ip) => ({ addresses: [ip] })) }) as KubeObject;
const ing = (name: string, host: string, service: string): KubeObject =>
  ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: 'default' }, spec: { ingressClassName: 'portico', rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }] } }) as KubeObject;

const tick = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
/**
 * Lets the rebuild that schedule() queued (a setImmediate) run: an immediate queued after it runs
 * after it. A 0 ms timer does not: whether it fires before the check phase depends on where in the
 * event loop the test started (the first test of a file, on Node 24, saw the timer first).
 */
const scheduled = (): Promise<void> => new Promise((r) => setImmediate(r));
/** Waits for the settle rebuild (SETTLE_MS after the last patch) to have run: until `done`, at most 10 s on a loaded machine. */
async function settled(done: () => boolean): Promise<void> {
  await tick(SETTLE_MS);
  for (const end = Date.now() + 10_000; !done() && Date.now() < end; ) await tick(20);
}

function setup() {
  const store = createStore();
  for (const o of [svc('a'), svc('b'), slice('a-1', 'a', ['10.0.0.1']), slice('b-1', 'b', ['10.0.1.1']), ing('a', 'a.test', 'a'), ing('b', 'b.test', 'b')]) store.upsert(o);
  // the data plane's side: live endpoint slots and compiled targets
  const live = createEndpointState();
  const ctx = { pools: createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 }), endpoints: live, env: { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 } };
  let matcher: Matcher<Target> = compileTable(EMPTY_TABLE, ctx).matchers.get(80) as Matcher<Target>;
  const swaps: Matcher<Target>[] = [];
  const patches: EndpointPatch[] = [];
  const pipeline = createPipeline({
    store,
    log: createLogger('fatal'),
    metrics: null,
    translateOptions: () => ({ controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false }),
    swap: (t) => {
      matcher = compileTable(t, ctx).matchers.get(80) as Matcher<Target>;
      live.apply(t);
      swaps.push(matcher);
    },
    patch: (p) => {
      live.patch(p);
      patches.push(p);
    },
  });
  pipeline.rebuildNow();
  return { store, pipeline, swaps, patches, matcher: () => matcher, live };
}

/** What the pipeline says is serving for a backend (its live view), as `ip:port`. */
const endpointsOf = (t: { pipeline: { live(): { backends: ReadonlyMap<string, { endpoints: readonly { ip: string; port: number }[] }> } } }, id: string): string[] => (t.pipeline.live().backends.get(id)?.endpoints ?? []).map((e) => `${e.ip}:${e.port}`);

test('an EndpointSlice change patches only its Service\'s backends, without a new table', async () => {
  const t = setup();
  assert.equal(t.swaps.length, 1);
  const first = t.matcher();
  const targetA = match(first, 'a.test', '/')?.action;
  const tableBefore = t.pipeline.live();
  t.store.upsert(slice('a-1', 'a', ['10.0.0.2', '10.0.0.3']));
  t.pipeline.schedule('default/a');
  await scheduled();
  assert.equal(t.swaps.length, 1, 'no full swap');
  assert.equal(t.patches.length, 1);
  assert.deepEqual([...(t.patches[0] as EndpointPatch).keys()], ['default/a:80']);
  assert.equal(t.matcher(), first);
  // the compiled target reads the live slot; the table it came from is never modified
  assert.deepEqual(targetA?.backends[0]?.slot.endpoints.map((e) => e.ip), ['10.0.0.2', '10.0.0.3']);
  assert.deepEqual(first.table.backends.get('default/a:80')?.endpoints.map((e) => e.ip), ['10.0.0.1']);
  assert.deepEqual(tableBefore.backends.get('default/a:80')?.endpoints.map((e) => e.ip), ['10.0.0.1']);
  assert.deepEqual(endpointsOf(t, 'default/a:80'), ['10.0.0.2:8080', '10.0.0.3:8080'], 'the live view has the patch');
  assert.deepEqual(endpointsOf(t, 'default/b:80'), ['10.0.1.1:8080']);
});

test('a slice change that resolves to the same endpoints patches nothing', async () => {
  const t = setup();
  t.store.upsert({ ...slice('a-1', 'a', ['10.0.0.1']), metadata: { name: 'a-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'a' }, resourceVersion: '9' } } as KubeObject);
  t.pipeline.schedule('default/a');
  await scheduled();
  assert.equal(t.patches.length, 0);
});

test('a full change pending with endpoint changes takes the full path', async () => {
  const t = setup();
  t.store.upsert(slice('a-1', 'a', ['10.0.0.9']));
  t.pipeline.schedule('default/a');
  t.store.upsert(ing('c', 'c.test', 'a'));
  t.pipeline.schedule();
  await scheduled();
  assert.equal(t.patches.length, 0);
  assert.equal(t.swaps.length, 2);
  assert.deepEqual(endpointsOf(t, 'default/a:80'), ['10.0.0.9:8080']);
  assert.ok(t.matcher().exactHosts.has('c.test'));
});

test('after a patch, a full rebuild settles diagnostics and finds the table unchanged', async () => {
  const t = setup();
  t.store.upsert(slice('a-1', 'a', []));
  t.pipeline.schedule('default/a');
  await scheduled();
  assert.equal(t.patches.length, 1);
  assert.deepEqual(endpointsOf(t, 'default/a:80'), []);
  assert.deepEqual(t.live.endpoints('default/a:80'), [], 'the data plane slot too');
  assert.equal(t.pipeline.diagnostics().length, 0, 'diagnostics wait for the settle rebuild');
  await settled(() => t.pipeline.diagnostics().length > 0);
  assert.deepEqual(t.pipeline.diagnostics().map((d) => d.reason), ['NoEndpoints']);
  assert.equal(t.swaps.length, 1, 'the settle rebuild found the patched table current');
});

test('a rollout (one non-empty list to another) changes no diagnostic: no full rebuild follows', async () => {
  const t = setup();
  let translations = 0;
  const snapshot = t.store.snapshot.bind(t.store);
  t.store.snapshot = () => {
    translations++;
    return snapshot();
  };
  t.store.upsert(slice('a-1', 'a', ['10.0.0.2']));
  t.pipeline.schedule('default/a');
  await scheduled();
  t.store.upsert(slice('a-1', 'a', ['10.0.0.3', '10.0.0.4']));
  t.pipeline.schedule('default/a');
  await tick(SETTLE_MS + 100);
  assert.equal(t.patches.length, 2);
  assert.equal(translations, 0);
  assert.deepEqual(endpointsOf(t, 'default/a:80'), ['10.0.0.3:8080', '10.0.0.4:8080']);
  // the last endpoint going does change one (NoEndpoints): the settle rebuild runs, even after a rollout in the same burst
  t.store.upsert(slice('a-1', 'a', []));
  t.pipeline.schedule('default/a');
  await scheduled();
  t.store.upsert(slice('b-1', 'b', ['10.0.1.2']));
  t.pipeline.schedule('default/b');
  await settled(() => translations > 0);
  assert.equal(translations, 1);
  assert.deepEqual(t.pipeline.diagnostics().map((d) => d.reason), ['NoEndpoints']);
  // and its first endpoint coming back clears it
  t.store.upsert(slice('a-1', 'a', ['10.0.0.5']));
  t.pipeline.schedule('default/a');
  await settled(() => translations > 1);
  assert.equal(translations, 2);
  assert.deepEqual(t.pipeline.diagnostics(), []);
  assert.equal(t.swaps.length, 1, 'every settle rebuild found the patched table current');
});

test('a backend that a swapped table added takes the fast path too (the per-Service index follows the table)', async () => {
  const t = setup();
  t.store.upsert(svc('c'));
  t.store.upsert(slice('c-1', 'c', ['10.0.2.1']));
  t.store.upsert(ing('c', 'c.test', 'c'));
  t.pipeline.schedule();
  await scheduled();
  assert.equal(t.swaps.length, 2);
  t.store.upsert(slice('c-1', 'c', ['10.0.2.2']));
  t.pipeline.schedule('default/c');
  await scheduled();
  assert.deepEqual([...(t.patches[0] as EndpointPatch).keys()], ['default/c:80']);
  assert.deepEqual(t.live.endpoints('default/c:80')?.map((e) => e.ip), ['10.0.2.2']);
});

test('slices moving between Services, and deleted slices, are indexed by Service', () => {
  const s = createStore();
  s.upsert(slice('x', 'a', ['10.0.0.1']));
  s.upsert(slice('y', 'a', ['10.0.0.2']));
  assert.deepEqual(s.slicesOf('default/a').map((o) => o.metadata?.name), ['x', 'y']);
  s.upsert(slice('y', 'b', ['10.0.0.2']));
  assert.deepEqual(s.slicesOf('default/a').map((o) => o.metadata?.name), ['x']);
  assert.deepEqual(s.slicesOf('default/b').map((o) => o.metadata?.name), ['y']);
  s.remove('EndpointSlice', 'default/x');
  assert.deepEqual(s.slicesOf('default/a'), []);
  s.replace('EndpointSlice', [slice('z', 'b', [])]);
  assert.deepEqual(s.slicesOf('default/b').map((o) => o.metadata?.name), ['z']);
});

test('rebuildNow() covers a scheduled rebuild, and nothing rebuilds before the first rebuildNow()', async () => {
  const t = setup();
  const before = t.swaps.length;
  let translations = 0;
  const store = t.store;
  const snapshot = store.snapshot.bind(store);
  store.snapshot = () => {
    translations++;
    return snapshot();
  };
  store.upsert(ing('d', 'd.test', 'a'));
  t.pipeline.schedule();
  t.pipeline.rebuildNow();
  await tick(10);
  assert.equal(translations, 1);
  assert.equal(t.swaps.length, before + 1);

  // a fresh pipeline during its initial read: schedule() only marks the store dirty
  const early = createPipeline({ store, log: createLogger('fatal'), metrics: null, translateOptions: () => ({ controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false }), swap: () => {} });
  translations = 0;
  early.schedule();
  early.schedule('default/a');
  await tick(10);
  assert.equal(translations, 0);
  early.rebuildNow();
  assert.equal(translations, 1);
});

test("a source's own diagnostics are shown and counted with the translator's, and set portico_config_valid and portico_config_files", async () => {
  const { createMetrics } = await import('../metrics/metrics.js');
  const metrics = createMetrics({ version: 'test', nginxCompat: false, controllerClass: 'c', controllerNamespace: '', controllerPod: '' });
  const store = createStore();
  store.upsert(ing('a', 'a.test', 'missing'));
  const fileProblem = { source: { kind: 'File', namespace: '', name: 'site.yaml' }, reason: 'InvalidManifest' as const, message: 'line 2, column 1: bad' };
  let status: { diagnostics: (typeof fileProblem)[]; files: { valid: number; invalid: number } } = { diagnostics: [fileProblem], files: { valid: 1, invalid: 1 } };
  let swaps = 0;
  const pipeline = createPipeline({
    store,
    log: createLogger('fatal'),
    metrics,
    translateOptions: () => ({ controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false }),
    swap: () => void swaps++,
    sourceStatus: () => status,
  });
  const series = async (): Promise<string[]> => (await metrics.registry.metrics()).split('\n').filter((l) => /^portico_(config_|diagnostics)/.test(l)).sort();
  assert.deepEqual(await series(), ['portico_config_valid 1'], 'valid until a source says otherwise (always, in Kubernetes mode)');
  pipeline.rebuildNow();
  assert.deepEqual(
    pipeline.diagnostics().map((d) => `${d.source.kind} ${d.source.name}: ${d.reason}`),
    ['File site.yaml: InvalidManifest', 'Ingress a: ServiceNotFound'],
  );
  assert.deepEqual(await series(), ['portico_config_files{state="invalid"} 1', 'portico_config_files{state="valid"} 1', 'portico_config_valid 0', 'portico_diagnostics{reason="InvalidManifest"} 1', 'portico_diagnostics{reason="ServiceNotFound"} 1']);
  // the source fixes its file and schedules a rebuild: the table is unchanged, the diagnostics follow
  status = { diagnostics: [], files: { valid: 2, invalid: 0 } };
  pipeline.schedule();
  await tick(10);
  assert.equal(swaps, 1);
  assert.deepEqual(
    pipeline.diagnostics().map((d) => d.reason),
    ['ServiceNotFound'],
  );
  assert.deepEqual(await series(), ['portico_config_files{state="invalid"} 0', 'portico_config_files{state="valid"} 2', 'portico_config_valid 1', 'portico_diagnostics{reason="ServiceNotFound"} 1']);
});
