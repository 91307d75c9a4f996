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
import { resolveBackend } from '../model/endpoints.js';
import { printDiagnostics, sameEndpoints, sameTable } from '../model/print.js';
import { createTranslator } from '../model/translate.js';
import { EMPTY_TABLE } from '../model/types.js';
/** After an endpoint patch, the full rebuild that refreshes diagnostics waits this long for quiet. */
export const SETTLE_MS = 1000;
const NO_PROBLEMS = { diagnostics: [] };
export function createPipeline(opts) {
    const { log } = opts;
    let pending = false;
    /** Whether a pending change needs a full rebuild; else only `dirtyServices` changed endpoints. */
    let needFull = false;
    const dirtyServices = new Set();
    let settle = null;
    let immediate = null;
    let started = false;
    /** When the oldest change not yet live was seen (for the propagation histogram). */
    let dirtySince = -1;
    let diagnostics = [];
    let references = { services: new Set(), secrets: new Set(), configMaps: new Set(), externalNames: new Set() };
    let reported = new Set();
    let rebuilds = 0;
    let gatewayStatus;
    const translator = createTranslator();
    /** The table last swapped in, and the live endpoint lists patched since (by backend id). */
    let current = EMPTY_TABLE;
    let patched = new Map();
    const liveEndpoints = (b) => patched.get(b.id) ?? b.endpoints;
    let liveView = null;
    /** The EndpointSlice fast path. */
    function patchEndpoints() {
        const t0 = performance.now();
        const table = current;
        // the index resolveBackend reads, for the changed Services only
        const services = new Map();
        const slices = new Map();
        for (const svc of dirtyServices) {
            const s = opts.store.get('Service', svc);
            if (s !== undefined)
                services.set(svc, s);
            slices.set(svc, opts.store.slicesOf(svc));
        }
        const index = { services, slices };
        dirtyServices.clear();
        const changed = new Map();
        for (const b of table.backends.values()) {
            // ExternalName backends follow DNS, service-upstream ones the Service's ClusterIP, not EndpointSlices (a full rebuild brings their changes)
            if (b.externalName !== undefined || b.serviceUpstream === true || !index.slices.has(`${b.namespace}/${b.service}`))
                continue;
            // a port the Ingress named by number is all digits; Service port names must contain a letter
            const port = /^\d+$/.test(b.port) ? Number(b.port) : b.port;
            const r = resolveBackend(index, b.namespace, b.service, port, b.id, b.protocol);
            if (!sameEndpoints(r.backend.endpoints, liveEndpoints(b)))
                changed.set(b.id, r.backend.endpoints);
        }
        const seen = dirtySince;
        dirtySince = -1;
        if (changed.size > 0) {
            for (const [id, eps] of changed)
                patched.set(id, eps);
            liveView = null;
            opts.patch?.(changed);
        }
        const seconds = (performance.now() - t0) / 1000;
        const m = opts.metrics;
        m?.rebuild(changed.size > 0 ? 'patched' : 'unchanged', seconds);
        if (changed.size > 0 && seen >= 0)
            m?.propagation((performance.now() - seen) / 1000);
        log.info({ durationMs: +(seconds * 1000).toFixed(2), backends: changed.size }, changed.size > 0 ? 'endpoints patched' : 'endpoints unchanged');
        // diagnostics (NoEndpoints), Events and the table metrics follow in a full rebuild once quiet
        if (settle !== null)
            clearTimeout(settle);
        settle = setTimeout(() => {
            settle = null;
            needFull = true;
            schedule();
        }, SETTLE_MS);
        settle.unref();
    }
    function rebuild() {
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
        }
        catch (err) {
            m?.rebuild('failed', (performance.now() - t0) / 1000);
            log.error({ err: err.stack }, 'rebuild failed; keeping the last good table');
            return;
        }
        const source = opts.sourceStatus?.() ?? NO_PROBLEMS;
        diagnostics = source.diagnostics.length === 0 ? result.diagnostics : [...source.diagnostics, ...result.diagnostics];
        references = result.references;
        gatewayStatus = result.gateway;
        m?.config(source);
        // each distinct diagnostic is logged once while it lasts: problems as warnings, notes at info
        const now = new Set();
        for (const d of result.diagnostics) {
            const [line = ''] = printDiagnostics([d]);
            now.add(line);
            if (reported.has(line))
                continue;
            if (d.severity === 'info')
                log.info({ diagnostic: line }, 'configuration note');
            else
                log.warn({ diagnostic: line }, 'configuration problem');
        }
        reported = now;
        const byReason = new Map();
        for (const d of diagnostics)
            byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
        if (rebuilds > 0 && sameTable(result.table, current, liveEndpoints)) {
            opts.onRebuilt?.();
            m?.rebuild('unchanged', (performance.now() - t0) / 1000);
            m?.table({ routes: result.table.routes.length, backends: result.table.backends.size, endpoints: countEndpoints(result.table), diagnostics: byReason });
            log.info({ durationMs: +(performance.now() - t0).toFixed(2), diagnostics: diagnostics.length }, 'rebuild: table unchanged');
            return;
        }
        current = result.table;
        patched = new Map();
        liveView = null;
        opts.swap(result.table);
        rebuilds++;
        const t = result.table;
        const endpoints = countEndpoints(t);
        const seconds = (performance.now() - t0) / 1000;
        m?.rebuild('swapped', seconds);
        m?.table({ routes: t.routes.length, backends: t.backends.size, endpoints, diagnostics: byReason });
        if (seen >= 0)
            m?.propagation((performance.now() - seen) / 1000);
        opts.onRebuilt?.();
        log.info({ durationMs: +(seconds * 1000).toFixed(2), routes: t.routes.length, backends: t.backends.size, endpoints, diagnostics: diagnostics.length }, 'routing table swapped');
    }
    function schedule(endpointsOf) {
        if (dirtySince < 0)
            dirtySince = performance.now();
        if (endpointsOf === undefined || endpointsOf === '')
            needFull = true;
        else if (!needFull)
            dirtyServices.add(endpointsOf);
        // before the first rebuildNow() (the end of the initial read or list) changes only accumulate:
        // a 10,000-Ingress start-up must not translate once per listed kind
        if (pending || !started)
            return;
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
            if (liveView !== null)
                return liveView;
            if (patched.size === 0)
                return (liveView = current);
            const backends = new Map();
            for (const [id, b] of current.backends)
                backends.set(id, patched.has(id) ? { ...b, endpoints: liveEndpoints(b) } : b);
            return (liveView = { ...current, backends });
        },
        references: () => references,
    };
}
function countEndpoints(t) {
    let n = 0;
    for (const b of t.backends.values())
        n += b.endpoints.length;
    return n;
}
//# sourceMappingURL=pipeline.js.map