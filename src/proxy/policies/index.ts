/**
 * Request-phase policies: each policy kind of the model is one small module here, compiled once
 * per table into an object the front door runs for every request of its route. They run in one
 * fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0. refuse          a route that cannot be served as written -> 503 naming why
 *   1. httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2. bodyLimit       a declared body over the limit -> 413 before any byte is read
 *   3. basicAuth       no valid user and password -> 401 with WWW-Authenticate (hashes checked off the event loop)
 *   4. extAuth         a sub-request to the auth service: 2xx on; 401 (or 302 to sign-in), 403; else 500
 *   5. headers (response)  response header edits, registered first so Portico's own answers get them too
 *   6. redirect        a redirect built from the request (Gateway API RequestRedirect)
 *   7. rewrite         the Host and path sent upstream (Gateway API URLRewrite)
 *   8. headers (request)   request header edits, last: they see the request as it will be sent
 *
 * A route with no policies runs only the body limit it always had.
 */
import type { Policy, Route } from '../../model/types.js';
import { defaultAuthState } from '../auth/state.js';
import { basicAuth } from './basic-auth.js';
import { bodyLimit } from './body-limit.js';
import { extAuth } from './ext-auth.js';
import { headers } from './headers.js';
import { httpsRedirect } from './https-redirect.js';
import { redirect } from './redirect.js';
import { rewrite } from './rewrite.js';
import { refuse } from './refuse.js';
import type { PolicyEnv, RequestPolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** Each kind's place in the fixed order. */
const ORDER: Record<Exclude<Policy['kind'], 'headers'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  basicAuth: 3,
  extAuth: 4,
  redirect: 6,
  rewrite: 7,
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
      case 'basicAuth':
        out.push({ order: ORDER[p.kind], p: basicAuth(p, env.auth ?? defaultAuthState()) });
        break;
      case 'extAuth':
        // the auth cache is per route, as ingress-nginx's is per location
        out.push({ order: ORDER[p.kind], p: extAuth(p, env.auth ?? defaultAuthState(), env, `${route.host}\n${route.match}\n${route.path}`) });
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  return out.sort((a, b) => a.order - b.order).map((x) => x.p);
}
