/**
 * Memory right after ready in Kubernetes mode at scale, over several starts: RSS (and how it
 * splits: anonymous memory, file-backed pages, V8's heap spaces), as `bench:scale`'s "Kubernetes
 * mode" line but without the rest of that benchmark, so starts can be repeated and compared.
 * `npm run bench:memory [-- --ingresses 10000 --starts 5 --snapshot dir --smaps --settle-ms 0 --run cmd]`:
 * `--snapshot` writes a heap snapshot of each start to dir (`--heapsnapshot-signal=SIGUSR2`),
 * `--smaps` lists the largest mappings, `--settle-ms` waits before measuring, `--run` runs a shell
 * command with $PID set (to look at the process before it stops).
 * PORTICO_NODE_FLAGS replaces the Node.js flags, as in every benchmark.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startApiDouble, type ApiDouble } from '../e2e/apiserver/double.js';
import { get } from '../e2e/lib/http.js';
import { startPortico } from '../e2e/lib/portico.js';
import { NODE_FLAGS } from '../src/paths.js';
import { scaleObjects } from './objects.js';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const N = Number(arg('--ingresses') ?? 10_000) || 10_000;
const STARTS = Number(arg('--starts') ?? 3) || 3;
const SNAPSHOT = arg('--snapshot');
const SETTLE_MS = Number(arg('--settle-ms') ?? 0);

const mib = (kb: number): string => (kb / 1024).toFixed(1);
/** kB fields of /proc/pid/status and smaps_rollup. */
function procKb(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of ['status', 'smaps_rollup']) {
    for (const line of readFileSync(`/proc/${pid}/${f}`, 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+) kB/.exec(line);
      if (m) out[m[1]!] = Number(m[2]);
    }
  }
  return out;
}

/** Committed MiB of every V8 heap space, total first (Node 24 has spaces Node 20 has not: trusted, shared...). */
function allSpaces(metrics: string): string {
  const spaces = [...metrics.matchAll(/nodejs_heap_space_size_total_bytes\{space="(\w+)"\} (\d+)/g)].map(([, name, v]) => [name as string, Number(v) / 2 ** 20] as const);
  return `${spaces.reduce((a, [, v]) => a + v, 0).toFixed(1)} (${spaces.filter(([, v]) => v >= 0.1).map(([n, v]) => `${n} ${v.toFixed(1)}`).join(', ')})`;
}

/** Resident kB by mapping (file name, or [heap]/[anon]), largest first. */
function smapsTop(pid: number): string {
  const by = new Map<string, number>();
  let name = '';
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) name = head[1] || '[anon]';
    const m = /^Rss:\s+(\d+) kB/.exec(line);
    if (m) by.set(name, (by.get(name) ?? 0) + Number(m[1]));
  }
  return [...by].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, kb]) => `  ${mib(kb).padStart(7)} MiB ${n}`).join('\n');
}

const api = await startApiDouble({ bookmarkMs: 60_000 });
for (const o of scaleObjects(N)) api.apply(o as unknown as Parameters<ApiDouble['apply']>[0]);
const dir = mkdtempSync(join(tmpdir(), 'bench-memory-'));
const kubeconfig = api.kubeconfig(join(dir, 'kubeconfig'));
const rows: number[] = [];
if (SNAPSHOT !== undefined) process.env.PORTICO_NODE_FLAGS = [...(process.env.PORTICO_NODE_FLAGS?.split(' ').filter(Boolean) ?? NODE_FLAGS), '--heapsnapshot-signal=SIGUSR2'].join(' ');
for (let s = 0; s < STARTS; s++) {
  const p = await startPortico(null, ['--kubeconfig', kubeconfig, '--access-log=false', '--update-status=false'], { env: { POD_NAME: 'bench', POD_NAMESPACE: 'default' } });
  if (SETTLE_MS > 0) await new Promise((r) => setTimeout(r, SETTLE_MS));
  const m = (await get(p.adminPort, '/metrics')).body;
  const rss = Number(/process_resident_memory_bytes (\d+)/.exec(m)?.[1]) / 2 ** 20;
  const space = (what: string, name: string): number => Number(new RegExp(`nodejs_heap_space_size_${what}_bytes\\{space="${name}"\\} (\\d+)`).exec(m)?.[1] ?? NaN) / 2 ** 20;
  const heap = (name: string): string => `${space('used', name).toFixed(1)}/${space('total', name).toFixed(1)}`;
  const k = procKb(p.proc.pid!);
  const ready = p.logs.find((l) => l.msg === 'ready');
  rows.push(rss);
  if (args.includes('--smaps')) console.log(smapsTop(p.proc.pid!));
  const cmd = arg('--run');
  if (cmd !== undefined) console.log(execSync(cmd, { env: { ...process.env, PID: String(p.proc.pid) }, encoding: 'utf8' }));
  console.log(
    `start ${s + 1}: RSS ${rss.toFixed(1)} MiB (anon ${mib(k.RssAnon!)}, file ${mib(k.RssFile!)}); heap used old ${heap('old')} new ${heap('new')} code ${heap('code')} large ${heap('large_object')} (used/total MiB), all spaces ${allSpaces(m)}, external ${(Number(/nodejs_external_memory_bytes (\d+)/.exec(m)?.[1]) / 2 ** 20).toFixed(1)} MiB; routes ${/portico_routes (\d+)/.exec(m)?.[1]}, startupGcMs ${String(ready?.startupGcMs)}`,
  );
  if (SNAPSHOT !== undefined) {
    const before = new Set(readdirSync(process.cwd()));
    p.proc.kill('SIGUSR2');
    let file: string | undefined;
    for (let t = 0; t < 600 && file === undefined; t++) {
      await new Promise((r) => setTimeout(r, 250));
      const f = readdirSync(process.cwd()).find((x) => x.endsWith('.heapsnapshot') && !before.has(x));
      if (f !== undefined) {
        const size = statSync(f).size;
        await new Promise((r) => setTimeout(r, 1000));
        if (statSync(f).size === size) file = f;
      }
    }
    if (file !== undefined) renameSync(file, join(SNAPSHOT, `start-${s + 1}.heapsnapshot`));
  }
  await p.stop();
}
await api.close();
rmSync(dir, { recursive: true, force: true });
const sorted = [...rows].sort((a, b) => a - b);
console.log(`Kubernetes mode, ${N} Ingresses, ${STARTS} starts: RSS right after ready ${sorted[0]!.toFixed(1)}–${sorted.at(-1)!.toFixed(1)} MiB, median ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} MiB (target <= 143 MiB)`);
