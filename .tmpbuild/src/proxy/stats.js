/**
 * Per-endpoint request and error counts for /debug/backends (totals, plus errors in the last
 * minute in six 10-second buckets), and passive health: `maxFails` consecutive failures eject an
 * endpoint for `failTimeout`. Keyed by `ip:port`, so it outlives table swaps.
 */
const BUCKET_MS = 10_000;
const BUCKETS = 6;
const NEVER_USED = { requests: 0, errors: 0, recentErrors: 0, consecutiveErrors: 0, lastError: null, lastErrorAt: null, ejected: false, ejectedUntil: null };
/**
 * One endpoint's views from several processes (`--workers`) as one: counts add up, the latest
 * error wins, and the endpoint is ejected while any worker has it ejected (passive health is each
 * worker's own: each one sees only its share of the failures).
 */
export function mergeViews(views) {
    if (views.length === 0)
        return NEVER_USED;
    let latest = null;
    let ejectedUntil = null;
    for (const v of views) {
        if (v.lastErrorAt !== null && (latest === null || v.lastErrorAt > latest.lastErrorAt))
            latest = v;
        if (v.ejectedUntil !== null && (ejectedUntil === null || v.ejectedUntil > ejectedUntil))
            ejectedUntil = v.ejectedUntil;
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
export function createEndpointStats(health = { maxFails: 0, failTimeout: 0 }, clock = Date.now) {
    const entries = new Map();
    const entry = (k) => {
        let e = entries.get(k);
        if (!e)
            entries.set(k, (e = { requests: 0, errors: 0, consecutiveErrors: 0, lastError: '', lastErrorAt: 0, ejectedUntil: 0, recent: new Array(BUCKETS).fill(0), epochs: new Array(BUCKETS).fill(-1) }));
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
            return e !== undefined && e.ejectedUntil > clock();
        },
        view(k, now = clock()) {
            const e = entries.get(k);
            if (!e)
                return NEVER_USED;
            const epoch = Math.floor(now / BUCKET_MS);
            let recentErrors = 0;
            for (let i = 0; i < BUCKETS; i++)
                if (e.epochs[i] > epoch - BUCKETS)
                    recentErrors += e.recent[i];
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
            for (const k of entries.keys())
                if (!live.has(k))
                    entries.delete(k);
        },
    };
}
//# sourceMappingURL=stats.js.map