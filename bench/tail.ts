/**
 * Where a tail latency comes from: wrk's percentiles next to what the proxy's process saw in the
 * same seconds. For Portico: its own request histogram (requests over 50/100/250 ms), event-loop
 * lag (p99, max), GC time, and per-thread CPU; for every proxy: time its process spent runnable
 * but waiting for a CPU (/proc/PID/schedstat: other processes on the proxy's core), the core's
 * softirq and steal time, and TCP retransmissions, listen overflows and drops on the machine.
 * A wait that is in wrk's p99 but in none of Portico's own figures is outside its event loop.
 * `npm run bench:tail [-- --runs 3 --seconds 5 --connections 200 --only nginx-1w,portico,portico-nodehttp]`
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { benchArgs, processTree, startNginxBackend, startNginxProxy, startPortico, wrk, type Proc } from './lib.js';

const { runs, seconds, connections, only } = benchArgs({ runs: 3, seconds: 5, connections: [200] });
const c = connections[0] as number;
const backend = await startNginxBackend('127.0.60.2');
const be = { ip: '127.0.60.2', port: backend.port };
type Started = Proc & { port: number; adminPort?: number };
const all: [string, () => Promise<Started>][] = [
  ['nginx-1w', () => startNginxProxy(be, 1)],
  ['portico', () => startPortico(be, ['--access-log=false'])],
  ['portico-nodehttp', () => startPortico(be, ['--access-log=false', '--http1-server', 'node'])],
];

/** Nanoseconds on a CPU and waiting runnable for one, summed over the tree's threads. */
function sched(pid: number): [number, number] {
  let on = 0;
  let wait = 0;
  for (const p of processTree(pid)) {
    for (const t of readdirSync(`/proc/${p}/task`)) {
      try {
        const [a, b] = readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').trim().split(' ').map(Number);
        on += a ?? 0;
        wait += b ?? 0;
      } catch {
        // gone
      }
    }
  }
  return [on, wait];
}
/** CPU time per thread of one process (ms), by thread id. */
function threads(pid: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    try {
      const s = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      m.set(t, (Number(f[11]) + Number(f[12])) * 10);
    } catch {
      // gone
    }
  }
  return m;
}
const cpu1 = (): number[] => (readFileSync('/proc/stat', 'utf8').split('\n').find((l) => l.startsWith('cpu1 ')) as string).trim().split(/\s+/).slice(1).map(Number);
const nstat = (): Map<string, number> => new Map(spawnSync('nstat', ['-az'], { encoding: 'utf8' }).stdout.split('\n').map((l) => l.trim().split(/\s+/)).filter((f) => f.length >= 2).map((f) => [f[0] as string, Number(f[1])]));
async function metrics(port: number | undefined): Promise<string> {
  if (port === undefined) return '';
  for (let i = 0; i < 5; i++) {
    try {
      return await (await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { connection: 'close' } })).text();
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return '';
}
const num = (text: string, re: RegExp): number => Number(re.exec(text)?.[1] ?? NaN);
const bucket = (text: string, le: string): number => num(text, new RegExp(`^portico_request_duration_seconds_bucket\\{[^}]*le="${le}"[^}]*\\} ([0-9.e+-]+)$`, 'm'));

try {
  for (let run = 0; run < runs; run++) {
    for (const [name, start] of all.filter(([n]) => only === undefined || only.includes(n))) {
      const p = await start();
      try {
        wrk(p.port, { connections: c, seconds: 1 });
        const pid = p.proc.pid as number;
        const [m0, s0, t0, k0, n0] = [await metrics(p.adminPort), sched(pid), threads(pid), cpu1(), nstat()];
        const w = wrk(p.port, { connections: c, seconds });
        const [m1, s1, t1, k1, n1] = [await metrics(p.adminPort), sched(pid), threads(pid), cpu1(), nstat()];
        const k = k1.map((v, i) => v - (k0[i] ?? 0));
        const ticks = k.reduce((a, b) => a + b, 0);
        const net = ['TcpRetransSegs', 'TcpExtTCPTimeouts', 'TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtTCPBacklogDrop'].map((x) => `${x.replace(/^Tcp(Ext)?/, '')} ${(n1.get(x) ?? 0) - (n0.get(x) ?? 0)}`).join(', ');
        let line = `${name} run ${run + 1}: wrk ${w.rps.toFixed(0)} req/s, p50 ${w.p50ms.toFixed(1)} ms, p99 ${w.p99ms.toFixed(1)} ms | on CPU ${((s1[0] - s0[0]) / 1e6).toFixed(0)} ms, waiting for a CPU ${((s1[1] - s0[1]) / 1e6).toFixed(0)} ms | core 1 softirq ${((100 * (k[5] ?? 0)) / ticks).toFixed(0)}%, steal ${((100 * (k[6] ?? 0)) / ticks).toFixed(0)}% | ${net}`;
        if (m1 !== '') {
          const total = bucket(m1, '\\+Inf') - bucket(m0, '\\+Inf');
          const over = (le: string): number => total - (bucket(m1, le) - bucket(m0, le));
          const lagP99 = num(m1, /^nodejs_eventloop_lag_p99_seconds ([0-9.e+-]+)$/m) * 1000;
          const lagMax = num(m1, /^nodejs_eventloop_lag_max_seconds ([0-9.e+-]+)$/m) * 1000;
          const gc = (t: string): number => [...t.matchAll(/^nodejs_gc_duration_seconds_sum\{kind="\w+"\} ([0-9.e+-]+)$/gm)].reduce((a, x) => a + Number(x[1]), 0);
          const main = String(pid);
          const helpers = [...t1.entries()].filter(([t]) => t !== main).reduce((a, [t, v]) => a + v - (t0.get(t) ?? 0), 0);
          line += ` | Portico: ${total} requests, over 50 ms ${over('0.05')}, over 100 ms ${over('0.1')}, over 250 ms ${over('0.25')}; event-loop lag p99 ${lagP99.toFixed(1)} ms, max ${lagMax.toFixed(1)} ms; GC ${((gc(m1) - gc(m0)) * 1000).toFixed(0)} ms; main thread ${((t1.get(main) ?? 0) - (t0.get(main) ?? 0))} ms CPU, other threads ${helpers} ms`;
        }
        console.log(line);
      } finally {
        await p.stop();
      }
    }
  }
} finally {
  await backend.stop();
}
