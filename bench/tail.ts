/**
 * Where a tail latency comes from: wrk's percentiles next to what the proxy's process saw in the
 * same seconds. For every proxy: wrk's p99 and, apart, the p99, p99.9 and max of the requests
 * themselves (wrk's p99 includes the samples its coordinated-omission correction adds: lib.ts
 * perRequest); how evenly it served wrk's connections (requests each connection got, from `ss` a
 * moment before wrk stops: a connection accepted late has fewer); unread requests and unsent
 * response bytes at that moment; how many connections it opened to the backend (the backend's
 * stub_status); the time its process spent runnable but waiting for a CPU (/proc/PID/schedstat:
 * other processes on the proxy's core); the core's softirq and steal time; TCP retransmissions,
 * listen overflows and drops on the machine, and softirq backlog drops (/proc/net/softnet_stat).
 * For Portico also: its own request histogram (requests over 50/100/250 ms), event-loop lag (p99,
 * max), GC by kind (time, pauses over 10 ms), and per-thread CPU. A wait that is in wrk's p99 but
 * in none of Portico's own figures is outside its event loop. `--node-flags "..."` adds a row
 * `portico+flags` with other V8 flags (e.g. `--single-threaded-gc`), to test a GC hypothesis in
 * the same run.
 * `npm run bench:tail [-- --runs 3 --seconds 5 --connections 200 --only nginx-1w,portico,portico-nodehttp,portico-1socket]`
 * (`portico-1socket`: `--reuse-port=false`; differs from `portico` only on Node 22.12+, e.g. run
 * with the image's Node: `/path/to/node24 dist/bench/tail.js`, Portico runs on the bench's Node)
 * On a machine shared with other sessions, `setsid -w sh -c 'echo -10 > /proc/self/autogroup; exec npm run bench:tail'`
 * (root) gives the benchmark's own session the CPU ahead of the others' (the kernel's autogroups
 * make `nice` act only inside a session): see docs/performance.md "The c=200 tail".
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { backendAccepts, benchArgs, median, parseWrk, processTree, startNginxBackend, startNginxProxy, startPortico, wrkArgs, type Proc, type WrkResult } from './lib.js';

const { runs, seconds, connections, only } = benchArgs({ runs: 3, seconds: 5, connections: [200] });
const argv = process.argv.slice(2);
const nodeFlags = argv.includes('--node-flags') ? argv[argv.indexOf('--node-flags') + 1] : undefined;
const c = connections[0] as number;
const backend = await startNginxBackend('127.0.60.2');
const be = { ip: '127.0.60.2', port: backend.port };
type Started = Proc & { port: number; adminPort?: number };
const all: [string, () => Promise<Started>][] = [
  ['nginx-1w', () => startNginxProxy(be, 1)],
  ['portico', () => startPortico(be, ['--access-log=false'])],
  ['portico-nodehttp', () => startPortico(be, ['--access-log=false', '--http1-server', 'node'])],
  // one listening socket per port: what --reuse-port adds (on Node 22.12+; the same as portico on older Node)
  ['portico-1socket', () => startPortico(be, ['--access-log=false', '--reuse-port=false'])],
];
if (nodeFlags !== undefined) {
  all.push([
    'portico+flags',
    async () => {
      const saved = process.env.PORTICO_NODE_FLAGS;
      process.env.PORTICO_NODE_FLAGS = nodeFlags;
      try {
        return await startPortico(be, ['--access-log=false']);
      } finally {
        if (saved === undefined) delete process.env.PORTICO_NODE_FLAGS;
        else process.env.PORTICO_NODE_FLAGS = saved;
      }
    },
  ]);
}

/** Nanoseconds on a CPU and waiting runnable for one: the main thread's, and summed over the tree's threads. */
function sched(pid: number): { main: [number, number]; all: [number, number] } {
  const read = (p: number, t: string): [number, number] => {
    try {
      const [a, b] = readFileSync(`/proc/${p}/task/${t}/schedstat`, 'utf8').trim().split(' ').map(Number);
      return [a ?? 0, b ?? 0];
    } catch {
      return [0, 0]; // gone
    }
  };
  let on = 0;
  let wait = 0;
  for (const p of processTree(pid)) {
    let tasks: string[] = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      // gone
    }
    for (const t of tasks) {
      const [a, b] = read(p, t);
      on += a;
      wait += b;
    }
  }
  return { main: read(pid, String(pid)), all: [on, wait] };
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
/** Packets dropped because a core's softirq backlog (net.core.netdev_max_backlog) was full, and times its softirq ran out of budget, summed over cores. */
const softnet = (): [number, number] =>
  readFileSync('/proc/net/softnet_stat', 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .reduce<[number, number]>((a, f) => [a[0] + parseInt(f[1] ?? '0', 16), a[1] + parseInt(f[2] ?? '0', 16)], [0, 0]);
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
/** GC by kind (prom-client's nodejs_gc_duration_seconds): count, seconds, and pauses over 10 ms. */
function gcByKind(text: string): Map<string, { n: number; s: number; over10: number }> {
  const m = new Map<string, { n: number; s: number; over10: number }>();
  const get = (k: string): { n: number; s: number; over10: number } => m.get(k) ?? (m.set(k, { n: 0, s: 0, over10: 0 }).get(k) as { n: number; s: number; over10: number });
  for (const x of text.matchAll(/^nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([0-9.e+-]+)$/gm)) {
    if (x[1] === 'sum') get(x[2] as string).s = Number(x[3]);
    else get(x[2] as string).n = Number(x[3]);
  }
  for (const x of text.matchAll(/^nodejs_gc_duration_seconds_bucket\{(?=[^}]*le="0\.01")[^}]*kind="(\w+)"[^}]*\} ([0-9.e+-]+)$/gm)) get(x[1] as string).over10 = get(x[1] as string).n - Number(x[2]);
  return m;
}

interface Wrk extends WrkResult {
  /** Requests each of wrk's connections had sent when sampled, lowest first. */
  perConn: number[];
  /** At the same moment: the proxy's client connections with a request it has not read yet, and the most response bytes any had waiting to be sent (write back-pressure). */
  unread: number;
  maxSendQ: number;
}

/** wrk as lib.ts runs it, plus an `ss` sample of the proxy's client connections shortly before it stops. */
async function wrkTail(port: number, secs: number): Promise<Wrk> {
  const proc = spawn('taskset', wrkArgs(port, { connections: c, seconds: secs }), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => proc.on('exit', () => r()));
  await new Promise((r) => setTimeout(r, secs * 1000 - 300));
  // the proxy's side of each client connection: data segments received = requests wrk sent on it (one write each)
  const ss = spawnSync('ss', ['-tinH', 'state', 'established', `( sport = :${port} )`], { encoding: 'utf8' }).stdout;
  const perConn = [...ss.matchAll(/data_segs_in:(\d+)/g)].map((x) => Number(x[1])).sort((a, b) => a - b);
  const queues = [...ss.matchAll(/^(\d+)\s+(\d+)\s/gm)].map((x) => [Number(x[1]), Number(x[2])] as const);
  await exited;
  return { ...parseWrk(out, c), perConn, unread: queues.filter(([r]) => r > 0).length, maxSendQ: queues.reduce((a, [, q]) => Math.max(a, q), 0) };
}

const NET = ['TcpRetransSegs', 'TcpExtTCPLostRetransmit', 'TcpExtTCPTimeouts', 'TcpExtListenOverflows', 'TcpExtListenDrops', 'TcpExtTCPBacklogDrop', 'TcpExtTCPRcvQDrop', 'TcpExtTCPZeroWindowDrop'];
try {
  for (let run = 0; run < runs; run++) {
    for (const [name, start] of all.filter(([n]) => only === undefined || only.includes(n))) {
      const p = await start();
      try {
        await wrkTail(p.port, 1);
        const pid = p.proc.pid as number;
        const [m0, a0, s0, t0, k0, n0, d0] = [await metrics(p.adminPort), await backendAccepts(be), sched(pid), threads(pid), cpu1(), nstat(), softnet()];
        const w = await wrkTail(p.port, seconds);
        const [s1, t1, k1, n1, d1, a1, m1] = [sched(pid), threads(pid), cpu1(), nstat(), softnet(), await backendAccepts(be), await metrics(p.adminPort)];
        const k = k1.map((v, i) => v - (k0[i] ?? 0));
        const ticks = k.reduce((a, b) => a + b, 0);
        const net = NET.map((x) => `${x.replace(/^Tcp(Ext)?(TCP)?/, '')} ${(n1.get(x) ?? 0) - (n0.get(x) ?? 0)}`).join(', ');
        const pc = w.perConn;
        // a connection accepted late (or served less) has sent fewer requests: its deficit times the mean latency is how late it started
        const late = pc.length === 0 ? 0 : ((median(pc) - (pc[0] as number)) * 1000 * seconds) / median(pc);
        const fair = pc.length === 0 ? 'no sample' : `${pc.length} conns, requests each min ${pc[0]}, p1 ${pc[Math.floor(pc.length / 100)]}, median ${median(pc)}, max ${pc[pc.length - 1]} (the least served ~${late.toFixed(0)} ms behind); unread requests ${w.unread}, max Send-Q ${w.maxSendQ} B`;
        const sch = (i: 0 | 1, which: 'main' | 'all'): string => ((s1[which][i] - s0[which][i]) / 1e6).toFixed(0);
        const own = w.perRequest;
        let line = `${name} run ${run + 1}: wrk ${w.rps.toFixed(0)} req/s, p50 ${w.p50ms.toFixed(1)} ms, p99 ${w.p99ms.toFixed(1)} ms (${own.filled} samples of wrk's own making); the requests themselves: p99 ${own.p99ms.toFixed(1)} ms, p99.9 ${own.p999ms.toFixed(1)} ms, max ${own.maxms.toFixed(1)} ms; errors ${w.errors} | ${fair} | backend connections opened ${a1 - a0 - 1} | on CPU ${sch(0, 'all')} ms (main thread ${sch(0, 'main')}), waiting for a CPU ${sch(1, 'all')} ms (main thread ${sch(1, 'main')}) | core 1 softirq ${((100 * (k[5] ?? 0)) / ticks).toFixed(0)}%, steal ${((100 * (k[6] ?? 0)) / ticks).toFixed(0)}% | ${net}, softnet drops ${d1[0] - d0[0]}, squeezed ${d1[1] - d0[1]}`;
        if (m1 !== '') {
          const total = bucket(m1, '\\+Inf') - bucket(m0, '\\+Inf');
          const over = (le: string): number => total - (bucket(m1, le) - bucket(m0, le));
          const lagP99 = num(m1, /^nodejs_eventloop_lag_p99_seconds ([0-9.e+-]+)$/m) * 1000;
          const lagMax = num(m1, /^nodejs_eventloop_lag_max_seconds ([0-9.e+-]+)$/m) * 1000;
          const g0 = gcByKind(m0);
          const gc = [...gcByKind(m1)].map(([kind, g]) => {
            const b = g0.get(kind) ?? { n: 0, s: 0, over10: 0 };
            return `${kind} ${g.n - b.n}× ${((g.s - b.s) * 1000).toFixed(0)} ms (${g.over10 - b.over10} over 10 ms)`;
          });
          const main = String(pid);
          const helpers = [...t1.entries()].filter(([t]) => t !== main).reduce((a, [t, v]) => a + v - (t0.get(t) ?? 0), 0);
          line += ` | Portico: ${total} requests, over 50 ms ${over('0.05')}, over 100 ms ${over('0.1')}, over 250 ms ${over('0.25')}; event-loop lag p99 ${lagP99.toFixed(1)} ms, max ${lagMax.toFixed(1)} ms; GC ${gc.join(', ')}; main thread ${(t1.get(main) ?? 0) - (t0.get(main) ?? 0)} ms CPU, other threads ${helpers} ms`;
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
