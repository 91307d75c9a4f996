import { createBalancer, createPicker } from './balance.js';
import { compileCanary } from './canary.js';
import { compile } from '../router/compile.js';
import { sniOf } from '../model/upstream.js';
import { routeLabels } from '../metrics/metrics.js';
import { compilePolicies } from './policies/index.js';
import { compileRetry, DEFAULT_RETRY } from './policies/retry.js';
import { compileErrorPages } from './policies/error-pages.js';
const DEFAULT_BALANCE = { balancer: createBalancer(), algorithm: 'round_robin' };
/** Compiles one route of `ctx.table`. */
export function prepareRoute(route, ctx) {
    const s = route.settings;
    const material = s.sslSecret === undefined ? undefined : ctx.table.upstreamTls?.get(s.sslSecret);
    const target = (id, weight, balancing) => {
        // '' is an invalid Gateway API backendRef: its share answers 500 (exchange.ts)
        const backend = ctx.table.backends.get(id) ?? { id, namespace: route.source.namespace, service: '', port: '', protocol: 'HTTP', endpoints: [] };
        const o = { connectTimeout: s.connectTimeout, servername: sniOf(s, backend), verify: s.sslVerify, material, verifyDepth: s.sslVerifyDepth, ciphers: s.sslCiphers, protocols: s.sslProtocols };
        const tls = backend.protocol === 'HTTPS' || backend.protocol === 'GRPCS';
        const slot = ctx.endpoints.slot(backend);
        return {
            backend,
            slot,
            dispatch: ctx.pools.dispatch(backend.protocol, o),
            upgrade: ctx.pools.dispatch(tls ? 'HTTPS' : 'HTTP', o),
            weight,
            pick: createPicker(balancing, { ...(ctx.balance ?? DEFAULT_BALANCE), backend, slot, routePath: route.path }),
        };
    };
    const backends = route.backends.map((wb) => target(wb.backend, wb.weight, route.balancing));
    const labels = routeLabels(route, ctx.table);
    let canary = null;
    if (route.canary !== undefined) {
        const t = target(route.canary.backend, 1, route.canary.balancing);
        canary = { target: t, rule: compileCanary(route.canary), labels: { ...labels, service: t.backend.service, canaryOf: labels.service } };
    }
    const compiled = compilePolicies(route, ctx.env, ctx.table);
    const errors = route.policies.find((p) => p.kind === 'errorPages');
    return {
        ...labels,
        route,
        policies: compiled.request,
        response: compiled.response,
        outer: compiled.outer,
        // an error backend is picked round-robin, as ingress-nginx's default backend is
        errors: errors === undefined ? null : compileErrorPages(errors, (id) => target(id, 1, undefined)),
        retry: compileRetry(s, ctx.env.retry ?? DEFAULT_RETRY),
        backends,
        totalWeight: backends.reduce((n, b) => n + b.weight, 0),
        settings: s,
        canary,
        servicePort: backends[0]?.backend.port ?? '',
    };
}
/**
 * Compiles a whole table for serving: a matcher per listener port (80: the plain HTTP listener,
 * 443: HTTPS, and each Gateway listener port of its own; one matcher for both 80 and 443 while no
 * Gateway API route needs them apart), and every target they hold (for releasing what they stop
 * using). A route served on several ports is compiled once.
 */
export function compileTable(table, ctx) {
    const targets = [];
    const c = { ...ctx, table };
    const prepared = new Map();
    const prepare = (route) => {
        let t = prepared.get(route);
        if (t === undefined) {
            prepared.set(route, (t = prepareRoute(route, c)));
            targets.push(t);
        }
        return t;
    };
    const matchers = new Map();
    if (!table.routes.some((r) => r.ports !== undefined)) {
        const m = compile(table, prepare);
        matchers.set(80, m);
        matchers.set(443, m);
    }
    else {
        for (const port of new Set([80, 443, ...(table.listeners ?? []).map((l) => l.port)]))
            matchers.set(port, compile(table, prepare, port));
    }
    return { matchers, targets };
}
//# sourceMappingURL=route.js.map