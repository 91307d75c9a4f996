/**
 * Request-phase policies: each policy kind of the model is one small module here, compiled once
 * per table into an object the front door runs for every request of its route. They run in one
 * fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0. refuse          a route that cannot be served as written -> 503 naming why
 *   1. httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2. bodyLimit       a declared body over the limit -> 413 before any byte is read
 *      (access control and authentication come here, before anything that answers for the
 *      backend or changes what it is sent)
 *   5. headers (response)  response header edits, registered first so Portico's own answers get them too
 *   6. appRoot         app-root: a request for `/` -> 302 to the app-root
 *   7. hostRedirect    from-to-www-redirect -> 308 to the other name
 *   8. fixedRedirect   permanent-redirect / temporal-redirect -> 301/302 (or their -code) to a fixed URL
 *   9. redirect        a redirect built from the request (Gateway API RequestRedirect)
 *  10. rewrite         the Host and path sent upstream (Gateway API URLRewrite, rewrite-target)
 *  11. headers (request)   request header edits, last: they see the request as it will be sent
 *
 * Redirects come after access control and authentication, where ingress-nginx runs its `return`
 * (and app-root) in nginx's rewrite phase, before them: a redirect tells where a route went, and
 * behind a closed door that is the door's business; a client allowed in gets the same redirect. The
 * rewrite comes after them: it only changes what is sent on.
 *
 * A route with no policies runs only the body limit it always had.
 */
import type { Policy, Route } from '../../model/types.js';
import { bodyLimit } from './body-limit.js';
import { headers } from './headers.js';
import { httpsRedirect } from './https-redirect.js';
import { redirect } from './redirect.js';
import { refuse } from './refuse.js';
import { rewrite } from './rewrite.js';
import { appRoot, fixedRedirect, hostRedirect } from './fixed-redirects.js';
import type { PolicyEnv, RequestPolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** Each kind's place in the fixed order. */
const ORDER: Record<Exclude<Policy['kind'], 'headers'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  appRoot: 6,
  hostRedirect: 7,
  fixedRedirect: 8,
  redirect: 9,
  rewrite: 10,
};
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
        out.push({ order: ORDER[p.kind], p: httpsRedirect(p, env) });
        break;
      case 'headers':
        out.push({ order: p.phase === 'response' ? 5 : 11, p: headers(p) });
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
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  return out.sort((a, b) => a.order - b.order).map((x) => x.p);
}
