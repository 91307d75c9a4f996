/**
 * Composition root: config -> source -> pipeline -> listeners -> signals.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdminServer } from './admin/server.js';
import { ConfigError, type Config } from './config.js';
import { createLogger, stdoutSink, type Logger } from './log.js';
import { createManifestSource } from './manifests/source.js';
import type { RouteTable } from './model/types.js';
import { createPipeline } from './pipeline.js';
import { createAccessLog } from './proxy/access-log.js';
import { createBalancer } from './proxy/balance.js';
import { createHandler, type ProxyState } from './proxy/handler.js';
import { createPools, endpointKey } from './proxy/pools.js';
import { createProxyServer } from './proxy/server.js';
import { compile } from './router/compile.js';
import { createStore } from './store.js';
import { observeConnects } from './metrics/connect-timing.js';
import { createMetrics } from './metrics/metrics.js';
import { createEndpointStats } from './proxy/stats.js';
import { version } from './version.js';

export interface Running {
  readonly httpPort: number;
  readonly adminPort: number;
  readonly log: Logger;
  /**
   * Graceful stop: /readyz fails at once while listeners keep serving for the grace period; then
   * listeners stop accepting, idle keep-alive connections close, in-flight requests get up to the
   * shutdown timeout, and upstream pools close.
   */
  close(): Promise<void>;
}

const EMPTY: RouteTable = { routes: [], hostFallbacks: new Map(), defaultBackend: null, backends: new Map() };

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host }, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

/** Starts Portico; resolves once the first table is live and every listener is bound. */
export async function run(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const store = createStore();
  const state: ProxyState = { matcher: compile(EMPTY), draining: false };
  const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
  const stats = createEndpointStats();
  const metrics = config.enableMetrics
    ? createMetrics({ version: version(), nginxCompat: config.metricsCompat === 'ingress-nginx', controllerClass: config.controllerClass, controllerNamespace: config.podNamespace, controllerPod: config.podName })
    : null;
  const stopConnectTiming = metrics ? observeConnects(metrics.connectDuration) : () => {};
  let ready = false;
  let draining = false;

  const pipeline = createPipeline({
    store,
    log: log.child({ component: 'pipeline' }),
    translateOptions: {
      controllerClass: config.controllerClass,
      ingressClass: config.ingressClass,
      watchWithoutClass: config.watchWithoutClass,
      defaultBackendService: config.defaultBackendService,
    },
    current: () => state.matcher.table,
    metrics,
    swap: (m) => {
      state.matcher = m;
      const live = new Set<string>();
      for (const b of m.table.backends.values()) for (const e of b.endpoints) live.add(endpointKey(e.ip, e.port));
      pools.retain(live);
      stats.retain(live);
    },
  });

  const source = createManifestSource({ path: config.manifests, store, onChange: pipeline.schedule, log: log.child({ component: 'manifests' }) });
  await source.start().catch((err: NodeJS.ErrnoException) => {
    throw new ConfigError(`--manifests ${config.manifests}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
  });
  pipeline.rebuildNow();

  const handler = createHandler({
    state,
    pools,
    balancer: createBalancer(),
    scheme: 'http',
    readTimeout: config.proxyReadTimeout,
    tries: config.proxyNextUpstreamTries,
    accessLog: config.accessLog ? createAccessLog(config.accessLogFormat, stdoutSink()) : null,
    metrics,
    stats,
  });
  const http = createProxyServer(handler);
  if (metrics) {
    const open = metrics.openConnections.labels('http');
    http.on('connection', (socket: import('node:net').Socket) => {
      open.inc();
      socket.once('close', () => open.dec());
    });
  }
  const admin = createAdminServer({
    ready: () => ready && !draining,
    table: () => state.matcher.table,
    diagnostics: pipeline.diagnostics,
    stats,
    metrics: metrics ? { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() } : null,
  });

  const httpPort = await listen(http, config.httpPort, config.bindAddress);
  const adminPort = await listen(admin, config.adminPort, config.bindAddress);
  log.info({ listener: 'http', address: config.bindAddress, port: httpPort }, 'listening');
  log.info({ listener: 'admin', address: config.bindAddress, port: adminPort }, 'listening');
  ready = true;

  return {
    httpPort,
    adminPort,
    log,
    async close() {
      draining = true;
      state.draining = true;
      log.info({ gracePeriodMs: config.shutdownGracePeriod }, 'draining: /readyz now fails');
      await new Promise((r) => setTimeout(r, config.shutdownGracePeriod));
      source.close();
      const closed = new Promise<void>((r) => http.close(() => r()));
      http.closeIdleConnections();
      const cut = setTimeout(() => http.closeAllConnections(), config.shutdownTimeout);
      await closed;
      clearTimeout(cut);
      await new Promise<void>((r) => admin.close(() => r()));
      await pools.close();
      stopConnectTiming();
    },
  };
}
