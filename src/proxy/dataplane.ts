/**
 * The data plane: HTTP and HTTPS listeners, the live matcher, live endpoint lists, connection
 * pools, passive health and TLS contexts. It is handed whole tables (`apply`, which compiles them
 * here) and endpoint patches, from the pipeline in one process or over IPC from the primary when
 * running `--workers N`.
 */
import type { Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import { stdoutSink, type Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import { createCidrMatcher } from '../model/cidr.js';
import { EMPTY_TABLE, type Endpoint, type RouteTable } from '../model/types.js';
import { createAccessLog } from './access-log.js';
import { createBalancer } from './balance.js';
import { createEndpointState } from './endpoints.js';
import { createHandler, type HandlerOptions, type ProxyState } from './front.js';
import { compileTable, type Target } from './route.js';
import { createPools, endpointKey, type Dispatch } from './pools.js';
import type { EndpointPatch } from '../model/endpoints.js';
import { createHttpsServer, createProxyServer, frontOf, type HttpsServer } from './server.js';
import { createEndpointStats, type EndpointStats, type EndpointView } from './stats.js';
import { baseOptions, createTlsContexts, expiryOf, type ServedCert } from '../tls/contexts.js';


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
  readonly state: ProxyState;
  readonly stats: EndpointStats;
  /** The live endpoint list of a backend id. */
  endpoints(id: string): readonly Endpoint[] | undefined;
}

function listen(server: Server | Http2SecureServer | NetServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function countConnections(server: Server | Http2SecureServer, metrics: Metrics | null, listener: string): void {
  if (!metrics) return;
  const open = metrics.openConnections.labels(listener);
  server.on(listener === 'https' ? 'secureConnection' : 'connection', (socket: Socket) => {
    open.inc();
    socket.once('close', () => open.dec());
  });
}

/** `defaultCert`: the generated fallback certificate, if made ahead (else generated now). */
export function createDataPlane(config: Config, log: Logger, metrics: Metrics | null, defaultCert?: ServedCert): DataPlane {
  const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
  const live = createEndpointState();
  const env = {
    httpsRedirectPort: config.httpsRedirectPort,
    bodySize: config.proxyBodySize,
    retry: { nextUpstream: config.proxyNextUpstream, tries: config.proxyNextUpstreamTries, timeout: config.proxyNextUpstreamTimeout },
  };
  /** Every target of the live table, for releasing what it no longer uses. */
  let targets: Target[] = [];
  const prepare = (table: RouteTable): ReturnType<typeof compileTable> => compileTable(table, { pools, endpoints: live, env });
  const first = prepare(EMPTY_TABLE);
  const state: ProxyState = { matcher: first.matcher, draining: false };
  const stats = createEndpointStats({ maxFails: config.upstreamMaxFails, failTimeout: config.upstreamFailTimeout });
  let contexts;
  try {
    contexts = createTlsContexts(config.tls, defaultCert);
    contexts.select(EMPTY_TABLE, ''); // builds the default context now, so bad --ssl-ciphers fail at start
  } catch (err) {
    throw new ConfigError(`invalid TLS settings (--ssl-ciphers / --ssl-protocols): ${(err as Error).message}`);
  }
  const tls = contexts;
  const accessLog = config.accessLog ? createAccessLog(config.accessLogFormat, stdoutSink()) : null;
  const balancer = createBalancer(stats.ejected);
  const trust = createCidrMatcher(config.trustedProxies);
  const tunnels = new Set<Socket>();
  const common: Omit<HandlerOptions, 'scheme' | 'hsts' | 'forward'> = {
    state,
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
  const listenerOptions = { keepAliveTimeout: config.keepAliveTimeout, headersTimeout: config.clientHeaderTimeout, maxConnections: config.maxConnections, proxyProtocol: config.useProxyProtocol };
  const forward = (scheme: 'http' | 'https') => ({ scheme, trust, underscores: config.allowUnderscoresInHeaders });
  const http = createProxyServer(createHandler({ ...common, scheme: 'http', hsts: null, forward: forward('http') }), listenerOptions);
  const def = tls.listenerCert(state.matcher.table);
  let listenerCertId = def.id;
  const https: HttpsServer = createHttpsServer(createHandler({ ...common, scheme: 'https', hsts: config.hsts, forward: forward('https') }), {
    settings: config.tls,
    handshakeTimeout: config.sslHandshakeTimeout,
    maxConcurrentStreams: config.http2MaxConcurrentStreams,
    defaultCert: def,
    sni: (servername) => tls.select(state.matcher.table, servername),
    metrics,
    ...listenerOptions,
  });
  countConnections(http, metrics, 'http');
  countConnections(https, metrics, 'https');
  const httpFront = frontOf(http, listenerOptions);
  const httpsFront = frontOf(https, listenerOptions);

  /** Closes the pools and forgets the stats of endpoints no live route reaches any more. */
  const retainLive = (): void => {
    const byDispatch = new Map<Dispatch, Set<string>>();
    const liveEndpoints = new Set<string>();
    const add = (d: Dispatch, key: string): void => {
      let set = byDispatch.get(d);
      if (set === undefined) byDispatch.set(d, (set = new Set()));
      if (key !== '') set.add(key);
    };
    for (const t of targets) {
      for (const bt of t.errors === null ? t.backends : [...t.backends, ...t.errors.all]) {
        add(bt.dispatch, '');
        add(bt.upgrade, '');
        for (const e of bt.slot.endpoints) {
          const key = endpointKey(e.ip, e.port);
          add(bt.dispatch, key);
          add(bt.upgrade, key);
          liveEndpoints.add(key);
        }
      }
    }
    pools.retain(byDispatch);
    stats.retain(liveEndpoints);
  };
  let retainPending = false;

  return {
    state,
    stats,
    endpoints: (id) => live.endpoints(id),
    endpointViews: async () => (endpoint) => stats.view(endpoint),
    metrics: metrics === null ? null : { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
    patch(p) {
      live.patch(p);
      // the patch is live; releasing old endpoints' pools can wait a turn (and coalesce)
      if (retainPending) return;
      retainPending = true;
      setImmediate(() => {
        retainPending = false;
        retainLive();
      });
    },
    apply(table) {
      const next = prepare(table);
      live.apply(table);
      state.matcher = next.matcher;
      targets = next.targets;
      retainLive();
      tls.retain(table);
      const cert = tls.listenerCert(table);
      if (cert.id !== listenerCertId) {
        https.setSecureContext({ ...baseOptions(config.tls), cert: cert.certPem, key: cert.keyPem });
        listenerCertId = cert.id;
      }
      metrics?.certificates([...table.certs.values()].map((c) => ({ namespace: c.source.namespace, secret: c.secret.split('/')[1] ?? '', host: c.host, expiry: c.notAfter / 1000 })));
    },
    async listen() {
      const httpPort = await listen(httpFront, config.httpPort, config.bindAddress);
      const httpsPort = await listen(httpsFront, config.httpsPort, config.bindAddress);
      log.info({ listener: 'http', address: config.bindAddress, port: httpPort }, 'listening');
      log.info({ listener: 'https', address: config.bindAddress, port: httpsPort, defaultCertExpiry: new Date(expiryOf(def.certPem) * 1000).toISOString() }, 'listening');
      return { httpPort, httpsPort };
    },
    startDraining() {
      state.draining = true;
    },
    async close() {
      state.draining = true;
      if (httpFront !== http) httpFront.close();
      if (httpsFront !== https) httpsFront.close();
      const closed = Promise.all([new Promise<void>((r) => http.close(() => r())), new Promise<void>((r) => https.close(() => r()))]);
      http.closeIdleConnections();
      https.drain();
      const deadline = Date.now() + config.shutdownTimeout;
      const cut = setTimeout(() => {
        http.closeAllConnections();
        https.cut();
        for (const s of tunnels) s.destroy();
      }, config.shutdownTimeout);
      await closed;
      while (tunnels.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      clearTimeout(cut);
      for (const s of tunnels) s.destroy();
      await pools.close();
    },
  };
}
