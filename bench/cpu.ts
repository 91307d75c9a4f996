/**
 * CPU time per request of each proxy: user and system time of its processes (from /proc) over a
 * wrk run, divided by the requests served. On a shared machine, throughput moves with whatever
 * else runs there; the CPU a request costs the proxy moves much less, so this compares front ends
 * and changes where `npm run bench` cannot. Same layout as `npm run bench` (wrk and the nginx
 * backend on core 0, the proxy on core 1), proxies interleaved, medians.
 * `npm run bench:cpu [-- --runs 5 --seconds 4 --connections 50 --baseline DIR --only nginx-1w,portico,portico@baseline]`
 * (`--baseline DIR`: another checkout, built, run as `portico@baseline` and `portico+accesslog@baseline` in the same run)
 */
import { readFileSync } from 'node:fs';
import { PROXY_CORE, benchArgs, processTree, startCaddy, startHaproxy, startNginxBackend, startNginxProxy, startPortico, startReference, wrk, type Proc } from './lib.js';

const { runs, seconds, connections, baseline, only } = benchArgs({ runs: 5, seconds: 4, connections: [50] });
const c = connections[0] as number;
const backend = await startNginxBackend('127.0.60.8');
const be = { ip: '127.0.60.8', port: backend.port };
const all: [string, () => Promise<Proc & { port: number }>][] = [
  ['nginx-1w', () => startNginxProxy(be, 1)],
  ['nginx-1w+accesslog', () => startNginxProxy(be, 1, true)],
  ['haproxy-1t', () => startHaproxy(be)],
  ['caddy', () => startCaddy(be)],
  ['portico', () => startPortico(be, ['--access-log=false'])],
  ['portico+accesslog', () => startPortico(be, ['--access-log=true', '--log-level', 'info'])],
  ['portico-nodehttp', () => startPortico(be, ['--access-log=false', '--http1-server', 'node'])],
  // one listening socket per port (differs from portico only on Node 22.12+: --reuse-port)
  ['portico-1socket', () => startPortico(be, ['--access-log=false', '--reuse-port=false'])],
  ['minimal raw-both', () => startReference('raw-both', be)],
];
if (baseline !== undefined) {
  all.push(['portico@baseline', () => startPortico(be, ['--access-log=false'], PROXY_CORE, baseline)]);
  all.push(['portico+accesslog@baseline', () => startPortico(be, ['--access-log=true', '--log-level', 'info'], PROXY_CORE, baseline)]);
}
const TICKS = 100; // USER_HZ

/** User and system seconds of a process tree. */
function cpu(pid: number): [number, number] {
  let user = 0;
  let sys = 0;
  for (const p of processTree(pid)) {
    try {
      const s = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      user += Number(f[11]) / TICKS;
      sys += Number(f[12]) / TICKS;
    } catch {
      // gone
    }
  }
  return [user, sys];
}
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

const results = new Map<string, { user: number; sys: number; rps: number }[]>();
try {
  for (let r = 0; r < runs; r++) {
    for (const [name, start] of all.filter(([n]) => only === undefined || only.includes(n))) {
      const p = await start();
      try {
        wrk(p.port, { connections: c, seconds: 1 });
        const pid = p.proc.pid as number;
        const [u0, s0] = cpu(pid);
        const w = wrk(p.port, { connections: c, seconds });
        const [u1, s1] = cpu(pid);
        const n = w.rps * seconds;
        results.set(name, [...(results.get(name) ?? []), { user: ((u1 - u0) * 1e6) / n, sys: ((s1 - s0) * 1e6) / n, rps: w.rps }]);
      } finally {
        await p.stop();
      }
    }
  }
} finally {
  await backend.stop();
}
console.log(`| proxy | CPU µs per request (median of ${runs}) | user | system | spread of the total | requests/s (median) |`);
console.log('|---|---|---|---|---|---|');
for (const [name, xs] of results) {
  const totals = xs.map((x) => x.user + x.sys);
  const m = median(totals);
  console.log(`| ${name} | ${m.toFixed(1)} | ${median(xs.map((x) => x.user)).toFixed(1)} | ${median(xs.map((x) => x.sys)).toFixed(1)} | ±${((100 * (Math.max(...totals) - Math.min(...totals))) / 2 / m).toFixed(0)}% | ${median(xs.map((x) => x.rps)).toFixed(0)} |`);
}
