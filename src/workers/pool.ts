/**
 * The primary's side of `--workers N`: N processes (node:cluster) share the HTTP and HTTPS ports
 * and only serve; the primary keeps the control plane and the admin port. To the composition root
 * the pool is one more way of serving (the same interface as the in-process data plane): tables
 * and endpoint patches go to every worker over IPC, /metrics merges the primary's control-plane
 * series with every worker's request series, /debug/backends every worker's endpoint counts, and
 * a worker that dies is replaced and given the live table. UDP services are served by one worker
 * only (and by its replacement): node:cluster would spread one socket's datagrams over every
 * worker, and a client's datagrams would reach flows in different processes.
 *
 * With `--reuse-port` on a Node that has SO_REUSEPORT, every worker binds its own sockets on the
 * TCP ports (nginx's reuseport: the kernel spreads connections, the primary accepts none). The
 * primary claims the HTTP and HTTPS ports first (a port in use fails start-up; port 0 becomes one
 * port, the same for every worker) and answers the workers' claims (proxy/listeners.ts). Without
 * it, node:cluster's primary holds each listening socket and hands connections out.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { RouteTable } from '../model/types.js';
import type { Serving } from '../proxy/dataplane.js';
import { createPortClaims, listenSockets, probeClaim } from '../proxy/listeners.js';
import { mergeViews } from '../proxy/stats.js';
import type { ServedCert } from '../tls/contexts.js';
import type { MetricFamily, Question, ToPrimary, ToWorker, Views } from './messages.js';

/** How long the primary waits for every worker's answer; a worker that does not answer is left out. */
const ASK_TIMEOUT_MS = 5000;

export interface WorkerPoolOptions {
  readonly config: Config;
  readonly log: Logger;
  /** The primary's own registry (control-plane series), or null with --enable-metrics=false. */
  readonly metrics: Metrics | null;
  /** One fallback certificate for every worker, so a client without SNI sees the same one on any connection. */
  readonly cert: ServedCert;
  /** The table with its live endpoints, for a worker that starts (or restarts) after the swaps. */
  readonly live: () => RouteTable;
}

export function createWorkerPool(o: WorkerPoolOptions): Serving {
  const { config, log } = o;
  cluster.setupPrimary({ serialization: 'advanced' });
  let stopping = false;
  const listening = new Map<number, { httpPort: number; httpsPort: number }>();
  let onListening: (() => void) | null = null;
  const pending = new Map<number, { left: number; parts: unknown[]; done: () => void }>();
  let nextId = 1;
  /** The id of the worker serving the UDP services. */
  let udpWorker: number | null = null;
  /** With SO_REUSEPORT: the ports' claims, and the HTTP and HTTPS ports the primary claimed (holder 0) for every worker. */
  const claims = listenSockets(config.reusePort) > 1 ? createPortClaims() : null;
  const PRIMARY = 0;
  const host = config.bindAddress;
  const ports: Promise<{ httpPort: number; httpsPort: number } | null> =
    claims === null
      ? // node:cluster's primary binds the ports when the first worker listens: a port in use fails
        // start-up here, not in every worker and its replacement in turn
        Promise.all([config.httpPort, config.httpsPort].map((port) => probeClaim(port, host))).then(() => null)
      : (async () => {
          const httpPort = await claims.claim(PRIMARY, config.httpPort, host);
          try {
            for (;;) {
              const httpsPort = await claims.claim(PRIMARY, config.httpsPort, host);
              // two port 0s: the second probe may get the port the first one let go
              if (httpsPort !== httpPort) return { httpPort, httpsPort };
            }
          } catch (err) {
            claims.release(PRIMARY, httpPort, host);
            throw err;
          }
        })();
  // a failed claim is the rejection of listen()
  ports.catch(() => undefined);
  let claimed: { httpPort: number; httpsPort: number } | null = null;

  const send = (w: Worker, msg: ToWorker): void => {
    if (w.isConnected()) w.send(msg);
  };
  const all = (): Worker[] => Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
  const broadcast = (msg: ToWorker): void => {
    for (const w of all()) send(w, msg);
  };

  const fork = (): void => {
    const w = cluster.fork();
    if (udpWorker === null) udpWorker = w.id;
    w.on('message', (msg: ToPrimary) => {
      if (msg.type === 'portico:hello') {
        // handlers are in place only now: messages sent earlier would be lost
        send(w, { type: 'portico:cert', cert: o.cert, udp: udpWorker === w.id, ports: claimed });
        send(w, { type: 'portico:table', table: o.live() });
      } else if (msg.type === 'portico:claim') {
        if (claims === null) return;
        claims.claim(w.id, msg.port, msg.host).then(
          (port) => send(w, { type: 'portico:claimed', id: msg.id, port }),
          (err: NodeJS.ErrnoException) => send(w, { type: 'portico:claimed', id: msg.id, error: { message: err.message, ...(err.code !== undefined ? { code: err.code } : {}) } }),
        );
      } else if (msg.type === 'portico:release') {
        claims?.release(w.id, msg.port, msg.host);
      } else if (msg.type === 'portico:listening') {
        listening.set(w.id, { httpPort: msg.httpPort, httpsPort: msg.httpsPort });
        onListening?.();
      } else {
        const req = pending.get(msg.id);
        if (req === undefined) return;
        req.parts.push(msg.type === 'portico:metrics' ? msg.metrics : msg.views);
        if (--req.left === 0) req.done();
      }
    });
  };
  cluster.on('exit', (w, code, signal) => {
    listening.delete(w.id);
    claims?.forget(w.id);
    if (udpWorker === w.id) udpWorker = null; // the replacement takes the UDP services
    if (stopping) return;
    log.error({ component: 'workers', worker: w.process.pid, code, signal }, 'worker exited; starting another');
    fork();
  });

  /** Asks every live worker; resolves with the answers in when all are in, or what came within ASK_TIMEOUT_MS. */
  function ask<T>(type: Question): Promise<T[]> {
    const alive = all().filter((w) => w.isConnected());
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

  // workers start once the ports are claimed (at once without SO_REUSEPORT)
  const forked = ports.then((p) => {
    claimed = p;
    for (let i = 0; i < config.workers; i++) fork();
  });
  const metrics = o.metrics;
  return {
    apply: (table) => broadcast({ type: 'portico:table', table }),
    patch: (patch) => broadcast({ type: 'portico:endpoints', patch }),
    listen: () =>
      forked.then(
        () =>
          new Promise((resolve) => {
            const check = (): void => {
              if (listening.size < config.workers) return;
              onListening = null;
              // every worker holds the ports now: a replacement joins them
              if (claimed !== null) for (const port of [claimed.httpPort, claimed.httpsPort]) claims?.release(PRIMARY, port, host);
              resolve([...listening.values()][0] as { httpPort: number; httpsPort: number });
            };
            onListening = check;
            check();
          }),
      ),
    async endpointViews() {
      const parts = await ask<Views>('portico:endpoint-views');
      return (endpoint) => mergeViews(parts.flatMap((views) => views[endpoint] ?? []));
    },
    metrics:
      metrics === null
        ? null
        : {
            contentType: metrics.registry.contentType,
            async text() {
              const own = await metrics.registry.getMetricsAsJSON();
              const parts = await ask<MetricFamily[]>('portico:metrics');
              return AggregatorRegistry.aggregate([own, ...parts] as never).metrics();
            },
          },
    startDraining: () => broadcast({ type: 'portico:drain' }),
    close() {
      stopping = true;
      const workers = all();
      const exited = Promise.all(workers.map((w) => new Promise((r) => (w.isDead() ? r(null) : w.once('exit', r)))));
      broadcast({ type: 'portico:close' });
      return exited.then(() => undefined);
    },
  };
}
