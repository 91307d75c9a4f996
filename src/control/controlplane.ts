/**
 * The control plane: a source (manifest files, or the Kubernetes API) into the store, and the
 * pipeline that turns the store into tables. It hands each new table to `apply` and knows
 * nothing of listeners.
 */
import type { Config } from '../config.js';
import { ConfigError } from '../config.js';
import type { KubeController } from '../kube/controller.js';
import type { Logger } from '../log.js';
import { createExternalNameResolver, type ExternalNameResolver } from './externalnames.js';
import { createManifestSource, type ManifestSource } from '../manifests/source.js';
import type { Metrics } from '../metrics/metrics.js';
import type { ExternalNameOptions } from '../model/endpoints.js';
import type { InspectSecret } from '../model/certs.js';
import type { TranslateOptions } from '../model/translate.js';
import type { RouteTable } from '../model/types.js';
import { createPipeline, type EndpointPatch, type Pipeline } from './pipeline.js';
import { createStore } from './store.js';
import { createInspector, inspectClientCaSecret, inspectUpstreamSecret } from '../tls/inspect.js';

/**
 * Certificates expire (or become valid) without any object changing: this often, the table is
 * rebuilt if a certificate judged at the last rebuild has crossed its notBefore or notAfter since.
 * A check of the wall clock rather than a timer set for the moment itself, so a clock that jumps
 * (a VM resumed, NTP) is noticed within this too.
 */
const RECHECK_MS = 60_000;
/** At start-up, how long ExternalName lookups may hold back readiness. */
const STARTUP_LOOKUP_MS = 2000;

export interface ControlPlane {
  readonly pipeline: Pipeline;
  /** True for sources that must be read before listening (files: a bad path fails at once). */
  readonly syncBeforeListen: boolean;
  /** Reads or lists everything once (and keeps following changes). */
  start(): Promise<void>;
  close(): Promise<void>;
}

export interface ControlPlaneOptions {
  readonly config: Config;
  readonly log: Logger;
  readonly metrics: Metrics | null;
  /** Receives each new table. */
  readonly swap: (t: RouteTable) => void;
  /** Replaces endpoints of the current table's backends (the EndpointSlice fast path). */
  readonly patch: (p: EndpointPatch) => void;
  /** How often certificates' validity is looked at (tests; default {@link RECHECK_MS}). */
  readonly recheckMs?: number;
}

/**
 * The translator's options from the flags: the one place they are paired (the control plane and
 * `--dry-run` both translate with them). `names` resolves ExternalName Services (null: refused).
 */
export function translateOptionsFor(config: Config, inspect: InspectSecret, names: ExternalNameOptions | null): Omit<TranslateOptions, 'now'> {
  return {
    controllerClass: config.controllerClass,
    ingressClass: config.ingressClass,
    watchWithoutClass: config.watchWithoutClass,
    defaultBackendService: config.defaultBackendService,
    defaultSslCertificate: config.defaultSslCertificate,
    addHeaders: config.addHeaders,
    proxySetHeaders: config.proxySetHeaders,
    sslRedirect: config.sslRedirect,
    unsupportedAnnotations: config.unsupportedAnnotations,
    sslPassthrough: config.enableSslPassthrough,
    l4: { tcpServices: config.tcpServicesConfigmap, udpServices: config.udpServicesConfigmap, reservedPorts: [config.httpPort, config.httpsPort, config.adminPort].filter((p) => p !== 0) },
    ...(config.enableGatewayApi
      ? { gateway: { controllerName: config.gatewayControllerName, reservedPorts: [config.httpPort, config.httpsPort, config.adminPort].filter((p) => p !== 0 && p !== 80 && p !== 443) } }
      : {}),
    sourceRanges: config.sourceRanges,
    inspect,
    inspectUpstream: inspectUpstreamSecret,
    inspectClientCa: inspectClientCaSecret,
    ...(names !== null ? { externalNames: names } : {}),
  };
}

export async function createControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const { config, log, metrics } = o;
  const store = createStore();
  const inspect = createInspector();
  /** The time the last rebuild judged certificates at. */
  let judgedAt = 0;
  // a resolution that changes what a name means rebuilds (rare: first resolution, DNS changes)
  const names: ExternalNameResolver | null = config.allowExternalNameServices
    ? createExternalNameResolver({ denied: config.externalNameDeniedCidrs, log: log.child({ component: 'external-names' }), onChange: () => pipeline.schedule() })
    : null;
  const base = translateOptionsFor(config, inspect, names);
  let kube: KubeController | null = null;
  let files: ManifestSource | null = null;
  const pipeline = createPipeline({
    store,
    log: log.child({ component: 'pipeline' }),
    metrics,
    translateOptions: () => {
      inspect.sweep();
      judgedAt = Date.now();
      return { ...base, now: judgedAt };
    },
    swap: o.swap,
    patch: o.patch,
    onRebuilt: () => {
      names?.want(pipeline.references().externalNames);
      kube?.rebuilt();
    },
    sourceStatus: () => files?.status() ?? { diagnostics: [] },
  });

  let source: { start(): Promise<void>; close(): void | Promise<void> };
  if (config.manifests !== '') {
    const m = (files = createManifestSource({ path: config.manifests, store, onChange: pipeline.schedule, log: log.child({ component: 'manifests' }) }));
    source = {
      start: () =>
        m.start().catch((err: NodeJS.ErrnoException) => {
          throw new ConfigError(`--manifests ${config.manifests}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
        }),
      close: m.close,
    };
  } else {
    // Loaded only in Kubernetes mode (and @kubernetes/client-node only for credential plugins).
    const { createKubeController } = await import('../kube/controller.js');
    kube = await createKubeController({ config, store, pipeline, log, metrics });
    source = kube;
  }
  // Not a rebuild every minute: at 10,000 Ingresses each one built the whole table beside the live
  // one to find it unchanged (0.2-0.4 s of CPU, and 20 MiB more RSS at a time under load on Node 24)
  const recheck = setInterval(() => {
    if (Date.now() >= inspect.nextChange(judgedAt)) pipeline.schedule();
  }, o.recheckMs ?? RECHECK_MS);
  recheck.unref();

  return {
    pipeline,
    syncBeforeListen: config.manifests !== '',
    async start() {
      await source.start();
      pipeline.rebuildNow();
      // ExternalName backends are served from their first resolution: wait for it (bounded) before ready
      if (names !== null && (await names.settle(STARTUP_LOOKUP_MS))) pipeline.rebuildNow();
    },
    async close() {
      clearInterval(recheck);
      names?.close();
      await source.close();
    },
  };
}
