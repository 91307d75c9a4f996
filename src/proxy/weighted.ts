/**
 * The weighted choice of a backend, for HTTP routes (per request) and Layer 4 routes (per
 * connection or UDP flow) alike: a golden-ratio (Weyl) sequence from a random phase. Consecutive
 * picks are spread evenly over the weights, so any run of 500 splits to within two of the weights
 * and the backends interleave (70/30 is never seven in a row then three), where a random draw per
 * pick strays by tens (a 70/30 split over 500 came out 75/25 in a test run).
 *
 * Targets are compiled anew with every table, and so is this state: a sequence that restarted at
 * the same point on every swap would give the same backends the first picks of every table (with a
 * change every few requests, a 90/10 split sent nothing to the 10), so each starts at a random phase.
 */

/** Something chosen by weight (0: never chosen). */
export interface Weighted {
  readonly weight: number;
}

/** What the choice reads: the options in order, their total weight and the sequence's state. */
export interface WeightedChoice<T extends Weighted> {
  readonly backends: readonly T[];
  /** Sum of the weights (0: nothing can be chosen). */
  readonly totalWeight: number;
  /** Where the sequence is, in [0, 1) (null: fewer than two options, nothing to spread). */
  readonly cursor: Float64Array | null;
}

/** The golden ratio's fractional part: the step of the sequence. */
const GOLDEN = (Math.sqrt(5) - 1) / 2;

/** The sum of the weights: a compiled target's `totalWeight`. */
export const totalWeight = (backends: readonly Weighted[]): number => backends.reduce((n, b) => n + b.weight, 0);

/** A compiled target's `cursor`: a sequence at a random phase, for two options or more. */
export const createCursor = (count: number, random: () => number = Math.random): Float64Array | null => (count > 1 ? Float64Array.of(random()) : null);

/** One option by weight, advancing the sequence; one option: it, without arithmetic; undefined when every weight is 0. */
export function choose<T extends Weighted>(t: WeightedChoice<T>): T | undefined {
  const list = t.backends;
  if (list.length === 1) return (list[0] as T).weight > 0 ? list[0] : undefined;
  const cursor = t.cursor;
  if (t.totalWeight <= 0 || cursor === null) return undefined;
  let x = (cursor[0] as number) + GOLDEN;
  if (x >= 1) x -= 1;
  cursor[0] = x;
  let r = x * t.totalWeight;
  let last: T | undefined;
  for (const b of list) {
    if (b.weight <= 0) continue;
    last = b;
    r -= b.weight;
    if (r < 0) return b;
  }
  return last;
}
