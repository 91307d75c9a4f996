/**
 * Propagation latency in Kubernetes mode: the real portico process watches the API-server double
 * with N Ingresses loaded; each change is timed from the API write to the first request served by
 * the new backend:
 * - an EndpointSlice moving to a pod Portico has never seen (a new `ip:port`: a rollout), with the
 *   time of the first request that reached it (the first use of a new endpoint), `--gap` ms apart;
 * - an EndpointSlice moving between two known pods;
 * - a new Ingress (a full rebuild).
 * `--gateway`: the same with HTTPRoutes of one Gateway instead of Ingresses (the Gateway API's
 * routes take the same EndpointSlice fast path).
 * `npm run bench:propagation [-- --ingresses 10000 --changes 100 --new-pods 20 --gap 0 --workers 2 --gateway]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startApiDouble } from '../e2e/apiserver/double.js';
import { get } from '../e2e/lib/http.js';
import { gateway, gatewayClass, httpRoute, ingress, service, slice, type Obj } from '../e2e/lib/objects.js';
import { startPod } from '../e2e/lib/pods.js';
import { startPortico } from '../e2e/lib/portico.js';
import { sleep } from '../e2e/lib/load.js';

const args = process.argv.slice(2);
const arg = (k: string, d: number): number => Number(args[args.indexOf(`--${k}`) + 1] ?? d) || d;
const N = arg('ingresses', 1000);
const CHANGES = arg('changes', 50);
/** Changes to never-seen pods (each one a pod of its own). */
const NEW_PODS = arg('new-pods', 20);
/** Quiet time between those changes (ms): over 1 s lets the settle rebuild run in between. */
const GAP = Number(args[args.indexOf('--gap') + 1] ?? 0) || 0;
/** `--workers N`: the primary patches N workers over IPC. */
const WORKERS = args.includes('--workers') ? ['--workers', String(arg('workers', 2))] : [];
/** `--gateway`: HTTPRoutes attached to one Gateway's HTTP listener instead of Ingresses. */
const GATEWAY = args.includes('--gateway');
const KIND = GATEWAY ? 'HTTPRoute' : 'Ingress';
/** A route for `host` to the Service's port 80: an Ingress, or an HTTPRoute of the Gateway `bench`. */
const route = (name: string, host: string, svc: string): Obj =>
  GATEWAY ? httpRoute(name, 'default', { parentRefs: [{ name: 'bench' }], hostnames: [host], rules: [{ backendRefs: [{ name: svc, port: 80 }] }] }) : ingress(name, host, svc);
const fmt = (xs: number[]): string => `p50 ${pct(xs, 0.5).toFixed(1)} ms, p99 ${pct(xs, 0.99).toFixed(1)} ms, max ${Math.max(...xs).toFixed(1)} ms`;
const pct = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;

const api = await startApiDouble({ bookmarkMs: 60_000 });
const a = await startPod('127.0.90.1', 'pod-a');
const b = await startPod('127.0.90.2', 'pod-b');
if (GATEWAY) {
  api.apply(gatewayClass());
  api.apply(gateway('bench', 'default', [{ name: 'http', port: 80, protocol: 'HTTP' }]));
}
for (let i = 0; i < N; i++) {
  if (i % 5 === 0) {
    api.apply(service(`svc-${i / 5}`));
    api.apply(slice(`svc-${i / 5}-1`, `svc-${i / 5}`, i === 0 ? [a] : [{ ip: `10.1.${(i >> 8) & 255}.${i & 255}`, port: 8080 }]));
  }
  api.apply(route(`ing-${i}`, `h${i}.bench.test`, `svc-${Math.floor(i / 5)}`));
}
const dir = mkdtempSync(join(tmpdir(), 'bench-prop-'));
const t0 = performance.now();
const p = await startPortico(null, ['--kubeconfig', api.kubeconfig(join(dir, 'kubeconfig')), '--access-log=false', '--update-status=false', '--log-level', 'info', ...WORKERS], { env: { POD_NAME: 'bench', POD_NAMESPACE: 'default' } });
const coldStart = performance.now() - t0;
const rssMiB = (r: { body: string }): number => Number(/process_resident_memory_bytes (\d+)/.exec(r.body)?.[1]) / 2 ** 20;
const podOf = async (host: string): Promise<string> => {
  const r = await get(p.httpPort, '/', { host });
  return r.status === 200 ? (JSON.parse(r.body) as { pod: string }).pod : String(r.status);
};

try {
  const rssReady = rssMiB(await get(p.adminPort, '/metrics'));
  // known pods first: they also warm the fast path's code up, as in a controller that has been running
  const slices: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const next = i % 2 === 0 ? b : a;
    const start = performance.now();
    api.apply(slice('svc-0-1', 'svc-0', [next]));
    while ((await podOf('h0.bench.test')) !== next.name) {
      if (performance.now() - start > 10_000) throw new Error('change not seen in 10 s');
    }
    slices.push(performance.now() - start);
  }
  // back to pod-a for what follows
  api.apply(slice('svc-0-1', 'svc-0', [a]));
  while ((await podOf('h0.bench.test')) !== a.name);
  // a pod per change, started before its change is written
  const fresh = await Promise.all(Array.from({ length: NEW_PODS }, (_, i) => startPod(`127.0.91.${i + 1}`, `fresh-${i}`)));
  const rollout: number[] = [];
  const firstUse: number[] = [];
  const inside: number[] = [];
  const toPatched: number[] = [];
  try {
    for (const [i, pod] of fresh.entries()) {
      if (GAP > 0) await sleep(GAP);
      const logsBefore = p.logs.length;
      const start = performance.now();
      const wall = Date.now();
      api.apply(slice('svc-0-1', 'svc-0', [pod]));
      for (;;) {
        const t = performance.now();
        if ((await podOf('h0.bench.test')) === pod.name) {
          firstUse.push(performance.now() - t);
          break;
        }
        if (performance.now() - start > 10_000) throw new Error(`change ${i} not seen in 10 s`);
      }
      rollout.push(performance.now() - start);
      // Portico's log line may arrive after the answer: read it once it is there
      const patched = await p.waitForLog((l) => p.logs.indexOf(l) >= logsBefore && (l.msg === 'endpoints patched' || l.msg === 'routing table swapped'), 5000).catch(() => null);
      inside.push(typeof patched?.durationMs === 'number' ? patched.durationMs : NaN);
      // pino's time is when the patch was done, in whole milliseconds
      toPatched.push(typeof patched?.time === 'string' ? Date.parse(patched.time) - wall : NaN);
    }
  } finally {
    // back to pod-a for what follows; the fresh pods go
    api.apply(slice('svc-0-1', 'svc-0', [a]));
    while ((await podOf('h0.bench.test')) !== a.name);
    await Promise.all(fresh.map((f) => f.close()));
  }
  const rssAfterSlices = rssMiB(await get(p.adminPort, '/metrics'));
  const ingresses: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const host = `new-${i}.bench.test`;
    const start = performance.now();
    api.apply(route(`new-${i}`, host, 'svc-0'));
    while ((await podOf(host)) === '404') {
      if (performance.now() - start > 10_000) throw new Error(`${KIND} not seen in 10 s`);
    }
    ingresses.push(performance.now() - start);
  }
  const rss = rssMiB(await get(p.adminPort, '/metrics'));
  const rebuild = /portico_table_last_rebuild_duration_seconds ([\d.e-]+)/.exec((await get(p.adminPort, '/metrics')).body)?.[1];
  const buckets = [...(await get(p.adminPort, '/metrics')).body.matchAll(/portico_propagation_duration_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => `<=${m[1]}s:${m[2]}`);
  console.log(`inside portico (watch event seen -> table swapped): ${buckets.join(' ')}`);
  console.log(`${KIND}s loaded: ${N}; cold start to ready: ${coldStart.toFixed(0)} ms; RSS ${rssReady.toFixed(0)} MiB after ready, ${rssAfterSlices.toFixed(0)} MiB after the EndpointSlice changes, ${rss.toFixed(0)} MiB after the new ${KIND}s; last rebuild ${(Number(rebuild) * 1000).toFixed(1)} ms`);
  console.log(`EndpointSlice -> a new pod, served: ${fmt(rollout)} (${NEW_PODS} changes, ${GAP} ms apart; target: max <= 20 ms at 10,000 Ingresses)`);
  console.log(`  of which the first request to the new pod:  ${fmt(firstUse)}`);
  console.log(`  Portico's patch (log durationMs):           ${fmt(inside)}`);
  console.log(`  each change, write -> served (ms): ${rollout.map((x) => x.toFixed(1)).join(' ')}`);
  console.log(`  each change, write -> patched (ms, whole): ${toPatched.join(' ')}`);
  console.log(`EndpointSlice -> a known pod, served: ${fmt(slices)} (${CHANGES} changes)`);
  console.log(`new ${KIND} -> served:${' '.repeat(GATEWAY ? 13 : 15)}${fmt(ingresses)} (${CHANGES} changes)`);
} finally {
  await p.stop();
  await api.close();
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
}
