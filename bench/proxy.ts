/**
 * Data-plane throughput and tail latency, side by side in one run: nginx (1 worker, upstream
 * keepalive 320 as ingress-nginx ships it), haproxy (1 thread), Caddy (Go) and Portico (routing, metrics and full header handling on; access
 * log off, as nginx runs with access_log off; then both with it on), all proxying to the same
 * nginx backend answering 100 bytes. wrk and the backend on core 0, the proxy alone on core 1.
 * At the first concurrency, the minimal Node proxies of the reference table run too (bench/reference.ts).
 * `npm run bench [-- --runs 3 --seconds 5 --connections 50,200 --baseline DIR --only nginx-1w,portico,portico@baseline]`
 * (`--baseline DIR`: another checkout, built, run as `portico@baseline` and `portico-2w@baseline` in the same run;
 * `--close`: every request on a new connection, `Connection: close`, so accepting is part of each request)
 */
import { benchArgs, LOAD_CORE, median, PROXY_CORE, spread, startCaddy, startHaproxy, startNginxBackend, startNginxProxy, startPortico, startReference, wrk, type Proc, type WrkResult } from './lib.js';

const { runs, seconds, connections, baseline, only } = benchArgs({ runs: 3, seconds: 5, connections: [50, 200] });
const close = process.argv.includes('--close');
const backend = await startNginxBackend('127.0.60.1');
const be = { ip: '127.0.60.1', port: backend.port };

type Start = () => Promise<Proc & { port: number }>;
const all: [string, Start][] = [
  ['nginx-1w', () => startNginxProxy(be, 1)],
  ['haproxy-1t', () => startHaproxy(be)],
  // the Go reverse-proxy class
  ['caddy', () => startCaddy(be)],
  ['portico', () => startPortico(be, ['--access-log=false'])],
  // the earlier front end, Node's HTTP server (--http1-server=node), in the same run
  ['portico-nodehttp', () => startPortico(be, ['--access-log=false', '--http1-server', 'node'])],
  // one listening socket per port (--reuse-port=false): differs from portico only on Node 22.12+
  ['portico-1socket', () => startPortico(be, ['--access-log=false', '--reuse-port=false'])],
  // both with their access log on: one line per request to stdout
  ['nginx-1w+accesslog', () => startNginxProxy(be, 1, true)],
  ['portico+accesslog', () => startPortico(be, ['--access-log=true', '--log-level', 'info'])],
  // Two processes on both cores (sharing core 0 with wrk and the backend), against nginx likewise.
  ['nginx-2w', () => startNginxProxy(be, 2)],
  ['portico-2w', () => startPortico(be, ['--access-log=false', '--workers', '2'], `${LOAD_CORE},${PROXY_CORE}`)],
];
if (baseline !== undefined) all.push(['portico@baseline', () => startPortico(be, ['--access-log=false'], PROXY_CORE, baseline)], ['portico-2w@baseline', () => startPortico(be, ['--access-log=false', '--workers', '2'], `${LOAD_CORE},${PROXY_CORE}`, baseline)]);
const proxies = all.filter(([name]) => only === undefined || only.includes(name));
/** The reference table's minimal Node proxies: no routing, metrics or logs. */
const references: [string, Start][] = (['undici-stream', 'undici-request', 'http-request', 'http-proxy', 'raw-socket', 'raw-both'].map((mode) => [`minimal ${mode}`, () => startReference(mode, be)]) as [string, Start][]).filter(([name]) => only === undefined || only.includes(name));

const results = new Map<string, WrkResult[]>();
try {
  for (const c of connections) {
    for (let run = 0; run < runs; run++) {
      for (const [name, start] of c === connections[0] ? [...proxies, ...references] : proxies) {
        const p = await start();
        try {
          wrk(p.port, { connections: c, seconds: 1, close }); // warm-up: JIT, upstream pools
          const r = wrk(p.port, { connections: c, seconds, close });
          const key = `${name} c=${c}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        } finally {
          await p.stop();
        }
      }
    }
  }
} finally {
  await backend.stop();
}

const row = (key: string): { rps: number; p99: number; own: number; spreadText: string; errors: number } => {
  const rs = results.get(key) ?? [];
  return { rps: median(rs.map((r) => r.rps)), p99: median(rs.map((r) => r.p99ms)), own: median(rs.map((r) => r.perRequest.p99ms)), spreadText: spread(rs.map((r) => r.rps)), errors: rs.reduce((n, r) => n + r.errors, 0) };
};
// wrk's p99 includes the samples its coordinated-omission correction adds; "requests' p99" is of the requests alone (lib.ts perRequest)
console.log(`| proxy | c | requests/s (median of ${runs}) | spread | p99 (wrk) | requests' p99 | errors | ratio to nginx-1w |`);
console.log('|---|---|---|---|---|---|---|---|');
let headline = '';
for (const c of connections) {
  const ref = row(`nginx-1w c=${c}`);
  for (const [name] of c === connections[0] ? [...proxies, ...references] : proxies) {
    const r = row(`${name} c=${c}`);
    console.log(`| ${name} | ${c} | ${r.rps.toFixed(0)} | ${r.spreadText} | ${r.p99.toFixed(2)} ms | ${r.own.toFixed(2)} ms | ${r.errors} | ${(r.rps / ref.rps).toFixed(2)} |`);
    if (name === 'portico') headline += `portico/nginx-1w ${(r.rps / ref.rps).toFixed(2)} (p99 ${r.p99.toFixed(1)} ms vs ${ref.p99.toFixed(1)} ms; the requests' own ${r.own.toFixed(1)} ms vs ${ref.own.toFixed(1)} ms) at c=${c}\n`;
  }
  const log = row(`portico+accesslog c=${c}`);
  const nginxLog = row(`nginx-1w+accesslog c=${c}`);
  if (log.rps > 0 && nginxLog.rps > 0) headline += `with access logs: portico+accesslog/nginx-1w+accesslog ${(log.rps / nginxLog.rps).toFixed(2)} at c=${c}\n`;
}
console.log(headline.trimEnd());
