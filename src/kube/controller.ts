/**
 * Kubernetes mode around the shared pipeline: the watch source, leader election, and the
 * leader-only writers (Ingress status, Events). Every replica serves traffic.
 */
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Pipeline } from '../control/pipeline.js';
import type { Store } from '../control/store.js';
import { createKubeClient } from './client.js';
import { connect } from './config.js';
import { createEventRecorder } from './events.js';
import { createElector } from './leader.js';
import { createKubeSource } from './source.js';
import { createGatewayStatusWriter } from './gateway-status.js';
import { createStatusWriter } from './status.js';

/** How often the leader re-checks status even without changes (the published Service may move). */
const RESYNC_MS = 30_000;

export interface KubeController {
  /** Resolves when every kind has been listed once. */
  start(): Promise<void>;
  /** Called after every rebuild: the leader brings status and Events up to date. */
  rebuilt(): void;
  close(): Promise<void>;
}

export async function createKubeController(o: { config: Config; store: Store; pipeline: Pipeline; log: Logger; metrics: Metrics | null }): Promise<KubeController> {
  const { config, store, pipeline, log, metrics } = o;
  const conn = await connect(config);
  const client = createKubeClient(conn.creds);
  const identity = config.podName || config.env.HOSTNAME || hostname();
  // children get their own component (pino would repeat the key, not replace it)
  const own = log.child({ component: 'kube' });
  own.info({ server: client.server, from: conn.source, namespace: conn.namespace, identity, watchNamespaces: config.watchNamespaces.length ? config.watchNamespaces : 'all' }, 'kubernetes mode');

  const source = createKubeSource({
    client,
    store,
    namespaces: config.watchNamespaces,
    onChange: pipeline.schedule,
    references: pipeline.references,
    onRestart: (kind) => metrics?.watchRestart(kind),
    log: log.child({ component: 'watch' }),
    gatewayApi: config.enableGatewayApi,
    crdRecheckMs: config.crdRecheckInterval,
    configMaps: [config.tcpServicesConfigmap, config.udpServicesConfigmap].filter((c) => c !== undefined),
  });
  const status = createStatusWriter({
    client,
    log: log.child({ component: 'status' }),
    classes: { controllerClass: config.controllerClass, ingressClass: config.ingressClass, watchWithoutClass: config.watchWithoutClass },
    publishStatusAddress: config.publishStatusAddress,
    publishService: config.publishService,
  });
  const gatewayStatus = createGatewayStatusWriter({ client, log: log.child({ component: 'gateway-status' }) });
  const events = createEventRecorder({ client, log: log.child({ component: 'events' }), controller: config.controllerClass, instance: identity });

  let syncing = false;
  let again = false;
  let resync: NodeJS.Timeout | null = null;
  async function leaderWork(): Promise<void> {
    if (!elector.isLeader()) return;
    if (syncing) {
      again = true;
      return;
    }
    syncing = true;
    try {
      const snap = store.snapshot();
      const uids = new Map(snap.ingresses.map((i) => [`${i.metadata?.namespace}/${i.metadata?.name}`, i.metadata?.uid]));
      await events.record(pipeline.diagnostics(), (ns, name) => uids.get(`${ns}/${name}`));
      if (config.updateStatus) {
        await status.sync(snap);
        if (config.enableGatewayApi) await gatewayStatus.sync(pipeline.gateway(), snap, await status.addresses());
      }
    } catch (err) {
      own.warn({ err: (err as Error).message }, 'leader sync failed; will retry');
    } finally {
      syncing = false;
      if (again) {
        again = false;
        void leaderWork();
      }
    }
  }

  const elector = createElector({
    client,
    namespace: conn.namespace,
    name: config.electionId,
    identity,
    log: log.child({ component: 'leader' }),
    onChange: (leader) => {
      metrics?.leader(leader);
      if (leader) void leaderWork();
    },
  });

  return {
    async start() {
      await source.start();
      elector.start();
      resync = setInterval(() => void leaderWork(), RESYNC_MS);
      resync.unref();
    },
    rebuilt: () => void leaderWork(),
    async close() {
      if (resync) clearInterval(resync);
      source.close();
      await elector.stop();
    },
  };
}
