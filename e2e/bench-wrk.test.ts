/**
 * The benchmarks' reading of wrk (bench/lib.ts perRequest): wrk 4 adds coordinated-omission
 * samples to its latency record after a run (stats_correct in wrk's stats.c); perRequest must give
 * back the requests' own percentiles from that record, as the c=200 figures in performance.md rely on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { perRequest } from '../bench/lib.js';

/** wrk 4.1's stats_correct: every sample n ≥ 2e adds one at n − e, n − 2e, … while above e. */
function wrkCorrect(own: Map<number, number>, e: number): Map<number, number> {
  const out = new Map(own);
  const max = Math.max(...own.keys());
  for (let n = 2 * e; n <= max; n++) {
    const c = own.get(n) ?? 0;
    for (let m = n - e; c > 0 && m > e; m -= e) out.set(m, (out.get(m) ?? 0) + c);
  }
  return out;
}

test("perRequest undoes wrk's coordinated-omission samples exactly", () => {
  // 200 connections, 5 s: 100,000 requests of 8-12 ms and 60 first requests of 100-400 ms
  const own = new Map<number, number>();
  for (let i = 0; i < 100_000; i++) own.set(8000 + (i % 4000), (own.get(8000 + (i % 4000)) ?? 0) + 1);
  for (let i = 0; i < 60; i++) own.set(100_000 + i * 5000, 1);
  const requests = 100_060;
  const duration = 5_000_000;
  const e = Math.floor(duration / Math.floor(requests / 200));
  const recorded = wrkCorrect(own, e);
  const filled = [...recorded.values()].reduce((a, b) => a + b, 0) - requests;
  assert.ok(filled > 1000, 'the made-up samples outnumber 1% of the requests');

  const r = perRequest(recorded, duration, requests, 200);
  assert.equal(r.filled, filled);
  // the requests' own percentiles, ranked as wrk ranks them
  const sorted = [...own.entries()].sort((a, b) => a[0] - b[0]);
  const at = (p: number): number => {
    const rank = Math.round((p / 100) * requests + 0.5);
    let acc = 0;
    return (sorted.find(([, n]) => (acc += n) >= rank)?.[0] ?? NaN) / 1000;
  };
  assert.equal(r.p99ms, at(99));
  assert.ok(r.p99ms < 12, `p99 ${r.p99ms}`);
  assert.equal(r.p999ms, at(99.9));
  assert.equal(r.maxms, 395);
});

test('perRequest leaves a record without made-up samples as it is', () => {
  const own = new Map([
    [5000, 980],
    [7000, 15],
    [9000, 5],
  ]);
  const r = perRequest(own, 5_000_000, 1000, 200);
  assert.deepEqual(r, { p99ms: 7, p999ms: 9, maxms: 9, filled: 0 });
});
