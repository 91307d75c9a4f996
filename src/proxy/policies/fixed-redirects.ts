/**
 * ingress-nginx's redirects that answer instead of the backend, compiled once per table:
 * - `fixedRedirect` (permanent-redirect, temporal-redirect): the URL as written; a path is made absolute
 *   with the request's scheme and host, as nginx's `return` does (unless relative-redirects);
 * - `appRoot` (app-root): `/` gets a 302 to `<scheme>://<Host header><path>`, the query dropped;
 * - `hostRedirect` (from-to-www-redirect): a 308 to the other name, with the port always written
 *   (the Host header's, else the listener's: 80 or 443) and the target kept, one trailing `/` dropped.
 */
import type { Policy } from '../../model/types.js';
import { dropTrailingSlash, hostName, hostPort, redirectBody, TEXT } from './location.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

export function fixedRedirect(p: Extract<Policy, { kind: 'fixedRedirect' }>): RequestPolicy {
  const { status, url } = p;
  if (!url.startsWith('/') || p.relative === true) {
    const body = redirectBody(status, url);
    const headers = ['location', url];
    return {
      run(ex: PolicyExchange): Verdict {
        ex.answer(status, body, TEXT, 'redirect', headers);
        return Verdict.Answered;
      },
    };
  }
  const usePort = p.usePort === true;
  return {
    run(ex: PolicyExchange): Verdict {
      const name = hostName(ex.host);
      const port = usePort ? hostPort(ex.host) : '';
      const location = name === '' ? url : `${ex.scheme}://${name}${port === '' ? '' : `:${port}`}${url}`;
      ex.answer(status, redirectBody(status, location), TEXT, 'redirect', ['location', location]);
      return Verdict.Answered;
    },
  };
}

export function appRoot(p: Extract<Policy, { kind: 'appRoot' }>): RequestPolicy {
  const path = p.path;
  return {
    run(ex: PolicyExchange): Verdict {
      if (ex.path !== '/') return Verdict.Continue;
      const host = ex.host ?? '';
      const location = host === '' ? path : `${ex.scheme}://${host}${path}`;
      ex.answer(302, redirectBody(302, location), TEXT, 'redirect', ['location', location]);
      return Verdict.Answered;
    },
  };
}

export function hostRedirect(p: Extract<Policy, { kind: 'hostRedirect' }>): RequestPolicy {
  const to = p.host;
  return {
    run(ex: PolicyExchange): Verdict {
      const port = hostPort(ex.host) || String(ex.listenerPort);
      const location = `${ex.scheme}://${to}:${port}${dropTrailingSlash(ex.forwardPath)}`;
      ex.answer(308, redirectBody(308, location), TEXT, 'redirect', ['location', location]);
      return Verdict.Answered;
    },
  };
}
