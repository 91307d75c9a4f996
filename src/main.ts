/**
 * Composition root: config -> control plane (source, pipeline) -> data plane (listeners) -> admin.
 * One process by default; with --workers N, see workers.ts.
 */
import type { AddressInfo } from 'node:net';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config.js';
import { createControlPlane } from './controlplane.js';
import { createDataPlane } from './dataplane.js';
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
export function listenAdmin(admin: ReturnType<typeof createAdminServer>, config: Config, log: Logger): Promise<number> {
  return new Promise((resolve, reject) => {
    admin.once('error', reject);
    admin.listen({ port: config.adminPort, host: config.bindAddress }, () => {
      const port = (admin.address() as AddressInfo).port;
      log.info({ listener: 'admin', address: config.bindAddress, port }, 'listening');
      resolve(port);
    });
  });
}

/** Starts Portico in one process; resolves once every listener is bound. */
export async function run(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const metrics = metricsFor(config);
  const stopConnectTiming = metrics ? observeConnects(metrics.connectDuration) : () => {};
  const data = createDataPlane(config, log, metrics);
  const control = await createControlPlane({ config, log, metrics, swap: data.apply, patch: data.patch, current: () => data.state.matcher.table });
  let ready = false;
  let draining = false;

  // Standalone reads its files before listening, so a bad path fails at once; Kubernetes mode
  // listens first (unready) and syncs after, so an absent API server leaves it up but not ready.
  if (control.syncBeforeListen) await control.start();
  const { httpPort, httpsPort } = await data.listen();
  const admin = createAdminServer({
    ready: () => ready && !draining,
    table: () => data.state.matcher.table,
    diagnostics: control.pipeline.diagnostics,
    stats: data.stats,
    metrics: metrics ? { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() } : null,
  });
  const adminPort = await listenAdmin(admin, config, log);
  const becomeReady = (): void => {
    ready = true;
    log.info({ routes: data.state.matcher.table.routes.length }, 'ready');
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
      data.startDraining();
      log.info({ gracePeriodMs: config.shutdownGracePeriod }, 'draining: /readyz now fails');
      await new Promise((r) => setTimeout(r, config.shutdownGracePeriod));
      await control.close();
      await data.close();
      await new Promise<void>((r) => admin.close(() => r()));
      stopConnectTiming();
    },
  };
}
