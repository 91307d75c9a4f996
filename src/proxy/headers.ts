/**
 * Request header rewriting shared by the HTTP path and the Upgrade path: drop hop-by-hop and
 * Connection-listed headers, replace client-sent forwarding headers, keep or mint X-Request-ID,
 * and turn HTTP/2 pseudo-headers into an HTTP/1.1 Host.
 */
import type { IncomingMessage } from 'node:http';
import { nextRequestId } from './request-id.js';

/** Request headers never forwarded: hop-by-hop (RFC 9110 7.6.1), ones we set, and `expect` (answered here). */
const DROP_REQUEST = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'http2-settings', 'expect', 'host', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-proto', 'x-real-ip']);

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

/** The client address, without the IPv4-mapped IPv6 prefix. */
export function clientAddress(req: IncomingMessage): string {
  const a = req.socket.remoteAddress ?? '';
  return a.startsWith('::ffff:') ? a.slice(7) : a;
}

/** The Host as the client sent it: the Host header, or HTTP/2's :authority. */
export function requestHost(req: IncomingMessage): string | undefined {
  return req.headers.host ?? (req.headers[':authority'] as string | undefined);
}

export interface Forwarded {
  readonly headers: string[];
  readonly requestId: string;
}

/**
 * Builds the upstream header list (flat name/value array). `upgrade` keeps the Upgrade header
 * and sends `Connection: upgrade`; `grpc` sends `te: trailers`, which gRPC servers require.
 */
export function forwardHeaders(req: IncomingMessage, scheme: 'http' | 'https', upgrade: boolean, grpc = false): Forwarded {
  const raw = req.rawHeaders;
  const listed = connectionListed(req.headers.connection);
  const out: string[] = [];
  let requestId = '';
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.charCodeAt(0) === 58 /* : */) continue; // HTTP/2 pseudo-header
    const lower = name.toLowerCase();
    if (DROP_REQUEST.has(lower) || (listed !== null && listed.has(lower))) {
      if (lower === 'upgrade' && upgrade) out.push(name, raw[i + 1] as string);
      continue;
    }
    if (lower === 'x-request-id') {
      if (requestId === '') requestId = raw[i + 1] as string;
      continue;
    }
    out.push(name, raw[i + 1] as string);
  }
  if (requestId === '') requestId = nextRequestId();
  const client = clientAddress(req);
  const host = requestHost(req);
  if (host !== undefined) out.push('host', host);
  if (upgrade) out.push('connection', 'upgrade');
  if (grpc) out.push('te', 'trailers');
  out.push('x-request-id', requestId, 'x-real-ip', client, 'x-forwarded-for', client, 'x-forwarded-proto', scheme, 'x-forwarded-port', String(req.socket.localPort ?? ''));
  if (host !== undefined) out.push('x-forwarded-host', host);
  return { headers: out, requestId };
}
