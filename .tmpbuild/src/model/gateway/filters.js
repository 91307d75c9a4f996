/**
 * HTTPRoute and GRPCRoute filters as model policies: RequestHeaderModifier and
 * ResponseHeaderModifier become `headers`, RequestRedirect `redirect`, URLRewrite `rewrite`.
 * What Portico does not implement (RequestMirror, CORS, ExtensionRef) makes the rule invalid: it
 * is not served and the route says so (PartiallyInvalid, or Accepted=False when no rule is left),
 * never served without the filter. Pure.
 */
import { isObject, str } from '../k8s.js';
import { validHostname } from './hostnames.js';
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header value as the API validates it (visible characters, single spaces and tabs inside): no CR, LF or other control byte. */
const VALUE = /^[\x21-\x7e\x80-\xff]+([\t ]?[\x21-\x7e\x80-\xff]+)*$|^$/;
function headerModifier(m, phase) {
    if (!isObject(m))
        return { error: `a ${phase} header modifier needs set, add or remove` };
    const seen = new Set();
    const pairs = (list, what) => {
        const out = [];
        for (const h of Array.isArray(list) ? list : []) {
            const name = isObject(h) ? str(h.name) : '';
            const value = isObject(h) ? h.value : undefined;
            if (!TOKEN.test(name) || typeof value !== 'string' || !VALUE.test(value))
                return { error: `${what}: ${JSON.stringify(h)} is not a valid header` };
            const lower = name.toLowerCase();
            if (seen.has(lower))
                return { error: `header ${name} has more than one action` };
            seen.add(lower);
            out.push([lower, value]);
        }
        return out;
    };
    const set = pairs(m?.set, 'set');
    if ('error' in set)
        return set;
    const add = pairs(m?.add, 'add');
    if ('error' in add)
        return add;
    const remove = [];
    for (const r of Array.isArray(m?.remove) ? (m?.remove ?? []) : []) {
        const name = str(r);
        if (!TOKEN.test(name))
            return { error: `remove: ${JSON.stringify(r)} is not a header name` };
        if (seen.has(name.toLowerCase()))
            return { error: `header ${name} has more than one action` };
        seen.add(name.toLowerCase());
        remove.push(name.toLowerCase());
    }
    return { kind: 'headers', phase, set, add, remove };
}
function pathRewrite(p) {
    if (p === undefined)
        return undefined;
    if (!isObject(p))
        return { error: 'path must be an object' };
    const type = str(p.type);
    if (type === 'ReplaceFullPath' && typeof p.replaceFullPath === 'string' && (p.replaceFullPath.startsWith('/') || p.replaceFullPath === ''))
        return { type: 'full', value: p.replaceFullPath || '/' };
    // the matched prefix is bound per route (a prefix replacement needs exactly one PathPrefix match)
    if (type === 'ReplacePrefixMatch' && typeof p.replacePrefixMatch === 'string')
        return { type: 'prefix', prefix: '', value: p.replacePrefixMatch };
    return { error: `path modifier ${JSON.stringify(p)} is not valid` };
}
/** Turns a rule's filters into policies, or says why the rule cannot be served. */
export function filterPolicies(filters, kind) {
    const policies = [];
    const seen = new Set();
    for (const f of filters) {
        if (!isObject(f))
            return { error: 'a filter must be an object' };
        const type = str(f.type);
        if (seen.has(type) && type !== 'RequestMirror' && type !== 'ExtensionRef')
            return { error: `the ${type} filter cannot be repeated` };
        seen.add(type);
        switch (type) {
            case 'RequestHeaderModifier':
            case 'ResponseHeaderModifier': {
                const p = headerModifier(type === 'RequestHeaderModifier' ? f.requestHeaderModifier : f.responseHeaderModifier, type === 'RequestHeaderModifier' ? 'request' : 'response');
                if ('error' in p)
                    return p;
                policies.push(p);
                break;
            }
            case 'RequestRedirect': {
                if (kind !== 'HTTPRoute')
                    return { error: 'RequestRedirect is an HTTPRoute filter' };
                const r = f.requestRedirect;
                if (!isObject(r))
                    return { error: 'RequestRedirect needs requestRedirect' };
                const scheme = r?.scheme === undefined ? undefined : str(r.scheme);
                if (scheme !== undefined && scheme !== 'http' && scheme !== 'https')
                    return { error: `redirect scheme ${JSON.stringify(scheme)} is not supported` };
                const status = r?.statusCode === undefined ? 302 : r.statusCode;
                if (![301, 302, 303, 307, 308].includes(status))
                    return { error: `redirect statusCode ${JSON.stringify(status)} is not supported` };
                if (r?.hostname !== undefined && (!validHostname(r.hostname) || r.hostname.startsWith('*')))
                    return { error: `redirect hostname ${JSON.stringify(r.hostname)} is not valid` };
                if (r?.port !== undefined && !(typeof r.port === 'number' && Number.isInteger(r.port) && r.port > 0 && r.port < 65536))
                    return { error: `redirect port ${JSON.stringify(r.port)} is not valid` };
                const path = pathRewrite(r?.path);
                if (path !== undefined && 'error' in path)
                    return path;
                policies.push({ kind: 'redirect', status: status, ...(scheme !== undefined ? { scheme } : {}), ...(r?.hostname !== undefined ? { hostname: r.hostname } : {}), ...(r?.port !== undefined ? { port: r.port } : {}), ...(path !== undefined ? { path } : {}) });
                break;
            }
            case 'URLRewrite': {
                if (kind !== 'HTTPRoute')
                    return { error: 'URLRewrite is an HTTPRoute filter' };
                const u = f.urlRewrite;
                if (!isObject(u))
                    return { error: 'URLRewrite needs urlRewrite' };
                if (u?.hostname !== undefined && (!validHostname(u.hostname) || u.hostname.startsWith('*')))
                    return { error: `rewrite hostname ${JSON.stringify(u.hostname)} is not valid` };
                const path = pathRewrite(u?.path);
                if (path !== undefined && 'error' in path)
                    return path;
                policies.push({ kind: 'rewrite', ...(u?.hostname !== undefined ? { hostname: u.hostname } : {}), ...(path !== undefined ? { path } : {}) });
                break;
            }
            case 'RequestMirror':
                return { error: 'the RequestMirror filter is not supported yet' };
            case 'CORS':
                return { error: 'the CORS filter is not supported yet' };
            case 'ExtensionRef':
                return { error: 'ExtensionRef filters are not supported' };
            default:
                return { error: `filter type ${JSON.stringify(type)} is not supported` };
        }
    }
    if (seen.has('RequestRedirect') && seen.has('URLRewrite'))
        return { error: 'RequestRedirect and URLRewrite cannot be used together' };
    return { policies };
}
//# sourceMappingURL=filters.js.map