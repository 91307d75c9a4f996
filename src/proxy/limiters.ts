/**
 * Per-client limiter state, outliving table swaps: nginx's limit_req (a leaky bucket with burst,
 * always nodelay, as ingress-nginx renders it) and limit_conn (requests in flight), one bounded
 * table of clients each.
 *
 * limit_req, with nginx's integer arithmetic in thousandths of a request and milliseconds
 * (ngx_http_limit_req_module.c): a client's state is `excess` and `last`; a request at `now` gives
 * `excess' = max(0, excess - rate * (now - last) / 1000 + 1000)` and is rejected when
 * `excess' > burst * 1000` (a rejected request changes nothing); a new client starts at 0. So
 * `burst + 1` requests pass at once, then one every `1 / rate`. When several limits apply, a
 * request must pass all of them and is accounted in all of them only then.
 *
 * Memory is bounded: each table holds at most `capacity` clients. A request limiter's entry is
 * dropped only once it has drained (its next request would start from 0, exactly like a client
 * never seen): never a client that is still being limited, so no flood of new addresses can give
 * a limited client a fresh burst. When the table is full of clients that have not drained, a NEW
 * client is answered with the limit status until one drains (fail closed: the trade-off is that a
 * flood from more than `capacity` addresses within one drain period also holds back new clients,
 * which is what a limit under such a flood should do, rather than forget who it was limiting). A
 * connection limiter's entry lives while the client has requests in flight; past `capacity`
 * clients in flight, a new client is refused the same way.
 */

/** Clients per table; about 10 MB per full table (nginx's 5 MB zones hold about 80,000). */
export const DEFAULT_CAPACITY = 65_536;
/** Oldest entries looked at for a drained one before a full sweep (which runs at most once a second). */
const SCAN = 8;
const SWEEP_INTERVAL_MS = 1000;

/** Rejected: over the limit, or the table is full of clients still being limited. */
export const REJECT = -1;

interface Bucket {
  /** Thousandths of a request above the rate. */
  excess: number;
  /** Milliseconds (monotonic). */
  last: number;
}

/** One limit_req zone: a rate, a burst, a bounded table of clients. */
export interface RequestLimiter {
  /** The excess `key` would have after a request at `now`, or {@link REJECT}. Changes nothing. */
  check(key: string, now: number): number;
  /** Accounts a request that every limit let through: `excess` from {@link check} at the same `now`. */
  account(key: string, now: number, excess: number): void;
  /** Clients tracked. */
  size(): number;
}

/**
 * `perSecond`: requests per second (`limit-rps`), or per minute with `perMinute` (`limit-rpm`);
 * `burst`: requests above the rate let through at once.
 */
export function createRequestLimiter(o: { readonly rate: number; readonly perMinute?: boolean; readonly burst: number; readonly capacity?: number }): RequestLimiter {
  // nginx: ctx->rate = rate * 1000 / scale, integer
  const rate = Math.floor((o.rate * 1000) / (o.perMinute === true ? 60 : 1));
  const burst = o.burst * 1000;
  const capacity = o.capacity ?? DEFAULT_CAPACITY;
  const table = new Map<string, Bucket>();
  let lastSweep = -Infinity;
  const next = (b: Bucket, now: number): number => {
    const ms = Math.max(0, now - b.last);
    return Math.max(0, b.excess - Math.floor((rate * ms) / 1000) + 1000);
  };
  /** Drained: its next request gives excess 0, exactly as for a client never seen. */
  const drained = (b: Bucket, now: number): boolean => b.excess - Math.floor((rate * Math.max(0, now - b.last)) / 1000) + 1000 <= 0;
  /** Makes room for one new client; false when every client still counts. */
  const room = (now: number): boolean => {
    if (table.size < capacity) return true;
    let n = 0;
    for (const [key, b] of table) {
      if (drained(b, now)) {
        table.delete(key);
        return true;
      }
      if (++n >= SCAN) break;
    }
    if (now - lastSweep < SWEEP_INTERVAL_MS) return false;
    lastSweep = now;
    for (const [key, b] of table) if (drained(b, now)) table.delete(key);
    return table.size < capacity;
  };
  return {
    check(key, now) {
      const b = table.get(key);
      if (b === undefined) return room(now) ? 0 : REJECT;
      const excess = next(b, now);
      return excess > burst ? REJECT : excess;
    },
    account(key, now, excess) {
      const b = table.get(key);
      if (b !== undefined) table.delete(key); // re-inserted: the Map's order is least recently accounted first
      if (b === undefined && !room(now)) return; // cannot happen after check(); never grow past the bound
      table.set(key, { excess, last: now });
    },
    size: () => table.size,
  };
}

/** One limit_conn zone: requests in flight per client. */
export interface ConnectionLimiter {
  /** Takes a slot for `key`: false when it has `limit` in flight, or the table is full. */
  acquire(key: string): boolean;
  /** Gives back a slot taken by {@link acquire}. */
  release(key: string): void;
  size(): number;
}

export function createConnectionLimiter(o: { readonly limit: number; readonly capacity?: number }): ConnectionLimiter {
  const capacity = o.capacity ?? DEFAULT_CAPACITY;
  const table = new Map<string, number>();
  return {
    acquire(key) {
      const n = table.get(key) ?? 0;
      if (n >= o.limit || (n === 0 && table.size >= capacity)) return false;
      table.set(key, n + 1);
      return true;
    },
    release(key) {
      const n = table.get(key);
      if (n === undefined) return;
      if (n <= 1) table.delete(key);
      else table.set(key, n - 1);
    },
    size: () => table.size,
  };
}

/**
 * The limiters of the live table, interned by a key made of what they count for (an Ingress) and
 * their settings, so a table swap that keeps an Ingress's limits keeps its counters. `retain`
 * after a swap forgets those no compiled route asked for since the previous `retain`.
 */
export interface Limiters {
  request(id: string, rate: number, perMinute: boolean, burst: number): RequestLimiter;
  connections(id: string, limit: number): ConnectionLimiter;
  /** Forgets the limiters not asked for since the last call. */
  retain(): void;
  /** Live limiters (for tests and debugging). */
  size(): number;
}

export function createLimiters(capacity = DEFAULT_CAPACITY): Limiters {
  const live = new Map<string, RequestLimiter | ConnectionLimiter>();
  let used = new Set<string>();
  function intern<T extends RequestLimiter | ConnectionLimiter>(key: string, make: () => T): T {
    used.add(key);
    let l = live.get(key) as T | undefined;
    if (l === undefined) live.set(key, (l = make()));
    return l;
  }
  return {
    request: (id, rate, perMinute, burst) => intern(`${id} ${rate}r/${perMinute ? 'm' : 's'} burst=${burst}`, () => createRequestLimiter({ rate, perMinute, burst, capacity })),
    connections: (id, limit) => intern(`${id} conn=${limit}`, () => createConnectionLimiter({ limit, capacity })),
    retain() {
      for (const key of live.keys()) if (!used.has(key)) live.delete(key);
      used = new Set();
    },
    size: () => live.size,
  };
}
