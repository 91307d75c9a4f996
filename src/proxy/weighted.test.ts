/** The weighted choice HTTP and Layer 4 routes share: a golden-ratio sequence from a random phase. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { choose, createCursor, totalWeight, type WeightedChoice } from './weighted.js';

interface Option {
  readonly name: string;
  readonly weight: number;
}

const choice = (weights: readonly number[], phase: number = Math.random()): WeightedChoice<Option> => {
  const backends = weights.map((weight, i) => ({ name: `s${i}`, weight }));
  return { backends, totalWeight: totalWeight(backends), cursor: createCursor(backends.length, () => phase) };
};
const picks = (t: WeightedChoice<Option>, n: number): string[] => Array.from({ length: n }, () => choose(t)?.name ?? 'none');

describe('choose', () => {
  test('every run of 500 picks (a window anywhere in 2,000, from any phase) is within two of the weights; a weight of 0 gets nothing', () => {
    const phases = [0, 0.5, 1 - Number.EPSILON, ...Array.from({ length: 10 }, () => Math.random())];
    for (const weights of [[70, 30, 0], [5, 1, 1], [10, 10], [90, 10], [1, 2, 3, 4], [0, 99, 0, 1], [1, 1, 1]]) {
      const total = weights.reduce((a, b) => a + b, 0);
      for (const phase of phases) {
        const got = picks(choice(weights, phase), 2000);
        const counts = weights.map(() => 0);
        got.forEach((name, k) => {
          counts[Number(name.slice(1))]! += 1;
          if (k >= 500) counts[Number((got[k - 500] as string).slice(1))]! -= 1;
          if (k < 499) return;
          weights.forEach((w, i) => {
            if (w === 0) assert.equal(counts[i], 0, `${weights.join('/')}: s${i} has weight 0`);
            else assert.ok(Math.abs(counts[i]! - (500 * w) / total) <= 2, `${weights.join('/')} from ${phase}: s${i} got ${counts[i]} of the 500 up to pick ${k}`);
          });
        });
      }
    }
  });

  test('the options interleave: 70/30 never picks the heavier five times in a row, 50/50 never three times', () => {
    for (let run = 0; run < 20; run++) {
      const heavy = picks(choice([70, 30]), 500).join(' ');
      assert.ok(!heavy.includes('s0 s0 s0 s0 s0'), heavy.slice(0, 80));
      const even = picks(choice([1, 1]), 500).join(' ');
      assert.ok(!even.includes('s0 s0 s0') && !even.includes('s1 s1 s1'), even.slice(0, 80));
    }
  });

  test('each phase starts elsewhere: a fresh sequence every three picks still gives a 90/10 split its share', () => {
    let light = 0;
    for (let swap = 0; swap < 1000; swap++) light += picks(choice([90, 10]), 3).filter((x) => x === 's1').length;
    // 10% of 3,000 is 300; one fixed starting phase would give every swap the same three picks
    assert.ok(light > 200 && light < 400, `light option got ${light} of 3000`);
  });

  test('one option: it, with no sequence to advance; weight 0 or every weight 0: none', () => {
    const one = choice([3]);
    assert.equal(one.cursor, null);
    assert.deepEqual(picks(one, 3), ['s0', 's0', 's0']);
    assert.deepEqual(picks(choice([0]), 2), ['none', 'none']);
    assert.deepEqual(picks(choice([0, 0]), 2), ['none', 'none']);
    assert.deepEqual(picks({ backends: [], totalWeight: 0, cursor: null }, 1), ['none']);
  });

  test('the cursor starts at the phase drawn and moves by the golden ratio, staying in [0, 1)', () => {
    const t = choice([1, 1], 0.9);
    assert.equal(t.cursor?.[0], 0.9);
    choose(t);
    assert.ok(Math.abs((t.cursor?.[0] as number) - (0.9 + (Math.sqrt(5) - 1) / 2 - 1)) < 1e-12);
    for (let i = 0; i < 1000; i++) {
      choose(t);
      assert.ok((t.cursor?.[0] as number) >= 0 && (t.cursor?.[0] as number) < 1);
    }
  });
});
