/**
 * CORS annotations (enable-cors, cors-allow-origin, -methods, -headers, -expose-headers,
 * -allow-credentials, -max-age) with ingress-nginx's grammar and defaults
 * (internal/ingress/annotations/cors/main.go): its validators are used as written, on RE2 (they
 * nest quantifiers, which a backtracking engine must not run on user input).
 *
 * A bad value falls back as ingress-nginx's does, with an InvalidAnnotation diagnostic, except
 * where that fallback would widen what browsers allow: a `cors-allow-origin` that fails
 * ingress-nginx's check makes it allow every origin (`*`); here the Ingress is served with no
 * CORS headers at all. A bad `cors-allow-credentials` makes it send credentials; here it sends
 * none. CORS is not access control for the server (the pod still answers every client that asks
 * directly), so a bad value never refuses the Ingress.
 */
import { show } from '../k8s.js';
import { compilePattern } from '../regex.js';
export const CORS_DEFAULTS = {
    methods: 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
    headers: 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
    maxAge: 1728000,
};
// ingress-nginx's validators (cors/main.go, parser/validators.go), verbatim
const ORIGIN_VALUE = compilePattern('^((((([a-z]+://)?(\\*\\.)?[A-Za-z0-9\\-.]*(:\\d+)?,?)|null)+)|\\*)?$', 'full');
const ORIGIN_ENTRY = compilePattern('^([a-z]+://(\\*\\.)?[A-Za-z0-9\\-.]*(:\\d+)?|\\*|null)?$', 'full');
const METHODS = compilePattern('^([A-Za-z]+,?\\s?)+$', 'full');
const HEADERS = compilePattern('^[A-Za-z0-9-_, ]*$', 'full');
const EXPOSE = compilePattern('^(([A-Za-z0-9\\-\\_]+|\\*),?\\s?)+$', 'full');
/** Go's strconv.ParseBool, which ingress-nginx reads booleans with (a YAML boolean is taken too). */
export function goBool(v) {
    if (v === true || v === false)
        return v;
    if (typeof v !== 'string')
        return undefined;
    if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(v))
        return true;
    if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(v))
        return false;
    return undefined;
}
/** Go's strconv.Atoi (an optional sign, decimal digits), within what a double holds exactly. */
function goInt(v) {
    if (typeof v === 'number')
        return Number.isSafeInteger(v) ? v : undefined;
    if (typeof v !== 'string' || !/^[+-]?[0-9]+$/.test(v))
        return undefined;
    const n = Number(v);
    return Number.isSafeInteger(n) ? n : undefined;
}
/** ingress-nginx's parseString: each line trimmed; '' means no value. */
const normalize = (s) => s.split('\n').map((l) => l.trim()).join('\n');
/**
 * ingress-nginx's checkAnnotation for a regex validator: spaces removed, then the pattern, and no
 * CR or LF. What passes must also be a valid header value (no other control character).
 */
const passes = (p, raw) => {
    const s = raw.replaceAll(' ', '');
    return p.test(s) && !/[\r\n]/.test(s);
};
// eslint-disable-next-line no-control-regex
const headerSafe = (s) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(s);
/** A list-valued header annotation: the value when valid, else `fallback` after a diagnostic. */
function list(read, name, pattern, fallback, what, report) {
    const v = read(name);
    if (v === undefined)
        return fallback;
    const raw = v.value;
    const value = typeof raw === 'string' ? normalize(raw) : '';
    if (typeof raw === 'string' && value !== '' && passes(pattern, raw) && pattern.test(value) && headerSafe(value))
        return value;
    const instead = fallback === '' ? 'none is sent' : `using the default ${show(fallback)}`;
    report('InvalidAnnotation', `${v.key}: expected ${what}, got ${show(raw)}; ${instead}`);
    return fallback;
}
/** `cors-allow-origin`: `'*'`, the allowed origins (lower-case), or null for "no CORS headers". */
function origins(read, report) {
    const v = read('cors-allow-origin');
    if (v === undefined)
        return '*';
    const raw = v.value;
    if (typeof raw === 'string' && normalize(raw) === '') {
        report('InvalidAnnotation', `${v.key}: empty: every origin is allowed, as when it is absent (the default "*", as ingress-nginx does)`);
        return '*';
    }
    const entries = typeof raw === 'string' ? raw.split(',').map((e) => e.trim()).filter((e) => e !== '') : [];
    if (entries.includes('*')) {
        // what the author wrote allows every origin (ingress-nginx: its validator fails, then "*")
        if (entries.length > 1)
            report('InvalidAnnotation', `${v.key}: "*" allows every origin; the other entries of ${show(raw)} change nothing`);
        return '*';
    }
    if (typeof raw !== 'string' || !passes(ORIGIN_VALUE, raw)) {
        report('InvalidAnnotation', `${v.key}: expected a comma-separated list of origins (scheme://host[:port], scheme://*.host[:port], null) or "*", got ${show(raw)}; no CORS headers are sent (ingress-nginx would allow every origin)`);
        return null;
    }
    const ok = [];
    const skipped = [];
    for (const e of entries)
        (ORIGIN_ENTRY.test(e) ? ok : skipped).push(e);
    if (skipped.length > 0)
        report('InvalidAnnotation', `${v.key}: ${skipped.map((e) => show(e)).join(', ')} ${skipped.length > 1 ? 'are not origins' : 'is not an origin'} (scheme://host[:port], a single *. label, or null); skipped`);
    if (ok.length === 0) {
        report('InvalidAnnotation', `${v.key}: no valid origin in ${show(raw)}; no CORS headers are sent`);
        return null;
    }
    return [...new Set(ok.map((e) => e.toLowerCase()))];
}
const KEYS = ['cors-allow-origin', 'cors-allow-methods', 'cors-allow-headers', 'cors-expose-headers', 'cors-allow-credentials', 'cors-max-age'];
/** Reads the CORS annotations of one Ingress: its policy, or undefined when it sends no CORS headers. */
export function parseCors(read, report) {
    const enable = read('enable-cors');
    const on = enable === undefined ? false : goBool(enable.value);
    if (enable !== undefined && on === undefined)
        report('InvalidAnnotation', `${enable.key}: expected true or false, got ${show(enable.value)}; CORS is off`);
    if (on !== true) {
        for (const name of KEYS) {
            const v = read(name);
            if (v !== undefined)
                report('IgnoredAnnotation', `${v.key}: no effect without enable-cors: "true"`, 'info');
        }
        return undefined;
    }
    const allowed = origins(read, report);
    const methods = list(read, 'cors-allow-methods', METHODS, CORS_DEFAULTS.methods, 'methods (letters) separated by commas', report);
    const headers = list(read, 'cors-allow-headers', HEADERS, CORS_DEFAULTS.headers, 'header names (letters, digits, - and _) separated by commas', report);
    const exposeHeaders = list(read, 'cors-expose-headers', EXPOSE, '', 'header names (letters, digits, - and _) or * separated by commas', report);
    const cred = read('cors-allow-credentials');
    let credentials = true;
    if (cred !== undefined) {
        const b = goBool(cred.value);
        if (b === undefined)
            report('InvalidAnnotation', `${cred.key}: expected true or false, got ${show(cred.value)}; credentials are not allowed (ingress-nginx would allow them)`);
        credentials = b === true;
    }
    const age = read('cors-max-age');
    let maxAge = CORS_DEFAULTS.maxAge;
    if (age !== undefined) {
        const n = goInt(age.value);
        if (n === undefined)
            report('InvalidAnnotation', `${age.key}: expected a number of seconds, got ${show(age.value)}; using the default ${CORS_DEFAULTS.maxAge}`);
        else
            maxAge = n;
    }
    if (allowed === null)
        return undefined;
    return { kind: 'cors', origins: allowed, methods, headers, exposeHeaders, credentials, maxAge };
}
//# sourceMappingURL=cors.js.map