/**
 * ssl-redirect / force-ssl-redirect: plain-HTTP requests get a 308 to the same target over HTTPS,
 * as ingress-nginx's Lua redirect builds it: the host without its port, the public HTTPS port
 * (left out when 443 unless use-port-in-redirects), one trailing `/` dropped unless
 * preserve-trailing-slash.
 */
import type { Policy } from '../../model/types.js';
import { dropTrailingSlash, hostName, redirectBody, TEXT } from './location.js';
import { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** ACME HTTP-01 challenges must stay reachable over plain HTTP (as ingress-nginx does). */
const ACME_PREFIX = '/.well-known/acme-challenge/';

/** `https://host[:port]/target`. */
export function httpsLocation(host: string | undefined, target: string, port: number, always = false): string {
  return `https://${hostName(host)}${port === 443 && !always ? '' : `:${port}`}${target}`;
}

export function httpsRedirect(p: Extract<Policy, { kind: 'httpsRedirect' }>, env: PolicyEnv): RequestPolicy {
  const port = env.httpsRedirectPort;
  const keep = p.preserveTrailingSlash === true;
  const always = p.usePort === true;
  return {
    run(ex: PolicyExchange): Verdict {
      if (ex.scheme !== 'http' || ex.path.startsWith(ACME_PREFIX)) return Verdict.Continue;
      const location = httpsLocation(ex.host, keep ? ex.forwardPath : dropTrailingSlash(ex.forwardPath), port, always);
      ex.answer(308, redirectBody(308, location), TEXT, 'redirect', ['location', location]);
      return Verdict.Answered;
    },
  };
}
