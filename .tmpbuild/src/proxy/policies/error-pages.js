/** When no error backend has endpoints: ingress-nginx's built-in default backend answers 404. */
export const ERROR_PAGE_404 = '<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1><hr><small>portico</small>\n';
/** Compiles the policy; `target` makes (once per id) what an error backend is dispatched through. */
export function compileErrorPages(p, target) {
    const byId = new Map();
    const get = (id) => {
        let t = byId.get(id);
        if (t === undefined)
            byId.set(id, (t = target(id)));
        return t;
    };
    const backends = p.backends.map(get);
    const whenEmpty = p.whenEmpty === undefined ? null : get(p.whenEmpty);
    return { codes: new Set(p.codes), intercept: p.intercept, backends, whenEmpty, all: [...byId.values()] };
}
/**
 * ingress-nginx's error headers, as a flat list: X-Code, X-Format (the Accept header),
 * X-Original-URI (for an error page; not when the default backend serves a route without
 * endpoints), X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port (of the route's backend).
 */
export function errorHeaders(code, originalUri, ex, source, backend) {
    const out = ['x-code', String(code)];
    const accept = ex.header('accept');
    if (accept !== undefined && accept !== '')
        out.push('x-format', accept);
    if (originalUri)
        out.push('x-original-uri', ex.requestUri);
    out.push('x-namespace', source.namespace, 'x-ingress-name', source.kind === 'DefaultBackend' ? '' : source.name, 'x-service-name', backend?.service ?? '', 'x-service-port', backend?.port ?? '');
    return out;
}
/** What an error backend is asked for: `/` with the original query (nginx's `rewrite (.*) / break` keeps the arguments). */
export function errorPath(requestUri) {
    const q = requestUri.indexOf('?');
    return q === -1 ? '/' : `/${requestUri.slice(q)}`;
}
//# sourceMappingURL=error-pages.js.map