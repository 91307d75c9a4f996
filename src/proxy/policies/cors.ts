/**
 * CORS (enable-cors and the cors-* annotations), compiled once per table into two request
 * policies (index.ts places them):
 *
 * - `headers`, first: for a request whose `Origin` is allowed, the CORS headers are set on
 *   whatever answers it (the pod's response, whose own headers of those names are dropped, a
 *   redirect, a 401, 403, 413, 429 or 5xx of Portico), as ingress-nginx's `more_set_headers`
 *   does for every status. With a list of origins the answer depends on the request's `Origin`,
 *   so every response of the route gets `Vary: Origin` (ingress-nginx sends none; a shared cache
 *   would otherwise hand one origin's answer to another).
 * - `preflight`, after access rules and rate limits and before authentication: `OPTIONS` with an
 *   allowed `Origin` and `Access-Control-Request-Method` is answered 204 with those headers and
 *   `Content-Length: 0`, and never reaches the pod. A preflight carries no credentials (browsers
 *   never send them), so authentication must not see it; access rules and rate limits still do
 *   (ingress-nginx answers preflights before both). Any other OPTIONS goes on to the pod.
 *
 * An origin that is not allowed gets no CORS header, and its preflight goes on like any OPTIONS.
 */
import type { CorsPolicy } from '../../model/types.js';
import { Verdict, type PolicyExchange, type RequestPolicy, type ResponseEdit } from './types.js';

/** Whether an `Origin` value is allowed: exact (case-insensitive) or one DNS label in place of `*.`. */
export type OriginTest = (origin: string) => boolean;

const LABEL = /^[a-z0-9-]+$/;

/**
 * Compiles allowed origins (lower-case, as the model holds them) into one test. The whole value
 * must match (ingress-nginx anchors only the end: `xhttps://a.com` passes there for `https://a.com`).
 */
export function compileOrigins(origins: readonly string[]): OriginTest {
  const exact = new Set<string>();
  const wild: { prefix: string; suffix: string }[] = [];
  for (const o of origins) {
    const at = o.indexOf('://*.');
    if (at === -1) exact.add(o);
    else wild.push({ prefix: o.slice(0, at + 3), suffix: o.slice(at + 4) });
  }
  return (origin) => {
    const o = origin.toLowerCase();
    if (exact.has(o)) return true;
    for (const w of wild) {
      if (o.length <= w.prefix.length + w.suffix.length || !o.startsWith(w.prefix) || !o.endsWith(w.suffix)) continue;
      if (LABEL.test(o.slice(w.prefix.length, o.length - w.suffix.length))) return true;
    }
    return false;
  };
}

/** The two halves of a compiled CORS policy. */
export interface CompiledCors {
  readonly headers: RequestPolicy;
  readonly preflight: RequestPolicy;
}

/** The request's `Origin`, when it sent exactly one. */
function originOf(ex: PolicyExchange): string | undefined {
  const v = ex.req.headers.origin;
  return typeof v === 'string' ? v : undefined;
}

const NONE: readonly (readonly [string, string])[] = [];

export function cors(p: CorsPolicy): CompiledCors {
  // the fixed headers, in ingress-nginx's order, after Access-Control-Allow-Origin
  const fixed: (readonly [string, string])[] = [];
  if (p.credentials) fixed.push(['access-control-allow-credentials', 'true']);
  fixed.push(['access-control-allow-methods', p.methods], ['access-control-allow-headers', p.headers]);
  if (p.exposeHeaders !== '') fixed.push(['access-control-expose-headers', p.exposeHeaders]);
  fixed.push(['access-control-max-age', String(p.maxAge)]);
  const any = p.origins === '*';
  const allowed: OriginTest = any ? () => true : compileOrigins(p.origins as readonly string[]);
  /** With "*" the whole edit is the same for every request; else only its first header varies. */
  const star: ResponseEdit = { set: [['access-control-allow-origin', '*'], ...fixed], add: NONE, remove: [] };

  /** The value of Access-Control-Allow-Origin for this request, or undefined for no CORS headers. */
  const allowOrigin = (ex: PolicyExchange): string | undefined => {
    if (any) return '*';
    const origin = originOf(ex);
    return origin !== undefined && allowed(origin) ? origin : undefined;
  };

  return {
    headers: {
      run(ex: PolicyExchange): Verdict {
        if (!any) ex.addResponseHeader('vary', 'Origin');
        const acao = allowOrigin(ex);
        if (acao === undefined) return Verdict.Continue;
        // set: the pod's headers of these names are replaced (nginx's more_set_headers)
        ex.editResponse(any ? star : { set: [['access-control-allow-origin', acao], ...fixed], add: NONE, remove: [] });
        return Verdict.Continue;
      },
    },
    preflight: {
      run(ex: PolicyExchange): Verdict {
        const req = ex.req;
        if (req.method !== 'OPTIONS' || originOf(ex) === undefined || req.headers['access-control-request-method'] === undefined || allowOrigin(ex) === undefined) return Verdict.Continue;
        // the headers half has set the CORS headers already; a 204 has no body and no type
        ex.answer(204, '', '', 'cors_preflight');
        return Verdict.Answered;
      },
    },
  };
}
