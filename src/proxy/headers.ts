/**
 * Request header rewriting shared by the HTTP path and the Upgrade path: drop hop-by-hop and
 * Connection-listed headers, replace client-sent forwarding headers, keep or mint X-Request-ID,
 * and turn HTTP/2 pseudo-headers into an HTTP/1.1 Host.
 */
import type { IncomingMessage } from 'node:http';
import { MATCH_NONE, type CidrMatcher } from '../model/cidr.js';
import { nextRequestId } from './request-id.js';

/**
 * Request headers never forwarded: hop-by-hop (RFC 9110 7.6.1), ones we set, `expect` (answered
 * here), `proxy` (httpoxy: CGI-style backends read it as $HTTP_PROXY; ingress-nginx clears it) and
 * the client-certificate headers, on every host: only the clientCert policy sets them, from the
 * verified connection (ingress-nginx passes a client's own on hosts without auth-tls-secret).
 */
const DROP_REQUEST = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect', 'host', 'proxy',
  'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip',
  'ssl-client-verify', 'ssl-client-subject-dn', 'ssl-client-issuer-dn', 'ssl-client-cert',
]);
/** The same four with underscores, which CGI, WSGI and PHP read as the same variable (with --allow-underscores-in-headers). */
const DROP_UNDERSCORED = new Set(['ssl_client_verify', 'ssl_client_subject_dn', 'ssl_client_issuer_dn', 'ssl_client_cert']);

/** Tokens of a Connection header other than keep-alive/close/upgrade: more headers to drop (RFC 9110 7.6.1). */
export function connectionListed(value: string | undefined): Set<string> | null {
  if (value === undefined) return null;
  let set: Set<string> | null = null;
  for (const t of value.split(',')) {
    const tok = t.trim().toLowerCase();
    if (tok !== '' && tok !== 'close' && tok !== 'keep-alive' && tok !== 'upgrade') (set ??= new Set()).add(tok);
  }
  return set;
}

/** Client addresses named by a PROXY protocol header, by the raw socket that carried it. */
const proxied = new WeakMap<object, string>();

export function setProxiedAddress(socket: object, address: string): void {
  proxied.set(socket, address);
}

/** The client address (the PROXY protocol's, if any), without the IPv4-mapped IPv6 prefix. */
export function clientAddress(req: IncomingMessage): string {
  const s = req.socket as IncomingMessage['socket'] & { _parent?: object };
  // over TLS, req.socket wraps the raw socket that read the PROXY header
  const a = proxied.get(s) ?? (s._parent !== undefined ? proxied.get(s._parent) : undefined) ?? s.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** Removes from a flat name/value list every header named `lower` (or, with `prefix`, whose name starts with it); whether there was one. */
export function dropHeader(h: string[], lower: string, prefix = false): boolean {
  let found = false;
  for (let i = h.length - 2; i >= 0; i -= 2) {
    const n = (h[i] as string).toLowerCase();
    if (prefix ? n.startsWith(lower) : n === lower) {
      h.splice(i, 2);
      found = true;
    }
  }
  return found;
}

/** The Host as the client sent it: HTTP/2's :authority (RFC 9113 8.3.1), else the Host header. */
export function requestHost(req: IncomingMessage): string | undefined {
  return (req.headers[':authority'] as string | undefined) ?? req.headers.host;
}

export interface Forwarded {
  readonly headers: string[];
  readonly requestId: string;
  /** The client as far as trusted proxies tell it (else the peer address). */
  readonly clientIp: string;
}

/** Which peers may speak for the client in X-Forwarded-* (`--trusted-proxies`). */
export type Trust = CidrMatcher;
export const TRUST_NONE: Trust = MATCH_NONE;

/**
 * nginx's `$request_length` (ingress-nginx's request_size metric and access log field): the
 * request line, the header lines and the body as declared by Content-Length (0 when chunked).
 */
export function requestLength(req: IncomingMessage): number {
  let n = (req.method?.length ?? 0) + (req.url?.length ?? 0) + 12; // "GET /x HTTP/1.1\r\n"
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) n += (raw[i] as string).length + (raw[i + 1] as string).length + 4; // "name: value\r\n"
  return n + 2 + (Number(req.headers['content-length'] ?? 0) || 0); // the blank line, then the body
}

/**
 * The client's address as access rules see it: the peer (or the PROXY protocol's address); from
 * a trusted proxy, the rightmost X-Forwarded-For address that is not a trusted proxy.
 */
export function clientIpOf(req: IncomingMessage, trust: Trust): string {
  const peer = clientAddress(req);
  if (!trust(peer)) return peer;
  const v = req.headers['x-forwarded-for'];
  const xff = Array.isArray(v) ? v.join(', ') : v;
  if (xff === undefined || xff === '') return peer;
  const chain = xff.split(',');
  let client = peer;
  for (let i = chain.length - 1; i >= 0; i--) {
    client = (chain[i] as string).trim();
    if (!trust(client)) break;
  }
  return client;
}

/** What a listener's header rewriting depends on, fixed for its lifetime. */
export interface ForwardOptions {
  readonly scheme: 'http' | 'https';
  readonly trust: Trust;
  /**
   * Forward header names containing `_` (nginx's `underscores_in_headers`). Off by default: CGI,
   * WSGI and PHP backends read `X_Real_IP` as `HTTP_X_REAL_IP`, so it could spoof the real one.
   */
  readonly underscores: boolean;
}

/**
 * Builds the upstream header list (flat name/value array). `host` is the authority the request
 * was routed by (an absolute-form target's, else :authority or Host). `upgrade` keeps the Upgrade
 * header and sends `Connection: upgrade`; `grpc` sends `te: trailers`, which gRPC servers
 * require; `vhost` (the upstream-vhost annotation) replaces the Host header, X-Forwarded-Host
 * keeps the original. `raw`: the request's headers as edited by policies (default: as received);
 * `givenId`: the request id already chosen for the request (default: the client's, else a new one).
 */
export function forwardHeaders(req: IncomingMessage, host: string | undefined, o: ForwardOptions, upgrade: boolean, grpc = false, vhost?: string, raw: readonly string[] = req.rawHeaders, givenId = ''): Forwarded {
  const { scheme, trust } = o;
  const listed = connectionListed(req.headers.connection);
  const out: string[] = [];
  let requestId = givenId;
  const peer = clientAddress(req);
  const peerTrusted = trust(peer);
  let xff = '';
  let xfProto = '';
  let xfHost = '';
  let xfPort = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58 /* : */) continue; // HTTP/2 pseudo-header
    const lower = name.toLowerCase();
    if (lower.includes('_') && (!o.underscores || DROP_UNDERSCORED.has(lower.replaceAll('-', '_')))) continue;
    if (DROP_REQUEST.has(lower) || (listed !== null && listed.has(lower))) {
      if (lower === 'upgrade' && upgrade) out.push(name, raw[i + 1] as string);
      else if (peerTrusted && lower.startsWith('x-forwarded-')) {
        const v = raw[i + 1] as string;
        if (lower === 'x-forwarded-for') xff = xff === '' ? v : `${xff}, ${v}`;
        else if (lower === 'x-forwarded-proto') xfProto ||= v;
        else if (lower === 'x-forwarded-host') xfHost ||= v;
        else if (lower === 'x-forwarded-port') xfPort ||= v;
      }
      continue;
    }
    if (lower === 'x-request-id') {
      if (requestId === '') requestId = raw[i + 1] as string;
      continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  if (requestId === '') requestId = nextRequestId();
  // From a trusted proxy, the client is the rightmost address in the chain that is not a trusted proxy.
  let client = peer;
  if (peerTrusted && xff !== '') {
    const chain = xff.split(',').map((x) => x.trim());
    for (let i = chain.length - 1; i >= 0; i--) {
      client = chain[i] as string;
      if (!trust(client)) break;
    }
  }
  if (vhost !== undefined) out.push('host', vhost);
  else if (host !== undefined) out.push('host', host);
  if (upgrade) out.push('connection', 'upgrade');
  if (grpc) out.push('te', 'trailers');
  out.push(
    'x-request-id', requestId,
    'x-real-ip', client,
    'x-forwarded-for', xff === '' ? peer : `${xff}, ${peer}`,
    'x-forwarded-proto', xfProto || scheme,
    'x-forwarded-port', xfPort || String(req.socket.localPort ?? ''),
  );
  const fwdHost = xfHost || host;
  if (fwdHost !== undefined) out.push('x-forwarded-host', fwdHost);
  return { headers: out, requestId, clientIp: client };
}
