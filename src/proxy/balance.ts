/**
 * Endpoint choice. The Balancer holds what must outlive table swaps, keyed by backend id:
 * round-robin counters, ewma scores, and the consistent-hash rings and persistent-cookie maps
 * built from a backend's endpoints (rebuilt only when its endpoints change). A route's Balancing
 * is compiled once per table into a Picker (createPicker); a route with none, under
 * `--load-balance=round_robin`, has no picker and takes the round-robin path directly.
 *
 * Passive health applies to every strategy: ejected endpoints are skipped unless every endpoint
 * is ejected (then all are used, since a guess beats a certain 503), and so is the endpoint that
 * just failed, where the strategy allows (a sticky session keeps it unless change-on-failure, as
 * in ingress-nginx).
 */
import { parseHashBy } from '../model/nginx-vars.js';
import type { Affinity, Backend, Balancing, Endpoint } from '../model/types.js';
import { sameEndpoints } from '../model/print.js';
import { buildRing, nodeId, type Ring } from './chash.js';
import { createEwma, type Ewma } from './ewma.js';
import { compileVars, expander, type VarRequest } from './nginx-vars.js';
import { keyOf } from './pools.js';
import { backendKey, cookieWriter, persistentKey, randomKey, splitValue } from './sticky.js';

/** What balancing reads of a request: what nginx variables read (upstream-hash-by). */
export type BalanceRequest = VarRequest;

/** What a sticky picker needs of a request besides what balancing reads. */
export interface StickyRequest extends BalanceRequest {
  /** The value of a request cookie (the first of that name). */
  cookie(name: string): string | undefined;
  /** Sets the affinity cookie on the response (a later call replaces it: a retry re-picks). */
  setAffinityCookie(setCookie: string): void;
}

/** A route's compiled way of picking an endpoint of one backend. */
export interface Picker {
  /** An endpoint for this request; `avoid` is the endpoint that just failed (a retry). */
  pick(ex: StickyRequest, avoid: Endpoint | undefined): Endpoint | undefined;
  /** ewma: one response time, ms. */
  observe?(ep: Endpoint, ms: number): void;
  /** Sticky: the request carries this backend's affinity cookie (decides for or against a canary first). */
  affinitized?(ex: StickyRequest): boolean;
}

/** A ring and the endpoint list it was built from (node i = eps[i]). */
interface Built<T> {
  eps: readonly Endpoint[];
  value: T;
}

export interface Balancer {
  /** The next healthy endpoint of a backend by round-robin (its id, its live endpoints), skipping `avoid` when another one exists. */
  pick(id: string, eps: readonly Endpoint[], avoid?: Endpoint): Endpoint | undefined;
  /** True while an endpoint is ejected by passive health. */
  ejected(ep: Endpoint): boolean;
  /** A backend's ewma state. */
  ewma(id: string): Ewma;
  /** Something built from a backend's endpoints, rebuilt only when they change (`kind` tells apart what is built). */
  built<T>(id: string, kind: string, eps: readonly Endpoint[], build: (eps: readonly Endpoint[]) => T): Built<T>;
  /** Forgets the state of backends no table has any more. */
  retain(ids: ReadonlySet<string>): void;
}

export function createBalancer(ejected: (endpoint: string) => boolean = () => false): Balancer {
  const next = new Map<string, number>();
  const ewmas = new Map<string, Ewma>();
  const cache = new Map<string, Built<unknown>>();
  return {
    pick(id, eps, avoid) {
      const n = eps.length;
      if (n === 0) return undefined;
      let start = next.get(id) ?? 0;
      if (start >= n) start = 0;
      let fallback: number = -1;
      for (let k = 0; k < n; k++) {
        const i = start + k < n ? start + k : start + k - n;
        const ep = eps[i] as Endpoint;
        const isAvoided = avoid !== undefined && n > 1 && ep.ip === avoid.ip && ep.port === avoid.port;
        if (isAvoided || ejected(keyOf(ep))) {
          if (fallback < 0 && !isAvoided) fallback = i;
          continue;
        }
        next.set(id, i + 1);
        return ep;
      }
      // Everything is ejected or avoided: fall back to plain round-robin over all endpoints.
      const i = fallback >= 0 ? fallback : start;
      next.set(id, i + 1);
      return eps[i] as Endpoint;
    },
    ejected: (ep) => ejected(keyOf(ep)),
    ewma(id) {
      let e = ewmas.get(id);
      if (e === undefined) ewmas.set(id, (e = createEwma()));
      return e;
    },
    built<T>(id: string, kind: string, eps: readonly Endpoint[], build: (eps: readonly Endpoint[]) => T): Built<T> {
      const key = `${kind} ${id}`;
      const b = cache.get(key) as Built<T> | undefined;
      if (b !== undefined && (b.eps === eps || sameEndpoints(b.eps, eps))) {
        b.eps = eps; // the same endpoints in a new list (a table swap): keep what was built
        return b;
      }
      const fresh = { eps, value: build(eps) };
      cache.set(key, fresh);
      return fresh;
    },
    retain(ids) {
      for (const id of next.keys()) if (!ids.has(id)) next.delete(id);
      for (const id of ewmas.keys()) if (!ids.has(id)) ewmas.delete(id);
      for (const key of cache.keys()) if (!ids.has(key.slice(key.indexOf(' ') + 1))) cache.delete(key);
    },
  };
}

const same = (a: Endpoint, b: Endpoint | undefined): boolean => b !== undefined && a.ip === b.ip && a.port === b.port;

const ringOf = (eps: readonly Endpoint[]): Ring => buildRing(eps.map((e) => nodeId(e.ip, e.port)));

/** From ring position `p`, the first node that `usable` accepts (whole turn at most); undefined when none. */
function walk(ring: Ring, p: number, usable: (node: number) => boolean): number | undefined {
  let pos = p;
  let seen = 0;
  const limit = ring.size * 160 + 1;
  while (seen++ < limit) {
    const node = ring.node(pos);
    if (usable(node)) return node;
    pos = ring.next(pos);
  }
  return undefined;
}

/** What compiling a picker needs besides the route's Balancing. */
export interface PickerContext {
  readonly balancer: Balancer;
  /** `--load-balance`. */
  readonly algorithm: 'round_robin' | 'ewma';
  readonly backend: Backend;
  readonly slot: { readonly endpoints: readonly Endpoint[] };
  /** The route's path as written (the cookie's default Path). */
  readonly routePath: string;
}

/** Compiles a route's balancing for one of its backends; null = plain round-robin. */
export function createPicker(b: Balancing | undefined, ctx: PickerContext): Picker | null {
  if (b?.affinity !== undefined) return stickyPicker(b.affinity, ctx);
  if (b?.hashBy !== undefined) {
    const parsed = parseHashBy(b.hashBy);
    if ('parts' in parsed) {
      const key = expander(compileVars(parsed.parts));
      return b.hashSubsetSize !== undefined ? subsetPicker(key, b.hashSubsetSize, ctx) : hashPicker(key, ctx);
    }
  }
  if ((b?.algorithm ?? ctx.algorithm) === 'ewma') return ewmaPicker(ctx);
  return null;
}

function ewmaPicker({ balancer, backend, slot }: PickerContext): Picker {
  const e = balancer.ewma(backend.id);
  return {
    pick(_ex, avoid) {
      const eps = slot.endpoints;
      if (eps.length <= 1) return eps[0];
      return e.pick(eps, (ep) => !same(ep, avoid) && !balancer.ejected(ep));
    },
    observe: (ep, ms) => e.observe(ep, ms),
  };
}

function hashPicker(key: (ex: BalanceRequest) => string, { balancer, backend, slot }: PickerContext): Picker {
  return {
    pick(ex, avoid) {
      const eps = slot.endpoints;
      if (eps.length <= 1) return eps[0];
      const built = balancer.built(backend.id, 'ring', eps, ringOf);
      const ring = built.value;
      const list = built.eps;
      const p = ring.position(key(ex));
      const node = walk(ring, p, (i) => !same(list[i] as Endpoint, avoid) && !balancer.ejected(list[i] as Endpoint));
      return list[node ?? ring.node(p)];
    },
  };
}

/** ingress-nginx's chashsubset: endpoints in order, in sets of `size` (the last padded from the start); the key picks a set on the ring, then a random member. */
function subsetsOf(eps: readonly Endpoint[], size: number): { ring: Ring; sets: Endpoint[][] } {
  const count = Math.ceil(eps.length / size);
  const padded = [...eps];
  for (let j = 0; padded.length < count * size; j++) padded.push(eps[j] as Endpoint);
  const sets = Array.from({ length: count }, (_, i) => padded.slice(i * size, (i + 1) * size));
  return { ring: buildRing(sets.map((_, i) => `set${i + 1}`)), sets };
}

function subsetPicker(key: (ex: BalanceRequest) => string, size: number, { balancer, backend, slot }: PickerContext): Picker {
  return {
    pick(ex, avoid) {
      const eps = slot.endpoints;
      if (eps.length <= 1) return eps[0];
      const { ring, sets } = balancer.built(backend.id, `subset${size}`, eps, (e) => subsetsOf(e, size)).value;
      const usable = (e: Endpoint): boolean => !same(e, avoid) && !balancer.ejected(e);
      const p = ring.position(key(ex));
      const node = walk(ring, p, (i) => (sets[i] as Endpoint[]).some(usable)) ?? ring.node(p);
      const set = sets[node] as Endpoint[];
      const ok = set.filter(usable);
      const from = ok.length > 0 ? ok : set;
      return from[Math.floor(Math.random() * from.length)];
    },
  };
}

/** Up to this many fresh session keys are tried to land on a usable endpoint (ingress-nginx's MAX_UPSTREAM_CHECKS_COUNT). */
const NEW_SESSION_TRIES = 20;

function stickyPicker(a: Affinity, { balancer, backend, slot, routePath }: PickerContext): Picker {
  const myKey = backendKey(backend);
  const write = cookieWriter(a, routePath);
  const persistent = a.mode === 'persistent';
  /** persistent: session key -> index in the list it was built from. */
  const mapOf = (eps: readonly Endpoint[]): Map<string, number> => new Map(eps.map((e, i) => [persistentKey(backend, nodeId(e.ip, e.port)), i]));
  /** Sets the cookie for a new session and returns its endpoint. */
  const fresh = (ex: StickyRequest, avoid: Endpoint | undefined): Endpoint | undefined => {
    const eps = slot.endpoints;
    const usable = (e: Endpoint): boolean => !same(e, avoid) && !balancer.ejected(e);
    let ep: Endpoint | undefined;
    let session = '';
    if (persistent) {
      const ok = eps.filter(usable);
      const from = ok.length > 0 ? ok : eps;
      ep = from[Math.floor(Math.random() * from.length)];
      if (ep !== undefined) session = persistentKey(backend, nodeId(ep.ip, ep.port));
    } else {
      const built = balancer.built(backend.id, 'ring', eps, ringOf);
      for (let i = 0; i < NEW_SESSION_TRIES; i++) {
        session = randomKey();
        ep = built.eps[built.value.node(built.value.position(session))];
        if (ep !== undefined && usable(ep)) break;
      }
    }
    if (ep !== undefined) ex.setAffinityCookie(write(`${session}|${myKey}`, ex.scheme === 'https', ex.header('user-agent'), Date.now()));
    return ep;
  };
  return {
    pick(ex, avoid) {
      const eps = slot.endpoints;
      if (eps.length === 0) return undefined;
      const raw = ex.cookie(a.name);
      let ep: Endpoint | undefined;
      if (raw !== undefined) {
        const { session } = splitValue(raw);
        if (persistent) {
          const built = balancer.built(backend.id, 'persistent', eps, mapOf);
          const i = built.value.get(session);
          ep = i === undefined ? undefined : built.eps[i];
        } else {
          const built = balancer.built(backend.id, 'ring', eps, ringOf);
          ep = built.eps[built.value.node(built.value.position(session))];
        }
      }
      // the cookie's endpoint, unless it is gone, ejected, or just failed with change-on-failure
      if (ep !== undefined && (!balancer.ejected(ep) || eps.every((e) => balancer.ejected(e))) && !(a.changeOnFailure === true && same(ep, avoid))) return ep;
      return fresh(ex, avoid);
    },
    affinitized(ex) {
      const raw = ex.cookie(a.name);
      return raw !== undefined && splitValue(raw).backend === myKey;
    },
  };
}
