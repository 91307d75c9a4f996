/**
 * nginx variables in header values, compiled once per table (model/headers.ts parses them) and
 * expanded per request from what the exchange knows. A literal value costs nothing; an expanded
 * value with a control byte is never written (the edit is skipped).
 */
import { parseTemplate, unsafeHeaderValue } from '../../model/headers.js';
/** The raw (not decoded) value of the first query argument `name` (case-blind), as nginx's $arg_name. */
export function argOf(target, name) {
    const q = target.indexOf('?');
    if (q === -1)
        return '';
    for (const pair of target.slice(q + 1).split('&')) {
        const eq = pair.indexOf('=');
        const k = eq === -1 ? pair : pair.slice(0, eq);
        if (k.length === name.length && k.toLowerCase() === name)
            return eq === -1 ? '' : pair.slice(eq + 1);
    }
    return '';
}
/** The value of cookie `name` (case-blind) from a Cookie header, as nginx's $cookie_name. */
export function cookieOf(header, name) {
    if (header === undefined)
        return '';
    for (const part of header.split(';')) {
        const eq = part.indexOf('=');
        if (eq === -1)
            continue;
        if (part.slice(0, eq).trim().toLowerCase() === name)
            return part.slice(eq + 1).trim();
    }
    return '';
}
/** nginx's $host: the authority without its port, lower-case; else the route's host. */
function hostOf(ex) {
    let h = ex.host ?? '';
    if (h.startsWith('['))
        h = h.slice(0, h.indexOf(']') + 1);
    else if (h.includes(':'))
        h = h.slice(0, h.lastIndexOf(':'));
    return h === '' ? (ex.names?.host ?? '') : h.toLowerCase();
}
function query(ex) {
    const q = ex.requestUri.indexOf('?');
    return q === -1 ? '' : ex.requestUri.slice(q + 1);
}
/** One variable's reader. */
function variable(p) {
    const arg = p.arg ?? '';
    switch (p.v) {
        case 'request_uri':
            return (ex) => ex.requestUri;
        case 'uri':
        case 'document_uri':
            return (ex) => ex.path;
        case 'args':
        case 'query_string':
            return query;
        case 'is_args':
            return (ex) => (ex.requestUri.includes('?') ? '?' : '');
        case 'request_method':
            return (ex) => ex.req.method ?? '';
        case 'remote_addr':
            return (ex) => ex.clientIp;
        case 'proxy_add_x_forwarded_for':
            return (ex) => {
                const xff = ex.header('x-forwarded-for');
                return xff === undefined || xff === '' ? ex.clientIp : `${xff}, ${ex.clientIp}`;
            };
        case 'host':
            return hostOf;
        case 'scheme':
            return (ex) => ex.scheme;
        case 'request_id':
            return (ex) => ex.requestId;
        case 'server_name':
            // the server block's name: the rule host ('_' for rules without one, as ingress-nginx names the catch-all)
            return (ex) => ex.names?.host || '_';
        case 'namespace':
            return (ex) => ex.names?.namespace ?? '';
        case 'ingress_name':
            return (ex) => ex.names?.ingress ?? '';
        case 'service_name':
            return (ex) => ex.names?.service ?? '';
        case 'service_port':
            return (ex) => ex.names?.servicePort ?? '';
        case 'http':
            return (ex) => ex.header(arg) ?? '';
        case 'arg':
            return (ex) => argOf(ex.requestUri, arg);
        case 'cookie':
            return (ex) => cookieOf(ex.header('cookie'), arg);
    }
}
/** Compiles a value (checked when the table was built; anything unparsable here is the empty string). */
export function compileValue(value, literal = false) {
    if (literal)
        return value;
    const t = parseTemplate(value);
    if ('error' in t)
        return '';
    const parts = t.parts.map((p) => (typeof p === 'string' ? p : variable(p)));
    if (parts.length === 0)
        return '';
    if (parts.length === 1 && typeof parts[0] === 'string')
        return parts[0];
    return (ex) => {
        let s = '';
        for (const p of parts)
            s += typeof p === 'string' ? p : p(ex);
        return s;
    };
}
/** Expands a compiled value; null when the result cannot be a header value. */
export function expand(v, ex) {
    if (typeof v === 'string')
        return v;
    const s = v(ex);
    return unsafeHeaderValue(s) ? null : s;
}
//# sourceMappingURL=template.js.map