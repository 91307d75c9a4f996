/**
 * Gateway API RequestRedirect: answered by Portico with the status given (302 by default) and a
 * Location built from the request, each part given replacing the request's. The port (HTTPRoute
 * godoc): the one given, else the scheme's well-known one when the scheme is given, else the
 * listener's; left out for http on 80 and https on 443. The query string is kept.
 */
import type { Policy } from '../../model/types.js';
import { queryStart } from '../request-target.js';
import { rawOrDecoded, replacePath } from './paths.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

type Redirect = Extract<Policy, { kind: 'redirect' }>;

/** The host part of a Host header, without a port. */
function hostOnly(host: string | undefined): string {
  const h = host ?? '';
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.lastIndexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

export function redirect(p: Redirect): RequestPolicy {
  return {
    run(ex: PolicyExchange): Verdict {
      const scheme = p.scheme ?? ex.scheme;
      const port = p.port ?? (p.scheme !== undefined ? (p.scheme === 'https' ? 443 : 80) : ex.listenerPort);
      const showPort = !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443));
      const target = ex.forwardPath;
      const q = queryStart(target);
      const next = p.path === undefined ? target.slice(0, q) : replacePath(rawOrDecoded(ex, p.path), p.path, ex.captures);
      const location = `${scheme}://${p.hostname ?? hostOnly(ex.host)}${showPort ? `:${port}` : ''}${next}${target.slice(q)}`;
      ex.answer(p.status, '', 'text/plain; charset=utf-8', 'redirect', ['location', location]);
      return Verdict.Answered;
    },
  };
}
