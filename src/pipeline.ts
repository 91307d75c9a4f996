/**
 * store --dirty--> coalesce --> translate --> (same as running? stop) --> compile --> one assignment.
 * Bursts of changes in one turn of the event loop cost one rebuild. A rebuild that throws keeps
 * the last good table.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from './log.js';
import { printDiagnostics, sameTable } from './model/print.js';
import { translate, type TranslateOptions } from './model/translate.js';
import type { Diagnostic, RouteTable, Translation } from './model/types.js';
import type { Metrics } from './metrics/metrics.js';
import { compile, type Matcher } from './router/compile.js';
import type { Store } from './store.js';

export interface Pipeline {
  /** Marks the store dirty; a rebuild runs on the next turn of the event loop. */
  schedule(): void;
  /** Rebuilds now (start-up, tests). */
  rebuildNow(): void;
  readonly diagnostics: () => readonly Diagnostic[];
  /** Services and Secrets the last translation referred to (for the relevance filter). */
  readonly references: () => Translation['references'];
}

export interface PipelineOptions {
  readonly store: Store;
  /** Called before each translation: options may carry the current time. */
  readonly translateOptions: () => TranslateOptions;
  readonly log: Logger;
  /** Receives each new matcher; must only assign it. */
  readonly swap: (m: Matcher) => void;
  readonly current: () => RouteTable;
  readonly metrics: Metrics | null;
  /** Called after every successful translation, swapped or not (status and Events follow it). */
  readonly onRebuilt?: () => void;
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const { log } = opts;
  let pending = false;
  /** When the oldest change not yet live was seen (for the propagation histogram). */
  let dirtySince = -1;
  let diagnostics: readonly Diagnostic[] = [];
  let references: Translation['references'] = { services: new Set(), secrets: new Set() };
  let reported = new Set<string>();
  let rebuilds = 0;

  function rebuild(): void {
    pending = false;
    const t0 = performance.now();
    const seen = dirtySince;
    dirtySince = -1;
    const m = opts.metrics;
    let result;
    try {
      result = translate(opts.store.snapshot(), opts.translateOptions());
    } catch (err) {
      m?.rebuild('failed', (performance.now() - t0) / 1000);
      log.error({ err: (err as Error).stack }, 'rebuild failed; keeping the last good table');
      return;
    }
    diagnostics = result.diagnostics;
    references = result.references;
    const now = new Set(printDiagnostics(result.diagnostics));
    for (const d of now) if (!reported.has(d)) log.warn({ diagnostic: d }, 'configuration problem');
    reported = now;
    const byReason = new Map<string, number>();
    for (const d of result.diagnostics) byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
    if (rebuilds > 0 && sameTable(result.table, opts.current())) {
      opts.onRebuilt?.();
      m?.rebuild('unchanged', (performance.now() - t0) / 1000);
      m?.table({ routes: result.table.routes.length, backends: result.table.backends.size, endpoints: countEndpoints(result.table), diagnostics: byReason });
      log.info({ durationMs: +(performance.now() - t0).toFixed(2), diagnostics: result.diagnostics.length }, 'rebuild: table unchanged');
      return;
    }
    opts.swap(compile(result.table));
    rebuilds++;
    const t = result.table;
    const endpoints = countEndpoints(t);
    const seconds = (performance.now() - t0) / 1000;
    m?.rebuild('swapped', seconds);
    m?.table({ routes: t.routes.length, backends: t.backends.size, endpoints, diagnostics: byReason });
    if (seen >= 0) m?.propagation((performance.now() - seen) / 1000);
    opts.onRebuilt?.();
    log.info(
      { durationMs: +(seconds * 1000).toFixed(2), routes: t.routes.length, backends: t.backends.size, endpoints, diagnostics: result.diagnostics.length },
      'routing table swapped',
    );
  }

  return {
    schedule() {
      if (dirtySince < 0) dirtySince = performance.now();
      if (pending) return;
      pending = true;
      setImmediate(rebuild);
    },
    rebuildNow: rebuild,
    diagnostics: () => diagnostics,
    references: () => references,
  };
}

function countEndpoints(t: RouteTable): number {
  let n = 0;
  for (const b of t.backends.values()) n += b.endpoints.length;
  return n;
}
