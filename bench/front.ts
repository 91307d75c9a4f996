/**
 * The data path's own CPU cost per request, in one process with no sockets: requests are fed to
 * Portico's HTTP/1.1 server side through scripted client sockets,
 * go through the front door, the exchange, the policies, metrics and the upstream client, and are
 * answered by scripted upstream sockets with a 100-byte response. What the kernel and Node's
 * socket streams cost is left out, so changes to Portico's own code show up without the noise of
 * a shared machine: CPU time (process.cpuUsage) per request, median of runs.
 * `npm run bench:front [-- --runs 5 --requests 100000 --connections 50 --access-log]`
 */
import { EventEmitter } from 'node:events';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import type { Socket } from 'node:net';

const args = process.argv.slice(2);
const arg = (k: string, d: string): string => {
  const i = args.indexOf(`--${k}`);
  return i >= 0 ? (args[i + 1] as string) : d;
};
const RUNS = Number(arg('runs', '5'));
const REQUESTS = Number(arg('requests', '100000'));
const CONNECTIONS = Number(arg('connections', '50'));
const ACCESS_LOG = args.includes('--access-log');

const REQUEST = Buffer.from('GET / HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n', 'latin1');
const BODY_END = `${'x'.repeat(9)}\n`;
const RESPONSE = Buffer.from(`HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 00:00:00 GMT\r\nContent-Type: text/plain\r\nContent-Length: 100\r\nConnection: keep-alive\r\n\r\n${'x'.repeat(99)}\n`, 'latin1');

/** A socket the upstream client connects: answers every request head with RESPONSE. */
class FakeUpstream extends EventEmitter {
  destroyed = false;
  writable = true;
  connecting = true;
  timeout = 0;
  readonly remoteAddress = '127.0.0.1';
  /** `net.connect`'s `onread` (the upstream client reads plain connections into a shared buffer). */
  private readonly onread: { buffer: Buffer; callback: (n: number, buf: Buffer) => unknown } | undefined;
  constructor(opts?: { onread?: { buffer: Buffer; callback: (n: number, buf: Buffer) => unknown } }) {
    super();
    this.onread = opts?.onread;
    process.nextTick(() => {
      this.connecting = false;
      this.emit('connect');
    });
  }
  setTimeout(ms: number): this {
    this.timeout = ms;
    return this;
  }
  setNoDelay(): this {
    return this;
  }
  write(data: string | Buffer): boolean {
    const s = typeof data === 'string' ? data : data.toString('latin1');
    if (s.endsWith('\r\n\r\n')) setImmediate(() => this.answer());
    return true;
  }
  private answer(): void {
    const r = this.onread;
    if (r === undefined) return void this.emit('data', RESPONSE);
    RESPONSE.copy(r.buffer);
    r.callback(RESPONSE.length, r.buffer);
  }
  pause(): this {
    return this;
  }
  resume(): this {
    return this;
  }
  isPaused(): boolean {
    return false;
  }
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    process.nextTick(() => this.emit('close', false));
    return this;
  }
  end(): this {
    return this.destroy();
  }
}

/** A client connection: sends its next request when the answer to the previous one was written. */
class FakeClient extends EventEmitter {
  destroyed = false;
  writable = true;
  readable = true;
  connecting = false;
  writableLength = 0;
  readableHighWaterMark = 16384;
  writableHighWaterMark = 16384;
  readonly remoteAddress = '127.0.0.1';
  readonly remotePort = 40000;
  readonly localPort = 8080;
  readonly localAddress = '127.0.0.1';
  paused = false;
  constructor(private readonly onAnswer: (c: FakeClient) => void) {
    super();
  }
  send(): void {
    this.emit('data', REQUEST);
  }
  write(data: string | Buffer, enc?: unknown, cb?: unknown): boolean {
    const s = typeof data === 'string' ? data : data.toString('latin1');
    if (typeof enc === 'function') (enc as () => void)();
    else if (typeof cb === 'function') (cb as () => void)();
    if (s.endsWith(BODY_END) || s.endsWith('0\r\n\r\n')) setImmediate(this.onAnswer, this);
    return true;
  }
  cork(): void {}
  uncork(): void {}
  setNoDelay(): this {
    return this;
  }
  setTimeout(): this {
    return this;
  }
  setKeepAlive(): this {
    return this;
  }
  pause(): this {
    this.paused = true;
    return this;
  }
  resume(): this {
    this.paused = false;
    return this;
  }
  isPaused(): boolean {
    return this.paused;
  }
  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }
  address(): object {
    return { address: '127.0.0.1', port: 8080, family: 'IPv4' };
  }
  destroySoon(): void {
    this.destroy();
  }
  end(): this {
    return this.destroy();
  }
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.writable = false;
    process.nextTick(() => this.emit('close', false));
    return this;
  }
}

// the upstream client connects scripted sockets (before its module is loaded)
const net = createRequire(import.meta.url)('node:net') as { connect: (...a: unknown[]) => unknown };
net.connect = (opts?: unknown) => new FakeUpstream(opts as ConstructorParameters<typeof FakeUpstream>[0]);
syncBuiltinESMExports();

const { snapshotOf } = await import('../src/control/store.js');
const { parseArgs } = await import('../src/config.js');
const { translate } = await import('../src/model/translate.js');
const { compileTable } = await import('../src/proxy/route.js');
const { createPools } = await import('../src/proxy/pools.js');
const { createEndpointState } = await import('../src/proxy/endpoints.js');
const { createLimiters } = await import('../src/proxy/limiters.js');
const { createAuthState } = await import('../src/proxy/auth/state.js');
const { createEndpointStats } = await import('../src/proxy/stats.js');
const { createBalancer } = await import('../src/proxy/balance.js');
const { createHandler } = await import('../src/proxy/front.js');
const { createH1Front } = await import('../src/proxy/h1-server.js');
const { createAccessLog } = await import('../src/proxy/access-log.js');
const { createMetrics } = await import('../src/metrics/metrics.js');
const { createCidrMatcher } = await import('../src/model/cidr.js');

// the defaults of every flag, wired as src/proxy/dataplane.ts wires them
const cmd = parseArgs(['--manifests', '/nonexistent']);
if (cmd.kind !== 'run') throw new Error('no configuration');
const config = cmd.config;
const objects = [
  { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'bench', namespace: 'default' }, spec: { ingressClassName: 'portico', rules: [{ host: 'bench.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'be', port: { number: 80 } } } }] } }] } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'be', namespace: 'default' }, spec: { ports: [{ port: 80 }] } },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'be-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'be' } }, addressType: 'IPv4', ports: [{ port: 9 }], endpoints: [{ addresses: ['127.0.0.1'] }] },
];
const table = translate(snapshotOf(objects as never), { controllerClass: config.controllerClass, ingressClass: config.ingressClass, watchWithoutClass: false }).table;
const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
const live = createEndpointState();
const env = {
  httpsRedirectPort: config.httpsRedirectPort,
  bodySize: config.proxyBodySize,
  limiters: createLimiters(),
  limitReqStatus: config.limitReqStatusCode,
  limitConnStatus: config.limitConnStatusCode,
  connectTimeout: config.proxyConnectTimeout,
  readTimeout: config.proxyReadTimeout,
  auth: createAuthState(),
  retry: { nextUpstream: config.proxyNextUpstream, tries: config.proxyNextUpstreamTries, timeout: config.proxyNextUpstreamTimeout },
};
const stats = createEndpointStats({ maxFails: config.upstreamMaxFails, failTimeout: config.upstreamFailTimeout });
const balancer = createBalancer(stats.ejected);
const compiled = compileTable(table, { pools, endpoints: live, env, balance: { balancer, algorithm: config.loadBalance } });
live.apply(table);
const metrics = createMetrics({ version: 'bench', nginxCompat: false, controllerClass: config.controllerClass, controllerNamespace: '', controllerPod: '' });
// the access log's real writer, to /dev/null (as the benchmark's Portico writes its stdout)
const { LineSink } = await import('../src/log.js');
const { openSync } = await import('node:fs');
const sink = new LineSink(openSync('/dev/null', 'w'));
const front = createHandler({
  state: { matcher: compiled.matchers.get(80) as never, draining: false },
  pools,
  balancer,
  scheme: 'http',
  listenerPort: 80,
  readTimeout: config.proxyReadTimeout,
  accessLog: ACCESS_LOG ? createAccessLog(config.accessLogFormat, sink) : null,
  metrics,
  stats,
  hsts: null,
  limits: { bodySize: config.proxyBodySize, clientBodyTimeout: config.clientBodyTimeout, sendTimeout: config.proxySendTimeout, maxHeaders: config.maxHeaders, upgradeIdleTimeout: config.upgradeIdleTimeout },
  forward: { scheme: 'http', trust: createCidrMatcher(config.trustedProxies), underscores: config.allowUnderscoresInHeaders },
  tunnels: new Set(),
});

const h1 = createH1Front(front as never, { keepAliveTimeout: config.keepAliveTimeout, headersTimeout: config.clientHeaderTimeout, maxHeaderSize: 16 * 1024, clientError: (_c, s) => s.destroy() });
const accept = (s: Socket): void => h1.accept(s);

async function run(n: number): Promise<number> {
  let left = n;
  let done: () => void = () => {};
  const finished = new Promise<void>((r) => (done = r));
  let open = 0;
  const onAnswer = (c: FakeClient): void => {
    if (left > 0) {
      left--;
      c.send();
    } else if (--open === 0) done();
  };
  for (let i = 0; i < CONNECTIONS; i++) {
    const c = new FakeClient(onAnswer);
    open++;
    accept(c as unknown as Socket);
    left--;
    c.send();
  }
  const t0 = process.cpuUsage();
  await finished;
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / n;
}

await run(REQUESTS / 5); // warm-up: JIT, pools
const results: number[] = [];
for (let r = 0; r < RUNS; r++) results.push(await run(REQUESTS));
results.sort((a, b) => a - b);
console.log(`${ACCESS_LOG ? 'access log on' : 'access log off'}, c=${CONNECTIONS}: ${(results[results.length >> 1] as number).toFixed(2)} µs CPU per request (median of ${RUNS}, min ${(results[0] as number).toFixed(2)}; ${results.map((x) => x.toFixed(2)).join(' ')})`);
process.exit(0);
