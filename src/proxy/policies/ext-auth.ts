/**
 * auth-url: before a request goes on, a sub-request to the auth service decides, as nginx's
 * auth_request does for ingress-nginx. The sub-request is the client's request without its body
 * (method GET, or auth-method), with its headers and X-Original-URL, X-Original-Method,
 * X-Auth-Request-Redirect, X-Real-IP and X-Forwarded-* set by Portico (client-sent ones never pass).
 * 2xx lets the request on (auth-response-headers copied onto it, the auth Set-Cookie onto the
 * answer); 401 answers 401 (or a 302 to auth-signin), 403 answers 403; any other status, a
 * timeout (the Ingress's proxy-read-timeout) or an unreachable service answers 500: never a pass.
 * auth-proxy-set-headers' headers (nginx variables expanded) replace those of the same name.
 * Sub-requests go through undici over keep-alive pools; names resolve through the system resolver.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import type { ExtAuthPolicy } from '../../model/types.js';
import { AUTH_VARIABLES, HEADER_VARIABLES } from '../../model/nginx-vars.js';
import type { AuthState, Decision } from '../auth/state.js';
import { connectionListed } from '../headers.js';
import { compileTemplate, escapeUri, expander, hostOf, httpOf, type Expand } from '../nginx-vars.js';
import { nextRequestId } from '../request-id.js';
import { settle } from './settle.js';
import { queryOf } from '../request-target.js';
import { Verdict, type PolicyEnv, type PolicyExchange, type RequestPolicy } from './types.js';

const TEXT = 'text/plain; charset=utf-8';
const UNAUTHORIZED = '401 Authorization Required: the authentication service refused this request\n';
const FORBIDDEN = '403 Forbidden: the authentication service refused this request\n';
const failed = (why: string): string => `500 Internal Server Error: the authentication service ${why}; the request was not let through\n`;
const UNUSABLE = failed('answer could not be used');

/** Client headers never sent to the auth service: hop-by-hop, the body's, and the ones Portico sets. */
const DROP = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect', 'host', 'proxy',
  'content-length', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-forwarded-uri', 'x-forwarded-method', 'x-real-ip',
  'x-original-url', 'x-original-uri', 'x-original-method', 'x-auth-request-redirect', 'x-sent-from', 'x-scheme', 'x-request-id',
]);

/** A statuses-to-duration rule of auth-cache-duration, compiled. */
interface Rule {
  readonly any: boolean;
  readonly statuses: ReadonlySet<number>;
  readonly ms: number;
}

/** An auth template, compiled: its text, or a function of the request. */
const template = (s: string): string | Expand => compileTemplate(s, AUTH_VARIABLES);

/**
 * The sign-in URL as ingress-nginx builds it (buildAuthSignURL): `<param>=` the original URL
 * appended with `?` or `&`, unless the URL's query already carries the parameter.
 */
function signinUrl(signin: string, param: string): { base: Expand; append: string | null } {
  const base = expander(template(signin));
  const query = queryOf(signin);
  if (query === '') return { base, append: '?' };
  const has = new URLSearchParams(query).get(param);
  return { base, append: has !== null && has !== '' ? null : '&' };
}

export function extAuth(p: ExtAuthPolicy, state: AuthState, env: PolicyEnv, scope: string): RequestPolicy {
  const compiled = template(p.url);
  const url = expander(compiled);
  const literal = typeof compiled === 'string' ? safeUrl(compiled) : null;
  const method = p.method ?? 'GET';
  const connectTimeout = p.connectTimeout ?? env.connectTimeout ?? 5000;
  const readTimeout = p.readTimeout ?? env.readTimeout ?? 60_000;
  const dispatcher: Dispatcher = state.agent(connectTimeout);
  const copy = p.responseHeaders;
  const signin = p.signin === undefined ? null : signinUrl(p.signin, p.signinParam);
  const param = `${p.signinParam}=`;
  const always = p.alwaysSetCookie;
  const cacheKey = p.cache === undefined ? null : expander(template(p.cache.key));
  const rules: Rule[] = (p.cache?.durations ?? []).map((d) => ({ any: d.statuses.includes('any'), statuses: new Set(d.statuses.filter((s): s is number => s !== 'any')), ms: d.ms }));
  const keep = new Set(['set-cookie', 'www-authenticate', ...copy]);
  // auth-proxy-set-headers: set on the sub-request in place of any of that name (nginx's proxy_set_header)
  const sets = (p.setHeaders ?? []).map(([name, value]) => ({ lower: name.toLowerCase(), name, value: expander(compileTemplate(value, HEADER_VARIABLES)) }));
  const setNames = new Set(sets.map((s) => s.lower));

  /** How long a decision with this status is kept: the first rule naming it, as nginx's proxy_cache_valid. */
  const ttl = (status: number): number => {
    for (const r of rules) if (r.statuses.has(status)) return r.ms;
    for (const r of rules) if (r.any) return r.ms;
    return 0;
  };

  /** Applies a decision; true when the request goes on. */
  function apply(ex: PolicyExchange, d: Decision): boolean {
    const h = d.headers;
    const cookies = (): void => {
      for (let i = 0; i < h.length; i += 2) if (h[i] === 'set-cookie') ex.addResponseHeader('set-cookie', h[i + 1] as string, always);
    };
    if (d.status >= 200 && d.status < 300) {
      for (const name of copy) {
        let value = '';
        for (let i = 0; i < h.length; i += 2) {
          if (h[i] === name) {
            value = h[i + 1] as string;
            break;
          }
        }
        // absent from the auth answer: the client's header of that name is removed too (as nginx does)
        if (value === '') ex.removeUpstreamHeader(name);
        else ex.setUpstreamHeader(name, value);
      }
      cookies();
      return true;
    }
    if (d.status === 401 && signin !== null) {
      const original = `${ex.scheme}://${httpOf(ex, 'host')}${escapeUri(ex.requestUri)}`;
      const location = signin.append === null ? signin.base(ex) : `${signin.base(ex)}${signin.append}${param}${original}`;
      // the 302 carries the auth service's cookie whatever auth-always-set-cookie says (it is a redirect)
      for (let i = 0; i < h.length; i += 2) if (h[i] === 'set-cookie') ex.addResponseHeader('set-cookie', h[i + 1] as string);
      ex.answer(302, `302 Found: ${location}\n`, TEXT, 'auth_signin', ['location', location]);
      return false;
    }
    if (d.status === 401 || d.status === 403) {
      cookies();
      const extra: string[] = [];
      if (d.status === 401) for (let i = 0; i < h.length; i += 2) if (h[i] === 'www-authenticate') extra.push('www-authenticate', h[i + 1] as string);
      ex.answer(d.status, d.status === 401 ? UNAUTHORIZED : FORBIDDEN, TEXT, 'unauthorized', extra);
      return false;
    }
    ex.answer(500, failed(`answered ${d.status}`), TEXT, 'auth_error');
    return false;
  }

  function headers(ex: PolicyExchange, host: string): string[] {
    const req = ex.req;
    const raw = req.rawHeaders;
    const listed = connectionListed(req.headers.connection);
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i] as string;
      if (name.charCodeAt(0) === 58 /* : */) continue;
      const lower = name.toLowerCase();
      if (DROP.has(lower) || lower.includes('_') || (listed !== null && listed.has(lower))) continue;
      out.push(name, raw[i + 1] as string);
    }
    const target = ex.forwardPath;
    const rid = req.headers['x-request-id'];
    const authority = httpOf(ex, 'host');
    out.push(
      'host', host,
      'x-original-url', `${ex.scheme}://${authority}${target}`,
      'x-original-method', req.method ?? 'GET',
      'x-sent-from', 'portico',
      'x-real-ip', ex.clientIp,
      'x-forwarded-for', ex.clientIp,
      'x-forwarded-proto', ex.scheme,
      'x-forwarded-host', ex.host ?? authority,
      'x-forwarded-port', String(req.socket?.localPort ?? ''),
      'x-forwarded-uri', target,
      'x-forwarded-method', req.method ?? 'GET',
      'x-auth-request-redirect', p.requestRedirect ?? target,
      'x-request-id', typeof rid === 'string' && rid !== '' ? rid : nextRequestId(),
    );
    if (p.method !== undefined) out.push('x-original-uri', target, 'x-scheme', ex.scheme);
    if (sets.length === 0) return out;
    const edited: string[] = [];
    for (let i = 0; i < out.length; i += 2) if (!setNames.has((out[i] as string).toLowerCase())) edited.push(out[i] as string, out[i + 1] as string);
    for (const s of sets) {
      const v = s.value(ex);
      // an empty value sends no header, as nginx's proxy_set_header
      if (v !== '') edited.push(s.name, v);
    }
    return edited;
  }

  return {
    run(ex: PolicyExchange): Verdict {
      let key: string | null = null;
      if (cacheKey !== null) {
        key = createHash('sha256').update(scope).update('\0').update(hostOf(ex)).update('\0').update(cacheKey(ex)).digest('base64');
        const hit = state.decisions.get(key);
        if (hit !== undefined) return apply(ex, hit) ? Verdict.Continue : Verdict.Answered;
      }
      const u = literal ?? safeUrl(url(ex));
      if (u === null) {
        ex.answer(500, failed('URL is not valid for this request'), TEXT, 'auth_error');
        return Verdict.Answered;
      }
      let req: Promise<Dispatcher.ResponseData>;
      try {
        req = dispatcher.request({
          origin: u.origin,
          path: `${u.pathname}${u.search}`,
          method: method as Dispatcher.HttpMethod,
          headers: headers(ex, u.hostname),
          headersTimeout: readTimeout,
          bodyTimeout: readTimeout,
        });
      } catch {
        ex.answer(500, failed('could not be asked'), TEXT, 'auth_error');
        return Verdict.Answered;
      }
      req.then(
        (res) => {
          res.body.dump().catch(() => undefined);
          const picked: string[] = [];
          for (const [name, v] of Object.entries(res.headers)) {
            if (!keep.has(name) || v === undefined) continue;
            for (const value of Array.isArray(v) ? v : [v]) picked.push(name, value);
          }
          const d: Decision = { status: res.statusCode, headers: picked };
          const decisive = (d.status >= 200 && d.status < 300) || d.status === 401 || d.status === 403;
          if (key !== null && decisive) state.decisions.set(key, d, ttl(d.status));
          settle(ex, UNUSABLE, () => {
            if (apply(ex, d)) ex.resume();
          });
        },
        (err: { code?: string }) => {
          const why = err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT' ? 'did not answer in time' : 'could not be reached';
          settle(ex, UNUSABLE, () => ex.answer(500, failed(why), TEXT, 'auth_error'));
        },
      );
      return Verdict.Pending;
    },
  };
}

/** An http(s) URL, or null. */
function safeUrl(s: string): URL | null {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' ? u : null;
  } catch {
    return null;
  }
}
