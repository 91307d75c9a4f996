/**
 * The object store shared by both sources (API server watches, manifest files): one map per kind,
 * keyed by `namespace/name`. Sources write; the pipeline reads a snapshot.
 *
 * Objects are never modified once stored: a change is a new object. The translator's memos
 * (checked Ingresses, resolved Service ports) are keyed by object identity and rely on it.
 */
import { sliceService } from '../model/endpoints.js';
import { KINDS, keyOf, type EndpointSlice, type Kind, type KubeObject, type Snapshot } from '../model/k8s.js';

export interface Store {
  /** Replaces or adds an object; returns false for a kind Portico does not watch. */
  upsert(obj: KubeObject): boolean;
  remove(kind: Kind, key: string): boolean;
  /**
   * Replaces everything of one kind (a re-list, or a re-read of all files), or of one namespace of
   * it; with `owns`, only the stored objects it owns (one of several watches of a kind).
   */
  replace(kind: Kind, objects: readonly KubeObject[], namespace?: string, owns?: (o: KubeObject) => boolean): void;
  snapshot(): Snapshot;
  get(kind: Kind, key: string): KubeObject | undefined;
  /** The EndpointSlices of one Service (`namespace/name`), from an index kept on every write. */
  slicesOf(service: string): EndpointSlice[];
}

const isKind = (k: unknown): k is Kind => typeof k === 'string' && (KINDS as readonly string[]).includes(k);

/** Creates an empty store. */
export function createStore(): Store {
  const maps = new Map<Kind, Map<string, KubeObject>>(KINDS.map((k) => [k, new Map()]));
  const of = (kind: Kind): Map<string, KubeObject> => maps.get(kind) as Map<string, KubeObject>;
  /** EndpointSlice keys by the Service they belong to (a Service has a few: a list, not a Set, which costs far more). */
  const byService = new Map<string, string[]>();
  const unindex = (key: string, obj: KubeObject | undefined): void => {
    if (obj === undefined) return;
    const svc = sliceService(obj);
    const list = byService.get(svc);
    if (list === undefined) return;
    const i = list.indexOf(key);
    if (i !== -1) list.splice(i, 1);
    if (list.length === 0) byService.delete(svc);
  };
  const index = (key: string, obj: KubeObject): void => {
    const svc = sliceService(obj);
    if (svc === '') return;
    const list = byService.get(svc);
    if (list === undefined) byService.set(svc, [key]);
    else if (!list.includes(key)) list.push(key);
  };
  return {
    upsert(obj) {
      if (!isKind(obj.kind)) return false;
      const key = keyOf(obj);
      const m = of(obj.kind);
      if (obj.kind === 'EndpointSlice') {
        unindex(key, m.get(key));
        index(key, obj);
      }
      m.set(key, obj);
      return true;
    },
    remove(kind, key) {
      const m = of(kind);
      if (kind === 'EndpointSlice') unindex(key, m.get(key));
      return m.delete(key);
    },
    replace(kind, objects, namespace, owns) {
      const m = of(kind);
      if ((namespace === undefined || namespace === '') && owns === undefined) m.clear();
      else for (const [k, o] of [...m]) if ((namespace === undefined || namespace === '' || k.startsWith(`${namespace}/`)) && (owns === undefined || owns(o))) m.delete(k);
      for (const o of objects) m.set(keyOf(o), o);
      if (kind === 'EndpointSlice') {
        byService.clear();
        for (const [k, o] of m) index(k, o);
      }
    },
    get: (kind, key) => of(kind).get(key),
    slicesOf(service) {
      const keys = byService.get(service);
      if (keys === undefined) return [];
      const m = of('EndpointSlice');
      return keys.map((k) => m.get(k) as EndpointSlice);
    },
    snapshot() {
      const list = <T>(kind: Kind): T[] => [...of(kind).values()] as T[];
      return {
        ingresses: list('Ingress'),
        ingressClasses: list('IngressClass'),
        services: list('Service'),
        endpointSlices: list('EndpointSlice'),
        secrets: list('Secret'),
        configMaps: list('ConfigMap'),
        namespaces: list('Namespace'),
        gatewayClasses: list('GatewayClass'),
        gateways: list('Gateway'),
        httpRoutes: list('HTTPRoute'),
        grpcRoutes: list('GRPCRoute'),
        tlsRoutes: list('TLSRoute'),
        tcpRoutes: list('TCPRoute'),
        udpRoutes: list('UDPRoute'),
        referenceGrants: list('ReferenceGrant'),
        backendTlsPolicies: list('BackendTLSPolicy'),
      };
    },
  };
}

/** Groups loose objects by kind into a snapshot (tests and the manifests source). */
export function snapshotOf(objects: readonly KubeObject[]): Snapshot {
  const s = createStore();
  for (const o of objects) s.upsert(o);
  return s.snapshot();
}

export { isKind };
