/**
 * A worker of `--workers N`: the data plane only, fed by the primary over IPC. It listens as soon
 * as it has the fallback certificate (answering 404 until the first table, as one process does
 * before its first sync), and exits when the primary says so.
 */
import cluster from 'node:cluster';
import type { Config } from '../config.js';
import { createLogger, flushLogs } from '../log.js';
import { metricsFor } from '../main.js';
import { observeConnects } from '../metrics/connect-timing.js';
import { createDataPlane, type DataPlane } from '../proxy/dataplane.js';
import type { Claim, Claimed } from '../proxy/listeners.js';
import { endpointKey } from '../proxy/pools.js';
import type { ToPrimary, ToWorker, Views } from './messages.js';

export function runWorker(config: Config): void {
  const log = createLogger(config.logLevel).child({ component: 'worker', worker: cluster.worker?.id });
  const metrics = metricsFor(config);
  if (metrics) observeConnects(metrics.connectDuration);
  let data: DataPlane | null = null;
  const reply = (msg: ToPrimary): void => {
    process.send?.(msg);
  };
  /** Ports this worker binds with SO_REUSEPORT are claimed from the primary (listeners.ts). */
  const claims = new Map<number, { resolve: (port: number) => void; reject: (err: Error) => void }>();
  let nextClaim = 1;
  const claim: Claim = (port, host) =>
    new Promise<number>((resolve, reject) => {
      const id = nextClaim++;
      claims.set(id, { resolve, reject });
      reply({ type: 'portico:claim', id, port, host });
    }).then((at): Claimed => ({ port: at, release: () => reply({ type: 'portico:release', port: at, host }) }));
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'portico:claimed') {
      const c = claims.get(msg.id);
      claims.delete(msg.id);
      if (c === undefined) return;
      if ('error' in msg) c.reject(Object.assign(new Error(msg.error.message), { code: msg.error.code }));
      else c.resolve(msg.port);
      return;
    }
    if (msg.type === 'portico:cert') {
      const dp = (data = createDataPlane(msg.ports === null ? config : { ...config, ...msg.ports }, log, metrics, msg.cert, { udp: msg.udp, claim }));
      dp.listen().then(
        (ports) => reply({ type: 'portico:listening', ...ports }),
        (err: Error) => {
          log.fatal({ err: err.message }, 'cannot listen');
          void flushLogs().then(() => process.exit(1));
        },
      );
      return;
    }
    const dp = data;
    if (dp === null) return;
    switch (msg.type) {
      case 'portico:table':
        dp.apply(msg.table);
        break;
      case 'portico:endpoints':
        dp.patch(msg.patch);
        break;
      case 'portico:metrics':
        void (metrics ? metrics.registry.getMetricsAsJSON() : Promise.resolve([])).then((m) => reply({ type: 'portico:metrics', id: msg.id, metrics: m }));
        break;
      case 'portico:endpoint-views': {
        const views: Views = {};
        for (const b of dp.table().backends.values()) {
          for (const e of dp.endpoints(b.id) ?? []) {
            const key = endpointKey(e.ip, e.port);
            views[key] = dp.stats.view(key);
          }
        }
        reply({ type: 'portico:endpoint-views', id: msg.id, views });
        break;
      }
      case 'portico:drain':
        dp.startDraining();
        break;
      case 'portico:close':
        // log lines still waiting for their batch go out first
        void dp.close().then(() => flushLogs()).then(() => process.exit(0));
        break;
    }
  });
  reply({ type: 'portico:hello' });
  // The primary coordinates shutdown; a signal sent to the whole process group must not cut it short.
  process.on('SIGTERM', () => undefined);
  process.on('SIGINT', () => undefined);
}
