/**
 * The composition root, read top to bottom as the data flows: config -> metrics -> control plane
 * (source, pipeline) -> serving (the data plane in this process, or a pool of worker processes
 * with --workers N: the same interface) -> admin -> ready; close() drains in the reverse order.
 * The `portico` command (cli.ts) and `npm start` add signals ({@link exitOnSignals}).
 *
 * Lifecycle lines (`component: lifecycle`): `starting` (version, Node.js, mode, source, ports,
 * workers), `ready`, `shutting down` and `exiting` (the signal or the error, the exit code).
 */
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { performance } from 'node:perf_hooks';
import { createAdminServer } from './admin/server.js';
import type { Config } from './config.js';
import { createControlPlane } from './control/controlplane.js';
import { createLogger, flushLogs, type Logger } from './log.js';
import { observeConnects } from './metrics/connect-timing.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import type { RouteTable } from './model/types.js';
import { createDataPlane, type Serving } from './proxy/dataplane.js';
import { generateDefaultCertAsync } from './tls/contexts.js';
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

/**
 * Start-up garbage (the parsed YAML text, list pages) is returned just before ready rather than
 * when V8 next gets round to it: the resident set right after ready is what a limit sees first.
 * Needs --expose-gc (NODE_FLAGS); returns how long it took, for the ready log line.
 */
/**
 * What the start-up collection passes to gc(): Node 24's V8 keeps pages freed by start-up's
 * collections pooled and committed (about 90 MiB at 10,000 Ingresses) until a memory-reducing
 * collection, which its gc() runs with the 'last-resort' flavor. Node 20's pools nothing and takes
 * no such option (an object there makes a quick minor collection): a plain full collection.
 */
export function startupGcArgs(nodeVersion: string = process.versions.node): [] | [{ type: 'major'; execution: 'sync'; flavor: 'last-resort' }] {
  return Number(nodeVersion.split('.')[0]) >= 24 ? [{ type: 'major', execution: 'sync', flavor: 'last-resort' }] : [];
}

function collectStartupGarbage(): { startupGcMs?: number } {
  const gc = (globalThis as { gc?: (o?: object) => void }).gc;
  if (gc === undefined) return {};
  const t0 = performance.now();
  setFlagsFromString('--compact-on-every-full-gc');
  setFlagsFromString('--no-concurrent-sweeping');
  gc(...startupGcArgs());
  setFlagsFromString('--concurrent-sweeping');
  setFlagsFromString('--no-compact-on-every-full-gc');
  return { startupGcMs: +(performance.now() - t0).toFixed(1) };
}

/**
 * After start-up the old generation may grow by {@link HEAP_GROWING_PERCENT}% of what survived
 * the last full collection before the next one. V8's own factor lets a heap that collects quickly
 * grow up to fourfold: at 10,000 Ingresses (75 MiB live) a 5-minute soak at c=200 climbed from
 * 150 to 270 MiB between full collections. Set after start-up, whose growth is all live data (a
 * small factor there would only add collections), just before the start-up collection, which then
 * sets the first bounded limit. Measured: docs/performance.md, "Memory".
 */
const HEAP_GROWING_PERCENT = 30;
function boundHeapGrowth(): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
}

/** Binds the admin listener. */
function listenAdmin(admin: ReturnType<typeof createAdminServer>, config: Config, log: Logger): Promise<number> {
  return new Promise((resolve, reject) => {
    admin.once('error', reject);
    admin.listen({ port: config.adminPort, host: config.adminBindAddress }, () => {
      const port = (admin.address() as AddressInfo).port;
      log.info({ component: 'admin', listener: 'admin', address: config.adminBindAddress, port, debugEndpoints: config.debugEndpoints }, 'listening');
      resolve(port);
    });
  });
}

/** Starts Portico; resolves once every listener is bound (ready follows the first sync). */
export async function run(config: Config, log: Logger = createLogger(config.logLevel)): Promise<Running> {
  const life = log.child({ component: 'lifecycle' });
  life.info(
    {
      version: version(),
      node: process.version,
      mode: config.manifests !== '' ? 'standalone' : 'kubernetes',
      source: config.manifests !== '' ? config.manifests : config.kubeconfig !== '' ? config.kubeconfig : 'in-cluster, else $KUBECONFIG, else ~/.kube/config',
      ports: { http: config.httpPort, https: config.httpsPort, admin: config.adminPort },
      workers: config.workers,
    },
    'starting',
  );
  const metrics = metricsFor(config);
  // with workers, each worker times its own upstream connections
  const stopConnectTiming = metrics !== null && config.workers === 1 ? observeConnects(metrics.connectDuration) : () => {};
  // The fallback certificate's RSA key is generated in the thread pool while the manifests are read.
  const defaultCert = generateDefaultCertAsync();
  defaultCert.catch(() => undefined); // awaited below; a start-up error before that must not leave it unhandled

  // Until serving exists (standalone reads its files first), the first table waits here.
  let serving: Serving | null = null;
  let early: RouteTable | null = null;
  const control = await createControlPlane({
    config,
    log,
    metrics,
    swap: (t) => (serving !== null ? serving.apply(t) : (early = t)),
    // patches come from watches, which start after serving exists (Kubernetes mode listens first)
    patch: (p) => serving?.patch(p),
  });
  let ready = false;
  let draining = false;

  // Standalone reads its files before listening, so a bad path fails at once; Kubernetes mode
  // listens first (unready) and syncs after, so an absent API server leaves it up but not ready.
  if (control.syncBeforeListen) await control.start();
  const cert = await defaultCert;
  const s: Serving =
    config.workers > 1
      ? (await import('./workers/pool.js')).createWorkerPool({ config, log, metrics, cert, live: control.pipeline.live })
      : createDataPlane(config, log.child({ component: 'dataplane' }), metrics, cert);
  serving = s;
  if (early !== null) s.apply(early);
  const { httpPort, httpsPort } = await s.listen();

  const admin = createAdminServer(
    { ready: () => ready && !draining, table: control.pipeline.live, diagnostics: control.pipeline.diagnostics, gateways: control.pipeline.gateway, endpointViews: s.endpointViews, metrics: s.metrics },
    { debugEndpoints: config.debugEndpoints },
  );
  const adminPort = await listenAdmin(admin, config, log);
  const becomeReady = (): void => {
    // bounded first: the start-up collection then sets the next limit with the bounded factor
    boundHeapGrowth();
    const gc = collectStartupGarbage();
    ready = true;
    life.info({ routes: control.pipeline.live().routes.length, workers: config.workers, ...gc }, 'ready');
  };
  if (control.syncBeforeListen) becomeReady();
  else
    control.start().then(becomeReady, (err: Error) => {
      life.fatal({ err: err.message }, 'cannot start the source');
      process.exitCode = 1;
    });

  return {
    httpPort,
    httpsPort,
    adminPort,
    log,
    async close() {
      draining = true;
      s.startDraining();
      life.info({ gracePeriodMs: config.shutdownGracePeriod }, 'draining: /readyz now fails');
      await new Promise((r) => setTimeout(r, config.shutdownGracePeriod));
      await control.close();
      await s.close();
      await new Promise<void>((r) => admin.close(() => r()));
      stopConnectTiming();
    },
  };
}

/** Writes the exit line (why: the signal or the error; the exit code; uptime) after every earlier line, and exits. */
export async function exit(log: Logger, code: number, why: { readonly signal?: string; readonly err?: string }): Promise<never> {
  log.child({ component: 'lifecycle' }).info({ ...why, code, uptimeS: +process.uptime().toFixed(1) }, 'exiting');
  await flushLogs();
  process.exit(code);
}

/**
 * SIGTERM or SIGINT: drain (the grace period, then in-flight requests), then exit 0 with the exit
 * line naming the signal; 1 if closing failed. A second signal gets Node's default: an immediate exit.
 */
export function exitOnSignals(running: Running): void {
  const stop = (signal: NodeJS.Signals): void => {
    running.log.child({ component: 'lifecycle' }).info({ signal }, 'shutting down');
    void running.close().then(
      () => exit(running.log, 0, { signal }),
      (err: Error) => exit(running.log, 1, { signal, err: err.message }),
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}
