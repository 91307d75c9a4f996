/**
 * The one catalogue of upstream failures: error code -> client status, a stable cause label
 * (for logs and metrics) and whether the request can have reached the pod.
 */
import { STATUS_CODES } from '../node-http.js';

export type Cause = 'connect_refused' | 'connect_timeout' | 'connect_error' | 'tls_verify' | 'reset' | 'timeout' | 'send_timeout' | 'no_endpoints' | 'invalid_backend' | 'protocol' | 'client_abort' | 'other';

export interface Failure {
  readonly status: number;
  readonly cause: Cause;
  /** True when the request never reached the pod, so another endpoint may safely get it. */
  readonly neverSent: boolean;
  readonly text: string;
}

const F = (status: number, cause: Cause, neverSent: boolean, text: string): Failure => ({ status, cause, neverSent, text });

const BY_CODE: Record<string, Failure> = {
  ECONNREFUSED: F(502, 'connect_refused', true, 'the upstream refused the connection'),
  EHOSTUNREACH: F(502, 'connect_error', true, 'the upstream host is unreachable'),
  ENETUNREACH: F(502, 'connect_error', true, 'the upstream network is unreachable'),
  EADDRNOTAVAIL: F(502, 'connect_error', true, 'no local address to reach the upstream'),
  UND_ERR_CONNECT_TIMEOUT: F(504, 'connect_timeout', true, 'timed out connecting to the upstream'),
  // proxy-ssl-verify: the handshake failed, so nothing was sent
  ...Object.fromEntries(
    ['ERR_TLS_CERT_ALTNAME_INVALID', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_UNTRUSTED', 'CERT_REVOKED'].map((code) => [code, F(502, 'tls_verify', true, "the upstream's certificate was not accepted (proxy-ssl-verify)")]),
  ),
  ECONNRESET: F(502, 'reset', false, 'the upstream reset the connection'),
  EPIPE: F(502, 'reset', false, 'the upstream closed the connection'),
  UND_ERR_SOCKET: F(502, 'reset', false, 'the upstream closed the connection'),
  UND_ERR_CLOSED: F(502, 'reset', false, 'the upstream connection was closed'),
  UND_ERR_HEADERS_TIMEOUT: F(504, 'timeout', false, 'timed out waiting for the upstream response'),
  UND_ERR_BODY_TIMEOUT: F(504, 'timeout', false, 'timed out reading the upstream response'),
  HPE_INVALID_CONSTANT: F(502, 'protocol', false, 'the upstream sent an invalid response'),
  UND_ERR_RESPONSE_STATUS_CODE: F(502, 'protocol', false, 'the upstream sent an invalid response'),
  UND_ERR_ABORTED: F(499, 'client_abort', false, 'the client went away'),
  // Portico's HTTP/1.1 client (upstream.ts)
  PORTICO_CONNECT_TIMEOUT: F(504, 'connect_timeout', true, 'timed out connecting to the upstream'),
  // a chain longer than proxy-ssl-verify-depth; settings OpenSSL refuses (proxy-ssl-ciphers): nothing was sent
  CERT_CHAIN_TOO_LONG: F(502, 'tls_verify', true, "the upstream's certificate chain is longer than proxy-ssl-verify-depth allows"),
  PORTICO_TLS_SETTINGS: F(502, 'tls_verify', true, "the route's backend TLS settings cannot be used (proxy-ssl-ciphers, proxy-ssl-protocols)"),
  PORTICO_UPSTREAM_CLOSED: F(502, 'reset', false, 'the upstream closed the connection'),
  PORTICO_HEADERS_TIMEOUT: F(504, 'timeout', false, 'timed out waiting for the upstream response'),
  PORTICO_BODY_TIMEOUT: F(504, 'timeout', false, 'timed out reading the upstream response'),
  PORTICO_UPSTREAM_INVALID: F(502, 'protocol', false, 'the upstream sent an invalid response'),
  PORTICO_UPSTREAM_ABORTED: F(499, 'client_abort', false, 'the client went away'),
  PORTICO_SEND_TIMEOUT: F(504, 'send_timeout', false, 'timed out sending the request body to the upstream'),
  PORTICO_REQUEST_TIMEOUT: F(504, 'timeout', false, 'the route\'s request timeout passed before the response was complete'),
};

const OTHER = F(502, 'other', false, 'the upstream request failed');

/** Classifies an error from the upstream client, undici or the socket under them. */
export function classify(err: unknown): Failure {
  const e = err as { code?: unknown; cause?: { code?: unknown } } | null;
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const inner = typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  // undici wraps socket errors; the errno underneath is the more precise cause.
  return (inner !== undefined ? BY_CODE[inner] : undefined) ?? (code !== undefined ? BY_CODE[code] : undefined) ?? (/^HPE_/.test(code ?? '') ? BY_CODE.HPE_INVALID_CONSTANT as Failure : OTHER);
}

/** Portico's 404 page: no rule matches the host and path. */
export const NOT_FOUND_PAGE = '<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1><p>No Ingress rule matches this host and path.</p><hr><small>portico</small>\n';

export const NO_ENDPOINTS: Failure = F(503, 'no_endpoints', true, 'the backend Service has no ready endpoints');

const REASONS: Record<number, string> = { 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 408: 'Request Timeout', 413: 'Content Too Large', 431: 'Request Header Fields Too Large', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** A small text body naming the cause: `502 Bad Gateway: the upstream refused the connection`. */
export function errorBody(status: number, text: string): string {
  return `${status} ${REASONS[status] ?? STATUS_CODES[status] ?? ''}: ${text}\n`;
}
