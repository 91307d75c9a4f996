/**
 * nginx variables read from a request: one reader per variable, for every place that expands them
 * (auth-url templates, header edits and proxy-redirect/-cookie values, upstream-hash-by keys). The
 * parts model/nginx-vars.ts parsed are compiled once per table into one function; an unset
 * variable is '' (as nginx's). No request can make a reader throw.
 *
 * What each reads is nginx's (https://nginx.org/en/docs/http/ngx_http_core_module.html#variables),
 * at the time it is read: after a rewrite, $uri, $args and $arg_ read the rewritten target and
 * $request_uri the original one; $http_ reads the client's headers as policies have edited them so
 * far (as more_set_input_headers edits them for nginx).
 */
import { parseVars, type NamedVariable, type VarContext, type VarPart } from '../model/nginx-vars.js';
import { hostOf as routingHost } from '../router/match.js';
import type { PolicyExchange } from './policies/types.js';
import { queryOf, targetPath } from './request-target.js';

/** What the variables read of a request (an exchange is one). */
export type VarRequest = Pick<PolicyExchange, 'req' | 'scheme' | 'host' | 'clientIp' | 'path' | 'forwardPath' | 'requestUri' | 'requestId' | 'names' | 'captures' | 'header'>;

/** A compiled value: a function of the request. */
export type Expand = (r: VarRequest) => string;

/** `$server_name`: the rule host ('_' for a rule without one, as ingress-nginx names its catch-all server). */
export const serverName = (r: VarRequest): string => r.names?.host || '_';

/** `$host`: the request line's host, else the Host header; lower-case, without the port or a trailing dot; else the server name. */
export function hostOf(r: VarRequest): string {
  const h = routingHost(r.host);
  return h === '' ? serverName(r) : h;
}

/** `$args`: the query of the target as it will be forwarded (a rewrite's), not decoded. */
export const argsOf = (r: VarRequest): string => queryOf(r.forwardPath);

/** `$uri`: the decoded, normalised path; after a rewrite, the decoded path of the new target. */
export function uriOf(r: VarRequest): string {
  if (r.forwardPath === r.requestUri) return r.path;
  const p = targetPath(r.forwardPath);
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/**
 * `$arg_<name>` (`name` lower-case): the raw (not decoded) value of the first argument `name=`,
 * the name compared case-insensitively; an argument without `=` is passed over (ngx_http_arg).
 */
export function argOf(query: string, name: string): string {
  const n = name.length;
  let i = 0;
  while (i < query.length) {
    let end = query.indexOf('&', i);
    if (end === -1) end = query.length;
    if (end - i > n && query.charCodeAt(i + n) === 61 /* = */ && query.slice(i, i + n).toLowerCase() === name) return query.slice(i + n + 1, end);
    i = end + 1;
  }
  return '';
}

/**
 * `$cookie_<name>` (`name` lower-case) from a Cookie header: the first cookie of that name,
 * compared case-insensitively; its value as sent (quotes kept) up to the next `;`
 * (ngx_http_parse_multi_header_lines).
 */
export function cookieOf(header: string | undefined, name: string): string {
  if (header === undefined) return '';
  const n = header.length;
  let i = 0;
  while (i < n) {
    if (header.slice(i, i + name.length).toLowerCase() === name) {
      let j = i + name.length;
      while (header.charCodeAt(j) === 32) j++;
      if (header.charCodeAt(j) === 61 /* = */) {
        j++;
        while (header.charCodeAt(j) === 32) j++;
        const end = header.indexOf(';', j);
        return header.slice(j, end === -1 ? n : end);
      }
    }
    // on to the next cookie: past a ';' or ',' and the spaces after it
    while (i < n) {
      const c = header.charCodeAt(i++);
      if (c === 59 || c === 44) break;
    }
    while (header.charCodeAt(i) === 32) i++;
  }
  return '';
}

/** `$http_<name>` (`name` lower-case, `-` for `_`): the header as edited so far, values joined by ", "; `host` over HTTP/2 is the :authority. */
export function httpOf(r: VarRequest, name: string): string {
  const v = r.header(name);
  if (v !== undefined) return v;
  return name === 'host' ? ((r.req.headers[':authority'] as string | undefined) ?? '') : '';
}

/** set-misc's set_escape_uri (ingress-nginx's $escaped_request_uri): every byte but the unreserved ones percent-encoded, upper-case hex. */
export function escapeUri(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** `$remote_user`: the user of Basic credentials. */
export function remoteUser(r: VarRequest): string {
  const h = r.req.headers.authorization;
  if (typeof h !== 'string' || !/^basic /i.test(h)) return '';
  const raw = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  return colon === -1 ? '' : raw.slice(0, colon);
}

/** The reader of each variable without an argument. */
const READ: { readonly [V in NamedVariable]: Expand } = {
  host: hostOf,
  scheme: (r) => r.scheme,
  request_uri: (r) => r.requestUri,
  escaped_request_uri: (r) => escapeUri(r.requestUri),
  uri: uriOf,
  document_uri: uriOf,
  args: argsOf,
  query_string: argsOf,
  is_args: (r) => (argsOf(r) === '' ? '' : '?'),
  request_method: (r) => r.req.method ?? '',
  remote_addr: (r) => r.clientIp,
  remote_user: remoteUser,
  proxy_add_x_forwarded_for: (r) => {
    const xff = r.header('x-forwarded-for');
    return xff === undefined || xff === '' ? r.clientIp : `${xff}, ${r.clientIp}`;
  },
  request_id: (r) => r.requestId,
  server_name: serverName,
  namespace: (r) => r.names?.namespace ?? '',
  ingress_name: (r) => r.names?.ingress ?? '',
  service_name: (r) => r.names?.service ?? '',
  service_port: (r) => r.names?.servicePort ?? '',
};

function reader(p: Exclude<VarPart, { text: string }>): Expand {
  switch (p.var) {
    case 'capture': {
      const i = p.index;
      return (r) => r.captures?.[i] ?? '';
    }
    case 'http': {
      const n = p.name;
      return (r) => httpOf(r, n);
    }
    case 'arg': {
      const n = p.name;
      return (r) => argOf(argsOf(r), n);
    }
    case 'cookie': {
      const n = p.name;
      return (r) => cookieOf(r.header('cookie'), n);
    }
    default:
      return READ[p.var];
  }
}

/** Compiles parts into the text they always are (no variables), or one function of the request. */
export function compileVars(parts: readonly VarPart[]): string | Expand {
  if (!parts.some((p) => 'var' in p)) return parts.map((p) => ('text' in p ? p.text : '')).join('');
  const fs = parts.map((p): string | Expand => ('text' in p ? p.text : reader(p)));
  if (fs.length === 1) return fs[0] as Expand;
  return (r) => {
    let s = '';
    for (const f of fs) s += typeof f === 'string' ? f : f(r);
    return s;
  };
}

/** Compiles a value the translator checked against `ctx`: its text, or a function of the request ('' for one that does not parse: never thrown). */
export function compileTemplate(value: string, ctx: VarContext): string | Expand {
  const t = parseVars(value, ctx);
  return 'error' in t ? '' : compileVars(t.parts);
}

/** A compiled value as a function, constant or not. */
export const expander = (v: string | Expand): Expand => (typeof v === 'string' ? () => v : v);
