/**
 * Hot-path counters and histograms that prom-client's registry exposes. prom-client's own
 * `labels(...).observe()` validates and hashes the label set on every call; these take a series
 * handle resolved once (per route target) and cost an increment and a short bucket scan.
 */
import type { Registry } from 'prom-client';

interface Value {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

interface Family<S> {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly aggregator: 'sum';
  /** The series for these label values (in labelNames order), created on first use. */
  series(values: readonly string[]): S;
  get(): Promise<{ name: string; help: string; type: string; aggregator: 'sum'; values: Value[] }>;
}

export interface CounterSeries {
  readonly labels: Record<string, string>;
  value: number;
}

export interface HistogramSeries {
  readonly labels: Record<string, string>;
  /** Per-bucket (non-cumulative) counts; the last slot is +Inf. */
  readonly counts: Float64Array;
  readonly bounds: readonly number[];
  sum: number;
  count: number;
}

/** Records one observation: a scan over at most a dozen bounds, no allocation. */
export function observe(h: HistogramSeries, v: number): void {
  const b = h.bounds;
  let i = 0;
  while (i < b.length && v > (b[i] as number)) i++;
  h.counts[i]!++;
  h.sum += v;
  h.count++;
}

function labelsOf(names: readonly string[], values: readonly string[]): Record<string, string> {
  const o: Record<string, string> = {};
  names.forEach((n, i) => (o[n] = values[i] ?? ''));
  return o;
}

function family<S extends { labels: Record<string, string> }>(
  registry: Registry,
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  labelNames: readonly string[],
  make: (labels: Record<string, string>) => S,
  values: (s: S) => Value[],
): Family<S> {
  const all = new Map<string, S>();
  const f: Family<S> = {
    name,
    help,
    type,
    aggregator: 'sum',
    series(vals) {
      const key = vals.join('\u0000');
      let s = all.get(key);
      if (s === undefined) all.set(key, (s = make(labelsOf(labelNames, vals))));
      return s;
    },
    async get() {
      const out: Value[] = [];
      for (const s of all.values()) out.push(...values(s));
      return { name, help, type, aggregator: 'sum', values: out };
    },
  };
  registry.registerMetric(f as unknown as Parameters<Registry['registerMetric']>[0]);
  return f;
}

export function fastCounter(registry: Registry, name: string, help: string, labelNames: readonly string[]): Family<CounterSeries> {
  return family(registry, name, help, 'counter', labelNames, (labels) => ({ labels, value: 0 }), (s) => [{ labels: s.labels, value: s.value }]);
}

export function fastHistogram(registry: Registry, name: string, help: string, labelNames: readonly string[], bounds: readonly number[]): Family<HistogramSeries> {
  return family(
    registry,
    name,
    help,
    'histogram',
    labelNames,
    (labels) => ({ labels, counts: new Float64Array(bounds.length + 1), bounds, sum: 0, count: 0 }),
    (s) => {
      const out: Value[] = [];
      let acc = 0;
      bounds.forEach((le, i) => {
        acc += s.counts[i] as number;
        out.push({ labels: { ...s.labels, le }, value: acc, metricName: `${name}_bucket` });
      });
      out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
      out.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
      out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
      return out;
    },
  );
}
