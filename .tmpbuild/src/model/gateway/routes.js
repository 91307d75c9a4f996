import { isObject, str } from '../k8s.js';
import { patternProblem } from '../regex.js';
import { effectiveHostnames, validHostname } from './hostnames.js';
import { GATEWAY_GROUP } from './objects.js';
import { filterPolicies } from './filters.js';
import { condition } from './status.js';
const gen = (o) => (typeof o.metadata?.generation === 'number' ? o.metadata.generation : 0);
/**
 * Attaches one route to its parents and returns its status and the model routes of its valid
 * rules (one per listener port, hostname, rule and match).
 */
export function translateRoute(b, kind, obj, listenersOf, grants) {
    const ns = str(obj.metadata?.namespace);
    const name = str(obj.metadata?.name);
    const generation = gen(obj);
    const origin = { kind, namespace: ns, name };
    const spec = isObject(obj.spec) ? obj.spec : undefined;
    const hostnames = (Array.isArray(spec?.hostnames) ? (spec?.hostnames ?? []) : []).filter(validHostname);
    const parents = [];
    const candidates = [];
    // rules, checked once for every parent
    const rules = readRules(b, kind, obj, grants);
    const refsProblem = rules.find((r) => r.refProblem !== null)?.refProblem ?? null;
    const invalidRules = rules.filter((r) => r.invalid !== null);
    for (const p of Array.isArray(spec?.parentRefs) ? (spec?.parentRefs ?? []) : []) {
        if (!isObject(p))
            continue;
        const ref = p;
        const group = ref.group === undefined ? GATEWAY_GROUP : str(ref.group);
        const pkind = ref.kind === undefined ? 'Gateway' : str(ref.kind);
        if (group !== GATEWAY_GROUP || pkind !== 'Gateway')
            continue; // not a parent Portico implements
        const gwNs = str(ref.namespace) || ns;
        const listeners = listenersOf(gwNs, str(ref.name));
        if (listeners === undefined)
            continue; // not a Gateway of Portico's classes: no status from Portico
        const parentRef = { group, kind: pkind, ...(ref.namespace !== undefined ? { namespace: gwNs } : {}), name: str(ref.name), ...(ref.sectionName !== undefined ? { sectionName: str(ref.sectionName) } : {}), ...(typeof ref.port === 'number' ? { port: ref.port } : {}) };
        const conds = [];
        const selected = listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
        const allowed = selected.filter((l) => l.kinds.includes(kind) && l.allows(ns));
        const attached = allowed.map((l) => ({ l, hosts: effectiveHostnames(l.hostname, hostnames) })).filter((a) => a.hosts.length > 0);
        if (selected.length === 0)
            conds.push(condition('Accepted', false, 'NoMatchingParent', `no listener of Gateway ${gwNs}/${parentRef.name} matches ${ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : ''}${ref.port !== undefined ? ` port ${ref.port}` : ''}`.trim(), generation));
        else if (allowed.length === 0)
            conds.push(condition('Accepted', false, 'NotAllowedByListeners', `no listener of Gateway ${gwNs}/${parentRef.name} allows ${kind}s from namespace ${ns}`, generation));
        else if (attached.length === 0)
            conds.push(condition('Accepted', false, 'NoMatchingListenerHostname', `no hostname of the route intersects a listener hostname of Gateway ${gwNs}/${parentRef.name}`, generation));
        else if (invalidRules.length === rules.length && rules.length > 0)
            conds.push(condition('Accepted', false, 'UnsupportedValue', (invalidRules[0]?.invalid).message, generation));
        else {
            conds.push(condition('Accepted', true, 'Accepted', 'the route is attached', generation));
            for (const a of attached) {
                a.l.attached++;
                if (!a.l.valid)
                    continue;
                for (const host of a.hosts)
                    for (const r of rules)
                        if (r.invalid === null)
                            for (const [i, route] of r.routes.entries())
                                candidates.push({ route: { ...route, host, ports: [a.l.port] }, created: str(obj.metadata?.creationTimestamp), key: `${ns}/${name}`, rule: r.index, match: i });
            }
            if (invalidRules.length > 0)
                conds.push(condition('PartiallyInvalid', true, 'UnsupportedValue', `Dropped Rule(s): ${invalidRules.map((r) => `rules[${r.index}]: ${r.invalid.message}`).join('; ')}`, generation));
        }
        conds.push(refsProblem === null ? condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', generation) : condition('ResolvedRefs', false, refsProblem.reason, refsProblem.message, generation));
        parents.push({ parentRef, conditions: conds });
    }
    for (const r of invalidRules)
        b.report(origin, 'InvalidRoute', `rules[${r.index}]: ${r.invalid.message}; the rule is not served`);
    if (refsProblem !== null)
        b.report(origin, refsProblem.reason === 'RefNotPermitted' ? 'RefNotPermitted' : refsProblem.reason === 'BackendNotFound' ? 'ServiceNotFound' : 'InvalidBackend', refsProblem.message);
    return { status: parents.length === 0 ? null : { kind, namespace: ns, name, generation, parents }, candidates };
}
function readRules(b, kind, obj, grants) {
    const ns = str(obj.metadata?.namespace);
    const source = { kind, namespace: ns, name: str(obj.metadata?.name) };
    const raw = Array.isArray(obj.spec?.rules) ? (obj.spec?.rules ?? []) : [];
    // HTTPRoute's default: one rule matching every path (GRPCRoute has no default rule)
    const rules = raw.length === 0 && kind === 'HTTPRoute' ? [{}] : raw;
    return rules.map((rule, index) => {
        if (!isObject(rule))
            return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: 'a rule must be an object' }, refProblem: null };
        const backends = readBackends(b, kind, source, rule.backendRefs, grants);
        const filters = filterPolicies(Array.isArray(rule.filters) ? rule.filters : [], kind);
        if ('error' in filters)
            return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: filters.error }, refProblem: backends.problem };
        const unsupported = unsupportedFields(rule);
        if (unsupported !== null)
            return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: unsupported }, refProblem: backends.problem };
        const settings = kind === 'HTTPRoute' ? timeouts(rule.timeouts) : { settings: {} };
        if ('error' in settings)
            return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: settings.error }, refProblem: backends.problem };
        const matches = kind === 'HTTPRoute' ? httpMatches(rule.matches) : grpcMatches(rule.matches);
        if ('error' in matches)
            return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: matches.error }, refProblem: backends.problem };
        // a redirect answers itself; anything else without a valid backend answers 500
        const answers = filters.policies.some((p) => p.kind === 'redirect');
        const weighted = answers ? [] : backends.list.length === 0 ? [{ backend: '', weight: 1 }] : backends.list;
        const needsPrefix = filters.policies.some((p) => (p.kind === 'redirect' || p.kind === 'rewrite') && p.path?.type === 'prefix');
        if (needsPrefix && !(matches.list.length === 1 && matches.list[0]?.match === 'Prefix'))
            return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: 'a ReplacePrefixMatch path modifier needs exactly one PathPrefix match' }, refProblem: backends.problem };
        const routes = matches.list.map((m) => ({ host: '', path: m.path, match: m.match, ...(m.conditions !== undefined ? { conditions: m.conditions } : {}), source, policies: needsPrefix ? bindPrefix(filters.policies, m.path) : filters.policies, backends: weighted, settings: settings.settings }));
        return { index, routes, invalid: null, refProblem: backends.problem };
    });
}
/**
 * Rule fields Portico does not implement. They make the rule invalid (reported, not served) rather
 * than served without them: a header filter on one backend may be what keeps a request safe.
 */
function unsupportedFields(rule) {
    const fields = rule;
    const refs = Array.isArray(rule.backendRefs) ? rule.backendRefs : [];
    if (refs.some((r) => isObject(r) && Array.isArray(r.filters) && r.filters.length > 0))
        return 'filters on a backendRef are not supported (put them on the rule)';
    for (const field of ['retry', 'sessionPersistence'])
        if (fields[field] !== undefined && fields[field] !== null)
            return `${field} is not supported`;
    return null;
}
/** A prefix replacement replaces the path the rule matched: bound per route. */
function bindPrefix(policies, prefix) {
    return policies.map((p) => ((p.kind === 'redirect' || p.kind === 'rewrite') && p.path?.type === 'prefix' ? { ...p, path: { ...p.path, prefix } } : p));
}
/** backendRefs: Services by port; weight 0 takes nothing; an invalid one keeps its share as '' (500). */
function readBackends(b, kind, source, refs, grants) {
    const list = [];
    let problem = null;
    const origin = { kind, namespace: source.namespace, name: source.name };
    for (const ref of Array.isArray(refs) ? refs : []) {
        if (!isObject(ref))
            continue;
        const weight = ref.weight === undefined ? 1 : typeof ref.weight === 'number' && Number.isInteger(ref.weight) && ref.weight >= 0 ? ref.weight : 1;
        const group = str(ref.group);
        const bkind = ref.kind === undefined ? 'Service' : str(ref.kind);
        const name = str(ref.name);
        const ns = str(ref.namespace) || source.namespace;
        const invalid = (reason, message) => {
            problem ??= { reason, message };
            if (weight > 0)
                list.push({ backend: '', weight });
        };
        if (group !== '' || bkind !== 'Service') {
            invalid('InvalidKind', `backendRef ${group || 'core'}/${bkind} ${name}: only Services are supported`);
            continue;
        }
        if (!grants.allows({ group: GATEWAY_GROUP, kind, namespace: source.namespace }, { group: '', kind: 'Service', namespace: ns, name })) {
            invalid('RefNotPermitted', `backendRef Service ${ns}/${name} is in another namespace and no ReferenceGrant there allows it`);
            continue;
        }
        if (typeof ref.port !== 'number' || !Number.isInteger(ref.port) || ref.port < 1 || ref.port > 65535) {
            invalid('UnsupportedValue', `backendRef Service ${ns}/${name} needs a port`);
            continue;
        }
        const protocol = kind === 'GRPCRoute' ? 'GRPC' : 'HTTP';
        const id = `${ns}/${name}:${ref.port}${protocol === 'GRPC' ? '+grpc' : ''}`;
        b.backend(id, ns, name, ref.port, origin, protocol);
        if (b.serviceMissing(ns, name)) {
            invalid('BackendNotFound', `backendRef Service ${ns}/${name} not found`);
            continue;
        }
        if (weight > 0)
            list.push({ backend: id, weight });
    }
    return { list, problem };
}
const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];
function valueMatches(list, what, lower) {
    const out = [];
    const seen = new Set();
    for (const v of Array.isArray(list) ? list : []) {
        if (!isObject(v))
            return { error: `${what} matches must be objects` };
        const type = v.type === undefined ? 'Exact' : str(v.type);
        const name = lower ? str(v.name).toLowerCase() : str(v.name);
        if (name === '' || typeof v.value !== 'string')
            return { error: `a ${what} match needs a name and a value` };
        if (type !== 'Exact' && type !== 'RegularExpression')
            return { error: `${what} match type ${JSON.stringify(type)} is not supported` };
        if (type === 'RegularExpression') {
            const p = patternProblem(v.value);
            if (p !== null)
                return { error: `${what} ${name}: ${p}` };
        }
        if (seen.has(name))
            continue; // the first of a repeated name counts
        seen.add(name);
        out.push({ type, name, value: v.value });
    }
    return out;
}
function httpMatches(matches) {
    const list = Array.isArray(matches) && matches.length > 0 ? matches : [{}];
    const out = [];
    for (const m of list) {
        if (!isObject(m))
            return { error: 'a match must be an object' };
        const type = m.path?.type === undefined ? 'PathPrefix' : str(m.path.type);
        const value = m.path?.value === undefined ? '/' : str(m.path.value);
        let match;
        if (type === 'Exact' || type === 'PathPrefix') {
            if (!value.startsWith('/') || !PATH_CHARS.test(value) || /\/\/|\/\.\.?(\/|$)|%2f/i.test(value))
                return { error: `path ${JSON.stringify(value)} is not a valid path` };
            match = type === 'Exact' ? 'Exact' : 'Prefix';
        }
        else if (type === 'RegularExpression') {
            const p = patternProblem(value);
            if (p !== null)
                return { error: `path ${JSON.stringify(value)}: ${p}` };
            match = 'Regex';
        }
        else
            return { error: `path match type ${JSON.stringify(type)} is not supported` };
        const headers = valueMatches(m.headers, 'header', true);
        if ('error' in headers)
            return headers;
        const query = valueMatches(m.queryParams, 'query parameter', false);
        if ('error' in query)
            return query;
        let method;
        if (m.method !== undefined) {
            if (!METHODS.includes(str(m.method)))
                return { error: `method ${JSON.stringify(m.method)} is not supported` };
            method = str(m.method);
        }
        const conditions = method === undefined && headers.length === 0 && query.length === 0 ? undefined : { ...(method !== undefined ? { method } : {}), ...(headers.length > 0 ? { headers } : {}), ...(query.length > 0 ? { query } : {}) };
        out.push({ path: value, match, conditions });
    }
    return { list: out };
}
/** GRPCRoute matches: service and method become the request path `/<service>/<method>`. */
function grpcMatches(matches) {
    const list = Array.isArray(matches) && matches.length > 0 ? matches : [{}];
    const out = [];
    for (const m of list) {
        if (!isObject(m))
            return { error: 'a match must be an object' };
        const headers = valueMatches(m.headers, 'header', true);
        if ('error' in headers)
            return headers;
        const conditions = headers.length === 0 ? undefined : { headers };
        const method = isObject(m.method) ? m.method : undefined;
        const service = str(method?.service);
        const name = str(method?.method);
        const type = method?.type === undefined ? 'Exact' : str(method?.type);
        if (method === undefined || (service === '' && name === '')) {
            out.push({ path: '/', match: 'Prefix', conditions });
            continue;
        }
        if (type === 'Exact') {
            if (service !== '' && !/^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/.test(service))
                return { error: `service ${JSON.stringify(service)} is not a valid gRPC service name` };
            if (name !== '' && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(name))
                return { error: `method ${JSON.stringify(name)} is not a valid gRPC method name` };
            if (service !== '' && name !== '')
                out.push({ path: `/${service}/${name}`, match: 'Exact', conditions });
            else if (service !== '')
                out.push({ path: `/${service}/`, match: 'Prefix', conditions });
            else
                out.push({ path: `/[^/]+/${name}$`, match: 'Regex', conditions });
        }
        else if (type === 'RegularExpression') {
            const pattern = `/${service || '[^/]+'}/${name || '[^/]+'}$`;
            const p = patternProblem(pattern);
            if (p !== null)
                return { error: `method match: ${p}` };
            out.push({ path: pattern, match: 'Regex', conditions });
        }
        else
            return { error: `method match type ${JSON.stringify(type)} is not supported` };
    }
    return { list: out };
}
/** timeouts.request and timeouts.backendRequest (Gateway API durations); 0s disables. */
function timeouts(t) {
    if (!isObject(t))
        return { settings: {} };
    const read = (v, what) => {
        if (v === undefined)
            return undefined;
        const s = str(v);
        if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(s))
            return { error: `timeouts.${what} ${JSON.stringify(v)} is not a Gateway API duration` };
        let ms = 0;
        for (const [, n, unit] of s.matchAll(/([0-9]{1,5})(h|ms|m|s)/g))
            ms += Number(n) * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
        return ms;
    };
    const request = read(t.request, 'request');
    const backend = read(t.backendRequest, 'backendRequest');
    if (typeof request === 'object')
        return request;
    if (typeof backend === 'object')
        return backend;
    if (request !== undefined && request > 0 && backend !== undefined && backend > request)
        return { error: 'timeouts.backendRequest cannot be longer than timeouts.request' };
    return { settings: { ...(request !== undefined && request > 0 ? { requestTimeout: request } : {}), ...(backend !== undefined && backend > 0 ? { readTimeout: backend } : {}) } };
}
//# sourceMappingURL=routes.js.map