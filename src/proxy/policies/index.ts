/**
 * Route policies: each policy kind of the model is one small module here, compiled once per
 * table into objects the exchange runs for every request of its route. Request-phase policies
 * run in one fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0. refuse          a route that cannot be served as written -> 503 naming why
 *   1. httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2. bodyLimit       a declared body over the limit -> 413 before any byte is read
 *  10. headerDirectives  request header edits (snippets' more_set_input_headers, proxy_set_header,
 *                      --proxy-set-headers), last: nothing after them answers the request
 *
 * The response phase: the `headerDirectives` policies' response edits (header-directives.ts), applied to the pod's
 * answer and to Portico's own. `errorPages` is the exchange's (route.ts compiles its backends).
 * A route with no policies runs only the body limit it always had, and no response phase.
 */
import type { HeaderDirectivesPolicy, Policy } from '../../model/types.js';
import { bodyLimit } from './body-limit.js';
import { compileHeaders } from './header-directives.js';
import { httpsRedirect } from './https-redirect.js';
import { refuse } from './refuse.js';
import type { PolicyEnv, RequestPolicy, ResponsePolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy, type ResponsePolicy, type RouteNames } from './types.js';

/** Each kind's place in the fixed order (errorPages is no request-phase policy). */
const ORDER: Record<Exclude<Policy['kind'], 'errorPages'>, number> = {
  refuse: 0,
  httpsRedirect: 1,
  headerDirectives: 10,
};
const BODY_LIMIT_ORDER = 2;

/** A route's policies, compiled. */
export interface CompiledPolicies {
  /** Request-phase policies in the fixed order. */
  readonly request: readonly RequestPolicy[];
  /** Response edits, or null (most routes). */
  readonly response: ResponsePolicy | null;
  /** The response edits an error page's answer gets (server and global scopes), or null. */
  readonly outer: ResponsePolicy | null;
}

/** Compiles a route's policies and its body limit. */
export function compilePolicies(policies: readonly Policy[], bodySize: number | undefined, env: PolicyEnv): CompiledPolicies {
  const out: { order: number; p: RequestPolicy }[] = [];
  let headers: HeaderDirectivesPolicy[] | null = null;
  for (const p of policies) {
    switch (p.kind) {
      case 'refuse':
        // nothing else matters for a refused route
        return { request: [refuse(p.because, p.invalid ?? [])], response: null, outer: null };
      case 'httpsRedirect':
        out.push({ order: ORDER[p.kind], p: httpsRedirect(env) });
        break;
      case 'headerDirectives':
        (headers ??= []).push(p);
        break;
      case 'errorPages':
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  const plan = headers === null ? null : compileHeaders(headers);
  if (plan?.request != null) out.push({ order: ORDER.headerDirectives, p: plan.request });
  return { request: out.sort((a, b) => a.order - b.order).map((x) => x.p), response: plan?.response ?? null, outer: plan?.outer ?? null };
}
