/**
 * Request-phase policies: each policy kind of the model is one small module here, compiled once
 * per table into an object the front door runs for every request of its route. They run in one
 * fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0. refuse          a route that cannot be served as written -> 503 naming why
 *   1. httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2. rateLimit       over limit-rps / limit-rpm, or limit-connections in flight, per client
 *                      -> --limit-req-status-code / --limit-conn-status-code (503)
 *   3. sourceRange     a client in the deny list, or outside a non-empty allow list -> 403
 *   4. bodyLimit       a declared body over the limit -> 413 before any byte is read
 *   5. headers (response)  response header edits, registered first so Portico's own answers get them too
 *   6. redirect        a redirect built from the request (Gateway API RequestRedirect)
 *   7. rewrite         the Host and path sent upstream (Gateway API URLRewrite)
 *   8. headers (request)   request header edits, last: they see the request as it will be sent
 *
 * Limits before source ranges, as nginx's preaccess phase (limit_req, limit_conn) runs before its
 * access phase (allow/deny); the redirect is nginx's rewrite phase, before both.
 *
 * A route with no policies runs only the body limit it always had.
 */
import type { Policy, Route } from '../../model/types.js';
import { bodyLimit } from './body-limit.js';
import { headers } from './headers.js';
import { httpsRedirect } from './https-redirect.js';
import { rateLimit } from './rate-limit.js';
import { redirect } from './redirect.js';
import { rewrite } from './rewrite.js';
import { refuse } from './refuse.js';
import { sourceRange } from './source-range.js';
import type { PolicyEnv, RequestPolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** Each kind's place in the fixed order. */
const ORDER: Record<Exclude<Policy['kind'], 'headers'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  rateLimit: 2,
  sourceRange: 3,
  redirect: 6,
  rewrite: 7,
};
const BODY_LIMIT_ORDER = 4;

/** Compiles a route's policies and its body limit, in the fixed order. */
export function compilePolicies(route: Route, env: PolicyEnv): readonly RequestPolicy[] {
  const out: { order: number; p: RequestPolicy }[] = [];
  const bodySize = route.settings.bodySize;
  for (const p of route.policies) {
    switch (p.kind) {
      case 'refuse':
        // nothing else matters for a refused route
        return [refuse(p.because, p.invalid ?? [])];
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
      case 'rateLimit':
        out.push({ order: ORDER[p.kind], p: rateLimit(p, env) });
        break;
      case 'sourceRange':
        out.push({ order: ORDER[p.kind], p: sourceRange(p.allow, p.deny) });
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  return out.sort((a, b) => a.order - b.order).map((x) => x.p);
}
