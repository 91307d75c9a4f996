/**
 * Control-plane scale: 10,000 Ingresses (5 paths each, 2,000 hosts, 50,000 endpoints) as manifest
 * files. Measures a full rebuild in-process (translate + compile), cold start to ready of the real
 * process (standalone mode) and its RSS, and route lookup time at 10 vs 10,000 Ingresses.
 * `npm run bench:scale [-- --ingresses 10000]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { get } from '../e2e/lib/http.js';
import { startPortico } from '../e2e/lib/portico.js';
import type { KubeObject } from '../src/model/k8s.js';
import { translate } from '../src/model/translate.js';
import { compile } from '../src/router/compile.js';
import { match } from '../src/router/match.js';
import { snapshotOf } from '../src/store.js';

const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--ingresses') + 1] ?? 10_000) || 10_000;

function objects(n: number): KubeObject[] {
  const out: KubeObject[] = [];
  const services = Math.max(1, Math.floor(n / 2)); // 50,000 endpoints at 10 per Service for 10,000 Ingresses
  for (let s = 0; s < services; s++) {
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as KubeObject);
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `svc-${s}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4',
      ports: [{ port: 8080 }],
      endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [`10.${(s >> 8) & 255}.${s & 255}.${e + 1}`], conditions: { ready: true } })),
    } as KubeObject);
  }
  for (let i = 0; i < n; i++) {
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `ing-${i}`, namespace: 'default' },
      spec: {
        ingressClassName: 'portico',
        rules: [{ host: `h${i % Math.max(1, Math.floor(n / 5))}.scale.test`, http: { paths: Array.from({ length: 5 }, (_, k) => ({ path: `/i${i}/p${k}`, pathType: k % 2 ? 'Exact' : 'Prefix', backend: { service: { name: `svc-${i % services}`, port: { number: 80 } } } })) } }],
      },
    } as KubeObject);
  }
  return out;
}

const opts = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false };

function lookupNs(n: number): number {
  const m = compile(translate(snapshotOf(objects(n)), opts).table);
  const hosts = Math.max(1, Math.floor(n / 5));
  const reqs = Array.from({ length: 1000 }, (_, k) => [`h${k % hosts}.scale.test`, `/i${k % n}/p0/x`] as const);
  for (let r = 0; r < 5; r++) for (const [h, p] of reqs) match(m, h, p); // warm up
  const t0 = performance.now();
  for (let r = 0; r < 200; r++) for (const [h, p] of reqs) match(m, h, p);
  return ((performance.now() - t0) * 1e6) / (200 * reqs.length);
}

const objs = objects(N);
const snap = snapshotOf(objs);
const rebuilds: number[] = [];
for (let r = 0; r < 5; r++) {
  const t0 = performance.now();
  compile(translate(snap, opts).table);
  rebuilds.push(performance.now() - t0);
}
rebuilds.sort((a, b) => a - b);

const dir = mkdtempSync(join(tmpdir(), 'bench-scale-'));
const files: Record<string, string> = {};
for (let f = 0; f < 20; f++) files[`part-${f}.yaml`] = objs.filter((_, k) => k % 20 === f).map((o) => stringify(o)).join('---\n');
const t0 = performance.now();
const p = await startPortico(files, ['--access-log=false']);
const ready = performance.now() - t0;
const m = (await get(p.adminPort, '/metrics')).body;
const rss = Number(/process_resident_memory_bytes (\d+)/.exec(m)?.[1]) / 2 ** 20;
const routes = Number(/portico_routes (\d+)/.exec(m)?.[1]);
const endpoints = Number(/portico_endpoints (\d+)/.exec(m)?.[1]);
await p.stop();
rmSync(dir, { recursive: true, force: true });

console.log(`Ingresses ${N}: ${routes} routes, ${endpoints} endpoints`);
console.log(`full rebuild (translate + compile), median of 5: ${rebuilds[2]!.toFixed(0)} ms (target <= 250 ms)`);
console.log(`cold start to ready, standalone from 20 files: ${ready.toFixed(0)} ms (target <= 3000 ms); RSS ${rss.toFixed(0)} MiB (target <= 200 MB)`);
const small = lookupNs(10);
const large = lookupNs(N);
console.log(`route lookup: ${small.toFixed(0)} ns at 10 Ingresses, ${large.toFixed(0)} ns at ${N} (ratio ${(large / small).toFixed(2)}, target within 1.10)`);
