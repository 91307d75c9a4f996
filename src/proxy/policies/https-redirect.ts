/** ssl-redirect / force-ssl-redirect: plain-HTTP requests get a 308 to the same target over HTTPS. */
import { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

/** ACME HTTP-01 challenges must stay reachable over plain HTTP (as ingress-nginx does). */
const ACME_PREFIX = '/.well-known/acme-challenge/';

/** `https://host[:port]/original-target`. */
export function httpsLocation(host: string | undefined, forward: string, port: number): string {
  let h = host ?? '';
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.lastIndexOf(':'));
  return `https://${h}${port === 443 ? '' : `:${port}`}${forward}`;
}

export function httpsRedirect(env: PolicyEnv): RequestPolicy {
  const port = env.httpsRedirectPort;
  return {
    run(ex: PolicyExchange): Verdict {
      if (ex.scheme !== 'http' || ex.path.startsWith(ACME_PREFIX)) return Verdict.Continue;
      const location = httpsLocation(ex.host, ex.forwardPath, port);
      ex.answer(308, `308 Permanent Redirect: ${location}\n`, 'text/plain; charset=utf-8', 'redirect', ['location', location]);
      return Verdict.Answered;
    },
  };
}
