/**
 * Composition root: config -> source -> pipeline -> listeners -> signals.
 */
import type { Server } from 'node:http';
import type { Http2SecureServer } from 'node:http2';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { createAdminServer } from './admin/server.js';
import { ConfigError, type Config } from './config.js';
import { createLogger, stdoutSink, type Logger } from './log.js';
import type { KubeController } from './kube/controller.js';
import { createManifestSource } from './manifests/source.js';
import { observeConnects } from './metrics/connect-timing.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import type { TranslateOptions } from './model/translate.js';
import type { RouteTable } from './model/types.js';
import { createPipeline } from './pipeline.js';
import { createAccessLog } from './proxy/access-log.js';
import { createBalancer } from './proxy/balance.js';
import { createHandler, type HandlerOptions, type ProxyState } from './proxy/handler.js';
import { createTrust } from './proxy/headers.js';
import { createPools, endpointKey, poolKey } from './proxy/pools.js';
import { createHttpsServer, createProxyServer, frontOf, type HttpsServer } from './proxy/server.js';
import { createEndpointStats } from './proxy/stats.js';
import { createUpgradeHandler } from './proxy/upgrade.js';
import { compile } from './router/compile.js';
import { createStore } from './store.js';
import { baseOptions, createTlsContexts, expiryOf } from './tls/contexts.js';
import { createInspector } from './tls/inspect.js';
import { version } from './version.js';

export interface Running {
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminPort: number;
  readonly log: Logger;
  /**
   * Graceful stop: /readyz fails at once while listeners keep serving for the grace period; then
   * listeners stop accepting, idle keep-alive connections close, in-flight requests and upgraded
   * connections get up to the shutdown timeout, and upstream pools close.
   */
  close(): Promise<void>;
}

const EMPTY: RouteTable = { routes: [], hostFallbacks: new Map(), defaultBackend: null, backends: new Map(), certs: new Map() };
/** Certificates expire without any object changing: re-judge them this often. */
const RECHECK_MS = 60_000;

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

/** Starts Portico; resolves once the first table is live and every listener is bound. */
export async function run(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const store = createStore();
  const state: ProxyState = { matcher: compile(EMPTY), draining: false };
  const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
  const stats = createEndpointStats({ maxFails: config.upstreamMaxFails, failTimeout: config.upstreamFailTimeout });
  const metrics = config.enableMetrics
    ? createMetrics({ version: version(), nginxCompat: config.metricsCompat === 'ingress-nginx', controllerClass: config.controllerClass, controllerNamespace: config.podNamespace, controllerPod: config.podName })
    : null;
  const stopConnectTiming = metrics ? observeConnects(metrics.connectDuration) : () => {};
  let tls;
  try {
    tls = createTlsContexts(config.tls);
    tls.select(EMPTY, ''); // builds the default context now, so bad --ssl-ciphers fail at start
  } catch (err) {
    throw new ConfigError(`invalid TLS settings (--ssl-ciphers / --ssl-protocols): ${(err as Error).message}`);
  }
  const contexts = tls;
  const inspect = createInspector();
  let ready = false;
  let draining = false;
  let httpsServer: HttpsServer | null = null;
  let defaultCertId = '';

  const base: Omit<TranslateOptions, 'now'> = {
    controllerClass: config.controllerClass,
    ingressClass: config.ingressClass,
    watchWithoutClass: config.watchWithoutClass,
    defaultBackendService: config.defaultBackendService,
    defaultSslCertificate: config.defaultSslCertificate,
    sslRedirect: config.sslRedirect,
    inspect,
  };
  let kube: KubeController | null = null;
  const pipeline = createPipeline({
    onRebuilt: () => kube?.rebuilt(),
    store,
    log: log.child({ component: 'pipeline' }),
    translateOptions: () => {
      inspect.sweep();
      return { ...base, now: Date.now() };
    },
    current: () => state.matcher.table,
    metrics,
    swap: (m) => {
      state.matcher = m;
      const live = new Set<string>();
      const liveEndpoints = new Set<string>();
      for (const b of m.table.backends.values()) {
        for (const e of b.endpoints) {
          live.add(poolKey(b.protocol, e.ip, e.port));
          liveEndpoints.add(endpointKey(e.ip, e.port));
        }
      }
      pools.retain(live);
      stats.retain(liveEndpoints);
      contexts.retain(m.table);
      const def = contexts.listenerCert(m.table);
      if (httpsServer !== null && def.id !== defaultCertId) {
        httpsServer.setSecureContext({ ...baseOptions(config.tls), cert: def.certPem, key: def.keyPem });
        defaultCertId = def.id;
      }
      metrics?.certificates([...m.table.certs.values()].map((c) => ({ namespace: c.source.namespace, secret: c.secret.split('/')[1] ?? '', host: c.host, expiry: c.notAfter / 1000 })));
    },
  });

  let source: { start(): Promise<void>; close(): void | Promise<void> };
  if (config.manifests !== '') {
    const files = createManifestSource({ path: config.manifests, store, onChange: pipeline.schedule, log: log.child({ component: 'manifests' }) });
    source = {
      start: () =>
        files.start().catch((err: NodeJS.ErrnoException) => {
          throw new ConfigError(`--manifests ${config.manifests}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
        }),
      close: files.close,
    };
  } else {
    // Loaded only in Kubernetes mode: @kubernetes/client-node costs about 80 MB of RSS.
    const { createKubeController } = await import('./kube/controller.js');
    kube = createKubeController({ config, store, pipeline, log, metrics });
    source = kube;
  }
  // Standalone reads its files before listening, so a bad path fails at once; Kubernetes mode
  // listens first (unready) and syncs after, so an absent API server leaves it up but not ready.
  const synced = config.manifests !== '' ? await source.start().then(() => true) : false;
  const recheck = setInterval(pipeline.schedule, RECHECK_MS);
  recheck.unref();

  const accessLog = config.accessLog ? createAccessLog(config.accessLogFormat, stdoutSink()) : null;
  const balancer = createBalancer(stats.ejected);
  const trust = createTrust(config.trustedProxies);
  const tunnels = new Set<Socket>();
  const common: Omit<HandlerOptions, 'scheme' | 'hsts'> = {
    state,
    pools,
    balancer,
    readTimeout: config.proxyReadTimeout,
    tries: config.proxyNextUpstreamTries,
    accessLog,
    metrics,
    stats,
    httpsRedirectPort: config.httpsRedirectPort,
    limits: {
      bodySize: config.proxyBodySize,
      clientBodyTimeout: config.clientBodyTimeout,
      sendTimeout: config.proxySendTimeout,
      maxHeaders: config.maxHeaders,
      nextUpstreamTimeout: config.proxyNextUpstreamTimeout,
    },
    trust,
  };
  const listenerOptions = { keepAliveTimeout: config.keepAliveTimeout, headersTimeout: config.clientHeaderTimeout, maxConnections: config.maxConnections, proxyProtocol: config.useProxyProtocol };
  const upgradeCommon = { state, balancer, connectTimeout: config.proxyConnectTimeout, accessLog, metrics, stats, tunnels, trust };
  const http = createProxyServer(createHandler({ ...common, scheme: 'http', hsts: null }), createUpgradeHandler({ ...upgradeCommon, scheme: 'http' }), listenerOptions);
  const def = contexts.listenerCert(state.matcher.table);
  defaultCertId = def.id;
  const https = createHttpsServer(createHandler({ ...common, scheme: 'https', hsts: config.hsts }), createUpgradeHandler({ ...upgradeCommon, scheme: 'https' }), {
    settings: config.tls,
    defaultCert: def,
    sni: (servername) => contexts.select(state.matcher.table, servername),
    metrics,
    ...listenerOptions,
  });
  httpsServer = https;
  countConnections(http, metrics, 'http');
  countConnections(https, metrics, 'https');
  const admin = createAdminServer({
    ready: () => ready && !draining,
    table: () => state.matcher.table,
    diagnostics: pipeline.diagnostics,
    stats,
    metrics: metrics ? { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() } : null,
  });

  const httpFront = frontOf(http, listenerOptions);
  const httpsFront = frontOf(https, listenerOptions);
  const httpPort = await listen(httpFront, config.httpPort, config.bindAddress);
  const httpsPort = await listen(httpsFront, config.httpsPort, config.bindAddress);
  const adminPort = await listen(admin, config.adminPort, config.bindAddress);
  log.info({ listener: 'http', address: config.bindAddress, port: httpPort }, 'listening');
  log.info({ listener: 'https', address: config.bindAddress, port: httpsPort, defaultCertExpiry: new Date(expiryOf(def.certPem) * 1000).toISOString() }, 'listening');
  log.info({ listener: 'admin', address: config.bindAddress, port: adminPort }, 'listening');
  const becomeReady = (): void => {
    pipeline.rebuildNow();
    ready = true;
    log.info({ routes: state.matcher.table.routes.length }, 'ready');
  };
  if (synced) becomeReady();
  else
    source.start().then(becomeReady, (err: Error) => {
      log.fatal({ err: err.message }, 'cannot start the source');
      process.exitCode = 1;
    });

  return {
    httpPort,
    httpsPort,
    adminPort,
    log,
    async close() {
      draining = true;
      state.draining = true;
      log.info({ gracePeriodMs: config.shutdownGracePeriod }, 'draining: /readyz now fails');
      await new Promise((r) => setTimeout(r, config.shutdownGracePeriod));
      await source.close();
      clearInterval(recheck);
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
      await new Promise<void>((r) => admin.close(() => r()));
      await pools.close();
      stopConnectTiming();
    },
  };
}
