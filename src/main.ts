/**
 * Composition root: config -> control plane (source, pipeline) -> data plane (listeners) -> admin.
 * One process by default; with --workers N, see workers.ts.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config.js';
import { createControlPlane } from './control/controlplane.js';
import { createDataPlane, type DataPlane } from './proxy/dataplane.js';
import type { RouteTable } from './model/types.js';
import { generateDefaultCertAsync } from './tls/contexts.js';
import { createLogger, type Logger } from './log.js';
import { observeConnects } from './metrics/connect-timing.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
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

/** The metrics registry, or null with --enable-metrics=false. */
export function metricsFor(config: Config): Metrics | null {
  return config.enableMetrics
    ? createMetrics({ version: version(), nginxCompat: config.metricsCompat === 'ingress-nginx', controllerClass: config.controllerClass, controllerNamespace: config.podNamespace, controllerPod: config.podName })
    : null;
}

/** Binds the admin listener. */
/**
 * Start-up garbage (the parsed YAML text, list pages) is returned just before ready rather than
 * when V8 next gets round to it: the resident set right after ready is what a limit sees first.
 * Needs --expose-gc (NODE_FLAGS); returns how long it took, for the ready log line.
 */
export function collectStartupGarbage(): { startupGcMs?: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return {};
  const t0 = performance.now();
  gc();
  return { startupGcMs: +(performance.now() - t0).toFixed(1) };
}

export function listenAdmin(admin: ReturnType<typeof createAdminServer>, config: Config, log: Logger): Promise<number> {
  return new Promise((resolve, reject) => {
    admin.once('error', reject);
    admin.listen({ port: config.adminPort, host: config.adminBindAddress }, () => {
      const port = (admin.address() as AddressInfo).port;
      log.info({ listener: 'admin', address: config.adminBindAddress, port, debugEndpoints: config.debugEndpoints }, 'listening');
      resolve(port);
    });
  });
}

/** Starts Portico in one process; resolves once every listener is bound. */
export async function run(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const metrics = metricsFor(config);
  const stopConnectTiming = metrics ? observeConnects(metrics.connectDuration) : () => {};
  // The fallback certificate's RSA key is generated in the thread pool while the manifests are read.
  const defaultCert = generateDefaultCertAsync();
  defaultCert.catch(() => undefined); // awaited below; a start-up error before that must not leave it unhandled
  // Until the data plane exists (standalone reads its files first), the first table waits here.
  let data: DataPlane | null = null;
  let early: RouteTable | null = null;
  const control = await createControlPlane({
    config,
    log,
    metrics,
    swap: (t) => (data !== null ? data.apply(t) : (early = t)),
    // patches come from watches, which start after the data plane exists (Kubernetes mode listens first)
    patch: (p) => data?.patch(p),
  });
  let ready = false;
  let draining = false;

  // Standalone reads its files before listening, so a bad path fails at once; Kubernetes mode
  // listens first (unready) and syncs after, so an absent API server leaves it up but not ready.
  if (control.syncBeforeListen) await control.start();
  const dp: DataPlane = createDataPlane(config, log, metrics, await defaultCert);
  data = dp;
  if (early !== null) dp.apply(early);
  const { httpPort, httpsPort } = await dp.listen();
  const admin = createAdminServer({
    ready: () => ready && !draining,
    table: control.pipeline.live,
    diagnostics: control.pipeline.diagnostics,
    endpointViews: async () => (endpoint) => dp.stats.view(endpoint),
    metrics: metrics ? { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() } : null,
  }, { debugEndpoints: config.debugEndpoints });
  const adminPort = await listenAdmin(admin, config, log);
  const becomeReady = (): void => {
    const gc = collectStartupGarbage();
    ready = true;
    log.info({ routes: control.pipeline.live().routes.length, ...gc }, 'ready');
  };
  if (control.syncBeforeListen) becomeReady();
  else
    control.start().then(becomeReady, (err: Error) => {
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
      dp.startDraining();
      log.info({ gracePeriodMs: config.shutdownGracePeriod }, 'draining: /readyz now fails');
      await new Promise((r) => setTimeout(r, config.shutdownGracePeriod));
      await control.close();
      await dp.close();
      await new Promise<void>((r) => admin.close(() => r()));
      stopConnectTiming();
    },
  };
}
