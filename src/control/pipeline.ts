/**
 * store --dirty--> coalesce --> translate --> (same as running? stop) --> swap (the data plane
 * compiles it). Bursts of changes in one turn of the event loop cost one rebuild. A rebuild that
 * throws keeps the last good table.
 *
 * EndpointSlice changes take a fast path: only the backends of the Services they belong to are
 * re-resolved, and their new endpoint lists are handed to `patch` (no translation, no compile),
 * so a scaled or rolled Deployment serves from its new pods in about a millisecond whatever the
 * table's size. The pipeline keeps the live lists itself (the table is never modified): a full
 * rebuild compares with them, and follows {@link SETTLE_MS} later (debounced) to bring
 * diagnostics, Events and metrics up to date; it normally finds the table unchanged.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import { resolveBackend, type ServiceIndex } from '../model/endpoints.js';
import type { EndpointSlice, Service } from '../model/k8s.js';
import { printDiagnostics, sameEndpoints, sameTable } from '../model/print.js';
import { createTranslator, type TranslateOptions } from '../model/translate.js';
import { EMPTY_TABLE, type Backend, type Diagnostic, type Endpoint, type RouteTable, type Translation } from '../model/types.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Store } from './store.js';

/** After an endpoint patch, the full rebuild that refreshes diagnostics waits this long for quiet. */
export const SETTLE_MS = 1000;

import type { EndpointPatch } from '../model/endpoints.js';
import type { GatewayApiStatus } from '../model/gateway/status.js';

export type { EndpointPatch };

/**
 * What a source says about its input besides the objects it stores: problems with the input
 * itself (a file that does not parse, an object of an unknown kind), shown and counted with the
 * translator's diagnostics, and for files how many are valid.
 */
export interface SourceStatus {
  readonly diagnostics: readonly Diagnostic[];
  readonly files?: { readonly valid: number; readonly invalid: number };
}

const NO_PROBLEMS: SourceStatus = { diagnostics: [] };

export interface Pipeline {
  /**
   * Marks the store dirty; a rebuild runs on the next turn of the event loop (once rebuildNow()
   * has run: the initial read or list ends with it). `endpointsOf` (`namespace/service`) says only
   * that Service's EndpointSlices changed.
   */
  schedule(endpointsOf?: string): void;
  /** Rebuilds now (start-up, tests). */
  rebuildNow(): void;
  /** The source's diagnostics, then the translator's, as of the last rebuild. */
  readonly diagnostics: () => readonly Diagnostic[];
  /** The table last swapped in, with its live endpoint lists (patched since): what is serving. */
  readonly live: () => RouteTable;
  /** The Gateway API status of the last translation (undefined when the Gateway API is off). */
  readonly gateway: () => GatewayApiStatus | undefined;
  /** Services and Secrets the last translation referred to (for the relevance filter). */
  readonly references: () => Translation['references'];
}

export interface PipelineOptions {
  readonly store: Store;
  /** Called before each translation: options may carry the current time. */
  readonly translateOptions: () => TranslateOptions;
  readonly log: Logger;
  /** Receives each new table. */
  readonly swap: (t: RouteTable) => void;
  /** Replaces the endpoints of backends of the current table (the EndpointSlice fast path). */
  readonly patch?: (p: EndpointPatch) => void;
  readonly metrics: Metrics | null;
  /** Called after every successful translation, swapped or not (status and Events follow it). */
  readonly onRebuilt?: () => void;
  /**
   * The source's own problems, read at every rebuild (the source schedules one when they change).
   * The source logs them itself; the pipeline logs only the translator's.
   */
  readonly sourceStatus?: () => SourceStatus;
}

export function createPipeline(opts: PipelineOptions): Pipeline {
  const { log } = opts;
  let pending = false;
  /** Whether a pending change needs a full rebuild; else only `dirtyServices` changed endpoints. */
  let needFull = false;
  const dirtyServices = new Set<string>();
  let settle: NodeJS.Timeout | null = null;
  let immediate: NodeJS.Immediate | null = null;
  let started = false;
  /** When the oldest change not yet live was seen (for the propagation histogram). */
  let dirtySince = -1;
  let diagnostics: readonly Diagnostic[] = [];
  let references: Translation['references'] = { services: new Set(), secrets: new Set(), configMaps: new Set(), externalNames: new Set() };
  let reported = new Set<string>();
  let rebuilds = 0;
  let gatewayStatus: GatewayApiStatus | undefined;
  const translator = createTranslator();
  /** The table last swapped in, and the live endpoint lists patched since (by backend id). */
  let current: RouteTable = EMPTY_TABLE;
  let patched = new Map<string, readonly Endpoint[]>();
  const liveEndpoints = (b: Backend): readonly Endpoint[] => patched.get(b.id) ?? b.endpoints;
  let liveView: RouteTable | null = null;
  /** Endpoints in the live lists (the table's, patched since): the endpoints gauge. */
  let liveCount = 0;
  /** The current table's backends by Service (`namespace/name`), so a patch never walks the table. */
  let byService: { table: RouteTable; map: Map<string, Backend[]> } | null = null;
  const backendsOf = (table: RouteTable, svc: string): readonly Backend[] => {
    if (byService?.table !== table) {
      const map = new Map<string, Backend[]>();
      for (const b of table.backends.values()) {
        // ExternalName backends follow DNS, not EndpointSlices (a full rebuild brings their changes)
        if (b.externalName !== undefined) continue;
        const k = `${b.namespace}/${b.service}`;
        const list = map.get(k);
        if (list === undefined) map.set(k, [b]);
        else list.push(b);
      }
      byService = { table, map };
    }
    return byService.map.get(svc) ?? [];
  };

  /** The EndpointSlice fast path. */
  function patchEndpoints(): void {
    const t0 = performance.now();
    const table = current;
    // the index resolveBackend reads, for the changed Services only
    const services = new Map<string, Service>();
    const slices = new Map<string, EndpointSlice[]>();
    for (const svc of dirtyServices) {
      const s = opts.store.get('Service', svc);
      if (s !== undefined) services.set(svc, s as Service);
      slices.set(svc, opts.store.slicesOf(svc));
    }
    const index: ServiceIndex = { services, slices };
    dirtyServices.clear();
    const changed = new Map<string, readonly Endpoint[]>();
    /** Whether a backend gained its first endpoint or lost its last: its NoEndpoints diagnostic changes. */
    let emptiness = false;
    for (const svc of index.slices.keys()) {
      for (const b of backendsOf(table, svc)) {
        // service-upstream backends follow the Service's ClusterIP, not EndpointSlices (a full rebuild brings their changes)
        if (b.serviceUpstream === true) continue;
        // a port the Ingress named by number is all digits; Service port names must contain a letter
        const port = /^\d+$/.test(b.port) ? Number(b.port) : b.port;
        const r = resolveBackend(index, b.namespace, b.service, port, b.id, b.protocol);
        const before = liveEndpoints(b);
        if (sameEndpoints(r.backend.endpoints, before)) continue;
        changed.set(b.id, r.backend.endpoints);
        liveCount += r.backend.endpoints.length - before.length;
        if ((r.backend.endpoints.length === 0) !== (before.length === 0)) emptiness = true;
      }
    }
    const seen = dirtySince;
    dirtySince = -1;
    if (changed.size > 0) {
      for (const [id, eps] of changed) patched.set(id, eps);
      liveView = null;
      opts.patch?.(changed);
    }
    const seconds = (performance.now() - t0) / 1000;
    const m = opts.metrics;
    m?.rebuild(changed.size > 0 ? 'patched' : 'unchanged', seconds);
    m?.liveEndpoints(liveCount);
    if (changed.size > 0 && seen >= 0) m?.propagation((performance.now() - seen) / 1000);
    log.info({ durationMs: +(seconds * 1000).toFixed(2), backends: changed.size }, changed.size > 0 ? 'endpoints patched' : 'endpoints unchanged');
    // An EndpointSlice can change only one diagnostic: NoEndpoints, when a backend's list becomes
    // empty or stops being so. Only then does a full rebuild follow, once quiet, to bring
    // diagnostics and Events up to date: it blocks the event loop for as long as a rebuild takes
    // (about 100 ms at 10,000 Ingresses), and a rollout (one list of pods to another) gains nothing from it.
    if (!emptiness && settle === null) return;
    if (settle !== null) clearTimeout(settle);
    settle = setTimeout(() => {
      settle = null;
      needFull = true;
      schedule();
    }, SETTLE_MS);
    settle.unref();
  }

  function rebuild(): void {
    pending = false;
    // rebuildNow() while a scheduled rebuild waits covers it: the scheduled one must not run again
    if (immediate !== null) {
      clearImmediate(immediate);
      immediate = null;
    }
    if (!needFull && rebuilds > 0 && opts.patch !== undefined && dirtyServices.size > 0) {
      patchEndpoints();
      return;
    }
    needFull = false;
    dirtyServices.clear();
    if (settle !== null) {
      clearTimeout(settle);
      settle = null;
    }
    const t0 = performance.now();
    const seen = dirtySince;
    dirtySince = -1;
    const m = opts.metrics;
    let result;
    try {
      result = translator.translate(opts.store.snapshot(), opts.translateOptions());
    } catch (err) {
      m?.rebuild('failed', (performance.now() - t0) / 1000);
      log.error({ err: (err as Error).stack }, 'rebuild failed; keeping the last good table');
      return;
    }
    const source = opts.sourceStatus?.() ?? NO_PROBLEMS;
    diagnostics = source.diagnostics.length === 0 ? result.diagnostics : [...source.diagnostics, ...result.diagnostics];
    references = result.references;
    gatewayStatus = result.gateway;
    m?.config(source);
    // each distinct diagnostic is logged once while it lasts: problems as warnings, notes at info
    const now = new Set<string>();
    for (const d of result.diagnostics) {
      const [line = ''] = printDiagnostics([d]);
      now.add(line);
      if (reported.has(line)) continue;
      if (d.severity === 'info') log.info({ diagnostic: line }, 'configuration note');
      else log.warn({ diagnostic: line }, 'configuration problem');
    }
    reported = now;
    const byReason = new Map<string, number>();
    for (const d of diagnostics) byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
    if (rebuilds > 0 && sameTable(result.table, current, liveEndpoints)) {
      opts.onRebuilt?.();
      m?.rebuild('unchanged', (performance.now() - t0) / 1000);
      m?.table({ routes: result.table.routes.length, backends: result.table.backends.size, endpoints: liveCount, diagnostics: byReason });
      log.info({ durationMs: +(performance.now() - t0).toFixed(2), diagnostics: diagnostics.length }, 'rebuild: table unchanged');
      return;
    }
    current = result.table;
    patched = new Map();
    liveView = null;
    liveCount = countEndpoints(current);
    opts.swap(result.table);
    // indexed now, with the rebuild, rather than on the next EndpointSlice change's path
    if (opts.patch !== undefined) backendsOf(current, '');
    rebuilds++;
    const t = result.table;
    const endpoints = liveCount;
    const seconds = (performance.now() - t0) / 1000;
    m?.rebuild('swapped', seconds);
    m?.table({ routes: t.routes.length, backends: t.backends.size, endpoints, diagnostics: byReason });
    if (seen >= 0) m?.propagation((performance.now() - seen) / 1000);
    opts.onRebuilt?.();
    log.info(
      { durationMs: +(seconds * 1000).toFixed(2), routes: t.routes.length, backends: t.backends.size, endpoints, diagnostics: diagnostics.length },
      'routing table swapped',
    );
  }

  function schedule(endpointsOf?: string): void {
    if (dirtySince < 0) dirtySince = performance.now();
    if (endpointsOf === undefined || endpointsOf === '') needFull = true;
    else if (!needFull) dirtyServices.add(endpointsOf);
    // before the first rebuildNow() (the end of the initial read or list) changes only accumulate:
    // a 10,000-Ingress start-up must not translate once per listed kind
    if (pending || !started) return;
    pending = true;
    immediate = setImmediate(rebuild);
  }

  return {
    schedule,
    rebuildNow() {
      started = true;
      needFull = true;
      rebuild();
    },
    diagnostics: () => diagnostics,
    gateway: () => gatewayStatus,
    live() {
      if (liveView !== null) return liveView;
      if (patched.size === 0) return (liveView = current);
      const backends = new Map<string, Backend>();
      for (const [id, b] of current.backends) backends.set(id, patched.has(id) ? { ...b, endpoints: liveEndpoints(b) } : b);
      return (liveView = { ...current, backends });
    },
    references: () => references,
  };
}

function countEndpoints(t: RouteTable): number {
  let n = 0;
  for (const b of t.backends.values()) n += b.endpoints.length;
  return n;
}
