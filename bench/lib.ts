/**
 * Benchmark plumbing: Debian's nginx as the fast 100-byte backend, wrk as the load generator
 * (both pinned to core 0), the proxy under test pinned to core 1, medians over repeated runs.
 * Everything binds loopback addresses and stops by itself.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_FLAGS, repoRoot } from '../src/paths.js';

export const BODY_100 = 'x'.repeat(99) + '\n';
export const LOAD_CORE = '0';
export const PROXY_CORE = '1';

export function need(cmd: string, pkg: string): void {
  if (spawnSync('sh', ['-c', `command -v ${cmd}`]).status !== 0) throw new Error(`${cmd} not found: apt-get install ${pkg}`);
}

export async function freePort(ip = '127.0.0.1'): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, ip, () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function waitPort(port: number, ip = '127.0.0.1', ms = 10_000): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((r) => {
      const s = connect(port, ip, () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on ${ip}:${port}`);
}

/** A process and its descendants (nginx's workers), from /proc. */
export function processTree(pid: number): number[] {
  const out = [pid];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const s = readFileSync(`/proc/${d}/stat`, 'utf8');
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(...processTree(Number(d)));
    } catch {
      // gone
    }
  }
  return out;
}

export interface Proc {
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

function track(proc: ChildProcess, cleanup: () => void = () => {}): Proc {
  return {
    proc,
    stop: () =>
      new Promise((r) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return r(cleanup());
        proc.once('exit', () => r(cleanup()));
        proc.kill('SIGTERM');
        setTimeout(() => proc.kill('SIGKILL'), 5000).unref();
      }),
  };
}

/** nginx answering every request with 100 bytes: the backend "pod" (core 0, with the load). */
export async function startNginxBackend(ip: string): Promise<Proc & { port: number }> {
  need('nginx', 'nginx');
  const dir = mkdtempSync(join(tmpdir(), 'bench-backend-'));
  const port = await freePort(ip);
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes 1; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http { access_log off; keepalive_requests 1000000; keepalive_timeout 120s;
  server { listen ${ip}:${port} reuseport; location / { default_type text/plain; return 200 "${BODY_100.trimEnd()}\\n"; }
    location = ${BACKEND_STATUS} { stub_status; } } }\n`,
  );
  const proc = spawn('taskset', ['-c', LOAD_CORE, 'nginx', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitPort(port, ip);
  return { ...track(proc, () => rmSync(dir, { recursive: true, force: true })), port };
}

/** The backend's nginx stub_status page (connections accepted so far: how many the proxy opened). */
const BACKEND_STATUS = '/__backend_status';

/** Connections the backend has accepted since it started (its stub_status `accepts`, which counts this request's own). */
export async function backendAccepts(backend: { ip: string; port: number }): Promise<number> {
  const text = await (await fetch(`http://${backend.ip}:${backend.port}${BACKEND_STATUS}`, { headers: { connection: 'close' } })).text();
  return Number(/^\s*(\d+) \d+ \d+\s*$/m.exec(text)?.[1] ?? NaN);
}

/**
 * ingress-nginx's default access log line (its `log-format-upstream`, "upstreaminfo"), with the
 * Lua-set upstream names as fixed text: what a line costs nginx to format and write.
 */
const UPSTREAMINFO = `log_format upstreaminfo '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_length $request_time [default-be-80] [] $upstream_addr $upstream_response_length $upstream_response_time $upstream_status $request_id';`;

/** ingress-nginx's `upstream-keepalive-connections` default: idle upstream connections each worker keeps. */
export const INGRESS_NGINX_KEEPALIVE = 320;

/**
 * nginx as the reverse proxy under comparison (1 or 2 workers, upstream keepalive as ingress-nginx
 * ships it: {@link INGRESS_NGINX_KEEPALIVE} idle connections). `accessLog`:
 * one upstreaminfo line per request to stdout (ingress-nginx logs to /dev/stdout, unbuffered), as
 * Portico's access log goes to its stdout; off, as ingress-nginx with `disable-access-log`.
 */
export async function startNginxProxy(backend: { ip: string; port: number }, workers: number, accessLog = false, keepalive = INGRESS_NGINX_KEEPALIVE): Promise<Proc & { port: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-nginx-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'nginx.conf'),
    `worker_processes ${workers}; daemon off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;
events { worker_connections 8192; }
http { ${accessLog ? `${UPSTREAMINFO} access_log /dev/stdout upstreaminfo;` : 'access_log off;'} keepalive_requests 1000000;
  upstream be { server ${backend.ip}:${backend.port}; keepalive ${keepalive}; }
  server { listen 127.0.0.1:${port}; location / { proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";
    proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; proxy_set_header X-Request-ID $request_id; } } }\n`,
  );
  const cores = workers > 1 ? `${LOAD_CORE},${PROXY_CORE}` : PROXY_CORE;
  const proc = spawn('taskset', ['-c', cores, 'nginx', '-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'ignore' });
  await waitPort(port);
  return { ...track(proc, () => rmSync(dir, { recursive: true, force: true })), port };
}

/** haproxy as the reverse proxy under comparison (1 thread). */
export async function startHaproxy(backend: { ip: string; port: number }): Promise<Proc & { port: number }> {
  need('haproxy', 'haproxy');
  const dir = mkdtempSync(join(tmpdir(), 'bench-haproxy-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'haproxy.cfg'),
    `global\n  nbthread 1\n  maxconn 8000\ndefaults\n  mode http\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n  option http-keep-alive\n  http-reuse always\nfrontend fe\n  bind 127.0.0.1:${port}\n  default_backend be\nbackend be\n  server s1 ${backend.ip}:${backend.port}\n`,
  );
  const proc = spawn('taskset', ['-c', PROXY_CORE, 'haproxy', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
  await waitPort(port);
  return { ...track(proc, () => rmSync(dir, { recursive: true, force: true })), port };
}

/**
 * Caddy (Debian's `caddy`), the Go reverse-proxy class, on core 1 (so the Go runtime runs one
 * thread of Go code, GOMAXPROCS 1), HTTP/1.1 only, no access log (Caddy's default), and its
 * upstream pool raised from 32 to nginx's {@link INGRESS_NGINX_KEEPALIVE} idle connections so that
 * c=200 measures proxying, not reconnecting.
 */
export async function startCaddy(backend: { ip: string; port: number }): Promise<Proc & { port: number }> {
  need('caddy', 'caddy');
  const dir = mkdtempSync(join(tmpdir(), 'bench-caddy-'));
  const port = await freePort();
  writeFileSync(
    join(dir, 'Caddyfile'),
    `{
  admin off
  auto_https off
  servers {
    protocols h1
  }
}
http://:${port} {
  bind 127.0.0.1
  reverse_proxy ${backend.ip}:${backend.port} {
    transport http {
      keepalive_idle_conns_per_host ${INGRESS_NGINX_KEEPALIVE}
    }
  }
}
`,
  );
  const env = { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir };
  const proc = spawn('taskset', ['-c', PROXY_CORE, 'caddy', 'run', '--adapter', 'caddyfile', '--config', join(dir, 'Caddyfile')], { stdio: 'ignore', env });
  await waitPort(port);
  return { ...track(proc, () => rmSync(dir, { recursive: true, force: true })), port };
}

/** The Ingress `bench.test` is routed by, unless a benchmark gives its own (same name, host and Service). */
export const BENCH_INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench, namespace: default}
spec:
  ingressClassName: portico
  rules:
  - host: bench.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: be, port: {number: 80}}}}]}
`;

/** Portico on core 1, standalone, routing `bench.test` to the backend. */
/** Portico on `cores`; `root` is a checkout with a built dist/ (default: this one), to compare two builds in one run; `ingress` replaces {@link BENCH_INGRESS}. */
export async function startPortico(backend: { ip: string; port: number }, args: string[] = [], cores = PROXY_CORE, root = repoRoot, ingress = BENCH_INGRESS): Promise<Proc & { port: number; adminPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-portico-'));
  mkdirSync(join(dir, 'm'));
  writeFileSync(
    join(dir, 'm', 'bench.yaml'),
    `${ingress}---
apiVersion: v1
kind: Service
metadata: {name: be, namespace: default}
spec: {ports: [{port: 80}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: be-1, namespace: default, labels: {kubernetes.io/service-name: be}}
addressType: IPv4
ports: [{port: ${backend.port}}]
endpoints: [{addresses: ["${backend.ip}"]}]
`,
  );
  const port = await freePort();
  const adminPort = await freePort();
  const proc = spawn(
    'taskset',
    ['-c', cores, process.execPath, ...(process.env.PORTICO_NODE_FLAGS ?? NODE_FLAGS.join(' ')).split(' ').filter(Boolean), ...(process.env.PORTICO_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PORTICO_CPU_PROF] : []), join(root, 'dist/src/cli.js'), '--manifests', join(dir, 'm'), '--bind-address', '127.0.0.1', '--http-port', String(port), '--https-port', String(await freePort()), '--admin-port', String(adminPort), '--shutdown-grace-period', '0s', '--log-level', 'warn', ...args],
    { stdio: 'ignore' },
  );
  await waitPort(port);
  return { ...track(proc, () => rmSync(dir, { recursive: true, force: true })), port, adminPort };
}

/** One of the minimal Node proxies of the reference table (bench/reference.ts), on core 1. */
export async function startReference(mode: string, backend: { ip: string; port: number }): Promise<Proc & { port: number }> {
  const port = await freePort();
  const proc = spawn('taskset', ['-c', PROXY_CORE, process.execPath, join(repoRoot, 'dist/bench/reference.js'), mode, String(port), backend.ip, String(backend.port)], { stdio: 'ignore' });
  await waitPort(port);
  return { ...track(proc), port };
}

export interface WrkResult {
  readonly rps: number;
  readonly p50ms: number;
  /** wrk's own p99: after its coordinated-omission fill (see {@link perRequest}). */
  readonly p99ms: number;
  /** p99, p99.9 and max of the requests themselves, without wrk's fill. */
  readonly perRequest: { readonly p99ms: number; readonly p999ms: number; readonly maxms: number; readonly filled: number };
  readonly errors: number;
}

function ms(v: string, unit: string): number {
  const n = Number(v);
  return unit === 'us' ? n / 1000 : unit === 's' ? n * 1000 : n;
}

/**
 * wrk's latency record as its done() hook sees it: the run's duration and completed requests, then
 * every (µs, count) bucket. done() runs once after the run, so nothing changes per request.
 */
const WRK_DONE = `done = function(summary, latency, requests)
  local out = {string.format("WRKSTAT %d %d %d", summary.duration, summary.requests, summary.errors.timeout)}
  for i = 1, #latency do
    local v, c = latency(i)
    out[#out + 1] = string.format("H %d %d", v, c)
  end
  io.write(table.concat(out, "\\n"), "\\n")
end
`;
let wrkScript: string | undefined;
function wrkDoneScript(): string {
  if (wrkScript === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'bench-wrk-'));
    wrkScript = join(dir, 'done.lua');
    writeFileSync(wrkScript, WRK_DONE);
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  }
  return wrkScript;
}

/**
 * The requests' own latencies, from wrk's record. After a run wrk 4 "corrects" for coordinated
 * omission (stats_correct): with e = duration / (requests / connections), the mean time a
 * connection takes per request, every sample of n ≥ 2e adds one made-up sample at each of n − e,
 * n − 2e, … down to just above e. At c=200 one request that waited 280 ms (a connection accepted
 * late) adds 30 samples, and a hundred such requests fill wrk's p99 with samples no request had.
 * Undone exactly: above e, recorded(m) = own(m) + recorded(m + e).
 */
export function perRequest(hist: ReadonlyMap<number, number>, duration: number, requests: number, connections: number): WrkResult['perRequest'] {
  const perConn = Math.floor(requests / connections);
  const e = perConn > 0 ? Math.floor(duration / perConn) : Infinity;
  const values = [...hist.keys()].sort((a, b) => a - b);
  const own = values.map((v) => [v, (hist.get(v) ?? 0) - (v > e ? (hist.get(v + e) ?? 0) : 0)] as const).filter(([, n]) => n > 0);
  const total = own.reduce((a, [, n]) => a + n, 0);
  const recorded = values.reduce((a, v) => a + (hist.get(v) ?? 0), 0);
  const at = (p: number): number => {
    const rank = Math.round((p / 100) * total + 0.5);
    let acc = 0;
    for (const [v, n] of own) if ((acc += n) >= rank) return v / 1000;
    return NaN;
  };
  return { p99ms: at(99), p999ms: at(99.9), maxms: (own[own.length - 1]?.[0] ?? NaN) / 1000, filled: recorded - total };
}

/** wrk's command line (core 0, one thread, the Host header, the done() hook). */
/** `close`: every request on a new connection (`Connection: close`), for what accepting costs. */
export function wrkArgs(port: number, opts: { connections: number; seconds: number; host?: string; path?: string; close?: boolean }): string[] {
  need('wrk', 'wrk');
  return ['-c', LOAD_CORE, 'wrk', '-t1', `-c${opts.connections}`, `-d${opts.seconds}s`, '--latency', '-s', wrkDoneScript(), '-H', `Host: ${opts.host ?? 'bench.test'}`, ...(opts.close === true ? ['-H', 'Connection: close'] : []), `http://127.0.0.1:${port}${opts.path ?? '/'}`];
}

/** Requests/s, p50/p99 (wrk's and the requests' own) and socket/HTTP errors from wrk's output. */
export function parseWrk(out: string, connections: number): WrkResult {
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p50 = /50%\s+([\d.]+)(us|ms|s)/.exec(out);
  const p99 = /99%\s+([\d.]+)(us|ms|s)/.exec(out);
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0);
  const errors = non2xx + (sock ? sock.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  if (!Number.isFinite(rps)) throw new Error(`wrk failed: ${out}`);
  const stat = /^WRKSTAT (\d+) (\d+) (\d+)$/m.exec(out);
  const hist = new Map([...out.matchAll(/^H (\d+) (\d+)$/gm)].map((x) => [Number(x[1]), Number(x[2])] as const));
  const own = perRequest(hist, Number(stat?.[1] ?? NaN), Number(stat?.[2] ?? NaN), connections);
  // every completed request is in wrk's record once, unless it took longer than wrk's timeout
  const recordedRequests = Number(stat?.[2] ?? NaN) - Number(stat?.[3] ?? 0);
  const ownTotal = [...hist.values()].reduce((a, n) => a + n, 0) - own.filled;
  if (stat !== null && ownTotal !== recordedRequests) throw new Error(`wrk's latency record did not undo to its ${recordedRequests} requests (got ${ownTotal}): has wrk's correction changed?`);
  return { rps, p50ms: p50 ? ms(p50[1] as string, p50[2] as string) : NaN, p99ms: p99 ? ms(p99[1] as string, p99[2] as string) : NaN, perRequest: own, errors };
}

/** wrk on core 0 with the Host header set (and a path, default /); see {@link parseWrk}. */
export function wrk(port: number, opts: { connections: number; seconds: number; host?: string; path?: string; close?: boolean }): WrkResult {
  const r = spawnSync('taskset', wrkArgs(port, opts), { encoding: 'utf8', timeout: (opts.seconds + 30) * 1000, maxBuffer: 64 * 1024 * 1024 });
  if (r.stdout === null || r.stdout === '') throw new Error(`wrk failed: ${r.stderr}`);
  return parseWrk(r.stdout, opts.connections);
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

/** `min-max` spread as a percentage of the median. */
export const spread = (xs: number[]): string => `±${((100 * (Math.max(...xs) - Math.min(...xs))) / 2 / median(xs)).toFixed(1)}%`;

/** Parses `--runs N --seconds S --connections C` style flags for a benchmark script. */
export function benchArgs(defaults: { runs: number; seconds: number; connections: number[] }): { runs: number; seconds: number; connections: number[]; baseline: string | undefined; only: string[] | undefined } {
  const a = process.argv.slice(2);
  const get = (k: string): string | undefined => {
    const i = a.indexOf(`--${k}`);
    return i >= 0 ? a[i + 1] : undefined;
  };
  return {
    runs: Number(get('runs') ?? defaults.runs),
    seconds: Number(get('seconds') ?? defaults.seconds),
    connections: (get('connections') ?? defaults.connections.join(',')).split(',').map(Number),
    /** Another checkout (built) to run as `portico@baseline` next to this one. */
    baseline: get('baseline'),
    /** Only these rows (comma-separated names), e.g. nginx-1w,portico,portico@baseline. */
    only: get('only')?.split(','),
  };
}
