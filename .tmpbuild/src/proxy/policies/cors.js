import { Verdict } from './types.js';
const LABEL = /^[a-z0-9-]+$/;
/**
 * Compiles allowed origins (lower-case, as the model holds them) into one test. The whole value
 * must match (ingress-nginx anchors only the end: `xhttps://a.com` passes there for `https://a.com`).
 */
export function compileOrigins(origins) {
    const exact = new Set();
    const wild = [];
    for (const o of origins) {
        const at = o.indexOf('://*.');
        if (at === -1)
            exact.add(o);
        else
            wild.push({ prefix: o.slice(0, at + 3), suffix: o.slice(at + 4) });
    }
    return (origin) => {
        const o = origin.toLowerCase();
        if (exact.has(o))
            return true;
        for (const w of wild) {
            if (o.length <= w.prefix.length + w.suffix.length || !o.startsWith(w.prefix) || !o.endsWith(w.suffix))
                continue;
            if (LABEL.test(o.slice(w.prefix.length, o.length - w.suffix.length)))
                return true;
        }
        return false;
    };
}
/** The request's `Origin`, when it sent exactly one. */
function originOf(ex) {
    const v = ex.req.headers.origin;
    return typeof v === 'string' ? v : undefined;
}
const NONE = [];
export function cors(p) {
    // the fixed headers, in ingress-nginx's order, after Access-Control-Allow-Origin
    const fixed = [];
    if (p.credentials)
        fixed.push(['access-control-allow-credentials', 'true']);
    fixed.push(['access-control-allow-methods', p.methods], ['access-control-allow-headers', p.headers]);
    if (p.exposeHeaders !== '')
        fixed.push(['access-control-expose-headers', p.exposeHeaders]);
    fixed.push(['access-control-max-age', String(p.maxAge)]);
    const any = p.origins === '*';
    const allowed = any ? () => true : compileOrigins(p.origins);
    /** With "*" the whole edit is the same for every request; else only its first header varies. */
    const star = { set: [['access-control-allow-origin', '*'], ...fixed], add: NONE, remove: [] };
    /** The value of Access-Control-Allow-Origin for this request, or undefined for no CORS headers. */
    const allowOrigin = (ex) => {
        if (any)
            return '*';
        const origin = originOf(ex);
        return origin !== undefined && allowed(origin) ? origin : undefined;
    };
    return {
        headers: {
            run(ex) {
                if (!any)
                    ex.addResponseHeader('vary', 'Origin');
                const acao = allowOrigin(ex);
                if (acao === undefined)
                    return Verdict.Continue;
                // set: the pod's headers of these names are replaced (nginx's more_set_headers)
                ex.editResponse(any ? star : { set: [['access-control-allow-origin', acao], ...fixed], add: NONE, remove: [] });
                return Verdict.Continue;
            },
        },
        preflight: {
            run(ex) {
                const req = ex.req;
                if (req.method !== 'OPTIONS' || originOf(ex) === undefined || req.headers['access-control-request-method'] === undefined || allowOrigin(ex) === undefined)
                    return Verdict.Continue;
                // the headers half has set the CORS headers already; a 204 has no body and no type
                ex.answer(204, '', '', 'cors_preflight');
                return Verdict.Answered;
            },
        },
    };
}
//# sourceMappingURL=cors.js.map