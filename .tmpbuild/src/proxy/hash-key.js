import { cookieValue } from './sticky.js';
const queryOf = (target) => {
    const q = target.indexOf('?');
    return q === -1 ? '' : target.slice(q + 1);
};
/** nginx $uri: the normalised path; after a rewrite, the decoded path of the new target. */
function uriOf(ex) {
    if (ex.forwardPath === ex.req.url)
        return ex.path;
    const q = ex.forwardPath.indexOf('?');
    const p = q === -1 ? ex.forwardPath : ex.forwardPath.slice(0, q);
    try {
        return decodeURIComponent(p);
    }
    catch {
        return p;
    }
}
/** nginx $arg_<name>: the raw value of the first argument of that name, compared case-insensitively. */
export function argOf(query, name) {
    let i = 0;
    while (i <= query.length) {
        let end = query.indexOf('&', i);
        if (end === -1)
            end = query.length;
        const eq = query.indexOf('=', i);
        const keyEnd = eq === -1 || eq > end ? end : eq;
        if (keyEnd - i === name.length && query.slice(i, keyEnd).toLowerCase() === name)
            return keyEnd === end ? '' : query.slice(keyEnd + 1, end);
        i = end + 1;
    }
    return '';
}
/** nginx $host: lower-case, without the port. */
function hostOf(ex) {
    const h = ex.host ?? '';
    const colon = h.lastIndexOf(':');
    return (colon !== -1 && !h.endsWith(']') ? h.slice(0, colon) : h).toLowerCase();
}
function getter(p) {
    switch (p.kind) {
        case 'text':
            return () => p.text;
        case 'capture':
            return (ex) => ex.captures?.[p.index] ?? '';
        case 'arg':
            return (ex) => argOf(queryOf(ex.forwardPath), p.name);
        case 'http':
            return (ex) => ex.header(p.name) ?? '';
        case 'cookie':
            return (ex) => cookieValue(ex.header('cookie'), p.name) ?? '';
        case 'var':
            switch (p.name) {
                case 'request_uri':
                    return (ex) => ex.req.url ?? ex.forwardPath;
                case 'uri':
                    return uriOf;
                case 'args':
                case 'query_string':
                    return (ex) => queryOf(ex.forwardPath);
                case 'remote_addr':
                    return (ex) => ex.clientIp;
                case 'host':
                    return hostOf;
                case 'scheme':
                    return (ex) => ex.scheme;
                case 'request_method':
                    return (ex) => ex.req.method ?? '';
            }
    }
}
/** Compiles an expression's parts into the key function. */
export function compileHashKey(parts) {
    const gs = parts.map(getter);
    if (gs.length === 1)
        return gs[0];
    return (ex) => {
        let key = '';
        for (const g of gs)
            key += g(ex);
        return key;
    };
}
//# sourceMappingURL=hash-key.js.map