/**
 * Control-plane scale: 10,000 Ingresses (5 paths each, 2,000 hosts, 50,000 endpoints) as manifest
 * files and through the API-server double. Measures a full rebuild in-process (translate + compile),
 * cold start to ready of the real process (standalone mode, and Kubernetes mode) with its RSS, and
 * route lookup time at 10 vs 10,000 Ingresses.
 * `npm run bench:scale [-- --ingresses 10000]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { startApiDouble, type ApiDouble } from '../e2e/apiserver/double.js';
import { get } from '../e2e/lib/http.js';
import { startPortico } from '../e2e/lib/portico.js';
import type { KubeObject } from '../src/model/k8s.js';
import { scaleObjects } from './objects.js';
import { createTranslator } from '../src/model/translate.js';
import type { Snapshot } from '../src/model/k8s.js';
import { createEndpointState } from '../src/proxy/endpoints.js';
import { createPools } from '../src/proxy/pools.js';
import { compileTable } from '../src/proxy/route.js';
import { match } from '../src/router/match.js';
import { snapshotOf } from '../src/control/store.js';
import { createLimiters } from '../src/proxy/limiters.js';

const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--ingresses') + 1] ?? 10_000) || 10_000;

const opts = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false };

/** One translator (with its memos, as the pipeline has) and the data plane's compile (targets, policies, dispatchers). */
const translator = createTranslator();
const dataPlane = { pools: createPools({ connectTimeout: 5000, keepAliveTimeout: 60_000 }), endpoints: createEndpointState(), env: { httpsRedirectPort: 443, bodySize: 1024 * 1024, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 } };
const rebuild = (snap: Snapshot): ReturnType<typeof compileTable>['matchers'] extends ReadonlyMap<number, infer M> ? M : never => compileTable(translator.translate(snap, opts).table, dataPlane).matchers.get(80) as ReturnType<typeof compileTable>['matchers'] extends ReadonlyMap<number, infer M> ? M : never;

/**
 * ns per lookup for each [table size, requests] pair, measured in alternation (5 rounds, medians)
 * so JIT state and machine noise fall on both alike. The same number of requests at both sizes
 * measures what the table's size costs a lookup; a spread over 1,000 hosts adds the CPU caches.
 */
function lookupNs(cases: readonly (readonly [number, readonly (readonly [string, string])[]])[]): number[] {
  const ms = cases.map(([n, requests]) => {
    const m = rebuild(snapshotOf(scaleObjects(n)));
    for (const [h, p] of requests) if (match(m, h, p) === null) throw new Error(`no route for ${h}${p}`);
    return m;
  });
  const samples: number[][] = cases.map(() => []);
  for (let round = 0; round < 5; round++) {
    cases.forEach(([, requests], c) => {
      const m = ms[c]!;
      const reps = Math.ceil(200_000 / requests.length);
      for (let r = 0; r < reps / 4; r++) for (const [h, p] of requests) match(m, h, p); // warm
      const t0 = performance.now();
      for (let r = 0; r < reps; r++) for (const [h, p] of requests) match(m, h, p);
      samples[c]!.push(((performance.now() - t0) * 1e6) / (reps * requests.length));
    });
  }
  return samples.map((xs) => xs.sort((a, b) => a - b)[2]!);
}
/** One request to each of the first 10 Ingresses (on their hosts at that table size): the same work at any size. */
const firstTen = (n: number): (readonly [string, string])[] => Array.from({ length: 10 }, (_, k) => [`h${k % Math.max(1, Math.floor(n / 5))}.scale.test`, `/i${k}/p0/x`] as const);
const spreadOver = (n: number): (readonly [string, string])[] => Array.from({ length: 1000 }, (_, k) => [`h${k % Math.max(1, Math.floor(n / 5))}.scale.test`, `/i${k % n}/p0/x`] as const);

const objs = scaleObjects(N);
/**
 * Full rebuilds, median of 7 after 2 warm-ups (a controller runs warm). `changed`: one Ingress is
 * a new object each time, the rest as stored, as after an edit (the translator's memos hold).
 * `allNew`: every object is new, as at start-up or after a re-list (the memos miss).
 */
function rebuildMs(mode: 'changed' | 'allNew'): number {
  const ms: number[] = [];
  let base = objs;
  for (let r = 0; r < 9; r++) {
    if (mode === 'allNew') base = scaleObjects(N);
    else {
      const k = base.findIndex((o) => o.kind === 'Ingress');
      const ing = base[k] as KubeObject & { spec: { rules: { host: string }[] } };
      base = base.with(k, { ...ing, spec: { ...ing.spec, rules: [{ ...ing.spec.rules[0]!, host: `edit-${r}.scale.test` }] } } as KubeObject);
    }
    const snap = snapshotOf(base);
    const t0 = performance.now();
    rebuild(snap);
    if (r >= 2) ms.push(performance.now() - t0);
  }
  return ms.sort((a, b) => a - b)[3]!;
}
const rebuildChanged = rebuildMs('changed');
const rebuildAllNew = rebuildMs('allNew');

const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const files: Record<string, string> = {};
for (let f = 0; f < 20; f++) files[`part-${f}.yaml`] = objs.filter((_, k) => k % 20 === f).map((o) => stringify(o)).join('---\n');
const rssOf = async (adminPort: number): Promise<{ rss: number; routes: number; endpoints: number }> => {
  const m = (await get(adminPort, '/metrics')).body;
  return { rss: Number(/process_resident_memory_bytes (\d+)/.exec(m)?.[1]) / 2 ** 20, routes: Number(/portico_routes (\d+)/.exec(m)?.[1]), endpoints: Number(/portico_endpoints (\d+)/.exec(m)?.[1]) };
};
let t0 = performance.now();
const p = await startPortico(files, ['--access-log=false']);
const ready = performance.now() - t0;
const standalone = await rssOf(p.adminPort);
await p.stop();

// Kubernetes mode: the same objects listed from the API-server double
const api = await startApiDouble({ bookmarkMs: 60_000 });
for (const o of objs) api.apply(o as unknown as Parameters<ApiDouble['apply']>[0]);
t0 = performance.now();
const k = await startPortico(null, ['--kubeconfig', api.kubeconfig(join(dir, 'kubeconfig')), '--access-log=false', '--update-status=false'], { env: { POD_NAME: 'bench', POD_NAMESPACE: 'default' } });
const kubeReady = performance.now() - t0;
const kube = await rssOf(k.adminPort);
await k.stop();
await api.close();
rmSync(dir, { recursive: true, force: true });

console.log(`Ingresses ${N}: ${standalone.routes} routes, ${standalone.endpoints} endpoints`);
console.log(`full rebuild (translate + compile) after an Ingress edit, median of 7: ${rebuildChanged.toFixed(0)} ms (target <= 250 ms)`);
console.log(`full rebuild of all-new objects (start-up, re-list), median of 7: ${rebuildAllNew.toFixed(0)} ms`);
console.log(`cold start to ready, standalone from 20 files: ${ready.toFixed(0)} ms (target <= 3000 ms); RSS ${standalone.rss.toFixed(0)} MiB (target <= 200 MB)`);
console.log(`cold start to ready, Kubernetes mode (API double): ${kubeReady.toFixed(0)} ms (target <= 3000 ms); RSS ${kube.rss.toFixed(0)} MiB (target <= 150 MB = 143 MiB, issue #17); ${kube.routes} routes`);
const [small, large, spreadSmall, spreadLarge] = lookupNs([[10, firstTen(10)], [N, firstTen(N)], [10, spreadOver(10)], [N, spreadOver(N)]]) as [number, number, number, number];
console.log(`route lookup, one request to each of the first 10 Ingresses: ${small.toFixed(0)} ns at 10 Ingresses, ${large.toFixed(0)} ns at ${N} (ratio ${(large / small).toFixed(2)}, target within 1.10)`);
console.log(`route lookup, 1,000 requests spread over every host: ${spreadSmall.toFixed(0)} ns at 10, ${spreadLarge.toFixed(0)} ns at ${N} (ratio ${(spreadLarge / spreadSmall).toFixed(2)}: CPU caches, not the algorithm)`);
