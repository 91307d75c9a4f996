/**
 * The object store shared by both sources (API server watches, manifest files): one map per kind,
 * keyed by `namespace/name`. Sources write; the pipeline reads a snapshot.
 */
import { KINDS, keyOf, type Kind, type KubeObject, type Snapshot } from './model/k8s.js';

export interface Store {
  /** Replaces or adds an object; returns false for a kind Portico does not watch. */
  upsert(obj: KubeObject): boolean;
  remove(kind: Kind, key: string): boolean;
  /** Replaces everything of one kind (a re-list, or a re-read of all files), or of one namespace of it. */
  replace(kind: Kind, objects: readonly KubeObject[], namespace?: string): void;
  snapshot(): Snapshot;
}

const isKind = (k: unknown): k is Kind => typeof k === 'string' && (KINDS as readonly string[]).includes(k);

/** Creates an empty store. */
export function createStore(): Store {
  const maps = new Map<Kind, Map<string, KubeObject>>(KINDS.map((k) => [k, new Map()]));
  const of = (kind: Kind): Map<string, KubeObject> => maps.get(kind) as Map<string, KubeObject>;
  return {
    upsert(obj) {
      if (!isKind(obj.kind)) return false;
      of(obj.kind).set(keyOf(obj), obj);
      return true;
    },
    remove(kind, key) {
      return of(kind).delete(key);
    },
    replace(kind, objects, namespace) {
      const m = of(kind);
      if (namespace === undefined || namespace === '') m.clear();
      else for (const k of [...m.keys()]) if (k.startsWith(`${namespace}/`)) m.delete(k);
      for (const o of objects) m.set(keyOf(o), o);
    },
    snapshot() {
      const list = <T>(kind: Kind): T[] => [...of(kind).values()] as T[];
      return {
        ingresses: list('Ingress'),
        ingressClasses: list('IngressClass'),
        services: list('Service'),
        endpointSlices: list('EndpointSlice'),
        secrets: list('Secret'),
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
