/**
 * Per-endpoint request and error counts for /debug/backends (totals, plus errors in the last
 * minute in six 10-second buckets), and passive health: `maxFails` consecutive failures eject an
 * endpoint for `failTimeout`. Keyed by `ip:port`, so it outlives table swaps.
 */

const BUCKET_MS = 10_000;
const BUCKETS = 6;

interface Entry {
  requests: number;
  errors: number;
  consecutiveErrors: number;
  lastError: string;
  lastErrorAt: number;
  ejectedUntil: number;
  /** Errors per 10 s bucket; `epochs` says which bucket index each slot currently holds. */
  readonly recent: number[];
  readonly epochs: number[];
}

/** What /debug/backends shows of one endpoint. */
export interface EndpointView {
  readonly requests: number;
  readonly errors: number;
  readonly recentErrors: number;
  readonly consecutiveErrors: number;
  readonly lastError: string | null;
  readonly lastErrorAt: string | null;
  readonly ejected: boolean;
  readonly ejectedUntil: string | null;
}

const NEVER_USED: EndpointView = { requests: 0, errors: 0, recentErrors: 0, consecutiveErrors: 0, lastError: null, lastErrorAt: null, ejected: false, ejectedUntil: null };

/**
 * One endpoint's views from several processes (`--workers`) as one: counts add up, the latest
 * error wins, and the endpoint is ejected while any worker has it ejected (passive health is each
 * worker's own: each one sees only its share of the failures).
 */
export function mergeViews(views: readonly EndpointView[]): EndpointView {
  if (views.length === 0) return NEVER_USED;
  let latest: EndpointView | null = null;
  let ejectedUntil: string | null = null;
  for (const v of views) {
    if (v.lastErrorAt !== null && (latest === null || v.lastErrorAt > (latest.lastErrorAt as string))) latest = v;
    if (v.ejectedUntil !== null && (ejectedUntil === null || v.ejectedUntil > ejectedUntil)) ejectedUntil = v.ejectedUntil;
  }
  return {
    requests: views.reduce((n, v) => n + v.requests, 0),
    errors: views.reduce((n, v) => n + v.errors, 0),
    recentErrors: views.reduce((n, v) => n + v.recentErrors, 0),
    consecutiveErrors: Math.max(...views.map((v) => v.consecutiveErrors)),
    lastError: latest?.lastError ?? null,
    lastErrorAt: latest?.lastErrorAt ?? null,
    ejected: views.some((v) => v.ejected),
    ejectedUntil,
  };
}

export interface EndpointStats {
  success(endpoint: string): void;
  /** Records a failure; returns true when it ejected the endpoint. */
  failure(endpoint: string, cause: string): boolean;
  /** True while an endpoint is out of rotation. */
  ejected(endpoint: string): boolean;
  /** The view of one endpoint; zeros for one never used. */
  view(endpoint: string, now?: number): EndpointView;
  /** Drops endpoints no table references any more. */
  retain(live: { has(endpoint: string): boolean }): void;
  /** Drops one endpoint (no live route reaches it any more). */
  forget(endpoint: string): void;
}

export interface HealthOptions {
  /** Consecutive failures that eject an endpoint (0 = never eject). */
  readonly maxFails: number;
  readonly failTimeout: number;
}

export function createEndpointStats(health: HealthOptions = { maxFails: 0, failTimeout: 0 }, clock: () => number = Date.now): EndpointStats {
  const entries = new Map<string, Entry>();
  const entry = (k: string): Entry => {
    let e = entries.get(k);
    if (!e) entries.set(k, (e = { requests: 0, errors: 0, consecutiveErrors: 0, lastError: '', lastErrorAt: 0, ejectedUntil: 0, recent: new Array<number>(BUCKETS).fill(0), epochs: new Array<number>(BUCKETS).fill(-1) }));
    return e;
  };
  return {
    success(k) {
      const e = entry(k);
      e.requests++;
      e.consecutiveErrors = 0;
    },
    failure(k, cause) {
      const e = entry(k);
      const now = clock();
      const epoch = Math.floor(now / BUCKET_MS);
      const slot = epoch % BUCKETS;
      if (e.epochs[slot] !== epoch) {
        e.epochs[slot] = epoch;
        e.recent[slot] = 0;
      }
      e.recent[slot] = (e.recent[slot] ?? 0) + 1;
      e.requests++;
      e.errors++;
      e.consecutiveErrors++;
      e.lastError = cause;
      e.lastErrorAt = now;
      if (health.maxFails > 0 && e.consecutiveErrors >= health.maxFails && e.ejectedUntil <= now) {
        e.ejectedUntil = now + health.failTimeout;
        e.consecutiveErrors = 0; // after the timeout it gets a fresh chance (one more failure does not re-eject)
        return true;
      }
      return false;
    },
    ejected(k) {
      const e = entries.get(k);
      // never ejected (the common case): no clock read per request
      return e !== undefined && e.ejectedUntil !== 0 && e.ejectedUntil > clock();
    },
    view(k, now = clock()) {
      const e = entries.get(k);
      if (!e) return NEVER_USED;
      const epoch = Math.floor(now / BUCKET_MS);
      let recentErrors = 0;
      for (let i = 0; i < BUCKETS; i++) if ((e.epochs[i] as number) > epoch - BUCKETS) recentErrors += e.recent[i] as number;
      return {
        requests: e.requests,
        errors: e.errors,
        recentErrors,
        consecutiveErrors: e.consecutiveErrors,
        lastError: e.lastError || null,
        lastErrorAt: e.lastErrorAt ? new Date(e.lastErrorAt).toISOString() : null,
        ejected: e.ejectedUntil > now,
        ejectedUntil: e.ejectedUntil > now ? new Date(e.ejectedUntil).toISOString() : null,
      };
    },
    retain(live) {
      for (const k of entries.keys()) if (!live.has(k)) entries.delete(k);
    },
    forget(k) {
      entries.delete(k);
    },
  };
}
