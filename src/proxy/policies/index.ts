/**
 * Route policies: each policy kind of the model is one small module here, compiled once per
 * table into objects the exchange runs for every request of its route. Request-phase policies
 * run in one fixed order, whatever order a route lists them in (docs/architecture.md):
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
 *  10. headerDirectives  the request edits of nginx header directives (snippets'
 *                      more_set_input_headers and proxy_set_header, --proxy-set-headers)
 *
 * Limits before source ranges, as nginx's preaccess phase (limit_req, limit_conn) runs before its
 * access phase (allow/deny); the redirect is nginx's rewrite phase, before both.
 *
 * The response phase: the `headerDirectives` policies' response edits (header-directives.ts),
 * applied to the pod's answer and to Portico's own. `errorPages` is the exchange's (route.ts
 * compiles its backends). A route with no policies runs only the body limit it always had, and
 * no response phase.
 */
import type { HeaderDirectivesPolicy, Policy, Route } from '../../model/types.js';
import { bodyLimit } from './body-limit.js';
import { compileHeaders } from './header-directives.js';
import { headers } from './headers.js';
import { httpsRedirect } from './https-redirect.js';
import { rateLimit } from './rate-limit.js';
import { redirect } from './redirect.js';
import { rewrite } from './rewrite.js';
import { refuse } from './refuse.js';
import { sourceRange } from './source-range.js';
import type { PolicyEnv, RequestPolicy, ResponsePolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy, type ResponsePolicy, type RouteNames } from './types.js';

/** Each kind's place in the fixed order (headers has two; errorPages is no request-phase policy). */
const ORDER: Record<Exclude<Policy['kind'], 'headers' | 'errorPages'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  rateLimit: 2,
  sourceRange: 3,
  redirect: 6,
  rewrite: 7,
  headerDirectives: 10,
};
const BODY_LIMIT_ORDER = 4;

/** A route's policies, compiled. */
export interface CompiledPolicies {
  /** Request-phase policies in the fixed order. */
  readonly request: readonly RequestPolicy[];
  /** Response edits of header directives, or null (most routes). */
  readonly response: ResponsePolicy | null;
  /** The response edits an error page's answer gets (server and global scopes), or null. */
  readonly outer: ResponsePolicy | null;
}

/** Compiles a route's policies and its body limit. */
export function compilePolicies(route: Route, env: PolicyEnv): CompiledPolicies {
  const out: { order: number; p: RequestPolicy }[] = [];
  const bodySize = route.settings.bodySize;
  let directives: HeaderDirectivesPolicy[] | null = null;
  for (const p of route.policies) {
    switch (p.kind) {
      case 'refuse':
        // nothing else matters for a refused route
        return { request: [refuse(p.because, p.invalid ?? [])], response: null, outer: null };
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
      case 'headerDirectives':
        (directives ??= []).push(p);
        break;
      case 'errorPages':
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  const plan = directives === null ? null : compileHeaders(directives);
  if (plan?.request != null) out.push({ order: ORDER.headerDirectives, p: plan.request });
  return { request: out.sort((a, b) => a.order - b.order).map((x) => x.p), response: plan?.response ?? null, outer: plan?.outer ?? null };
}
