/**
 * Gateway API hostnames (docs/concepts/hostnames.md, HTTPRoute.spec.hostnames godoc): a wildcard
 * is a leading `*.` matching ONE OR MORE labels (unlike an Ingress wildcard, which matches one),
 * and a listener's hostname and a route's hostnames intersect. Pure.
 */
const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const HOSTNAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);
/** A valid Hostname: lower-case RFC 1123 with an optional leading `*.`, at most 253 characters, not an IP address. */
export function validHostname(h) {
    return typeof h === 'string' && h.length > 0 && h.length <= 253 && HOSTNAME.test(h) && !/^[\d.]+$/.test(h);
}
/** Whether `wild` (a `*.` hostname) covers `name` (precise or wildcard): `*.example.com` covers `a.b.example.com` and `*.b.example.com`. */
function covers(wild, name) {
    const suffix = wild.slice(1); // ".example.com"
    return name.length > suffix.length && name.endsWith(suffix);
}
/**
 * The intersection of a listener hostname and a route hostname ('' = unset, matching anything):
 * the more specific of the two when one covers the other, else null.
 */
export function intersect(listener, route) {
    if (listener === '')
        return route === '' ? '' : route;
    if (route === '')
        return listener;
    if (listener === route)
        return listener;
    const lw = listener.startsWith('*.');
    const rw = route.startsWith('*.');
    if (lw && covers(listener, route))
        return route;
    if (rw && covers(route, listener))
        return listener;
    return null;
}
/**
 * The hostnames a route is served under on a listener: each intersection of the listener's
 * hostname with the route's (all of the route's when the listener has none); empty when both are
 * set and none intersect. '' stands for "any host".
 */
export function effectiveHostnames(listener, route) {
    if (route.length === 0)
        return [listener];
    const out = new Set();
    for (const r of route) {
        const i = intersect(listener, r);
        if (i !== null)
            out.add(i);
    }
    return [...out];
}
//# sourceMappingURL=hostnames.js.map