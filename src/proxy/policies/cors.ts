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
 *
 * The Gateway API's CORS filter (`gatewayApi`, from HTTPCORSFilter's doc comments) differs where
 * model/types.ts CorsPolicy says: `*` in an origin's host spans labels and default ports are
 * implied; `*` with credentials echoes what the request asked for; Allow-Methods, Allow-Headers and
 * Max-Age go on preflight answers only; a preflight from an origin that is not allowed is answered
 * 204 without CORS headers; a request without an Origin gets none.
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

const DEFAULT_PORTS: Readonly<Record<string, string>> = { http: '80', https: '443' };

/** `scheme://host[:port]` split, lower-case, the port made explicit (80, 443); null when it is not one. */
function splitOrigin(o: string): { scheme: string; host: string; port: string } | null {
  // a reg-name (RFC 3986) or a bracketed IPv6 address: nothing that could not go back in a header
  const m = /^([a-z][a-z0-9+.-]*):\/\/([a-z0-9._~!$&'()*+,;=%-]+|\[[0-9a-f:.]+\])(?::([0-9]{1,5}))?$/.exec(o.toLowerCase());
  if (m === null) return null;
  const scheme = m[1] as string;
  const port = m[3] ?? DEFAULT_PORTS[scheme] ?? '';
  return { scheme, host: m[2] as string, port: port.replace(/^0+(?=\d)/, '') };
}

/**
 * Compiles Gateway API allowOrigins (lower-case, `*` handled by the caller) into one test: scheme
 * and port (default 80/443) equal, and the host equal, or any host for `*`, or for `*.suffix` any
 * host ending in `.suffix` (the wildcard is greedy to the left: one or more labels).
 */
export function compileGatewayOrigins(origins: readonly string[]): OriginTest {
  const list = origins.flatMap((o) => {
    const s = splitOrigin(o);
    return s === null ? [] : [s];
  });
  return (origin) => {
    const r = splitOrigin(origin);
    if (r === null) return false;
    for (const o of list) {
      if (o.scheme !== r.scheme || o.port !== r.port) continue;
      if (o.host === '*' || o.host === r.host) return true;
      if (o.host.startsWith('*.') && r.host.length > o.host.length - 1 && r.host.endsWith(o.host.slice(1))) return true;
    }
    return false;
  };
}

/** A list of header names or methods as a request header may carry it (`a, b`): echoed back only when it is one. */
const TOKENS = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+(?:[ \t]*,[ \t]*[!#$%&'*+.^_`|~0-9A-Za-z-]+)*$/;
const requested = (ex: PolicyExchange, name: string): string | undefined => {
  const v = ex.req.headers[name];
  return typeof v === 'string' && TOKENS.test(v.trim()) ? v.trim() : undefined;
};

/** The Gateway API flavour (see the module comment). */
function gatewayCors(p: CorsPolicy): CompiledCors {
  const anyOrigin = p.origins === '*';
  // "*": any origin, as long as it is one (it may be echoed back); `null` (an opaque origin) too
  const allowed: OriginTest = anyOrigin ? (o) => o === 'null' || splitOrigin(o) !== null : compileGatewayOrigins(p.origins as readonly string[]);
  const creds = p.credentials;
  // on every answer to an allowed origin
  const common: (readonly [string, string])[] = [];
  if (creds) common.push(['access-control-allow-credentials', 'true']);
  if (p.exposeHeaders !== '' && !(creds && p.exposeHeaders === '*')) common.push(['access-control-expose-headers', p.exposeHeaders]);
  // the request's Origin is echoed unless `*` may be sent (any origin, no credentials)
  const star = anyOrigin && !creds;
  const starEdit: ResponseEdit = { set: [['access-control-allow-origin', '*'], ...common], add: NONE, remove: [] };
  const maxAge: readonly [string, string] = ['access-control-max-age', String(p.maxAge)];
  const allowOrigin = (ex: PolicyExchange): string | undefined => {
    const origin = originOf(ex);
    return origin !== undefined && allowed(origin) ? origin : undefined;
  };
  return {
    headers: {
      run(ex: PolicyExchange): Verdict {
        if (!star) ex.addResponseHeader('vary', 'Origin');
        const origin = allowOrigin(ex);
        if (origin === undefined) return Verdict.Continue;
        ex.editResponse(star ? starEdit : { set: [['access-control-allow-origin', origin], ...common], add: NONE, remove: [] });
        return Verdict.Continue;
      },
    },
    preflight: {
      run(ex: PolicyExchange): Verdict {
        const req = ex.req;
        if (req.method !== 'OPTIONS' || originOf(ex) === undefined || req.headers['access-control-request-method'] === undefined) return Verdict.Continue;
        if (allowOrigin(ex) !== undefined) {
          const set: (readonly [string, string])[] = [];
          const method = requested(ex, 'access-control-request-method');
          if (p.methods === '*') {
            if (!creds) set.push(['access-control-allow-methods', '*']);
            else if (method !== undefined) set.push(['access-control-allow-methods', method]);
          } else if (p.methods !== '') set.push(['access-control-allow-methods', p.methods]);
          const headers = requested(ex, 'access-control-request-headers');
          if (p.headers === '*') {
            if (!creds) set.push(['access-control-allow-headers', '*']);
            else if (headers !== undefined) set.push(['access-control-allow-headers', headers]);
          } else if (p.headers !== '') set.push(['access-control-allow-headers', p.headers]);
          set.push(maxAge);
          ex.editResponse({ set, add: NONE, remove: [] });
        }
        // answered here either way: an origin that is not allowed gets 204 without CORS headers (the filter's choice of the two the spec allows)
        ex.answer(204, '', '', 'cors_preflight');
        return Verdict.Answered;
      },
    },
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
  if (p.gatewayApi === true) return gatewayCors(p);
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
