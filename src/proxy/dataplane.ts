/**
 * The data plane: HTTP and HTTPS listeners, the live matcher, live endpoint lists, connection
 * pools, passive health and TLS contexts. It is handed whole tables (`apply`, which compiles them
 * here) and endpoint patches, from the pipeline in one process or over IPC from the primary when
 * running `--workers N`.
 */
import type { Http2SecureServer } from 'node:http2';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import { stdoutSink, type Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { createCidrMatcher } from '../model/cidr.js';
import { EMPTY_TABLE, type Endpoint, type RouteTable } from '../model/types.js';
import { createAccessLog } from './access-log.js';
import { createAuthState } from './auth/state.js';
import { createBalancer } from './balance.js';
import { createEndpointState } from './endpoints.js';
import { createHandler, type HandlerOptions, type ProxyState } from './front.js';
import { compileTable } from './route.js';
import { createRetention } from './retention.js';
import { createLimiters } from './limiters.js';
import { createMirrorState } from './mirror-state.js';
import { createPools } from './pools.js';
import type { EndpointPatch } from '../model/endpoints.js';
import { createHttpsServer, createProxyServer, frontOf, type HttpsServer, type PlainServer } from './server.js';
import { createEndpointStats, type EndpointStats, type EndpointView } from './stats.js';
import { createL4Plane } from './l4/plane.js';
import { listenSockets, portListener, type Claim, type PortListener } from './listeners.js';
import { createTlsContexts, expiryOf, listenerContextOptions, verifiesClients, type ServedCert } from '../tls/contexts.js';


/** What the composition root needs of whatever serves: this data plane in one process, or a pool of workers. */
export interface Serving {
  /** Compiles a table and swaps it in (one assignment), then releases what the old one used alone. */
  apply(table: RouteTable): void;
  /** Replaces the live endpoints of some backends (the EndpointSlice fast path). */
  patch(p: EndpointPatch): void;
  /** Binds both listeners; resolves with their ports. */
  listen(): Promise<{ httpPort: number; httpsPort: number }>;
  /** Per-endpoint request and error counts, for /debug/backends. */
  endpointViews(): Promise<(endpoint: string) => EndpointView>;
  /** The Prometheus exposition for /metrics, or null when metrics are off. */
  readonly metrics: { readonly contentType: string; text(): Promise<string> } | null;
  /** Responses from now on close their connections; listeners keep accepting. */
  startDraining(): void;
  /** Stops accepting, waits for in-flight requests and tunnels up to --shutdown-timeout, closes pools. */
  close(): Promise<void>;
}

/** The data plane of one process. */
export interface DataPlane extends Serving {
  /** The live table. */
  table(): RouteTable;
  readonly stats: EndpointStats;
  /** The live endpoint list of a backend id. */
  endpoints(id: string): readonly Endpoint[] | undefined;
}

function countConnections(server: PlainServer | Http2SecureServer, metrics: Metrics | null, listener: string): void {
  if (!metrics) return;
  const open = metrics.openConnections.labels(listener);
  const count = (socket: Socket): void => {
    open.inc();
    socket.once('close', () => open.dec());
  };
  if ('h2c' in server) {
    server.on('connection', count);
    server.h2c.on('connection', count);
  } else server.on('secureConnection', count);
}

/**
 * `defaultCert`: the generated fallback certificate, if made ahead (else generated now). `udp`:
 * serve the UDP services here (with --workers, one process does: a flow must stay in one).
 * `claim`: a --workers process's way to claim a port from the primary before binding it with
 * SO_REUSEPORT (listeners.ts).
 */
export function createDataPlane(config: Config, log: Logger, metrics: Metrics | null, defaultCert?: ServedCert, opts: { readonly udp?: boolean; readonly claim?: Claim } = {}): DataPlane {
  const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
  const live = createEndpointState();
  const limiters = createLimiters();
  const auth = createAuthState();
  const mirrors = createMirrorState(
    { maxInFlight: config.mirrorMaxInFlight, timeout: config.mirrorTimeout, bodyBuffer: config.mirrorBodyBuffer, connectTimeout: config.proxyConnectTimeout },
    metrics === null ? null : { mirrored: (ns, d, r) => metrics.mirrored(ns, d, r), dropped: (ns, d, r) => metrics.mirrorDropped(ns, d, r) },
  );
  const env = {
    httpsRedirectPort: config.httpsRedirectPort,
    bodySize: config.proxyBodySize,
    limiters,
    limitReqStatus: config.limitReqStatusCode,
    limitConnStatus: config.limitConnStatusCode,
    connectTimeout: config.proxyConnectTimeout,
    readTimeout: config.proxyReadTimeout,
    auth,
    mirrors,
    retry: { nextUpstream: config.proxyNextUpstream, tries: config.proxyNextUpstreamTries, timeout: config.proxyNextUpstreamTimeout },
  };
  const stats = createEndpointStats({ maxFails: config.upstreamMaxFails, failTimeout: config.upstreamFailTimeout });
  const balancer = createBalancer(stats.ejected);
  const balance = { balancer, algorithm: config.loadBalance };
  const prepare = (table: RouteTable): ReturnType<typeof compileTable> => compileTable(table, { pools, endpoints: live, env, balance });
  const first = prepare(EMPTY_TABLE);
  /** What each listener serves: a matcher per listener port (80: --http-port, 443: --https-port, Gateway listeners' own ports). */
  let matchers = first.matchers;
  let table = EMPTY_TABLE;
  const stateOf = (port: number): ProxyState => ({ matcher: matchers.get(port) ?? (first.matchers.get(80) as ProxyState['matcher']), draining: false });
  const state = stateOf(80);
  const httpsState = stateOf(443);
  let contexts;
  try {
    contexts = createTlsContexts(config.tls, defaultCert);
    contexts.select(EMPTY_TABLE, ''); // builds the default context now, so bad --ssl-ciphers fail at start
  } catch (err) {
    throw new ConfigError(`invalid TLS settings (--ssl-ciphers / --ssl-protocols): ${(err as Error).message}`);
  }
  const tls = contexts;
  const accessLog = config.accessLog ? createAccessLog(config.accessLogFormat, stdoutSink()) : null;
  /** Layer 4: TCP/UDP services, TCPRoute and TLS-only listeners, TLS passthrough by SNI on the HTTPS listeners. */
  const l4 = createL4Plane({ config, log: log.child({ component: 'l4' }), metrics, stats, balancer, live, udp: opts.udp ?? true, ...(opts.claim !== undefined ? { claim: opts.claim } : {}) });
  const trust = createCidrMatcher(config.trustedProxies);
  const tunnels = new Set<Socket>();
  const common: Omit<HandlerOptions, 'scheme' | 'listenerPort' | 'hsts' | 'forward' | 'state'> = {
    pools,
    balancer,
    readTimeout: config.proxyReadTimeout,
    accessLog,
    metrics,
    stats,
    limits: {
      bodySize: config.proxyBodySize,
      clientBodyTimeout: config.clientBodyTimeout,
      sendTimeout: config.proxySendTimeout,
      maxHeaders: config.maxHeaders,
      upgradeIdleTimeout: config.upgradeIdleTimeout,
    },
    tunnels,
  };
  const listenerOptions = { keepAliveTimeout: config.keepAliveTimeout, headersTimeout: config.clientHeaderTimeout, maxConnections: config.maxConnections, proxyProtocol: config.useProxyProtocol, http1Server: config.http1Server };
  const forward = (scheme: 'http' | 'https') => ({ scheme, trust, underscores: config.allowUnderscoresInHeaders });
  const def = tls.listenerCert(table);
  let listenerCertId = def.id;
  let noTickets = false;
  const makeHttp = (s: ProxyState, port: number): PlainServer => createProxyServer(createHandler({ ...common, state: s, scheme: 'http', listenerPort: port, hsts: null, forward: forward('http') }), { ...listenerOptions, maxConcurrentStreams: config.http2MaxConcurrentStreams });
  const makeHttps = (s: ProxyState, port: number): HttpsServer =>
    createHttpsServer(createHandler({ ...common, state: s, scheme: 'https', listenerPort: port, hsts: config.hsts, forward: forward('https') }), {
      settings: config.tls,
      handshakeTimeout: config.sslHandshakeTimeout,
      maxConcurrentStreams: config.http2MaxConcurrentStreams,
      defaultCert: def,
      sni: (servername) => tls.select(table, servername),
      metrics,
      ...listenerOptions,
    });
  const http = makeHttp(state, 80);
  const https = makeHttps(httpsState, 443);
  countConnections(http, metrics, 'http');
  countConnections(https, metrics, 'https');
  /** Listening sockets per port: several with SO_REUSEPORT (listeners.ts), so a burst of new connections is accepted several per event-loop turn. */
  const sockets = listenSockets(config.reusePort);
  const portOf = (server: PlainServer | HttpsServer, via?: Parameters<typeof frontOf>[2]): PortListener => portListener((admit) => frontOf(server, listenerOptions, via, admit), sockets, config.maxConnections, opts.claim);
  const httpFront = portOf(http);
  const httpsFront = portOf(https, l4.front(443, https));

  /** Gateway API listeners on ports of their own: opened when a table asks for them, closed when none does. */
  const extras = new Map<number, { protocol: 'HTTP' | 'HTTPS'; state: ProxyState; server: PlainServer | HttpsServer; front: PortListener }>();
  const reconcileListeners = (): void => {
    const want = new Map((table.listeners ?? []).map((l) => [l.port, l.protocol]));
    for (const [port, x] of extras) {
      if (want.get(port) === x.protocol) {
        x.state.matcher = matchers.get(port) ?? x.state.matcher;
        continue;
      }
      extras.delete(port);
      x.front.close();
      x.server.drain();
      log.info({ listener: `gateway:${port}`, port }, 'listener closed');
    }
    for (const [port, protocol] of want) {
      if (extras.has(port)) continue;
      const s: ProxyState = { matcher: matchers.get(port) ?? state.matcher, draining: state.draining };
      const server = protocol === 'HTTPS' ? makeHttps(s, port) : makeHttp(s, port);
      countConnections(server, metrics, protocol === 'HTTPS' ? 'https' : 'http');
      const front = portOf(server, protocol === 'HTTPS' ? l4.front(port, server) : undefined);
      extras.set(port, { protocol, state: s, server, front });
      front.listen(port, config.bindAddress).then(
        () => log.info({ listener: `gateway:${port}`, protocol, address: config.bindAddress, port }, 'listening'),
        (err: Error) => log.error({ listener: `gateway:${port}`, port, err: err.message }, 'cannot listen on a Gateway listener port'),
      );
    }
  };

  /** Which pools and stats the live routes reach: recounted per table, moved per patch (Layer 4 endpoints keep their stats too). */
  const retention = createRetention(pools, stats, () => l4.endpoints());

  return {
    table: () => table,
    stats,
    endpoints: (id) => live.endpoints(id),
    endpointViews: async () => (endpoint) => stats.view(endpoint),
    metrics: metrics === null ? null : { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
    patch(p) {
      live.patch(p, retention.changed);
      l4.endpointsChanged();
    },
    apply(next) {
      const compiled = prepare(next);
      l4.apply(next);
      live.apply(next);
      l4.endpointsChanged();
      table = next;
      matchers = compiled.matchers;
      // one assignment per listener
      state.matcher = matchers.get(80) ?? state.matcher;
      httpsState.matcher = matchers.get(443) ?? httpsState.matcher;
      reconcileListeners();
      balancer.retain(new Set(next.backends.keys()));
      retention.reset(compiled.targets);
      // limiters the new table's routes did not ask for are forgotten (kept ones keep their counts)
      limiters.retain();
      tls.retain(table);
      const cert = tls.listenerCert(table);
      const mtls = verifiesClients(table);
      if (cert.id !== listenerCertId || mtls !== noTickets) {
        // a new context also has new ticket keys: no ticket issued before can resume a session
        const ctx = listenerContextOptions(config.tls, cert, mtls);
        https.setSecureContext(ctx);
        for (const x of extras.values()) if ('setSecureContext' in x.server) x.server.setSecureContext(ctx);
        listenerCertId = cert.id;
        noTickets = mtls;
      }
      metrics?.certificates([...table.certs.values()].map((c) => ({ namespace: c.source.namespace, secret: c.secret.split('/')[1] ?? '', host: c.host, expiry: c.notAfter / 1000 })));
    },
    async listen() {
      const httpPort = await httpFront.listen(config.httpPort, config.bindAddress);
      const httpsPort = await httpsFront.listen(config.httpsPort, config.bindAddress);
      log.info({ listener: 'http', address: config.bindAddress, port: httpPort, sockets: httpFront.sockets }, 'listening');
      log.info({ listener: 'https', address: config.bindAddress, port: httpsPort, sockets: httpsFront.sockets, defaultCertExpiry: new Date(expiryOf(def.certPem) * 1000).toISOString() }, 'listening');
      return { httpPort, httpsPort };
    },
    startDraining() {
      state.draining = true;
      httpsState.draining = true;
      for (const x of extras.values()) x.state.draining = true;
      l4.startDraining();
    },
    async close() {
      state.draining = true;
      httpsState.draining = true;
      const all = [{ server: http, front: httpFront }, { server: https, front: httpsFront }, ...extras.values()];
      for (const x of all) if (!x.front.is(x.server)) x.front.close();
      const closed = Promise.all(all.map((x) => new Promise<void>((r) => x.server.close(() => r()))));
      for (const x of all) x.server.drain();
      const deadline = Date.now() + config.shutdownTimeout;
      const stream = l4.close(deadline);
      const cut = setTimeout(() => {
        for (const x of all) x.server.cut();
        for (const s of tunnels) s.destroy();
      }, config.shutdownTimeout);
      await closed;
      while (tunnels.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      clearTimeout(cut);
      for (const s of tunnels) s.destroy();
      await stream;
      await pools.close();
      await auth.close();
      await mirrors.close();
    },
  };
}
