/**
 * Regex paths, rewrites and redirects: one small parser per annotation, with ingress-nginx's
 * semantics (internal/ingress/annotations/{rewrite,redirect,alias,xforwardedprefix,portinredirect}):
 * - `use-regex`, `rewrite-target` (`$1`…`$9` captures), `x-forwarded-prefix`, `app-root`;
 * - `permanent-redirect` (+ `-code`, 300-308, default 301), `temporal-redirect` (+ `-code`,
 *   300-307, default 302; it wins when both are set), `relative-redirects`,
 *   `use-port-in-redirects`, `preserve-trailing-slash`, `from-to-www-redirect`, `server-alias`.
 * A bad value is an `InvalidAnnotation` naming the annotation; the annotation is left out and the
 * rest of the Ingress is served (none of them opens a door: ingress-nginx drops the whole Ingress
 * for several of them). Pure.
 */
import { show } from '../k8s.js';
/**
 * ingress-nginx's RegexPathWithCapture characters (rewrite-target, x-forwarded-prefix, app-root):
 * no `?`, `%`, `#`, spaces or quotes, so nothing but a path can come out.
 */
const PATH_CHARS = /^[-._~a-zA-Z0-9/:$]*$/;
/** `$` followed by anything but 1-9 names an nginx variable, which Portico does not expand. */
const NOT_A_CAPTURE = /\$(?![1-9])/;
/**
 * Redirect URLs: RFC 3986's unreserved, reserved and `%` characters, without `$` (nginx variables
 * are not expanded). A superset of ingress-nginx's URLIsValidRegex (`%`, `+`, `#`, `@` are allowed).
 */
const URL_CHARS = /^[-._~a-zA-Z0-9/:,?&=%+@!*'();#[\]]+$/;
/** A host name, or a `*.` wildcard of one, as rule hosts are written (model/ingress/check.ts). */
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const ALIAS = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
const MAX = 2048;
/** A string annotation; '' counts as absent (ingress-nginx's parseString). */
function text(read, name, report) {
    const v = read(name);
    if (v === undefined)
        return undefined;
    if (typeof v.value !== 'string') {
        report('InvalidAnnotation', `${v.key}: expected a string, got ${show(v.value)}; ignored`);
        return undefined;
    }
    return v.value === '' ? undefined : { key: v.key, value: v.value };
}
function bool(read, name, report) {
    const v = read(name);
    if (v === undefined)
        return undefined;
    if (v.value === 'true' || v.value === true)
        return true;
    if (v.value === 'false' || v.value === false)
        return false;
    report('InvalidAnnotation', `${v.key}: expected "true" or "false", got ${show(v.value)}; ignored`);
    return undefined;
}
/** A status code in [min, max]; a bad or out-of-range value is reported and `fallback` used. */
function code(read, name, min, max, fallback, report) {
    const v = read(name);
    if (v === undefined || v.value === '')
        return fallback;
    const n = typeof v.value === 'string' && /^[+-]?\d{1,9}$/.test(v.value) ? Number(v.value) : typeof v.value === 'number' && Number.isInteger(v.value) ? v.value : undefined;
    if (n === undefined) {
        report('InvalidAnnotation', `${v.key}: expected an HTTP status code, got ${show(v.value)}; using ${fallback}`);
        return fallback;
    }
    if (n < min || n > max) {
        report('InvalidAnnotation', `${v.key}: ${n} is not a redirect status from ${min} to ${max}; using ${fallback} (as ingress-nginx)`);
        return fallback;
    }
    return n;
}
/** A path template with `$1`…`$9` captures (rewrite-target, x-forwarded-prefix). */
function template(read, name, report) {
    const v = text(read, name, report);
    if (v === undefined)
        return undefined;
    const t = v.value;
    if (t.length > MAX || !PATH_CHARS.test(t)) {
        report('InvalidAnnotation', `${v.key}: ${show(t)} must be a path of letters, digits, "-._~/:" and $1…$9 captures; ignored`);
        return undefined;
    }
    if (NOT_A_CAPTURE.test(t)) {
        report('InvalidAnnotation', `${v.key}: ${show(t)}: only the captures $1…$9 can be used (nginx variables are not expanded); ignored`);
        return undefined;
    }
    if (!t.startsWith('/') && !t.startsWith('$')) {
        report('InvalidAnnotation', `${v.key}: ${show(t)} must start with "/" (a redirect is permanent-redirect or temporal-redirect); ignored`);
        return undefined;
    }
    return t;
}
function appRoot(read, report) {
    const v = text(read, 'app-root', report);
    if (v === undefined)
        return undefined;
    if (v.value.length > MAX || !PATH_CHARS.test(v.value) || !v.value.startsWith('/') || v.value.includes('$')) {
        report('InvalidAnnotation', `${v.key}: ${show(v.value)} must be a path starting with "/" (letters, digits, "-._~/:"; no URL, no variables); ignored`);
        return undefined;
    }
    return v.value;
}
/** The redirect of an Ingress: temporal-redirect wins over permanent-redirect (ingress-nginx's order). */
function redirect(read, report, relative, usePort) {
    const url = (name) => {
        const v = text(read, name, report);
        if (v === undefined)
            return undefined;
        if (v.value.length > MAX || !URL_CHARS.test(v.value)) {
            report('InvalidAnnotation', `${v.key}: ${show(v.value)} is not a URL Portico can send (no spaces, quotes or nginx variables); ignored`);
            return undefined;
        }
        return v;
    };
    // relative-redirects and use-port-in-redirects only concern a URL that is a path
    const flags = (u) => (u.startsWith('/') ? { ...(relative ? { relative: true } : {}), ...(usePort ? { usePort: true } : {}) } : {});
    const temporal = url('temporal-redirect');
    const permanent = url('permanent-redirect');
    let chosen;
    if (temporal !== undefined) {
        const status = code(read, 'temporal-redirect-code', 300, 307, 302, report);
        if (/^https?:\/\/[^/]/i.test(temporal.value))
            chosen = { kind: 'fixedRedirect', url: temporal.value, status };
        else
            report('InvalidAnnotation', `${temporal.key}: ${show(temporal.value)} must be an absolute http:// or https:// URL; ignored${permanent !== undefined ? ' (permanent-redirect applies)' : ''}`);
    }
    else
        noEffect(read, 'temporal-redirect-code', 'temporal-redirect', report);
    if (permanent !== undefined) {
        const status = code(read, 'permanent-redirect-code', 300, 308, 301, report);
        if (chosen === undefined)
            chosen = { kind: 'fixedRedirect', url: permanent.value, status, ...flags(permanent.value) };
        else
            report('IgnoredAnnotation', `${permanent.key}: temporal-redirect is set and wins (as in ingress-nginx); ignored`, 'info');
    }
    else
        noEffect(read, 'permanent-redirect-code', 'permanent-redirect', report);
    return chosen;
}
/** An annotation that only qualifies another one that is absent: noted, never silent. */
function noEffect(read, name, needs, report) {
    const v = read(name);
    if (v !== undefined && v.value !== '')
        report('IgnoredAnnotation', `${v.key}: has no effect without ${needs}`, 'info');
}
/** `server-alias`: comma-separated host names (or `*.` wildcards); a bad entry is left out, the others kept. */
function aliases(read, report) {
    const v = text(read, 'server-alias', report);
    if (v === undefined)
        return [];
    const out = new Set();
    for (const raw of v.value.split(',')) {
        const name = raw.trim().toLowerCase();
        if (name === '')
            continue;
        if (name.length > 253 || !ALIAS.test(name)) {
            report('InvalidAnnotation', `${v.key}: ${show(raw.trim())} is not a host name (a wildcard may only be the whole first label; nginx regex names are not supported); left out`);
            continue;
        }
        out.add(name);
    }
    return [...out].sort();
}
/** Reads the routing annotations of one Ingress. */
export function parseRouting(read, report) {
    const useRegex = bool(read, 'use-regex', report) ?? false;
    const rewriteTarget = template(read, 'rewrite-target', report);
    let xForwardedPrefix = template(read, 'x-forwarded-prefix', report);
    if (xForwardedPrefix !== undefined && rewriteTarget === undefined) {
        report('IgnoredAnnotation', `${read('x-forwarded-prefix')?.key ?? 'x-forwarded-prefix'}: has no effect without rewrite-target (as in ingress-nginx)`, 'info');
        xForwardedPrefix = undefined;
    }
    const relative = bool(read, 'relative-redirects', report) ?? false;
    const usePortInRedirects = bool(read, 'use-port-in-redirects', report) ?? false;
    return {
        useRegex,
        rewriteTarget,
        xForwardedPrefix,
        appRoot: appRoot(read, report),
        redirect: redirect(read, report, relative, usePortInRedirects),
        fromToWww: bool(read, 'from-to-www-redirect', report) ?? false,
        aliases: aliases(read, report),
        preserveTrailingSlash: bool(read, 'preserve-trailing-slash', report) ?? false,
        usePortInRedirects,
    };
}
/**
 * The host of a from-to-www redirect to `host`: `www.` added, or removed when it is there;
 * undefined for names it cannot apply to (wildcards, a bare `www.`, any-host rules).
 */
export function wwwCounterpart(host) {
    if (host === '' || host.startsWith('*.'))
        return undefined;
    if (host.startsWith('www.'))
        return host.length > 4 ? host.slice(4) : undefined;
    return `www.${host}`;
}
//# sourceMappingURL=routing.js.map