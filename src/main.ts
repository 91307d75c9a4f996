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

export interface Running {
  readonly httpPort: number;
  readonly adminPort: number;
  readonly log: Logger;
  /** Stops accepting, lets in-flight requests finish, closes upstream pools. */
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
  const state: ProxyState = { matcher: compile(EMPTY) };
  const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
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
    swap: (m) => {
      state.matcher = m;
      const live = new Set<string>();
      for (const b of m.table.backends.values()) for (const e of b.endpoints) live.add(endpointKey(e.ip, e.port));
      pools.retain(live);
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
  });
  const http = createProxyServer(handler);
  const admin = createAdminServer({ ready: () => ready && !draining, table: () => state.matcher.table, diagnostics: pipeline.diagnostics });

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
      source.close();
      await Promise.all([
        new Promise<void>((r) => http.close(() => r())),
        new Promise<void>((r) => admin.close(() => r())),
        (http.closeIdleConnections(), Promise.resolve()),
      ]);
      await pools.close();
    },
  };
}
