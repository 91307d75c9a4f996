/**
 * The request target (RFC 9112 3.2), split once per request into what routing needs and what is
 * forwarded:
 * - `path`: percent-decoded and normalised (router/match.ts pathOf), for matching only;
 * - `forward`: the target's own origin-form bytes (path and query exactly as the client sent
 *   them), the only thing that ever reaches the upstream request line;
 * - `authority`: the host of an absolute-form target, which wins over the Host header (3.2.2).
 * Asterisk-form and authority-form targets are not routable here (null: 400).
 */
import { pathOf } from '../router/match.js';
/** A host with an optional port: a DNS-ish name, an IPv4 address or a bracketed IPv6 one. */
const AUTHORITY = /^(?:[A-Za-z0-9_](?:[-A-Za-z0-9_]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[-A-Za-z0-9_]*[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;
/** Bytes that can never be part of a target on the wire: controls, space, DEL. */
export function unsafeTarget(t) {
    for (let i = 0; i < t.length; i++) {
        const c = t.charCodeAt(i);
        if (c <= 32 || c === 127)
            return true;
    }
    return false;
}
/** Splits a request target; null when it is not origin- or absolute-form, or cannot be forwarded safely. */
export function parseTarget(url) {
    if (url.charCodeAt(0) === 47 /* / */) {
        if (unsafeTarget(url))
            return null;
        const path = pathOf(url);
        return path === null ? null : { path, forward: url, authority: undefined };
    }
    // absolute-form: http(s)://authority[/path][?query]
    const sep = url.indexOf('://');
    if (sep <= 0)
        return null;
    const scheme = url.slice(0, sep).toLowerCase();
    if (scheme !== 'http' && scheme !== 'https')
        return null;
    let end = sep + 3;
    while (end < url.length) {
        const c = url.charCodeAt(end);
        if (c === 47 || c === 63 || c === 35)
            break; // / ? #
        end++;
    }
    const authority = url.slice(sep + 3, end);
    // userinfo is an error in http(s) URIs (RFC 9110 4.2.4); an empty host has nothing to route by
    if (authority === '' || !AUTHORITY.test(authority))
        return null;
    let rest = url.slice(end);
    if (rest === '' || rest.charCodeAt(0) !== 47)
        rest = `/${rest}`;
    if (unsafeTarget(rest))
        return null;
    const path = pathOf(rest);
    return path === null ? null : { path, forward: rest, authority };
}
//# sourceMappingURL=request-target.js.map