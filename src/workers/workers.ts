/**
 * `--workers N`: one primary runs the control plane and the admin port; N workers (node:cluster)
 * share the HTTP and HTTPS ports and only serve. Each new table goes to every worker over IPC
 * (structured clone, so Maps travel as they are); /metrics merges the primary's control-plane
 * series with every worker's request series, /debug/backends every worker's endpoint counts;
 * SIGTERM drains all workers, then the primary exits.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import { createAdminServer } from '../admin/server.js';
import type { Config } from '../config.js';
import { createControlPlane } from '../control/controlplane.js';
import { createDataPlane, type DataPlane } from '../proxy/dataplane.js';
import { endpointKey } from '../proxy/pools.js';
import { mergeViews, type EndpointView } from '../proxy/stats.js';
import { createLogger } from '../log.js';
import { collectStartupGarbage, listenAdmin, metricsFor } from '../main.js';
import { observeConnects } from '../metrics/connect-timing.js';
import type { RouteTable } from '../model/types.js';
import type { EndpointPatch } from '../control/pipeline.js';
import { generateDefaultCertAsync, type ServedCert } from '../tls/contexts.js';

type metric = MetricObjectWithValues<MetricValue<string>>;
type Views = Record<string, EndpointView>;
/** Questions the primary asks every worker (for /metrics and /debug/backends), and their answers. */
type Question = 'portico:metrics' | 'portico:endpoint-views';
type ToWorker = { type: 'portico:cert'; cert: ServedCert } | { type: 'portico:table'; table: RouteTable } | { type: 'portico:endpoints'; patch: EndpointPatch } | { type: 'portico:drain' } | { type: Question; id: number };
type ToPrimary = { type: 'portico:hello' } | { type: 'portico:listening' } | { type: 'portico:metrics'; id: number; metrics: metric[] } | { type: 'portico:endpoint-views'; id: number; views: Views };

/** How long the primary waits for every worker's answer; a worker that does not answer is left out. */
const ASK_TIMEOUT_MS = 5000;

/** The primary: control plane, admin port, and the workers' supervisor. */
export async function runPrimary(config: Config, workers: number): Promise<void> {
  const log = createLogger(config.logLevel);
  cluster.setupPrimary({ serialization: 'advanced' });
  const metrics = metricsFor(config);
  // generated in the thread pool while the control plane starts
  const defaultCert = generateDefaultCertAsync();
  defaultCert.catch(() => undefined); // awaited before forking; a start-up error before that must not leave it unhandled
  let cert: ServedCert | null = null;
  let table: RouteTable | null = null;
  let stopping = false;
  let ready = false;
  const listening = new Set<number>();
  const pending = new Map<number, { left: number; parts: unknown[]; done: (parts: unknown[]) => void }>();
  let nextId = 1;

  const send = (w: Worker, msg: ToWorker): void => {
    if (w.isConnected()) w.send(msg);
  };
  const broadcast = (msg: ToWorker): void => {
    for (const w of Object.values(cluster.workers ?? {})) if (w) send(w, msg);
  };

  const control = await createControlPlane({
    config,
    log,
    metrics,
    swap: (t) => {
      table = t;
      broadcast({ type: 'portico:table', table });
    },
    patch: (p) => broadcast({ type: 'portico:endpoints', patch: p }),
  });

  const fork = (): void => {
    const w = cluster.fork();
    w.on('message', (msg: ToPrimary) => {
      // A worker says hello once its handlers are in place (messages sent earlier would be lost).
      if (msg.type === 'portico:hello') {
        send(w, { type: 'portico:cert', cert: cert as ServedCert });
        // a new worker gets the table with its live endpoints (patched since the swap)
        if (table) send(w, { type: 'portico:table', table: control.pipeline.live() });
      } else if (msg.type === 'portico:listening') {
        listening.add(w.id);
        if (listening.size >= workers && !ready && table) {
          const gc = collectStartupGarbage();
          ready = true;
          log.info({ workers, routes: table.routes.length, ...gc }, 'ready');
        }
      } else if (msg.type === 'portico:metrics' || msg.type === 'portico:endpoint-views') {
        const req = pending.get(msg.id);
        if (req) {
          req.parts.push(msg.type === 'portico:metrics' ? msg.metrics : msg.views);
          if (--req.left === 0) req.done(req.parts);
        }
      }
    });
  };
  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    if (stopping) return;
    log.error({ worker: w.process.pid, code, signal }, 'worker exited; starting another');
    fork();
  });

  /** Asks every live worker; resolves with the answers in when all are in, or what came within ASK_TIMEOUT_MS. */
  function ask<T>(type: Question): Promise<T[]> {
    const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && w.isConnected());
    return new Promise<T[]>((resolve) => {
      if (alive.length === 0) return resolve([]);
      const id = nextId++;
      const parts: T[] = [];
      const finish = (): void => {
        clearTimeout(timer);
        pending.delete(id);
        resolve(parts);
      };
      const timer = setTimeout(finish, ASK_TIMEOUT_MS);
      pending.set(id, { left: alive.length, parts: parts as unknown[], done: finish });
      for (const w of alive) send(w, { type, id });
    });
  }

  /** Every worker's metrics merged with the primary's own. */
  async function clusterMetrics(): Promise<string> {
    const own = metrics ? await metrics.registry.getMetricsAsJSON() : [];
    const parts = await ask<metric[]>('portico:metrics');
    return AggregatorRegistry.aggregate([own, ...parts] as never).metrics();
  }

  /** Every worker's per-endpoint counts, merged endpoint by endpoint. */
  async function clusterEndpointViews(): Promise<(endpoint: string) => EndpointView> {
    const parts = await ask<Views>('portico:endpoint-views');
    return (endpoint) => mergeViews(parts.flatMap((views) => views[endpoint] ?? []));
  }

  if (control.syncBeforeListen) await control.start();
  // one fallback certificate for every worker, so a client without SNI sees the same one on any connection
  cert = await defaultCert;
  for (let i = 0; i < workers; i++) fork();
  const admin = createAdminServer({
    ready: () => ready && !stopping,
    table: control.pipeline.live,
    diagnostics: control.pipeline.diagnostics,
    endpointViews: clusterEndpointViews,
    metrics: metrics ? { contentType: metrics.registry.contentType, text: clusterMetrics } : null,
  }, { debugEndpoints: config.debugEndpoints });
  await listenAdmin(admin, config, log);
  if (!control.syncBeforeListen) control.start().catch((err: Error) => log.fatal({ err: err.message }, 'cannot start the source'));

  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, gracePeriodMs: config.shutdownGracePeriod }, 'draining: /readyz now fails');
    broadcast({ type: 'portico:drain' });
    const all = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    void Promise.all(all.map((w) => new Promise((r) => (w.isDead() ? r(null) : w.once('exit', r))))).then(async () => {
      await control.close();
      admin.close();
      process.exit(0);
    });
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** A worker: the data plane only, fed by the primary. */
export async function runWorker(config: Config): Promise<void> {
  const log = createLogger(config.logLevel).child({ worker: cluster.worker?.id });
  const metrics = metricsFor(config);
  if (metrics) observeConnects(metrics.connectDuration);
  let data: DataPlane | null = null;
  let listened = false;
  const reply = (msg: ToPrimary): void => {
    process.send?.(msg);
  };
  process.on('message', (msg: ToWorker) => {
    // the primary sends the fallback certificate first, then tables
    if (msg.type === 'portico:cert') {
      data = createDataPlane(config, log, metrics, msg.cert);
      return;
    }
    if (data === null) return;
    if (msg.type === 'portico:table') {
      data.apply(msg.table);
      if (!listened) {
        listened = true;
        data.listen().then(
          () => reply({ type: 'portico:listening' }),
          (err: Error) => {
            log.fatal({ err: err.message }, 'cannot listen');
            process.exit(1);
          },
        );
      }
    } else if (msg.type === 'portico:endpoints') {
      data.patch(msg.patch);
    } else if (msg.type === 'portico:metrics') {
      void (metrics ? metrics.registry.getMetricsAsJSON() : Promise.resolve([])).then((m) => reply({ type: 'portico:metrics', id: msg.id, metrics: m }));
    } else if (msg.type === 'portico:endpoint-views') {
      const views: Views = {};
      const dp = data;
      for (const b of dp.state.matcher.table.backends.values()) {
        for (const e of dp.endpoints(b.id) ?? []) {
          const key = endpointKey(e.ip, e.port);
          views[key] = dp.stats.view(key);
        }
      }
      reply({ type: 'portico:endpoint-views', id: msg.id, views });
    } else if (msg.type === 'portico:drain') {
      const dp = data;
      dp.startDraining();
      setTimeout(() => {
        void dp.close().then(() => process.exit(0));
      }, config.shutdownGracePeriod);
    }
  });
  reply({ type: 'portico:hello' });
  // The primary coordinates shutdown; a signal sent to the whole process group must not cut it short.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
}
