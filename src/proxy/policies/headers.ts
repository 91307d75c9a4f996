/**
 * Header edits (Gateway API RequestHeaderModifier / ResponseHeaderModifier): set replaces every
 * value of a header, add appends to an existing value with "," (no space, as the conformance
 * suite checks), remove drops it. Request edits change what the pod receives; response edits what
 * the client receives, proxied or answered by Portico.
 */
import type { Policy } from '../../model/types.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

type Headers = Extract<Policy, { kind: 'headers' }>;

export function headers(p: Headers): RequestPolicy {
  if (p.phase === 'response') {
    const edit = { set: p.set, add: p.add, remove: p.remove };
    return {
      run(ex: PolicyExchange): Verdict {
        ex.editResponse(edit);
        return Verdict.Continue;
      },
    };
  }
  return {
    run(ex: PolicyExchange): Verdict {
      for (const name of p.remove) ex.removeUpstreamHeader(name);
      for (const [name, value] of p.set) ex.setUpstreamHeader(name, value);
      for (const [name, value] of p.add) {
        const v = ex.req.headers[name];
        const existing = Array.isArray(v) ? v.join(',') : v;
        ex.setUpstreamHeader(name, existing === undefined || existing === '' ? value : `${existing},${value}`);
      }
      return Verdict.Continue;
    },
  };
}
