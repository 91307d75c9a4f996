/**
 * compile(table, prepare) -> Matcher: turns the flat route list into per-host lookup structures,
 * so that a request costs a few Map lookups whatever the table's size. `prepare` is the data
 * plane's: it turns each route into what serving it needs (compiled policies, backends, pools),
 * which the router carries without knowing it.
 *
 * Why not find-my-way (docs/architecture.md, bench/router.ts): Ingress matching is element-wise
 * with a length-then-Exact precedence over the *written* path, where `/foo` and `/foo/` are the
 * same prefix but different lengths, which find-my-way's static/parametric/wildcard priority cannot
 * express without merging routes ourselves; one router with host constraints holds at most 31
 * hosts per path; and one router per host measured 3.9x slower than this segment trie.
 */
import { compilePattern } from '../model/regex.js';
/** Splits a Prefix path into its elements, ignoring one trailing slash ("/" has none). */
export function prefixElements(path) {
    const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
    return trimmed === '' ? [] : trimmed.slice(1).split('/');
}
const values = (list, lower) => list === undefined || list.length === 0 ? null : list.map((v) => ({ name: lower ? v.name.toLowerCase() : v.name, exact: v.type === 'Exact' ? v.value : null, pattern: v.type === 'RegularExpression' ? compilePattern(v.value, 'full') : null }));
function candidate(route, action) {
    const c = route.conditions;
    return {
        route,
        action,
        length: route.path.length,
        lengthFirst: route.source.kind === 'Ingress' && route.match === 'Prefix',
        pattern: route.match === 'Regex' ? compilePattern(route.path, 'start', route.ignoreCase === true) : null,
        captures: route.match === 'Regex' && readsCaptures(route.policies),
        method: c?.method ?? null,
        headers: values(c?.headers, true),
        query: values(c?.query, false),
    };
}
/** Whether a policy reads a Regex route's captures: a path template with `$1`…`$9`. */
const readsCaptures = (policies) => policies.some((p) => (p.kind === 'rewrite' || p.kind === 'redirect') && /\$[1-9]/.test((p.path?.type === 'template' ? p.path.value : '') + (p.kind === 'rewrite' ? (p.forwardedPrefix ?? '') : '')));
const emptyHost = () => ({ exact: new Map(), prefix: { children: null, routes: null }, regex: null, general: false, fallback: null });
/** Whether a route is served on a listener port: Gateway API routes on their listeners' ports, Ingress routes on 80 and 443. */
export const servedOn = (r, port) => (r.ports === undefined ? port === 80 || port === 443 : r.ports.includes(port));
/**
 * Builds the lookup structures for a table, for the routes served on `port` (80: the plain HTTP
 * listener, 443: HTTPS; omitted: every route). Pure apart from `prepare`; the table is kept for
 * debug views.
 */
export function compile(table, prepare, port) {
    const exactHosts = new Map();
    const wildcardHosts = new Map();
    const deepWildcardHosts = new Map();
    let anyHost = null;
    const ingressPort = port === undefined || port === 80 || port === 443;
    const hostRoutes = (host, map) => {
        if (host === '')
            return (anyHost ??= emptyHost());
        const wild = host.charCodeAt(0) === 42; /* * */
        const m = map ?? (wild ? wildcardHosts : exactHosts);
        const key = wild ? host.slice(2) : host;
        let h = m.get(key);
        if (!h)
            m.set(key, (h = emptyHost()));
        return h;
    };
    // routes arrive sorted by host: consecutive routes share their HostRoutes
    let lastHost = null;
    let h = null;
    for (const r of table.routes) {
        if (port !== undefined && !servedOn(r, port))
            continue;
        if (r.host !== lastHost) {
            h = hostRoutes(r.host);
            lastHost = r.host;
        }
        const c = candidate(r, prepare(r));
        addRoute(h, c);
        // a Gateway API wildcard also covers hosts several labels down
        if (r.ports !== undefined && r.host.startsWith('*.'))
            addRoute(hostRoutes(r.host, deepWildcardHosts), c);
    }
    if (ingressPort)
        for (const [host, f] of table.hostFallbacks)
            hostRoutes(host).fallback = candidate(f, prepare(f));
    const defaultTarget = ingressPort && table.defaultBackend ? candidate(table.defaultBackend, prepare(table.defaultBackend)) : null;
    return { exactHosts, wildcardHosts, deepWildcardHosts, anyHost, defaultTarget, table };
}
/** Inserts keeping the list longest-first; equal lengths keep table order (the translator's precedence). */
function insert(list, c) {
    let i = list.length;
    while (i > 0 && list[i - 1].length < c.length)
        i--;
    list.splice(i, 0, c);
}
/**
 * Regex routes: longest first; of equal length, Ingress patterns in descending string order, as
 * ingress-nginx sorts its locations (the first `~*` location that matches wins in nginx).
 */
function insertRegex(list, c) {
    const ingress = c.route.source.kind === 'Ingress';
    let i = list.length;
    for (; i > 0; i--) {
        const prev = list[i - 1];
        if (prev.length > c.length || (prev.length === c.length && !(ingress && prev.route.source.kind === 'Ingress' && prev.route.path < c.route.path)))
            break;
    }
    list.splice(i, 0, c);
}
function addRoute(h, c) {
    if (c.method !== null || c.headers !== null || c.query !== null)
        h.general = true;
    const r = c.route;
    if (r.match === 'Exact') {
        const list = h.exact.get(r.path);
        if (list === undefined)
            h.exact.set(r.path, [c]);
        else
            list.push(c);
        return;
    }
    if (r.match === 'Regex') {
        h.general = true;
        insertRegex((h.regex ??= []), c);
        return;
    }
    let node = h.prefix;
    for (const el of prefixElements(r.path)) {
        node.children ??= new Map();
        let next = node.children.get(el);
        if (!next)
            node.children.set(el, (next = { children: null, routes: null }));
        node = next;
    }
    // `/foo` and `/foo/` end at the same element; the spec gives the longer written path priority.
    insert((node.routes ??= []), c);
}
//# sourceMappingURL=compile.js.map