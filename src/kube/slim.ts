/**
 * What Portico keeps of an object the API server sends. At 10,000 Ingresses most of the heap is
 * the objects themselves (docs/performance.md, "Memory"), so each one is trimmed as it arrives:
 * fresh from JSON.parse and not stored yet (objects are never modified once stored).
 *
 * - `metadata.managedFields` goes: server-side-apply bookkeeping, in a real cluster often larger
 *   than the rest of the object, which no part of Portico reads. A status update without it keeps
 *   the server's (the API server takes them from the live object when a request carries none).
 * - EndpointSlices and Services keep of their metadata what identifies them (name, namespace,
 *   labels, resourceVersion); EndpointSlice endpoints keep what resolving a Service reads, their
 *   addresses and conditions (no targetRef, nodeName, zone, hints); equal conditions are one
 *   shared object, and an endpoint of one address keeps it without an array ({@link OneAddressEndpoint}).
 * - Ingress backend ports given by number are one shared object per number, and paths of one rule
 *   naming the same Service port share one backend object.
 *
 * Annotations stay whole: Ingress status is written back from the stored object.
 */
import type { KubeObject } from '../model/k8s.js';

type Json = Record<string, unknown>;

const isRecord = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy without one key, built key by key (deleting a property would turn the object into a slow dictionary). */
function without(o: Json, key: string): Json {
  const out: Json = {};
  for (const k of Object.keys(o)) if (k !== key) out[k] = o[k];
  return out;
}

/**
 * The metadata an EndpointSlice or a Service is read by: its name, namespace, labels (a slice's
 * Service) and resourceVersion (the watch's). Nothing writes them back and nothing reads their
 * uid, timestamps, annotations or owner references (a slice's are most of its metadata).
 */
function identity(m: Json): Json {
  const out: Json = { name: m.name, namespace: m.namespace };
  if (m.labels !== undefined) out.labels = m.labels;
  if (m.resourceVersion !== undefined) out.resourceVersion = m.resourceVersion;
  return out;
}

/**
 * A slice endpoint of exactly one address (nearly every one: Kubernetes lists one address per
 * endpoint) kept without its one-element array: `addresses` reads a fresh array from the address
 * (56 bytes less per endpoint: 2.7 MiB at 50,000 endpoints), and its JSON is the plain endpoint's,
 * `{ addresses: [ip], conditions }`. Stored objects are never modified, so no reader needs the array's identity.
 */
export class OneAddressEndpoint {
  constructor(
    readonly address: string,
    readonly conditions: unknown,
  ) {}

  get addresses(): readonly string[] {
    return [this.address];
  }

  toJSON(): Json {
    return this.conditions === undefined ? { addresses: [this.address] } : { addresses: [this.address], conditions: this.conditions };
  }
}

/** A slimmer for one stream of objects (its shared values are its own). */
export function createSlimmer(): (obj: KubeObject) => KubeObject {
  const conditions = new Map<string, Json>();
  const ports = new Map<number, Json>();

  const condition = (c: unknown): unknown => {
    if (!isRecord(c)) return c;
    const keys = Object.keys(c);
    if (keys.length > 3 || !keys.every((k) => (k === 'ready' || k === 'serving' || k === 'terminating') && (typeof c[k] === 'boolean' || c[k] === null))) return c;
    const key = `${keys.join(',')}=${keys.map((k) => String(c[k])).join(',')}`;
    const known = conditions.get(key);
    if (known !== undefined) return known;
    conditions.set(key, c);
    return c;
  };

  const endpoint = (e: unknown): unknown => {
    if (!isRecord(e)) return e;
    const keep = Object.keys(e).every((k) => k === 'addresses' || k === 'conditions');
    const c = condition(e.conditions);
    if (Array.isArray(e.addresses) && e.addresses.length === 1 && typeof e.addresses[0] === 'string' && (c === undefined || isRecord(c))) return new OneAddressEndpoint(e.addresses[0], c);
    if (keep) {
      if (c !== e.conditions) e.conditions = c;
      return e;
    }
    return 'conditions' in e ? { addresses: e.addresses, conditions: c } : { addresses: e.addresses };
  };

  const port = (p: unknown): unknown => {
    if (!isRecord(p) || typeof p.number !== 'number' || !Number.isInteger(p.number) || Object.keys(p).length !== 1) return p;
    const known = ports.get(p.number);
    if (known !== undefined) return known;
    ports.set(p.number, p);
    return p;
  };
  const backend = (b: unknown): void => {
    const svc = isRecord(b) ? b.service : undefined;
    if (isRecord(svc) && 'port' in svc) svc.port = port(svc.port);
  };
  /** The same backend written on several paths of one Ingress (the usual case): one object. */
  const sameBackends = (paths: unknown[]): void => {
    const seen = new Map<string, unknown>();
    for (const p of paths) {
      if (!isRecord(p) || !isRecord(p.backend)) continue;
      const b = p.backend;
      const svc = b.service;
      // only the plain shape { service: { name, port: { number } } }, which is all the key says
      if (Object.keys(b).length !== 1 || !isRecord(svc) || Object.keys(svc).length !== 2 || typeof svc.name !== 'string' || !isRecord(svc.port) || typeof svc.port.number !== 'number' || Object.keys(svc.port).length !== 1) continue;
      const key = `${svc.name}\n${svc.port.number}`;
      const known = seen.get(key);
      if (known === undefined) seen.set(key, b);
      else p.backend = known;
    }
  };

  return (obj) => {
    const o = obj as unknown as Json;
    if ((obj.kind === 'EndpointSlice' || obj.kind === 'Service') && isRecord(o.metadata)) o.metadata = identity(o.metadata);
    else if (isRecord(o.metadata) && 'managedFields' in o.metadata) o.metadata = without(o.metadata, 'managedFields');
    if (obj.kind === 'EndpointSlice' && Array.isArray(o.endpoints)) {
      const eps = o.endpoints as unknown[];
      for (let i = 0; i < eps.length; i++) eps[i] = endpoint(eps[i]);
    }
    else if (obj.kind === 'Ingress' && isRecord(o.spec)) {
      backend(o.spec.defaultBackend);
      if (Array.isArray(o.spec.rules)) {
        for (const r of o.spec.rules) {
          if (!isRecord(r) || !isRecord(r.http) || !Array.isArray(r.http.paths)) continue;
          for (const p of r.http.paths) if (isRecord(p)) backend(p.backend);
          sameBackends(r.http.paths as unknown[]);
        }
      }
    }
    return obj;
  };
}
