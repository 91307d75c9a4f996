import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildRing, nodeId } from './chash.js';
const owner = (ids) => {
    const r = buildRing(ids);
    return (key) => ids[r.node(r.position(key))];
};
const keys = Array.from({ length: 50_000 }, (_, i) => `/item/${i}?u=${i * 7919}`);
const pods = (n) => Array.from({ length: n }, (_, i) => nodeId(`10.1.${i >> 8}.${i & 255}`, 8080));
test("the ring is lua-resty-balancer's: its own test's counts, to the key", () => {
    // lua-resty-balancer t/chash.t TEST 1: weights 10, 2, 1; keys 1..100000
    const r = buildRing(['server1', 'server2', 'server3'], [10, 2, 1]);
    const counts = [0, 0, 0];
    for (let i = 1; i <= 100_000; i++)
        counts[r.node(r.position(String(i)))] = (counts[r.node(r.position(String(i)))] ?? 0) + 1;
    assert.deepEqual(counts, [77075, 14743, 8182]);
});
for (const n of [3, 10, 30]) {
    test(`one endpoint joining ${n}: about 1/${n + 1} of the keys move, all of them to the new endpoint`, () => {
        const before = owner(pods(n));
        const grown = pods(n + 1);
        const after = owner(grown);
        const added = grown[n];
        let moved = 0;
        for (const k of keys) {
            const a = before(k);
            const b = after(k);
            if (a !== b) {
                moved++;
                assert.equal(b, added, `${k} moved between two old endpoints`);
            }
        }
        const share = moved / keys.length;
        const ideal = 1 / (n + 1);
        assert.ok(share > ideal * 0.6 && share < ideal * 1.4, `moved ${(share * 100).toFixed(2)}%, ideal ${(ideal * 100).toFixed(2)}%`);
    });
    test(`one endpoint of ${n} leaving: only its keys move (about 1/${n})`, () => {
        const all = pods(n);
        const before = owner(all);
        const gone = all[1];
        const after = owner(all.filter((p) => p !== gone));
        let moved = 0;
        for (const k of keys) {
            if (before(k) !== after(k)) {
                moved++;
                assert.equal(before(k), gone);
            }
        }
        const share = moved / keys.length;
        assert.ok(share > (1 / n) * 0.6 && share < (1 / n) * 1.4, `moved ${(share * 100).toFixed(2)}%`);
    });
}
test('keys spread over the endpoints (160 points each: within a third of a fair share)', () => {
    const ids = pods(8);
    const of = owner(ids);
    const counts = new Map();
    for (const k of keys)
        counts.set(of(k), (counts.get(of(k)) ?? 0) + 1);
    for (const id of ids) {
        const c = counts.get(id) ?? 0;
        assert.ok(c > (keys.length / 8) * 0.66 && c < (keys.length / 8) * 1.33, `${id}: ${c}`);
    }
});
test('the ring depends on the set of endpoints, not their order; IPv6 ids are bracketed as ingress-nginx writes them', () => {
    const ids = pods(5);
    const a = owner(ids);
    const b = owner([...ids].reverse());
    for (const k of keys.slice(0, 2000))
        assert.equal(a(k), b(k));
    assert.equal(nodeId('fd00::1', 80), '[fd00::1]:80');
    assert.equal(nodeId('10.0.0.1', 80), '10.0.0.1:80');
});
//# sourceMappingURL=chash.test.js.map