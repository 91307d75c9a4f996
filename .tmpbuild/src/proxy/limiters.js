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
/**
 * `perSecond`: requests per second (`limit-rps`), or per minute with `perMinute` (`limit-rpm`);
 * `burst`: requests above the rate let through at once.
 */
export function createRequestLimiter(o) {
    // nginx: ctx->rate = rate * 1000 / scale, integer
    const rate = Math.floor((o.rate * 1000) / (o.perMinute === true ? 60 : 1));
    const burst = o.burst * 1000;
    const capacity = o.capacity ?? DEFAULT_CAPACITY;
    const table = new Map();
    let lastSweep = -Infinity;
    const next = (b, now) => {
        const ms = Math.max(0, now - b.last);
        return Math.max(0, b.excess - Math.floor((rate * ms) / 1000) + 1000);
    };
    /** Drained: its next request gives excess 0, exactly as for a client never seen. */
    const drained = (b, now) => b.excess - Math.floor((rate * Math.max(0, now - b.last)) / 1000) + 1000 <= 0;
    /** Makes room for one new client; false when every client still counts. */
    const room = (now) => {
        if (table.size < capacity)
            return true;
        let n = 0;
        for (const [key, b] of table) {
            if (drained(b, now)) {
                table.delete(key);
                return true;
            }
            if (++n >= SCAN)
                break;
        }
        if (now - lastSweep < SWEEP_INTERVAL_MS)
            return false;
        lastSweep = now;
        for (const [key, b] of table)
            if (drained(b, now))
                table.delete(key);
        return table.size < capacity;
    };
    return {
        check(key, now) {
            const b = table.get(key);
            if (b === undefined)
                return room(now) ? 0 : REJECT;
            const excess = next(b, now);
            return excess > burst ? REJECT : excess;
        },
        account(key, now, excess) {
            const b = table.get(key);
            if (b !== undefined)
                table.delete(key); // re-inserted: the Map's order is least recently accounted first
            if (b === undefined && !room(now))
                return; // cannot happen after check(); never grow past the bound
            table.set(key, { excess, last: now });
        },
        size: () => table.size,
    };
}
export function createConnectionLimiter(o) {
    const capacity = o.capacity ?? DEFAULT_CAPACITY;
    const table = new Map();
    return {
        acquire(key) {
            const n = table.get(key) ?? 0;
            if (n >= o.limit || (n === 0 && table.size >= capacity))
                return false;
            table.set(key, n + 1);
            return true;
        },
        release(key) {
            const n = table.get(key);
            if (n === undefined)
                return;
            if (n <= 1)
                table.delete(key);
            else
                table.set(key, n - 1);
        },
        size: () => table.size,
    };
}
export function createLimiters(capacity = DEFAULT_CAPACITY) {
    const live = new Map();
    let used = new Set();
    function intern(key, make) {
        used.add(key);
        let l = live.get(key);
        if (l === undefined)
            live.set(key, (l = make()));
        return l;
    }
    return {
        request: (id, rate, perMinute, burst) => intern(`${id} ${rate}r/${perMinute ? 'm' : 's'} burst=${burst}`, () => createRequestLimiter({ rate, perMinute, burst, capacity })),
        connections: (id, limit) => intern(`${id} conn=${limit}`, () => createConnectionLimiter({ limit, capacity })),
        retain() {
            for (const key of live.keys())
                if (!used.has(key))
                    live.delete(key);
            used = new Set();
        },
        size: () => live.size,
    };
}
//# sourceMappingURL=limiters.js.map