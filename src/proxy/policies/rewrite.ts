/**
 * Gateway API URLRewrite: the Host header and/or the path sent upstream are replaced (the path
 * whole, or the prefix the route matched); the query string is kept, X-Forwarded-Host keeps the
 * client's host.
 */
import type { Policy } from '../../model/types.js';
import { rawOrDecoded, replacePath, splitTarget } from './paths.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

type Rewrite = Extract<Policy, { kind: 'rewrite' }>;

export function rewrite(p: Rewrite): RequestPolicy {
  return {
    run(ex: PolicyExchange): Verdict {
      if (p.hostname !== undefined) ex.setUpstreamHeader('host', p.hostname);
      if (p.path !== undefined) {
        const [, query] = splitTarget(ex.forwardPath);
        ex.setForwardPath(`${replacePath(rawOrDecoded(ex, p.path), p.path)}${query}`);
      }
      return Verdict.Continue;
    },
  };
}
