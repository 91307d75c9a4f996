/**
 * Request-phase policies: each policy kind of the model is one small module here, compiled once
 * per table into an object the front door runs for every request of its route. They run in one
 * fixed order, whatever order a route lists them in (docs/architecture.md):
 *
 *   0. refuse          a route that cannot be served as written -> 503 naming why
 *   1. httpsRedirect   plain HTTP -> 308 to HTTPS (ACME HTTP-01 challenges exempt)
 *   2. bodyLimit       a declared body over the limit -> 413 before any byte is read
 *
 * A route with no policies runs only the body limit it always had.
 */
import type { Policy } from '../../model/types.js';
import { bodyLimit } from './body-limit.js';
import { httpsRedirect } from './https-redirect.js';
import { refuse } from './refuse.js';
import type { PolicyEnv, RequestPolicy } from './types.js';

export { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** Each kind's place in the fixed order. */
const ORDER: Record<Policy['kind'], number> = {
  refuse: 0,
  httpsRedirect: 1,
};
const BODY_LIMIT_ORDER = 2;

/** Compiles a route's policies and its body limit, in the fixed order. */
export function compilePolicies(policies: readonly Policy[], bodySize: number | undefined, env: PolicyEnv): readonly RequestPolicy[] {
  const out: { order: number; p: RequestPolicy }[] = [];
  for (const p of policies) {
    switch (p.kind) {
      case 'refuse':
        // nothing else matters for a refused route
        return [refuse(p.because)];
      case 'httpsRedirect':
        out.push({ order: ORDER[p.kind], p: httpsRedirect(env) });
        break;
    }
  }
  const limit = bodySize ?? env.bodySize;
  if (limit > 0) out.push({ order: BODY_LIMIT_ORDER, p: bodyLimit(limit) });
  return out.sort((a, b) => a.order - b.order).map((x) => x.p);
}
