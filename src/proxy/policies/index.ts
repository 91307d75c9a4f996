/**
 * Route policies: each policy kind of the model is one small module here, compiled once per
 * table into objects the exchange runs for every request of its route. Request-phase policies
 * run in one fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0.   refuse          a route that cannot be served as written -> 503 naming why
 *   0.5  cors (headers)  an allowed Origin: the CORS headers go on whatever answers below, and
 *                        Vary: Origin when the answer depends on it
 *   1.   httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2.   clientCert      the connection's client certificate: 421, 400 (or 302), 403; ssl-client-* headers
 *   3.   rateLimit       over limit-rps / limit-rpm, or limit-connections in flight, per client
 *                        -> --limit-req-status-code / --limit-conn-status-code (503)
 *   4.   sourceRange     a client in the deny list, or outside a non-empty allow list -> 403
 *   5.   bodyLimit       a declared body over the limit -> 413 before any byte is read
 *   5.5  cors (preflight) OPTIONS with an allowed Origin and Access-Control-Request-Method -> 204
 *   6.   basicAuth       no valid user and password -> 401 with WWW-Authenticate (hashes checked off the event loop)
 *   6.   satisfyAny      satisfy: any: source ranges, basic auth, external auth as one check that one of them
 *                        passes (in that order); after the CORS preflight, since credentials may now open
 *                        the door an address closed (satisfy.ts)
 *   7.   extAuth         a sub-request to the auth service: 2xx on; 401 (or 302 to sign-in), 403; else 500
 *   8.   headers (response)  response header edits, registered first so Portico's own answers get them too
 *   9.   appRoot         app-root: a request for `/` -> 302 to the app-root
 *  10.   hostRedirect    from-to-www-redirect -> 308 to the other name
 *  11.   fixedRedirect   permanent-redirect / temporal-redirect -> 301/302 (or their -code) to a fixed URL
 *  12.   redirect        a redirect built from the request (Gateway API RequestRedirect)
 *  13.   rewrite         the Host and path sent upstream (Gateway API URLRewrite, rewrite-target)
 *  14.   headers (request)   request header edits, last: they see the request as it will be sent
 *  14.5  headerDirectives  the request edits of nginx header directives (snippets'
 *                        more_set_input_headers and proxy_set_header, --proxy-set-headers)
 *  15.   notFound        Portico's 404 page (a host's unmatched paths, so it carries CORS headers)
 *
 * The client certificate first, as nginx answers a failed verification before any phase runs;
 * limits before source ranges, as nginx's preaccess phase (limit_req, limit_conn) runs before its
 * access phase; within the access phase allow/deny, then auth_basic, then auth_request, as nginx
 * runs its access handlers.
 *
 * Redirects come after access control and authentication, where ingress-nginx runs its `return`
 * (and app-root) in nginx's rewrite phase, before them: a redirect tells where a route went, and
 * behind a closed door that is the door's business; a client allowed in gets the same redirect. The
 * rewrite comes after them: it only changes what is sent on.
 *
 * CORS comes in two halves. Its headers are set first, so every answer carries them as
 * ingress-nginx's do (nginx adds them to every status). Its preflight answer comes after the
 * client certificate, limits and source ranges (a preflight must not get past them; ingress-nginx
 * answers it before all of them) and before authentication: a browser never sends credentials
 * with a preflight, so authentication would turn every preflight down.
 *
 * The response phase: `responseRewrite` (proxy_redirect, proxy_cookie_*: the pod's answers only),
 * then the `headerDirectives` policies' response edits (header-directives.ts), applied to the
 * pod's answer and to Portico's own. `errorPages` and `mirror` are the exchange's (route.ts
 * compiles their backends; a mirror copies the request once every policy has let it through, as
 * it is sent: proxy/mirror.ts). A route with no policies runs only the body limit it always had, and
 * no response phase.
 */
import type { X509Certificate } from 'node:crypto';
import type { ClientAuth, HeaderDirectivesPolicy, Policy, Route, RouteTable } from '../../model/types.js';
import { parseBundle } from '../../tls/client-cert.js';
import { defaultAuthState } from '../auth/state.js';
import { basicAuth } from './basic-auth.js';
import { bodyLimit } from './body-limit.js';
import { clientCert, type ClientCertPolicy } from './client-cert.js';
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
import { satisfyAny } from './satisfy.js';
import { sourceRange } from './source-range.js';
import { appRoot, fixedRedirect, hostRedirect } from './fixed-redirects.js';
import type { PolicyEnv, RequestPolicy, ResponsePolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy, type ResponsePolicy, type RouteNames } from './types.js';

/** Each kind's place in the fixed order (for cors, its preflight half; headers has two; errorPages and mirror are no request-phase policies). */
const ORDER: Record<Exclude<Policy['kind'], 'headers' | 'errorPages' | 'responseRewrite' | 'mirror'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  clientCert: 2,
  rateLimit: 3,
  sourceRange: 4,
  cors: 5.5,
  basicAuth: 6,
  satisfyAny: 6,
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
const clientCerts = new WeakMap<ClientCertPolicy, RequestPolicy>();
/** CA bundles parsed once per table and host. */
const bundles = new WeakMap<ClientAuth, X509Certificate[]>();

function compileClientCert(p: ClientCertPolicy, table: RouteTable | undefined): RequestPolicy {
  let c = clientCerts.get(p);
  if (c === undefined) {
    let trusted: X509Certificate[] = [];
    for (const a of table?.clientAuth?.values() ?? []) {
      if (a.id !== p.ca) continue;
      let b = bundles.get(a);
      if (b === undefined) bundles.set(a, (b = parseBundle(a.caPem)));
      trusted = b;
      break;
    }
    clientCerts.set(p, (c = clientCert(p, trusted)));
  }
  return c;
}

/** A route's policies, compiled. */
export interface CompiledPolicies {
  /** Request-phase policies in the fixed order. */
  readonly request: readonly RequestPolicy[];
  /** Response edits of header directives, or null (most routes). */
  readonly response: ResponsePolicy | null;
  /** The response edits an error page's answer gets (server and global scopes), or null. */
  readonly outer: ResponsePolicy | null;
}

/** Compiles a route's policies and its body limit; `table` holds the material policies refer to. */
export function compilePolicies(route: Route, env: PolicyEnv, table?: RouteTable): CompiledPolicies {
  const out: { order: number; p: RequestPolicy }[] = [];
  const bodySize = route.settings.bodySize;
  let directives: HeaderDirectivesPolicy[] | null = null;
  let rewrites: ResponsePolicy | null = null;
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
      case 'satisfyAny':
        out.push({
          order: ORDER[p.kind],
          p: satisfyAny(p.checks, (c) => (c.kind === 'basicAuth' ? basicAuth(c, env.auth ?? defaultAuthState()) : extAuth(c, env.auth ?? defaultAuthState(), env, `${route.host}\n${route.match}\n${route.path}`))),
        });
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
      case 'mirror':
        // the exchange's (route.ts compiles them): error pages replace answers, mirrors copy the request as it is sent
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  const plan = directives === null ? null : compileHeaders(directives);
  if (plan?.request != null) out.push({ order: ORDER.headerDirectives, p: plan.request });
  // nginx's proxy module rewrites Location and Set-Cookie before headers-more edits the head
  return { request: out.sort((a, b) => a.order - b.order).map((x) => x.p), response: chainResponse(rewrites, plan?.response ?? null), outer: plan?.outer ?? null };
}

/**
 * A Gateway API backendRef's filters, compiled: run by the exchange once it has chosen that
 * backend (after the route's own policies), in the same fixed order (response header edits,
 * redirect, rewrite, request header edits). Only these kinds reach a backend (model/gateway);
 * each answers or continues at once, never Pending. Empty: null (most backends).
 */
export function compileBackendPolicies(list: readonly Policy[] | undefined): readonly RequestPolicy[] | null {
  if (list === undefined || list.length === 0) return null;
  const out: { order: number; p: RequestPolicy }[] = [];
  for (const p of list) {
    if (p.kind === 'headers') out.push({ order: p.phase === 'response' ? 8 : 14, p: headers(p) });
    else if (p.kind === 'redirect') out.push({ order: ORDER.redirect, p: redirect(p) });
    else if (p.kind === 'rewrite') out.push({ order: ORDER.rewrite, p: rewrite(p) });
  }
  return out.length === 0 ? null : out.sort((a, b) => a.order - b.order).map((x) => x.p);
}
