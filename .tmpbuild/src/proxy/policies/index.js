import { parseBundle } from '../../tls/client-cert.js';
import { defaultAuthState } from '../auth/state.js';
import { basicAuth } from './basic-auth.js';
import { bodyLimit } from './body-limit.js';
import { clientCert } from './client-cert.js';
import { cors } from './cors.js';
import { extAuth } from './ext-auth.js';
import { compileHeaders } from './header-directives.js';
import { headers } from './headers.js';
import { httpsRedirect } from './https-redirect.js';
import { notFound } from './not-found.js';
import { rateLimit } from './rate-limit.js';
import { redirect } from './redirect.js';
import { rewrite } from './rewrite.js';
import { chainResponse, responseRewrite } from './response-rewrite.js';
import { refuse } from './refuse.js';
import { sourceRange } from './source-range.js';
import { appRoot, fixedRedirect, hostRedirect } from './fixed-redirects.js';
export { Verdict } from './types.js';
/** Each kind's place in the fixed order (for cors, its preflight half; headers has two; errorPages is no request-phase policy). */
const ORDER = {
    refuse: 0,
    httpsRedirect: 1,
    clientCert: 2,
    rateLimit: 3,
    sourceRange: 4,
    cors: 5.5,
    basicAuth: 6,
    extAuth: 7,
    appRoot: 9,
    hostRedirect: 10,
    fixedRedirect: 11,
    redirect: 12,
    rewrite: 13,
    headerDirectives: 14.5,
    notFound: 15,
};
const CORS_HEADERS_ORDER = 0.5;
const BODY_LIMIT_ORDER = 5;
/** Every route of a host shares one clientCert policy object: it is compiled once per table. */
const clientCerts = new WeakMap();
/** CA bundles parsed once per table and host. */
const bundles = new WeakMap();
function compileClientCert(p, table) {
    let c = clientCerts.get(p);
    if (c === undefined) {
        let trusted = [];
        for (const a of table?.clientAuth?.values() ?? []) {
            if (a.id !== p.ca)
                continue;
            let b = bundles.get(a);
            if (b === undefined)
                bundles.set(a, (b = parseBundle(a.caPem)));
            trusted = b;
            break;
        }
        clientCerts.set(p, (c = clientCert(p, trusted)));
    }
    return c;
}
/** Compiles a route's policies and its body limit; `table` holds the material policies refer to. */
export function compilePolicies(route, env, table) {
    const out = [];
    const bodySize = route.settings.bodySize;
    let directives = null;
    let rewrites = null;
    for (const p of route.policies) {
        switch (p.kind) {
            case 'refuse':
                // nothing else matters for a refused route
                return { request: [refuse(p.because, p.invalid ?? [], p.message)], response: null, outer: null };
            case 'httpsRedirect':
                out.push({ order: ORDER[p.kind], p: httpsRedirect(p, env) });
                break;
            case 'clientCert':
                out.push({ order: ORDER[p.kind], p: compileClientCert(p, table) });
                break;
            case 'headers':
                out.push({ order: p.phase === 'response' ? 8 : 14, p: headers(p) });
                break;
            case 'appRoot':
                out.push({ order: ORDER[p.kind], p: appRoot(p) });
                break;
            case 'hostRedirect':
                out.push({ order: ORDER[p.kind], p: hostRedirect(p) });
                break;
            case 'fixedRedirect':
                out.push({ order: ORDER[p.kind], p: fixedRedirect(p) });
                break;
            case 'redirect':
                out.push({ order: ORDER[p.kind], p: redirect(p) });
                break;
            case 'rewrite':
                out.push({ order: ORDER[p.kind], p: rewrite(p) });
                break;
            case 'rateLimit':
                out.push({ order: ORDER[p.kind], p: rateLimit(p, env) });
                break;
            case 'sourceRange':
                out.push({ order: ORDER[p.kind], p: sourceRange(p.allow, p.deny) });
                break;
            case 'basicAuth':
                out.push({ order: ORDER[p.kind], p: basicAuth(p, env.auth ?? defaultAuthState()) });
                break;
            case 'extAuth':
                // the auth cache is per route, as ingress-nginx's is per location
                out.push({ order: ORDER[p.kind], p: extAuth(p, env.auth ?? defaultAuthState(), env, `${route.host}\n${route.match}\n${route.path}`) });
                break;
            case 'cors': {
                const c = cors(p);
                out.push({ order: CORS_HEADERS_ORDER, p: c.headers }, { order: ORDER[p.kind], p: c.preflight });
                break;
            }
            case 'notFound':
                out.push({ order: ORDER[p.kind], p: notFound });
                break;
            case 'headerDirectives':
                (directives ??= []).push(p);
                break;
            case 'responseRewrite':
                rewrites = responseRewrite(p);
                break;
            case 'errorPages':
                break;
        }
    }
    const limit = bodySize ?? env.bodySize;
    if (limit > 0)
        out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
    const plan = directives === null ? null : compileHeaders(directives);
    if (plan?.request != null)
        out.push({ order: ORDER.headerDirectives, p: plan.request });
    // nginx's proxy module rewrites Location and Set-Cookie before headers-more edits the head
    return { request: out.sort((a, b) => a.order - b.order).map((x) => x.p), response: chainResponse(rewrites, plan?.response ?? null), outer: plan?.outer ?? null };
}
//# sourceMappingURL=index.js.map