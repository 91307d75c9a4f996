/**
 * Memory under sustained load: idle RSS, then wrk at c=200 for --seconds (default 60; the issue's
 * soak is 300), sampling RSS every 5 s from /metrics. Prints idle, peak, the ratio, and the growth
 * between the first and last fifths of the run.
 *
 * Default: one Ingress from a manifest file. `--ingresses N`: Kubernetes mode against the
 * API-server double holding bench:scale's N Ingresses (50,000 endpoints at 10,000) besides the
 * one under load, so the soak runs with a table at scale.
 * `--detail`: each second for the first 15 s of load, then at each 5 s sample, where the RSS is:
 * anonymous and file-backed pages, V8's spaces (committed), and the anonymous memory outside them
 * (glibc's malloc arenas, pages V8 keeps pooled, thread stacks), from /proc/PID/smaps, and the
 * table rebuilds so far by result. `--stderr FILE` writes Portico's stderr and its
 * stdout lines that are not JSON there (V8's traces: for `PORTICO_NODE_FLAGS='... --trace-gc-nvp'`).
 * `npm run bench:soak [-- --seconds 300] [-- --ingresses 10000] [-- --backend-ip 127.0.60.2] [-- --detail]`
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { startApiDouble, type ApiDouble } from '../e2e/apiserver/double.js';
import { get } from '../e2e/lib/http.js';
import { sleep } from '../e2e/lib/load.js';
import { ingressYaml, join, serviceYaml } from '../e2e/lib/manifests.js';
import { ingress, service, slice } from '../e2e/lib/objects.js';
import { startPortico, type Portico } from '../e2e/lib/portico.js';
import { LOAD_CORE, need, startNginxBackend } from './lib.js';
import { scaleObjects } from './objects.js';

const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf('--seconds') + 1] ?? 60) || 60;
const INGRESSES = args.includes('--ingresses') ? Number(args[args.indexOf('--ingresses') + 1]) || 10_000 : 0;
/** The backend's loopback address (`--backend-ip`), for runs side by side with another soak. */
const IP = args.includes('--backend-ip') ? (args[args.indexOf('--backend-ip') + 1] ?? '127.0.60.2') : '127.0.60.2';
need('wrk', 'wrk');
const backend = await startNginxBackend(IP);
let api: ApiDouble | null = null;
const dir = mkdtempSync(joinPath(tmpdir(), 'bench-soak-'));
let p: Portico;
let ready = 0;
if (INGRESSES > 0) {
  api = await startApiDouble({ bookmarkMs: 60_000 });
  for (const o of scaleObjects(INGRESSES)) api.apply(o as unknown as Parameters<ApiDouble['apply']>[0]);
  api.apply(service('be'));
  api.apply(slice('be-1', 'be', [{ ip: IP, port: backend.port }]));
  api.apply(ingress('bench', 'bench.test', 'be'));
  const t0 = Date.now();
  p = await startPortico(null, ['--kubeconfig', api.kubeconfig(joinPath(dir, 'kubeconfig')), '--access-log=false', '--update-status=false'], { env: { POD_NAME: 'bench', POD_NAMESPACE: 'default' } });
  ready = Date.now() - t0;
} else {
  p = await startPortico({ 'b.yaml': join(ingressYaml('b', [{ host: 'bench.test', paths: [{ path: '/', service: 'be' }] }]), serviceYaml('be', [{ ip: IP, port: backend.port }])) }, ['--access-log=false']);
}
const DETAIL = args.includes('--detail');
const STDERR = args.includes('--stderr') ? args[args.indexOf('--stderr') + 1] : undefined;
/** One line of where the RSS is (see --detail), t seconds into the load. */
async function detail(t: number): Promise<string> {
  const m = (await get(p.adminPort, '/metrics', { agent: false })).body;
  const kb: Record<string, number> = {};
  for (const line of readFileSync(`/proc/${p.proc.pid}/smaps_rollup`, 'utf8').split('\n')) {
    const f = /^(\w+):\s+(\d+) kB/.exec(line);
    if (f) kb[f[1]!] = Number(f[2]);
  }
  const spaces = [...m.matchAll(/nodejs_heap_space_size_(total|used)_bytes\{space="(\w+)"\} (\d+)/g)];
  const total = (name?: string): number => spaces.filter(([, w, n]) => w === 'total' && (name === undefined || n === name)).reduce((a, [, , , v]) => a + Number(v), 0) / 2 ** 20;
  const used = (name: string): number => Number(spaces.find(([, w, n]) => w === 'used' && n === name)?.[3] ?? 0) / 2 ** 20;
  // Anonymous mappings by kind: glibc's main arena ([heap]) and thread arenas (64 MiB-aligned
  // heaps of at most 64 MiB), and V8's 256 KiB pages, of which those beyond the spaces' committed
  // memory (large objects and code live elsewhere) are pages V8 keeps pooled.
  let mainArena = 0;
  let threadArenas = 0;
  let v8Pages = 0;
  let start = 0;
  let size = 0;
  let kind = '';
  for (const line of readFileSync(`/proc/${p.proc.pid}/smaps`, 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      start = Number.parseInt(head[1]!, 16);
      size = Number.parseInt(head[2]!, 16) - start;
      kind = head[3] === '[heap]' ? 'main' : head[3] !== '' ? '' : size === 256 * 1024 ? 'v8' : start % 2 ** 26 === 0 && size <= 2 ** 26 ? 'arena' : '';
      continue;
    }
    const r = /^Rss:\s+(\d+) kB/.exec(line);
    if (r) {
      const mb = Number(r[1]) / 1024;
      if (kind === 'main') mainArena += mb;
      else if (kind === 'arena') threadArenas += mb;
      else if (kind === 'v8') v8Pages += mb;
    }
  }
  const pooled = v8Pages - (total() - total('large_object') - total('code') - total('code_large_object') - total('trusted_large_object'));
  const anon = (kb.Anonymous ?? 0) / 1024;
  const rssNow = (kb.Rss ?? 0) / 1024;
  const rebuilds = [...m.matchAll(/portico_table_rebuilds_total\{result="(\w+)"\} (\d+)/g)].map(([, r, n]) => `${r} ${n}`).join(', ');
  return `t=${String(t).padStart(3)}s rebuilds (${rebuilds}) RSS ${rssNow.toFixed(1)} anon ${anon.toFixed(1)} file ${(rssNow - anon).toFixed(1)} | V8 spaces ${total().toFixed(1)} (new ${used('new').toFixed(1)}/${total('new').toFixed(1)}, old ${used('old').toFixed(1)}/${total('old').toFixed(1)}, code ${total('code').toFixed(1)}, large ${total('large_object').toFixed(1)}, trusted ${(total('trusted') + total('trusted_large_object')).toFixed(1)}) | anon outside V8 spaces ${(anon - total()).toFixed(1)}: malloc main arena ${mainArena.toFixed(1)}, thread arenas ${threadArenas.toFixed(1)}, pooled V8 pages ${pooled.toFixed(1)} MiB`;
}
const rss = async (): Promise<number> => Number(/process_resident_memory_bytes (\d+)/.exec((await get(p.adminPort, '/metrics', { agent: false })).body)?.[1]) / 2 ** 20;
try {
  const afterReady = await rss();
  await sleep(2000);
  const idle = await rss();
  const wrk = spawn('taskset', ['-c', LOAD_CORE, 'wrk', '-t1', '-c200', `-d${SECONDS}s`, '-H', 'Host: bench.test', `http://127.0.0.1:${p.httpPort}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = once(wrk, 'exit'); // attached now: wrk may finish before the sampling loop does
  let out = '';
  wrk.stdout.on('data', (d) => (out += d));
  const samples: number[] = [];
  const t0 = Date.now();
  const details: string[] = DETAIL ? [await detail(0)] : [];
  while (Date.now() - t0 < SECONDS * 1000) {
    if (DETAIL && Date.now() - t0 < 15_000) {
      for (let i = 0; i < 5; i++) {
        await sleep(1000);
        details.push(await detail(Math.round((Date.now() - t0) / 1000)));
      }
    } else {
      await sleep(5000);
      if (DETAIL) details.push(await detail(Math.round((Date.now() - t0) / 1000)));
    }
    samples.push(await rss());
  }
  await exited;
  await sleep(5000);
  const after = await rss();
  const fifth = Math.max(1, Math.floor(samples.length / 5));
  const avg = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = avg(samples.slice(0, fifth));
  const last = avg(samples.slice(-fifth));
  const peak = Math.max(...samples);
  if (INGRESSES > 0) console.log(`Kubernetes mode, ${INGRESSES} Ingresses besides the one under load; ready in ${ready} ms; RSS right after ready ${afterReady.toFixed(0)} MiB`);
  console.log(`wrk: ${/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? '?'} requests/s over ${SECONDS} s at c=200`);
  console.log(`RSS idle ${idle.toFixed(0)} MiB, peak under load ${peak.toFixed(0)} MiB (${(peak / idle).toFixed(2)}x idle; target <= 1.5x)`);
  console.log(`RSS first fifth ${first.toFixed(0)} MiB, last fifth ${last.toFixed(0)} MiB (growth ${(((last - first) / first) * 100).toFixed(1)}%); 5 s after the load ${after.toFixed(0)} MiB`);
  console.log(`samples (MiB, every 5 s): ${samples.map((s) => s.toFixed(0)).join(' ')}`);
  if (DETAIL) console.log(`${details.join('\n')}\nafter: ${await detail(Math.round((Date.now() - t0) / 1000))}`);
} finally {
  if (STDERR !== undefined) writeFileSync(STDERR, [...p.stderr, ...p.logs.filter((l) => Object.keys(l).length === 1).map((l) => l.msg)].join('\n'));
  await p.stop();
  await backend.stop();
  await api?.close();
  rmSync(dir, { recursive: true, force: true });
}
