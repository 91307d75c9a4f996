/**
 * HTTPRoute and GRPCRoute filters as model policies: RequestHeaderModifier and
 * ResponseHeaderModifier become `headers`, RequestRedirect `redirect`, URLRewrite `rewrite`,
 * RequestMirror `mirror` (one per filter; its backendRef resolved like a backendRef: a mirror
 * that cannot be resolved is dropped and reported in ResolvedRefs, the rule still served), CORS
 * `cors` with the Gateway API's semantics. What Portico does not implement (ExtensionRef) makes
 * the rule invalid: it is not served and the route says so (PartiallyInvalid, or Accepted=False
 * when no rule is left), never served without the filter. Pure.
 */
import { isObject, str } from '../k8s.js';
import type { CorsPolicy, MirrorPolicy, PathRewrite, Policy } from '../types.js';
import { validHostname } from './hostnames.js';
import type { BackendObjectReference, HeaderModifier, HTTPRouteFilter, PathModifier } from './objects.js';
import type { RouteKind } from './listeners.js';

/** A mirror's backendRef, resolved by the caller: the backend id, or why it cannot be used (reason as ResolvedRefs names it). */
export type MirrorRef = (ref: BackendObjectReference) => { backend: string } | { reason: string; message: string };

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value as the API validates it (visible characters, single spaces and tabs inside): no CR, LF or other control byte. */
const VALUE = /^[\x21-\x7e\x80-\xff]+([\t ]?[\x21-\x7e\x80-\xff]+)*$|^$/;

function headerModifier(m: HeaderModifier | undefined, phase: 'request' | 'response'): Policy | { error: string } {
  if (!isObject(m)) return { error: `a ${phase} header modifier needs set, add or remove` };
  const seen = new Set<string>();
  const pairs = (list: unknown, what: string): [string, string][] | { error: string } => {
    const out: [string, string][] = [];
    for (const h of Array.isArray(list) ? list : []) {
      const name = isObject(h) ? str((h as { name?: unknown }).name) : '';
      const value = isObject(h) ? (h as { value?: unknown }).value : undefined;
      if (!TOKEN.test(name) || typeof value !== 'string' || !VALUE.test(value)) return { error: `${what}: ${JSON.stringify(h)} is not a valid header` };
      const lower = name.toLowerCase();
      if (seen.has(lower)) return { error: `header ${name} has more than one action` };
      seen.add(lower);
      out.push([lower, value]);
    }
    return out;
  };
  const set = pairs(m?.set, 'set');
  if ('error' in set) return set;
  const add = pairs(m?.add, 'add');
  if ('error' in add) return add;
  const remove: string[] = [];
  for (const r of Array.isArray(m?.remove) ? (m?.remove ?? []) : []) {
    const name = str(r);
    if (!TOKEN.test(name)) return { error: `remove: ${JSON.stringify(r)} is not a header name` };
    if (seen.has(name.toLowerCase())) return { error: `header ${name} has more than one action` };
    seen.add(name.toLowerCase());
    remove.push(name.toLowerCase());
  }
  return { kind: 'headers', phase, set, add, remove };
}

function pathRewrite(p: PathModifier | undefined): PathRewrite | { error: string } | undefined {
  if (p === undefined) return undefined;
  if (!isObject(p)) return { error: 'path must be an object' };
  const type = str(p.type);
  if (type === 'ReplaceFullPath' && typeof p.replaceFullPath === 'string' && (p.replaceFullPath.startsWith('/') || p.replaceFullPath === '')) return { type: 'full', value: p.replaceFullPath || '/' };
  // the matched prefix is bound per route (a prefix replacement needs exactly one PathPrefix match)
  if (type === 'ReplacePrefixMatch' && typeof p.replacePrefixMatch === 'string') return { type: 'prefix', prefix: '', value: p.replacePrefixMatch };
  return { error: `path modifier ${JSON.stringify(p)} is not valid` };
}

/** RequestMirror: the share of requests (percent, or fraction numerator/denominator; neither: all). */
function mirrorPolicy(m: HTTPRouteFilter['requestMirror'], resolve: MirrorRef): { policy: MirrorPolicy | null; problem?: { reason: string; message: string } } | { error: string } {
  if (!isObject(m) || !isObject(m?.backendRef)) return { error: 'RequestMirror needs requestMirror.backendRef' };
  const int = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
  let numerator = 1;
  let denominator = 1;
  if (m?.percent !== undefined && m.fraction !== undefined) return { error: 'a RequestMirror may have percent or fraction, not both' };
  if (m?.percent !== undefined) {
    if (!int(m.percent) || m.percent < 0 || m.percent > 100) return { error: `RequestMirror percent ${JSON.stringify(m.percent)} is not a whole number from 0 to 100` };
    [numerator, denominator] = m.percent === 100 ? [1, 1] : [m.percent, 100];
  } else if (m?.fraction !== undefined) {
    const f = m.fraction;
    const n = isObject(f) ? f?.numerator : undefined;
    const d = isObject(f) ? (f?.denominator ?? 100) : undefined;
    if (!int(n) || !int(d) || n < 0 || d < 1 || n > d) return { error: `RequestMirror fraction ${JSON.stringify(f)} is not numerator <= denominator (denominator at least 1)` };
    [numerator, denominator] = n === d ? [1, 1] : [n, d];
  }
  const r = resolve(m?.backendRef as BackendObjectReference);
  // an unresolved mirror is dropped, not the rule (the spec: "not configure this backend"); ResolvedRefs says why
  if ('reason' in r) return { policy: null, problem: r };
  // a backend its BackendTLSPolicy cannot reach verified is not mirrored to (the policy's status says why)
  if (r.backend === '') return { policy: null };
  return { policy: { kind: 'mirror', backend: r.backend, body: true, numerator, denominator } };
}

const CORS_ORIGIN = /^https?:\/\/((\*\.)?([a-zA-Z0-9-]+\.)*[a-zA-Z0-9-]+|\*)(:[0-9]{1,5})?$/;
const CORS_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** HTTPCORSFilter as a cors policy with the Gateway API's semantics (model/types.ts CorsPolicy.gatewayApi). */
function corsPolicy(c: unknown): CorsPolicy | { error: string } {
  if (!isObject(c)) return { error: 'CORS needs cors' };
  const f = c as { allowOrigins?: unknown; allowMethods?: unknown; allowHeaders?: unknown; exposeHeaders?: unknown; allowCredentials?: unknown; maxAge?: unknown };
  const list = (v: unknown, what: string, ok: (s: string) => boolean): string[] | { error: string } => {
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) return { error: `cors.${what} must be a list` };
    const out: string[] = [];
    for (const x of v) {
      if (typeof x !== 'string' || !ok(x)) return { error: `cors.${what}: ${JSON.stringify(x)} is not valid` };
      if (!out.includes(x)) out.push(x);
    }
    if (out.includes('*') && out.length > 1) return { error: `cors.${what} cannot contain "*" alongside other values` };
    return out;
  };
  const origins = list(f.allowOrigins, 'allowOrigins', (s) => s === '*' || (s.length <= 253 && CORS_ORIGIN.test(s) && Number(/:([0-9]+)$/.exec(s)?.[1] ?? 1) <= 65535));
  if ('error' in origins) return origins;
  const methods = list(f.allowMethods, 'allowMethods', (s) => s === '*' || CORS_METHODS.has(s));
  if ('error' in methods) return methods;
  const headers = list(f.allowHeaders, 'allowHeaders', (s) => s === '*' || (s.length <= 256 && TOKEN.test(s)));
  if ('error' in headers) return headers;
  const expose = list(f.exposeHeaders, 'exposeHeaders', (s) => s === '*' || (s.length <= 256 && TOKEN.test(s)));
  if ('error' in expose) return expose;
  if (f.allowCredentials !== undefined && f.allowCredentials !== null && typeof f.allowCredentials !== 'boolean') return { error: 'cors.allowCredentials must be true or false' };
  const maxAge = f.maxAge === undefined || f.maxAge === null ? 5 : f.maxAge;
  if (typeof maxAge !== 'number' || !Number.isInteger(maxAge) || maxAge < 1 || maxAge > 2_147_483_647) return { error: `cors.maxAge ${JSON.stringify(f.maxAge)} is not a whole number of seconds, at least 1` };
  return {
    kind: 'cors',
    origins: origins.includes('*') ? '*' : origins.map((o) => o.toLowerCase()),
    methods: methods.join(', '),
    headers: headers.join(', '),
    exposeHeaders: expose.join(', '),
    credentials: f.allowCredentials === true,
    maxAge,
    gatewayApi: true,
  };
}

/**
 * Turns a rule's filters into policies, or says why the rule cannot be served. `problem`: a mirror
 * whose backendRef could not be resolved (dropped; the route's ResolvedRefs condition says why).
 */
export function filterPolicies(filters: readonly HTTPRouteFilter[], kind: RouteKind, mirror: MirrorRef): { policies: Policy[]; problem: { reason: string; message: string } | null } | { error: string } {
  const policies: Policy[] = [];
  let problem: { reason: string; message: string } | null = null;
  const seen = new Set<string>();
  for (const f of filters) {
    if (!isObject(f)) return { error: 'a filter must be an object' };
    const type = str(f.type);
    if (seen.has(type) && type !== 'RequestMirror' && type !== 'ExtensionRef') return { error: `the ${type} filter cannot be repeated` };
    seen.add(type);
    switch (type) {
      case 'RequestHeaderModifier':
      case 'ResponseHeaderModifier': {
        const p = headerModifier(type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier, type === 'RequestHeaderModifier' ? 'request' : 'response');
        if ('error' in p) return p;
        policies.push(p);
        break;
      }
      case 'RequestRedirect': {
        if (kind !== 'HTTPRoute') return { error: 'RequestRedirect is an HTTPRoute filter' };
        const r = f.requestRedirect;
        if (!isObject(r)) return { error: 'RequestRedirect needs requestRedirect' };
        const scheme = r?.scheme === undefined ? undefined : str(r.scheme);
        if (scheme !== undefined && scheme !== 'http' && scheme !== 'https') return { error: `redirect scheme ${JSON.stringify(scheme)} is not supported` };
        const status = r?.statusCode === undefined ? 302 : r.statusCode;
        if (![301, 302, 303, 307, 308].includes(status as number)) return { error: `redirect statusCode ${JSON.stringify(status)} is not supported` };
        if (r?.hostname !== undefined && (!validHostname(r.hostname) || r.hostname.startsWith('*'))) return { error: `redirect hostname ${JSON.stringify(r.hostname)} is not valid` };
        if (r?.port !== undefined && !(typeof r.port === 'number' && Number.isInteger(r.port) && r.port > 0 && r.port < 65536)) return { error: `redirect port ${JSON.stringify(r.port)} is not valid` };
        const path = pathRewrite(r?.path);
        if (path !== undefined && 'error' in path) return path;
        policies.push({ kind: 'redirect', status: status as number, ...(scheme !== undefined ? { scheme } : {}), ...(r?.hostname !== undefined ? { hostname: r.hostname } : {}), ...(r?.port !== undefined ? { port: r.port } : {}), ...(path !== undefined ? { path } : {}) });
        break;
      }
      case 'URLRewrite': {
        if (kind !== 'HTTPRoute') return { error: 'URLRewrite is an HTTPRoute filter' };
        const u = f.urlRewrite;
        if (!isObject(u)) return { error: 'URLRewrite needs urlRewrite' };
        if (u?.hostname !== undefined && (!validHostname(u.hostname) || u.hostname.startsWith('*'))) return { error: `rewrite hostname ${JSON.stringify(u.hostname)} is not valid` };
        const path = pathRewrite(u?.path);
        if (path !== undefined && 'error' in path) return path;
        policies.push({ kind: 'rewrite', ...(u?.hostname !== undefined ? { hostname: u.hostname } : {}), ...(path !== undefined ? { path } : {}) });
        break;
      }
      case 'RequestMirror': {
        const m = mirrorPolicy(f.requestMirror, mirror);
        if ('error' in m) return m;
        if (m.policy !== null) policies.push(m.policy);
        if (m.problem !== undefined) problem ??= m.problem;
        break;
      }
      case 'CORS': {
        if (kind !== 'HTTPRoute') return { error: 'CORS is an HTTPRoute filter' };
        const c = corsPolicy(f.cors);
        if ('error' in c) return c;
        policies.push(c);
        break;
      }
      case 'ExtensionRef':
        return { error: 'ExtensionRef filters are not supported' };
      default:
        return { error: `filter type ${JSON.stringify(type)} is not supported` };
    }
  }
  if (seen.has('RequestRedirect') && seen.has('URLRewrite')) return { error: 'RequestRedirect and URLRewrite cannot be used together' };
  return { policies, problem };
}

/** The filter types a backendRef may carry in Portico: the ones that act on the request as it is sent to that backend, or on its answer. */
const BACKEND_FILTERS = new Set(['RequestHeaderModifier', 'ResponseHeaderModifier', 'URLRewrite', 'RequestRedirect']);

/**
 * A backendRef's filters (HTTPBackendRef.filters: "executed if and only if the request is being
 * forwarded to the backend defined here") as policies, or why its rule cannot be served. A
 * RequestMirror, CORS or ExtensionRef filter on a backendRef is not supported (the rule is
 * invalid, never served without it).
 */
export function backendFilterPolicies(filters: unknown, kind: RouteKind): { policies: Policy[] } | { error: string } {
  if (filters === undefined || filters === null) return { policies: [] };
  if (!Array.isArray(filters)) return { error: 'backendRef filters must be a list' };
  for (const f of filters as unknown[]) {
    const type = isObject(f) ? str((f as { type?: unknown }).type) : '';
    if (isObject(f) && !BACKEND_FILTERS.has(type)) return { error: `${type === '' ? 'a filter without a type' : `the ${type} filter`} is not supported on a backendRef${type === 'RequestMirror' || type === 'CORS' ? ' (put it on the rule)' : ''}` };
  }
  const r = filterPolicies(filters as readonly HTTPRouteFilter[], kind, () => ({ reason: 'UnsupportedValue', message: 'no mirror on a backendRef' }));
  if ('error' in r) return { error: `backendRef filters: ${r.error}` };
  return { policies: r.policies };
}
