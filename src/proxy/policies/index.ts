/**
 * Request-phase policies: each policy kind of the model is one small module here, compiled once
 * per table into an object the front door runs for every request of its route. They run in one
 * fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0.   refuse          a route that cannot be served as written -> 503 naming why
 *   0.5  cors (headers)  an allowed Origin: the CORS headers go on whatever answers below, and
 *                        Vary: Origin when the answer depends on it
 *   1.   httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2.   bodyLimit       a declared body over the limit -> 413 before any byte is read
 *   3.5  cors (preflight) OPTIONS with an allowed Origin and Access-Control-Request-Method -> 204
 *   5.   headers (response)  response header edits, registered first so Portico's own answers get them too
 *   6.   redirect        a redirect built from the request (Gateway API RequestRedirect)
 *   7.   rewrite         the Host and path sent upstream (Gateway API URLRewrite)
 *   8.   headers (request)   request header edits, last: they see the request as it will be sent
 *   9.   notFound        Portico's 404 page (a host's unmatched paths, so it carries CORS headers)
 *
 * CORS comes in two halves. Its headers are set first, so every answer carries them as
 * ingress-nginx's do (nginx adds them to every status). Its preflight answer comes after the
 * access rules and rate limits (a preflight must not get past them; ingress-nginx answers it
 * before both) and before authentication: a browser never sends credentials with a preflight, so
 * authentication would turn every preflight down.
 *
 * A route with no policies runs only the body limit it always had.
 */
import type { Policy, Route } from '../../model/types.js';
import { bodyLimit } from './body-limit.js';
import { cors } from './cors.js';
import { headers } from './headers.js';
import { httpsRedirect } from './https-redirect.js';
import { notFound } from './not-found.js';
import { redirect } from './redirect.js';
import { rewrite } from './rewrite.js';
import { refuse } from './refuse.js';
import type { PolicyEnv, RequestPolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** Each kind's place in the fixed order (for cors, its preflight half). */
const ORDER: Record<Exclude<Policy['kind'], 'headers'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  cors: 3.5,
  redirect: 6,
  rewrite: 7,
  notFound: 9,
};
const CORS_HEADERS_ORDER = 0.5;
const BODY_LIMIT_ORDER = 2;

/** Compiles a route's policies and its body limit, in the fixed order. */
export function compilePolicies(route: Route, env: PolicyEnv): readonly RequestPolicy[] {
  const out: { order: number; p: RequestPolicy }[] = [];
  const bodySize = route.settings.bodySize;
  for (const p of route.policies) {
    switch (p.kind) {
      case 'refuse':
        // nothing else matters for a refused route
        return [refuse(p.because)];
      case 'httpsRedirect':
        out.push({ order: ORDER[p.kind], p: httpsRedirect(env) });
        break;
      case 'headers':
        out.push({ order: p.phase === 'response' ? 5 : 8, p: headers(p) });
        break;
      case 'redirect':
        out.push({ order: ORDER[p.kind], p: redirect(p) });
        break;
      case 'rewrite':
        out.push({ order: ORDER[p.kind], p: rewrite(p) });
        break;
      case 'cors': {
        const c = cors(p);
        out.push({ order: CORS_HEADERS_ORDER, p: c.headers }, { order: ORDER[p.kind], p: c.preflight });
        break;
      }
      case 'notFound':
        out.push({ order: ORDER[p.kind], p: notFound });
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  return out.sort((a, b) => a.order - b.order).map((x) => x.p);
}
