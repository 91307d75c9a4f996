/**
 * One list+watch loop per (kind, namespace), owned here rather than by client-node's informer
 * (which stops on errors other than 410): paged LIST, WATCH from its resourceVersion with
 * bookmarks, re-LIST on 410 Gone, restart with capped exponential backoff and jitter on anything
 * else, and an idle watchdog for streams that stall silently. The store keeps the last good
 * objects while the API server is away.
 */
import { createSlimmer } from './slim.js';
import type { Logger } from '../log.js';
import type { Kind, KubeObject } from '../model/k8s.js';
import type { Store } from '../control/store.js';
import { ApiError, type KubeClient } from './client.js';

export interface Resource {
  readonly kind: Kind;
  readonly base: string;
  readonly plural: string;
  readonly namespaced: boolean;
  readonly fieldSelector?: string;
  /** Keeps only what Portico reads of each object (the store holds every one listed). */
  readonly trim?: (obj: KubeObject) => KubeObject;
  /** A CRD that may not be installed: a 404 means "not installed", looked for again every --crd-recheck-interval, never an error loop. */
  readonly optional?: boolean;
  /** Only needed to serve the Gateway API (not watched with --enable-gateway-api=false). */
  readonly gatewayApi?: boolean;
  /**
   * Other API versions to try, in order, when `base` answers 404 (a CRD that serves only an older
   * version): the objects then carry the version found as apiVersion, for status writes.
   */
  readonly fallbacks?: readonly string[];
  /** With a field selector, which stored objects this watch owns: a re-list replaces only those. */
  readonly owns?: (o: KubeObject) => boolean;
}

/**
 * ConfigMaps are watched for custom-headers and --add-headers / --proxy-set-headers: every one
 * is listed (no selector can name the referenced ones), but only its name and `data` are kept
 * (not binaryData, annotations or managedFields, often the bulk of it).
 */
export const trimConfigMap = (obj: KubeObject): KubeObject => {
  const m = obj.metadata;
  const data = (obj as { data?: unknown }).data;
  return { apiVersion: obj.apiVersion, kind: 'ConfigMap', metadata: { name: m?.name, namespace: m?.namespace, resourceVersion: m?.resourceVersion }, ...(data !== undefined ? { data } : {}) } as KubeObject;
};

export const RESOURCES: readonly Resource[] = [
  { kind: 'Ingress', base: '/apis/networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
  { kind: 'IngressClass', base: '/apis/networking.k8s.io/v1', plural: 'ingressclasses', namespaced: false },
  { kind: 'Service', base: '/api/v1', plural: 'services', namespaced: true },
  { kind: 'EndpointSlice', base: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  // every Secret but the two kinds that are many and large and never named by an Ingress: TLS
  // certificates are kubernetes.io/tls, client-certificate CAs (auth-tls-secret) and basic-auth
  // users usually Opaque
  { kind: 'Secret', base: '/api/v1', plural: 'secrets', namespaced: true, fieldSelector: 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token' },
  { kind: 'ConfigMap', base: '/api/v1', plural: 'configmaps', namespaced: true, trim: trimConfigMap },
  // Namespace labels select routes for Gateway listeners (allowedRoutes.namespaces.from: Selector)
  { kind: 'Namespace', base: '/api/v1', plural: 'namespaces', namespaced: false, gatewayApi: true },
  { kind: 'GatewayClass', base: '/apis/gateway.networking.k8s.io/v1', plural: 'gatewayclasses', namespaced: false, optional: true, gatewayApi: true },
  { kind: 'Gateway', base: '/apis/gateway.networking.k8s.io/v1', plural: 'gateways', namespaced: true, optional: true, gatewayApi: true },
  { kind: 'HTTPRoute', base: '/apis/gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true, optional: true, gatewayApi: true },
  { kind: 'GRPCRoute', base: '/apis/gateway.networking.k8s.io/v1', plural: 'grpcroutes', namespaced: true, optional: true, gatewayApi: true },
  // v1 from Gateway API v1.5 (TLSRoute) and v1.6 (TCPRoute, UDPRoute); v1alpha2 in the experimental channel before (and still served there)
  { kind: 'TLSRoute', base: '/apis/gateway.networking.k8s.io/v1', fallbacks: ['/apis/gateway.networking.k8s.io/v1alpha2'], plural: 'tlsroutes', namespaced: true, optional: true, gatewayApi: true },
  { kind: 'TCPRoute', base: '/apis/gateway.networking.k8s.io/v1', fallbacks: ['/apis/gateway.networking.k8s.io/v1alpha2'], plural: 'tcproutes', namespaced: true, optional: true, gatewayApi: true },
  { kind: 'UDPRoute', base: '/apis/gateway.networking.k8s.io/v1', fallbacks: ['/apis/gateway.networking.k8s.io/v1alpha2'], plural: 'udproutes', namespaced: true, optional: true, gatewayApi: true },
  // v1beta1: the storage version, served by every Gateway API release that has ReferenceGrant
  { kind: 'ReferenceGrant', base: '/apis/gateway.networking.k8s.io/v1beta1', plural: 'referencegrants', namespaced: true, optional: true, gatewayApi: true },
  // v1 only: the standard channel's CRD serves v1 (v1alpha3 is deprecated and no longer served)
  { kind: 'BackendTLSPolicy', base: '/apis/gateway.networking.k8s.io/v1', plural: 'backendtlspolicies', namespaced: true, optional: true, gatewayApi: true },
];


export const resourcePath = (r: Resource, namespace: string, base = r.base): string => (namespace ? `${base}/namespaces/${namespace}/${r.plural}` : `${base}/${r.plural}`);

/**
 * One ConfigMap by name (a TCP/UDP services ConfigMap in a namespace the ConfigMap watch does not
 * cover, with --watch-namespace): that object only, so RBAC can name it; a re-list replaces only it.
 */
export const namedConfigMap = (name: string): Resource => ({ kind: 'ConfigMap', base: '/api/v1', plural: 'configmaps', namespaced: true, fieldSelector: `metadata.name=${name}`, trim: trimConfigMap, owns: (o) => o.metadata?.name === name });

/** What changed, for the source's relevance filter. */
export type Change = { readonly kind: Kind; readonly type: 'ADDED' | 'MODIFIED' | 'DELETED'; readonly object: KubeObject } | { readonly kind: Kind; readonly type: 'RELIST' };

export interface ReflectorOptions {
  readonly client: KubeClient;
  readonly resource: Resource;
  /** '' = all namespaces (or a cluster-scoped kind). */
  readonly namespace: string;
  readonly store: Store;
  readonly onChange: (c: Change) => void;
  /** Called once, after the first LIST (or a 403, which will not heal by retrying soon). */
  readonly onSynced: () => void;
  readonly onRestart: () => void;
  readonly log: Logger;
  /** Backoff bounds, ms (tests shorten them). */
  readonly backoff?: { readonly base: number; readonly cap: number };
  /** How often an absent CRD is looked for again (tests shorten it). */
  readonly crdRecheckMs: number;
}

interface ListBody {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: KubeObject[];
}

const PAGE = 500;
const WATCH_SECONDS = 300;

export interface Reflector {
  start(): void;
  stop(): void;
}

export function createReflector(o: ReflectorOptions): Reflector {
  const { client, resource: r, namespace, store, log } = o;
  const base = o.backoff?.base ?? 250;
  const cap = o.backoff?.cap ?? 30_000;
  const bases = [r.base, ...(r.fallbacks ?? [])];
  /** The version in use: the first that did not answer 404. */
  let version = 0;
  let path = resourcePath(r, namespace);
  let rv = '';
  let stopped = false;
  let synced = false;
  let failures = 0;
  let stopWatch: (() => void) | null = null;
  let timer: NodeJS.Timeout | null = null;
  let watchdog: NodeJS.Timeout | null = null;

  /**
   * Items of a LIST carry no `kind`. The object is fresh from JSON.parse and not stored yet, so it
   * is set in place (a copy by spread gave every stored object a hidden class of its own), and
   * trimmed of what Portico never reads (slim.ts). A kind served under fallback versions
   * (TLSRoute, TCPRoute) also gets the version it was read as.
   */
  const slim = createSlimmer();
  const apiVersion = (): string => (bases[version] as string).replace(/^\/apis?\//, '');
  const withKind = (obj: KubeObject): KubeObject => {
    if (r.trim !== undefined) return r.trim(obj);
    if (obj.kind !== r.kind) (obj as { kind: string }).kind = r.kind;
    if (r.fallbacks !== undefined) {
      const v = apiVersion();
      if (obj.apiVersion !== v) (obj as { apiVersion: string }).apiVersion = v;
    }
    return slim(obj);
  };
  const markSynced = (): void => {
    if (synced) return;
    synced = true;
    o.onSynced();
  };

  /** Capped exponential backoff with full jitter in [delay/2, delay]. */
  function retry(fn: () => void, why: string): void {
    if (stopped) return;
    failures++;
    const delay = Math.min(cap, base * 2 ** Math.min(failures - 1, 16));
    const wait = Math.round(delay / 2 + Math.random() * (delay / 2));
    o.onRestart();
    log.warn({ kind: r.kind, namespace: namespace || undefined, retryInMs: wait, why }, 'watch interrupted; retrying');
    timer = setTimeout(fn, wait);
  }

  async function list(): Promise<void> {
    if (stopped) return;
    try {
      const items: KubeObject[] = [];
      let cont = '';
      let listRv = '';
      do {
        const q = new URLSearchParams({ limit: String(PAGE) });
        if (cont) q.set('continue', cont);
        if (r.fieldSelector) q.set('fieldSelector', r.fieldSelector);
        const body = await client.request<ListBody>('GET', `${path}?${q}`);
        for (const it of body?.items ?? []) items.push(withKind(it));
        cont = body?.metadata?.continue ?? '';
        listRv = body?.metadata?.resourceVersion ?? listRv;
      } while (cont !== '' && !stopped);
      if (stopped) return;
      store.replace(r.kind, items, r.namespaced ? namespace : undefined, r.owns);
      rv = listRv;
      log.info({ kind: r.kind, namespace: namespace || undefined, ...(r.fallbacks !== undefined ? { apiVersion: apiVersion() } : {}), ...(r.fieldSelector !== undefined ? { fieldSelector: r.fieldSelector } : {}), objects: items.length, resourceVersion: rv }, 'listed');
      o.onChange({ kind: r.kind, type: 'RELIST' });
      markSynced();
      failures = 0;
      void watch();
    } catch (err) {
      if (r.optional === true && err instanceof ApiError && err.status === 404) {
        if (version + 1 < bases.length) {
          // an older version may be the one served
          version++;
          path = resourcePath(r, namespace, bases[version]);
          void list();
          return;
        }
        version = 0;
        path = resourcePath(r, namespace);
        // the CRD is not installed: nothing to serve, nothing wrong; look again later
        if (!synced) log.info({ kind: r.kind, recheckInMs: o.crdRecheckMs }, `${r.plural} are not installed (no CRD); looking again every ${o.crdRecheckMs / 1000} s (--crd-recheck-interval)`);
        store.replace(r.kind, [], r.namespaced ? namespace : undefined, r.owns);
        markSynced();
        timer = setTimeout(() => void list(), o.crdRecheckMs);
        return;
      }
      if (err instanceof ApiError && (err.status === 403 || err.status === 401)) {
        log.error({ kind: r.kind, namespace: namespace || undefined, status: err.status, err: err.message }, `cannot list ${r.plural}: ${err.status === 403 ? 'forbidden by RBAC' : 'unauthorized'}; serving without them and retrying`);
        markSynced(); // a missing permission must not keep the controller unready forever
        failures = Math.max(failures, 6); // and need not be hammered
      }
      retry(() => void list(), (err as Error).message);
    }
  }

  function armWatchdog(): void {
    if (watchdog) clearTimeout(watchdog);
    // The server ends a watch after timeoutSeconds; silence well past that means a stalled stream.
    watchdog = setTimeout(() => {
      log.warn({ kind: r.kind }, 'watch silent for too long; restarting it');
      stopWatch?.();
    }, (WATCH_SECONDS + 30) * 1000);
  }

  async function watch(): Promise<void> {
    if (stopped) return;
    let gone = false;
    let ended = false;
    const started = Date.now();
    const done = (err: unknown): void => {
      if (ended) return;
      ended = true;
      if (watchdog) clearTimeout(watchdog);
      stopWatch = null;
      if (stopped) return;
      const status = (err as { statusCode?: number } | null)?.statusCode;
      if (gone || status === 410) {
        log.info({ kind: r.kind, resourceVersion: rv }, 'resourceVersion expired (410 Gone); re-listing');
        failures = 0;
        void list();
        return;
      }
      if (err === null || err === undefined) {
        // A normal end (timeoutSeconds): resume from the last resourceVersion right away.
        if (Date.now() - started > 1000) {
          failures = 0;
          void watch();
          return;
        }
      }
      retry(() => void watch(), err ? String((err as Error).message ?? err) : 'watch closed immediately');
    };
    try {
      armWatchdog();
      stopWatch = await client.watch(
        path,
        { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS, fieldSelector: r.fieldSelector },
        (type, raw) => {
          armWatchdog();
          const obj = raw as KubeObject & { code?: number };
          if (type === 'BOOKMARK') {
            rv = obj.metadata?.resourceVersion ?? rv;
            return;
          }
          if (type === 'ERROR') {
            if (obj.code === 410) gone = true;
            stopWatch?.();
            done(gone ? null : new Error(`watch error: ${JSON.stringify(obj).slice(0, 200)}`));
            return;
          }
          if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED') return;
          const o2 = withKind(obj);
          rv = o2.metadata?.resourceVersion ?? rv;
          if (type === 'DELETED') store.remove(r.kind, `${o2.metadata?.namespace ?? ''}/${o2.metadata?.name ?? ''}`);
          else store.upsert(o2);
          o.onChange({ kind: r.kind, type, object: o2 });
        },
        done,
      );
      if (stopped) stopWatch?.();
    } catch (err) {
      done(err);
    }
  }

  return {
    start: () => void list(),
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (watchdog) clearTimeout(watchdog);
      stopWatch?.();
    },
  };
}
