/**
 * Which upstream pools and endpoint stats the live routes still reach, kept as counts so that an
 * endpoint patch costs what it changes, never the table's size.
 *
 * A pool (dispatcher × `ip:port`) is live while some compiled route reaches that endpoint with
 * that dispatcher; an endpoint's stats are live while any route reaches it. A table swap counts
 * everything afresh (`reset`, as costly as the compile it follows). An EndpointSlice patch only
 * moves the counts of the endpoints that left or joined the patched slots (`changed`), and closes
 * the pools whose count reached zero. Recounting the whole table after every patch cost 15–30 ms
 * at 10,000 Ingresses, on the turn right after the patch: on the first request to the new pods.
 *
 * Counts are kept by port, then by the endpoint's own address string (the one the table already
 * holds), so 50,000 endpoints cost no key strings of their own; an address listed once is only a
 * member of a Set.
 */
import type { Endpoint } from '../model/types.js';
import type { EndpointSlot } from './endpoints.js';
import { endpointKey, type Dispatch, type Pools } from './pools.js';
import type { BackendTarget } from './route.js';
import type { EndpointStats } from './stats.js';

/** What retention reads of a compiled backend. */
type Reached = Pick<BackendTarget, 'slot' | 'dispatch' | 'upgrade'>;

export interface Retention {
  /** After a table swap: counts from the new table's targets (their backends, canaries and error backends); releases whatever none reaches. */
  reset(
    targets: readonly {
      readonly backends: readonly Reached[];
      readonly canary?: { readonly target: Reached } | null;
      readonly errors?: { readonly all: readonly Reached[] } | null;
      /** Request mirrors' Service backends (mirror.ts): their pools stay open while the route lives. */
      readonly mirror?: { readonly backends: readonly Pick<Reached, 'slot' | 'dispatch'>[] } | null;
    }[],
  ): void;
  /** One slot's list went from `before` to its current one (the fast path): releases what no route reaches any more. */
  changed(slot: EndpointSlot, before: readonly Endpoint[]): void;
}

/**
 * For one port of one dispatcher: the addresses some slot reached with it lists, and for the few
 * listed by more than one slot, how many more. Nearly every endpoint is listed once: a Set's
 * table costs two thirds of a Map's (0.5 MiB less at 50,000 endpoints).
 */
interface ByIp {
  readonly once: Set<string>;
  /** Address → how many slots list it beyond the first; absent when one does. */
  readonly more: Map<string, number>;
}
/** For one dispatcher: port → its {@link ByIp}. */
type Counts = Map<number, ByIp>;

const has = (c: Counts, e: Endpoint): boolean => c.get(e.port)?.once.has(e.ip) === true;

/** The same for an {@link endpointKey} (`ip:port`, an IPv6 address unbracketed). */
function hasKey(c: Counts, k: string): boolean {
  const i = k.lastIndexOf(':');
  return c.get(Number(k.slice(i + 1)))?.once.has(k.slice(0, i)) === true;
}

/** One more (`n` = 1) or one fewer (-1) slot lists the endpoint; returns how many do now. */
function add(c: Counts, e: Endpoint, n: 1 | -1): number {
  let byIp = c.get(e.port);
  if (byIp === undefined) c.set(e.port, (byIp = { once: new Set(), more: new Map() }));
  const { once, more } = byIp;
  const extra = more.get(e.ip) ?? 0;
  if (n === 1) {
    if (!once.has(e.ip)) {
      once.add(e.ip);
      return 1;
    }
    more.set(e.ip, extra + 1);
    return extra + 2;
  }
  if (extra > 1) more.set(e.ip, extra - 1);
  else if (extra === 1) more.delete(e.ip);
  else {
    once.delete(e.ip);
    if (once.size === 0) c.delete(e.port);
    return 0;
  }
  return extra;
}

/** The distinct endpoints of a list (an address may be listed twice, by two slices). */
function distinct(eps: readonly Endpoint[]): readonly Endpoint[] {
  if (eps.length < 2) return eps;
  const seen = new Set<string>();
  const out: Endpoint[] = [];
  for (const e of eps) {
    const k = endpointKey(e.ip, e.port);
    if (seen.has(k)) continue;
    seen.add(k);
    out.push(e);
  }
  return out.length === eps.length ? eps : out;
}

/**
 * `alsoLive`: endpoints something else reaches (Layer 4 services), whose passive-health stats
 * must not be forgotten when no HTTP route lists them; asked only when something may be forgotten.
 */
export function createRetention(pools: Pools, stats: EndpointStats, alsoLive: () => ReadonlySet<string> = () => new Set()): Retention {
  /** The distinct dispatchers each slot is reached with (a backend's requests and its upgrades); lists are shared. */
  let uses = new Map<EndpointSlot, readonly Dispatch[]>();
  let counts = new Map<Dispatch, Counts>();
  const anyReaches = (e: Endpoint): boolean => {
    for (const c of counts.values()) if (has(c, e)) return true;
    return false;
  };
  return {
    reset(targets) {
      const next = new Map<EndpointSlot, Dispatch[]>();
      const use = (bt: Reached): void => {
        let ds = next.get(bt.slot);
        if (ds === undefined) next.set(bt.slot, (ds = []));
        if (!ds.includes(bt.dispatch)) ds.push(bt.dispatch);
        if (!ds.includes(bt.upgrade)) ds.push(bt.upgrade);
      };
      for (const t of targets) {
        for (const bt of t.backends) use(bt);
        if (t.canary) use(t.canary.target);
        if (t.errors) for (const bt of t.errors.all) use(bt);
        if (t.mirror) for (const mb of t.mirror.backends) use({ slot: mb.slot, dispatch: mb.dispatch, upgrade: mb.dispatch });
      }
      // nearly every slot is reached the same way: one list per distinct set
      const lists = new Map<string, readonly Dispatch[]>();
      uses = new Map();
      counts = new Map();
      for (const [slot, ds] of next) {
        const k = ds.map((d) => d.key).join('\n');
        let list = lists.get(k);
        if (list === undefined) lists.set(k, (list = ds));
        uses.set(slot, list);
        const eps = distinct(slot.endpoints);
        for (const d of list) {
          let c = counts.get(d);
          if (c === undefined) counts.set(d, (c = new Map()));
          for (const e of eps) add(c, e, 1);
        }
      }
      const reaches = new Map<Dispatch, { has(endpoint: string): boolean }>();
      for (const [d, c] of counts) reaches.set(d, { has: (k) => hasKey(c, k) });
      pools.retain(reaches);
      const other = alsoLive();
      stats.retain({
        has(k) {
          if (other.has(k)) return true;
          for (const c of counts.values()) if (hasKey(c, k)) return true;
          return false;
        },
      });
    },
    changed(slot, before) {
      const ds = uses.get(slot);
      if (ds === undefined) return; // no live route reads this slot
      const now = distinct(slot.endpoints);
      const was = new Set(distinct(before).map((e) => endpointKey(e.ip, e.port)));
      for (const e of now) {
        if (was.delete(endpointKey(e.ip, e.port))) continue; // in both: nothing moves
        for (const d of ds) add(counts.get(d) as Counts, e, 1);
      }
      // what is left of `was` left this slot
      for (const e of distinct(before)) {
        const k = endpointKey(e.ip, e.port);
        if (!was.has(k)) continue;
        for (const d of ds) if (add(counts.get(d) as Counts, e, -1) <= 0) pools.release(d, k);
        if (!anyReaches(e) && !alsoLive().has(k)) stats.forget(k);
      }
    },
  };
}
