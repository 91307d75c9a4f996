import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createConnectionLimiter, createLimiters, createRequestLimiter, REJECT } from './limiters.js';
/** One request at `t`: accounted when it passes (as the rate-limit policy does with one limit). */
const hit = (l, key, t) => {
    const e = l.check(key, t);
    if (e === REJECT)
        return false;
    l.account(key, t, e);
    return true;
};
const hits = (l, key, t, n) => Array.from({ length: n }, () => hit(l, key, t));
describe('limit_req arithmetic (nginx: thousandths of a request, milliseconds, nodelay)', () => {
    test('burst + 1 requests pass at once, then one per 1/rate', () => {
        const l = createRequestLimiter({ rate: 1, burst: 5 });
        assert.deepEqual(hits(l, 'a', 0, 8), [true, true, true, true, true, true, false, false]);
        assert.equal(hit(l, 'a', 999), false, 'excess 5001 > 5000');
        assert.equal(hit(l, 'a', 1000), true, 'one request drained after 1/rate');
        assert.equal(hit(l, 'a', 1500), false);
        assert.equal(hit(l, 'a', 2000), true);
    });
    test('rps 5 with the default multiplier: burst 25, so 26 pass at once and then one every 200 ms', () => {
        const l = createRequestLimiter({ rate: 5, burst: 25 });
        assert.equal(hits(l, 'a', 0, 30).filter(Boolean).length, 26);
        assert.equal(hit(l, 'a', 199), false);
        assert.equal(hit(l, 'a', 200), true);
    });
    test('a rejected request changes nothing: rejections do not push the next success back', () => {
        const l = createRequestLimiter({ rate: 1, burst: 0 });
        assert.equal(hit(l, 'a', 0), true);
        for (let t = 1; t < 1000; t += 100)
            assert.equal(hit(l, 'a', t), false);
        assert.equal(hit(l, 'a', 1000), true);
    });
    test('burst 0 (multiplier 0): only the first request of each 1/rate window', () => {
        const l = createRequestLimiter({ rate: 2, burst: 0 });
        assert.deepEqual(hits(l, 'a', 0, 3), [true, false, false]);
        assert.equal(hit(l, 'a', 499), false);
        assert.equal(hit(l, 'a', 500), true);
    });
    test('per minute, with nginx\'s integer rate (1 r/m drains 16 thousandths a second: one per 62.5 s)', () => {
        const sixty = createRequestLimiter({ rate: 60, perMinute: true, burst: 0 });
        assert.deepEqual([hit(sixty, 'a', 0), hit(sixty, 'a', 999), hit(sixty, 'a', 1000)], [true, false, true]);
        const one = createRequestLimiter({ rate: 1, perMinute: true, burst: 0 });
        assert.equal(hit(one, 'a', 0), true);
        assert.equal(hit(one, 'a', 60_000), false);
        assert.equal(hit(one, 'a', 62_500), true);
    });
    test('clients are counted apart', () => {
        const l = createRequestLimiter({ rate: 1, burst: 1 });
        assert.deepEqual(hits(l, 'a', 0, 3), [true, true, false]);
        assert.deepEqual(hits(l, 'b', 0, 3), [true, true, false]);
    });
    test('check alone accounts nothing (several limits: counted only when all pass)', () => {
        const l = createRequestLimiter({ rate: 1, burst: 0 });
        assert.equal(l.check('a', 0), 0);
        assert.equal(l.check('a', 0), 0);
        assert.equal(l.size(), 0);
        assert.equal(hit(l, 'a', 0), true);
        assert.equal(l.check('a', 0), REJECT);
    });
});
describe('the client table is bounded and never forgets a client that is still limited', () => {
    test('past the bound, a new client is refused until an entry drains; the table never grows', () => {
        const l = createRequestLimiter({ rate: 1, burst: 5, capacity: 4 });
        for (const k of ['a', 'b', 'c', 'd'])
            assert.equal(hit(l, k, 0), true);
        assert.equal(hit(l, 'e', 10), false, 'full of clients that have not drained: fail closed');
        assert.equal(l.size(), 4);
        assert.equal(hit(l, 'e', 1000), true, 'after 1/rate the others have drained: one is dropped');
        assert.equal(l.size(), 4);
    });
    test('a limited client keeps its state however many new clients come', () => {
        const l = createRequestLimiter({ rate: 1, burst: 5, capacity: 4 });
        assert.deepEqual(hits(l, 'limited', 0, 7).filter(Boolean).length, 6);
        for (const k of ['x', 'y', 'z'])
            assert.equal(hit(l, k, 0), true);
        // at 1 s the three have drained and make room for three new clients; the limited one has not
        for (let i = 0; i < 3; i++)
            assert.equal(hit(l, `new${i}`, 1000), true);
        assert.equal(hit(l, 'another', 1000), false, 'no room: the limited client is not evicted');
        assert.equal(hit(l, 'limited', 1000), true, 'one request drained, as if nothing happened');
        assert.equal(hit(l, 'limited', 1000), false, 'and no fresh burst');
        assert.equal(l.size(), 4);
    });
    test('drained clients behind limited ones are found by the sweep', () => {
        const l = createRequestLimiter({ rate: 1, burst: 100, capacity: 20 });
        for (let i = 0; i < 10; i++)
            hits(l, `heavy${i}`, 0, 50);
        for (let i = 0; i < 10; i++)
            hit(l, `light${i}`, 0);
        assert.equal(l.size(), 20);
        assert.equal(hit(l, 'new', 1000), true);
        assert.equal(l.size(), 11, 'the ten drained clients were swept, the heavy ones kept');
    });
    test('a drained client that is dropped comes back exactly as it would have', () => {
        const kept = createRequestLimiter({ rate: 1, burst: 2, capacity: 100 });
        const tight = createRequestLimiter({ rate: 1, burst: 2, capacity: 1 });
        for (const l of [kept, tight])
            hits(l, 'a', 0, 3);
        // 'b' evicts 'a' from the tight table once 'a' has drained (3 s + 1 s)
        assert.equal(hit(tight, 'b', 4000), true);
        for (const t of [5000, 5000, 5000, 5000])
            assert.equal(hit(tight, 'a', t), hit(kept, 'a', t));
    });
});
describe('limit_conn: requests in flight per client', () => {
    test('up to the limit, then refused until one is released', () => {
        const c = createConnectionLimiter({ limit: 2 });
        assert.deepEqual([c.acquire('a'), c.acquire('a'), c.acquire('a'), c.acquire('b')], [true, true, false, true]);
        c.release('a');
        assert.equal(c.acquire('a'), true);
        c.release('a');
        c.release('a');
        c.release('b');
        assert.equal(c.size(), 0, 'a client with nothing in flight takes no room');
    });
    test('past the bound of clients in flight, a new client is refused', () => {
        const c = createConnectionLimiter({ limit: 5, capacity: 2 });
        assert.deepEqual([c.acquire('a'), c.acquire('b'), c.acquire('c'), c.acquire('a')], [true, true, false, true]);
        c.release('b');
        assert.equal(c.acquire('c'), true);
    });
});
describe('limiters outlive table swaps while their settings stay', () => {
    test('the same Ingress and settings give the same counters; retain forgets the unused ones', () => {
        const ls = createLimiters();
        const a = ls.request('default/x', 1, false, 5);
        assert.equal(ls.request('default/x', 1, false, 5), a);
        assert.notEqual(ls.request('default/x', 2, false, 10), a, 'other settings, other counters');
        assert.notEqual(ls.request('default/x', 1, true, 5), a, 'per minute is another zone');
        const c = ls.connections('default/x', 3);
        ls.retain(); // the table that asked for all four is live
        assert.equal(ls.size(), 4);
        // the next table keeps only x's rps limit and connections
        assert.equal(ls.request('default/x', 1, false, 5), a);
        assert.equal(ls.connections('default/x', 3), c);
        ls.retain();
        assert.equal(ls.size(), 2);
        ls.retain(); // a table with no limits
        assert.equal(ls.size(), 0);
        assert.notEqual(ls.request('default/x', 1, false, 5), a, 'released: a new one starts from zero');
    });
});
//# sourceMappingURL=limiters.test.js.map