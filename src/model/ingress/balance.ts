/**
 * The canary, sticky-session and load-balancing annotations (`canary*`, `affinity*`,
 * `session-cookie-*`, `load-balance`, `upstream-hash-by*`), one small parser each. A bad value is
 * an InvalidAnnotation naming the annotation, and its default is kept (ingress-nginx drops the
 * whole Ingress for a bad `load-balance` or `upstream-hash-by`; Portico keeps the rest of it).
 */
import { show } from '../k8s.js';
import { parseHashBy } from '../nginx-vars.js';
import { patternProblem } from '../regex.js';
import type { Affinity, Balancing, Canary, DiagnosticReason } from '../types.js';

type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;
/** An annotation by its name after the prefix: its full key and value, if present. */
type Get = (name: string) => { key: string; value: unknown } | undefined;

/**
 * What a canary Ingress asks for: a {@link Canary} without what the translator adds when it merges
 * it into its main Ingress's route (the backend, the source, the balancing).
 */
export type CanaryAnnotations = Omit<Canary, 'backend' | 'source' | 'balancing'> & {
  /** `affinity-canary-behavior: legacy`: the canary does not take the main route's session affinity. */
  readonly legacy: boolean;
};

/** Annotations a canary Ingress may set (ingress-nginx reads only these from it; the main Ingress's apply to everything else). */
export const CANARY_HONOURED = /^(canary(-.*)?|affinity-canary-behavior|load-balance|upstream-hash-by(-subset(-size)?)?|service-upstream)$/;

/** RFC 9110 token: a header or cookie name. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const COUNT = /^\d{1,9}$/;

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim() : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

function token(get: Get, name: string, report: Report, what: string): string | undefined {
  const v = get(name);
  if (v === undefined) return undefined;
  const s = text(v.value);
  if (s !== undefined && s.length <= 256 && TOKEN.test(s)) return s;
  report('InvalidAnnotation', `${v.key}: expected ${what}, got ${show(v.value)}; ignored`);
  return undefined;
}

function count(get: Get, name: string, report: Report, min: number, fallback: string): number | undefined {
  const v = get(name);
  if (v === undefined) return undefined;
  const s = text(v.value);
  if (s !== undefined && COUNT.test(s) && Number(s) >= min) return Number(s);
  report('InvalidAnnotation', `${v.key}: expected a whole number${min > 0 ? ` of at least ${min}` : ''}, got ${show(v.value)}; ${fallback}`);
  return undefined;
}

function flag(get: Get, name: string, report: Report): boolean | undefined {
  const v = get(name);
  if (v === undefined) return undefined;
  const s = text(v.value);
  if (s === 'true' || s === 'false') return s === 'true';
  report('InvalidAnnotation', `${v.key}: expected "true" or "false", got ${show(v.value)}; ignored`);
  return undefined;
}

function choice<T extends string>(get: Get, name: string, report: Report, choices: readonly T[], fallback: string): T | undefined {
  const v = get(name);
  if (v === undefined) return undefined;
  const s = text(v.value)?.toLowerCase();
  if (s !== undefined && (choices as readonly string[]).includes(s)) return s as T;
  report('InvalidAnnotation', `${v.key}: expected ${choices.map((c) => `"${c}"`).join(' or ')}, got ${show(v.value)}; ${fallback}`);
  return undefined;
}

/**
 * `canary` and `canary-*`. Returns null for an Ingress that is not a canary; canary-* annotations
 * without `canary: "true"` are reported and ignored, and the Ingress is a normal one (ingress-nginx).
 */
export function parseCanary(get: Get, report: Report): CanaryAnnotations | null {
  const c = get('canary');
  const on = c !== undefined && (c.value === 'true' || c.value === true);
  if (c !== undefined && !on && c.value !== 'false' && c.value !== false) report('InvalidAnnotation', `${c.key}: expected "true" or "false", got ${show(c.value)}; the Ingress is not a canary`);
  const names = ['canary-weight', 'canary-weight-total', 'canary-by-header', 'canary-by-header-value', 'canary-by-header-pattern', 'canary-by-cookie'];
  if (!on) {
    const set = names.flatMap((n) => get(n)?.key ?? []);
    if (set.length > 0) report('InvalidAnnotation', `${set.join(', ')}: ignored, because the Ingress is not a canary (canary: "true" is missing); it is served as a normal Ingress`);
    return null;
  }
  const header = token(get, 'canary-by-header', report, 'a header name');
  const valueAnn = get('canary-by-header-value');
  let headerValue: string | undefined;
  if (valueAnn !== undefined) {
    const s = text(valueAnn.value);
    // eslint-disable-next-line no-control-regex
    if (s !== undefined && s !== '' && s.length <= 1024 && !/[\x00-\x1f\x7f]/.test(s)) headerValue = s;
    else report('InvalidAnnotation', `${valueAnn.key}: expected a header value, got ${show(valueAnn.value)}; ignored`);
  }
  const patternAnn = get('canary-by-header-pattern');
  let headerPattern: string | undefined;
  let headerPatternInvalid = false;
  if (patternAnn !== undefined) {
    const s = typeof patternAnn.value === 'string' ? patternAnn.value : undefined;
    const problem = s === undefined || s === '' ? 'the pattern is empty' : patternProblem(s);
    if (problem === null) headerPattern = s;
    else {
      headerPatternInvalid = true;
      report('InvalidAnnotation', `${patternAnn.key}: ${show(patternAnn.value)} is not an RE2 pattern (${problem}); a request carrying the header goes to the main backend`);
    }
  }
  const headerKey = get('canary-by-header')?.key ?? 'canary-by-header';
  if (header === undefined) {
    for (const a of [valueAnn, patternAnn]) if (a !== undefined) report('IgnoredAnnotation', `${a.key}: ignored without a valid ${headerKey}`, 'info');
  } else if (headerValue !== undefined && patternAnn !== undefined) {
    report('IgnoredAnnotation', `${patternAnn.key}: ignored, because ${valueAnn?.key ?? ''} is set (the exact value is compared, as ingress-nginx does)`, 'info');
  }
  const cookie = token(get, 'canary-by-cookie', report, 'a cookie name');
  const behavior = choice(get, 'affinity-canary-behavior', report, ['sticky', 'legacy'] as const, 'using sticky');
  return {
    weight: count(get, 'canary-weight', report, 0, 'using 0') ?? 0,
    total: count(get, 'canary-weight-total', report, 1, 'using 100') ?? 100,
    ...(header !== undefined ? { header: header.toLowerCase().replaceAll('_', '-') } : {}),
    ...(header !== undefined && headerValue !== undefined ? { headerValue } : {}),
    ...(header !== undefined && headerValue === undefined && headerPattern !== undefined ? { headerPattern } : {}),
    ...(header !== undefined && headerValue === undefined && headerPatternInvalid ? { headerPatternInvalid: true as const } : {}),
    ...(cookie !== undefined ? { cookie } : {}),
    legacy: behavior === 'legacy',
  };
}

const SAMESITE = { none: 'None', lax: 'Lax', strict: 'Strict' } as const;
/** session-cookie-path: ingress-nginx's URL characters; nothing that could end the attribute. */
const COOKIE_PATH = /^\/[-._~a-zA-Z0-9/:,?&=%]*$/;
const COOKIE_DOMAIN = /^\.?[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?$/;
const AFFINITY_KEYS = ['affinity-mode', 'session-cookie-name', 'session-cookie-path', 'session-cookie-domain', 'session-cookie-max-age', 'session-cookie-expires', 'session-cookie-samesite', 'session-cookie-conditional-samesite-none', 'session-cookie-secure', 'session-cookie-change-on-failure'];

/** `affinity: cookie` and the session-cookie-* annotations (read only with it, as ingress-nginx does). */
function parseAffinity(get: Get, report: Report): Affinity | undefined {
  const a = get('affinity');
  const on = a !== undefined && choice(get, 'affinity', report, ['cookie'] as const, 'no session affinity') === 'cookie';
  if (!on) {
    const set = AFFINITY_KEYS.flatMap((n) => get(n)?.key ?? []);
    if (set.length > 0) report('IgnoredAnnotation', `${set.join(', ')}: ignored without affinity: cookie`, 'info');
    return undefined;
  }
  const out: { -readonly [K in keyof Affinity]: Affinity[K] } = {
    mode: choice(get, 'affinity-mode', report, ['balanced', 'persistent'] as const, 'using balanced') ?? 'balanced',
    name: token(get, 'session-cookie-name', report, 'a cookie name') ?? 'INGRESSCOOKIE',
  };
  const path = get('session-cookie-path');
  if (path !== undefined) {
    const s = text(path.value);
    if (s !== undefined && s.length <= 1024 && COOKIE_PATH.test(s)) out.path = s;
    else report('InvalidAnnotation', `${path.key}: expected a path starting with "/", got ${show(path.value)}; using the route's path`);
  }
  const domain = get('session-cookie-domain');
  if (domain !== undefined) {
    const s = text(domain.value);
    if (s !== undefined && s.length <= 253 && COOKIE_DOMAIN.test(s)) out.domain = s;
    else report('InvalidAnnotation', `${domain.key}: expected a domain name, got ${show(domain.value)}; ignored`);
  }
  const maxAge = count(get, 'session-cookie-max-age', report, 0, 'ignored');
  if (maxAge !== undefined) out.maxAge = maxAge;
  const expires = count(get, 'session-cookie-expires', report, 0, 'ignored');
  if (expires !== undefined) out.expires = expires;
  const sameSite = choice(get, 'session-cookie-samesite', report, ['none', 'lax', 'strict'] as const, 'ignored');
  if (sameSite !== undefined) out.sameSite = SAMESITE[sameSite];
  if (flag(get, 'session-cookie-conditional-samesite-none', report) === true) out.conditionalSameSiteNone = true;
  if (flag(get, 'session-cookie-secure', report) === true) out.secure = true;
  if (flag(get, 'session-cookie-change-on-failure', report) === true) out.changeOnFailure = true;
  return out;
}

/** `load-balance`, `upstream-hash-by*` and (except on a canary Ingress) the affinity annotations; undefined when none is set. */
export function parseBalancing(get: Get, report: Report, canary: boolean): Balancing | undefined {
  const out: { -readonly [K in keyof Balancing]: Balancing[K] } = {};
  const lb = get('load-balance');
  if (lb !== undefined) {
    const s = text(lb.value)?.toLowerCase();
    if (s === 'round_robin' || s === 'ewma') out.algorithm = s;
    else if (s === 'chash' || s === 'chashsubset') report('InvalidAnnotation', `${lb.key}: ${show(lb.value)} is set by upstream-hash-by, not by load-balance; using the default (--load-balance)`);
    else if (s === 'sticky_balanced' || s === 'sticky_persistent') report('InvalidAnnotation', `${lb.key}: ${show(lb.value)} is set by affinity: cookie and affinity-mode, not by load-balance; using the default (--load-balance)`);
    else report('InvalidAnnotation', `${lb.key}: expected "round_robin" or "ewma", got ${show(lb.value)}; using the default (--load-balance)`);
  }
  const hash = get('upstream-hash-by');
  if (hash !== undefined) {
    const s = typeof hash.value === 'string' ? hash.value.replaceAll(' ', '') : '';
    const parsed = s.length <= 1024 ? parseHashBy(s) : { error: 'the expression is too long' };
    if ('parts' in parsed) out.hashBy = s;
    else report('InvalidAnnotation', `${hash.key}: ${show(hash.value)}: ${parsed.error}; not hashing`);
  }
  const subset = flag(get, 'upstream-hash-by-subset', report);
  const sizeAnn = get('upstream-hash-by-subset-size');
  const size = count(get, 'upstream-hash-by-subset-size', report, 0, 'using 3');
  if (subset === true && out.hashBy !== undefined) out.hashSubsetSize = size === undefined || size === 0 ? 3 : size;
  else {
    const set = [subset === true ? get('upstream-hash-by-subset')?.key : undefined, subset !== true && size !== undefined ? sizeAnn?.key : undefined].filter((k) => k !== undefined);
    if (set.length > 0) report('IgnoredAnnotation', `${set.join(', ')}: ignored without ${out.hashBy === undefined ? 'a valid upstream-hash-by' : 'upstream-hash-by-subset: "true"'}`, 'info');
  }
  if (!canary) {
    const affinity = parseAffinity(get, report);
    if (affinity !== undefined) out.affinity = affinity;
  }
  const winner = out.affinity !== undefined ? 'affinity: cookie' : out.hashBy !== undefined ? (hash?.key ?? '') : undefined;
  const losers = [out.affinity !== undefined && out.hashBy !== undefined ? hash?.key : undefined, winner !== undefined && out.algorithm !== undefined ? lb?.key : undefined].filter((k) => k !== undefined);
  if (losers.length > 0) report('IgnoredAnnotation', `${losers.join(', ')}: no effect, ${winner ?? ''} decides the endpoint (as in ingress-nginx)`, 'info');
  return Object.keys(out).length === 0 ? undefined : out;
}
