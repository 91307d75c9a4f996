/**
 * Every annotation ingress-nginx documents or parses (controller v1.15, 136 keys and 2 aliases),
 * with what Portico does with it. The one table: the translator reads it, docs/annotations.md is
 * generated from it (a test checks they agree), and nothing under either prefix is ever silent:
 * - `implemented`: read with ingress-nginx's semantics;
 * - `ignored`: accepted on purpose, with the reason (nginx tuning with no meaning for a streaming
 *   proxy): an informational diagnostic;
 * - `unsupported`: an `UnsupportedAnnotation` warning; with `refuse`, the Ingress is not served
 *   (its routes answer 503 naming the annotation) unless `--unsupported-annotations=warn`,
 *   because serving it would open a door its author closed (access control) or send traffic
 *   somewhere else than asked.
 * An unknown key under either prefix is `unsupported`, and refused when its name is in a family
 * that restricts access or moves traffic (a typo of `whitelist-source-range` must not serve open).
 */

export type AnnotationStatus = 'implemented' | 'ignored' | 'unsupported';

export interface AnnotationEntry {
  readonly family: Family;
  readonly status: AnnotationStatus;
  /** Why it is ignored, or what to do instead of an unsupported one. */
  readonly note?: string;
  /** Unsupported and restricting access or moving traffic: the Ingress is refused. */
  readonly refuse?: boolean;
  /** Values that ask for nothing (a switch left off): accepted as ignored, never refused. */
  readonly inert?: readonly string[];
  /** The annotation this one is an alias of (read only when that one is absent). */
  readonly aliasOf?: string;
}

export type Family =
  | 'access control'
  | 'authentication'
  | 'client certificates'
  | 'rate limits'
  | 'CORS'
  | 'rewrites and regex paths'
  | 'redirects'
  | 'canary releases'
  | 'sticky sessions'
  | 'load balancing'
  | 'error pages'
  | 'retries'
  | 'headers'
  | 'timeouts and sizes'
  | 'buffering (nginx tuning)'
  | 'backend protocol'
  | 'backend TLS'
  | 'TLS'
  | 'mirroring'
  | 'WAF'
  | 'snippets'
  | 'logging and tracing'
  | 'unknown';

const impl = (family: Family, note?: string): AnnotationEntry => ({ family, status: 'implemented', ...(note ? { note } : {}) });
const ignored = (family: Family, note: string): AnnotationEntry => ({ family, status: 'ignored', note });
const warn = (family: Family, note: string, inert?: readonly string[]): AnnotationEntry => ({ family, status: 'unsupported', note, ...(inert ? { inert } : {}) });
const refuse = (family: Family, note: string, inert?: readonly string[]): AnnotationEntry => ({ family, status: 'unsupported', note, refuse: true, ...(inert ? { inert } : {}) });
const OFF = ['false'];

const STREAMING = 'Portico streams bodies with back-pressure; nginx buffer tuning has no counterpart';
const PLANNED = 'not implemented yet';

/** Keys after the prefix (`nginx.ingress.kubernetes.io/` or `portico.dev/`). */
export const ANNOTATIONS: Readonly<Record<string, AnnotationEntry>> = {
  // access control
  'allowlist-source-range': refuse('access control', PLANNED),
  'whitelist-source-range': { ...refuse('access control', PLANNED), aliasOf: 'allowlist-source-range' },
  'denylist-source-range': refuse('access control', PLANNED),
  satisfy: refuse('access control', 'satisfy: any is not implemented (all is what Portico does)', ['all']),
  'enable-global-auth': ignored('authentication', 'Portico has no global external authentication (ingress-nginx global-auth-url) to opt out of'),
  // authentication
  'auth-type': refuse('authentication', PLANNED),
  'auth-secret': refuse('authentication', PLANNED),
  'auth-secret-type': refuse('authentication', PLANNED),
  'auth-realm': refuse('authentication', PLANNED),
  'auth-url': refuse('authentication', PLANNED),
  'auth-method': refuse('authentication', PLANNED),
  'auth-signin': refuse('authentication', PLANNED),
  'auth-signin-redirect-param': refuse('authentication', PLANNED),
  'auth-response-headers': refuse('authentication', PLANNED),
  'auth-request-redirect': refuse('authentication', PLANNED),
  'auth-always-set-cookie': refuse('authentication', PLANNED),
  'auth-cache-key': refuse('authentication', PLANNED),
  'auth-cache-duration': refuse('authentication', PLANNED),
  'auth-proxy-set-headers': refuse('authentication', PLANNED),
  'auth-keepalive': ignored('authentication', 'connections to the auth service are always pooled and kept alive'),
  'auth-keepalive-requests': ignored('authentication', 'connections to the auth service are always pooled and kept alive'),
  'auth-keepalive-share-vars': ignored('authentication', 'no nginx variables are shared with the auth request'),
  'auth-keepalive-timeout': ignored('authentication', 'connections to the auth service are always pooled and kept alive'),
  'auth-snippet': refuse('snippets', 'snippets are never executed'),
  // client certificates
  'auth-tls-secret': refuse('client certificates', PLANNED),
  'auth-tls-verify-client': refuse('client certificates', PLANNED, ['off']),
  'auth-tls-verify-depth': refuse('client certificates', PLANNED),
  'auth-tls-error-page': refuse('client certificates', PLANNED),
  'auth-tls-pass-certificate-to-upstream': refuse('client certificates', PLANNED, OFF),
  'auth-tls-match-cn': refuse('client certificates', PLANNED),
  // rate limits
  'limit-rps': refuse('rate limits', PLANNED),
  'limit-rpm': refuse('rate limits', PLANNED),
  'limit-burst-multiplier': refuse('rate limits', PLANNED),
  'limit-connections': refuse('rate limits', PLANNED),
  'limit-allowlist': refuse('rate limits', PLANNED),
  'limit-whitelist': { ...refuse('rate limits', PLANNED), aliasOf: 'limit-allowlist' },
  'limit-rate': refuse('rate limits', 'response bandwidth limits are not implemented', ['0']),
  'limit-rate-after': refuse('rate limits', 'response bandwidth limits are not implemented', ['0']),
  // CORS
  'enable-cors': warn('CORS', PLANNED, OFF),
  'cors-allow-origin': warn('CORS', PLANNED),
  'cors-allow-methods': warn('CORS', PLANNED),
  'cors-allow-headers': warn('CORS', PLANNED),
  'cors-expose-headers': warn('CORS', PLANNED),
  'cors-allow-credentials': warn('CORS', PLANNED),
  'cors-max-age': warn('CORS', PLANNED),
  // rewrites and regex paths
  'use-regex': warn('rewrites and regex paths', PLANNED, OFF),
  'rewrite-target': warn('rewrites and regex paths', PLANNED),
  'app-root': warn('rewrites and regex paths', PLANNED),
  'x-forwarded-prefix': warn('rewrites and regex paths', PLANNED),
  // redirects
  'ssl-redirect': impl('redirects'),
  'force-ssl-redirect': impl('redirects'),
  'preserve-trailing-slash': warn('redirects', PLANNED, OFF),
  'permanent-redirect': warn('redirects', PLANNED),
  'permanent-redirect-code': warn('redirects', PLANNED),
  'temporal-redirect': warn('redirects', PLANNED),
  'temporal-redirect-code': warn('redirects', PLANNED),
  'from-to-www-redirect': warn('redirects', PLANNED, OFF),
  'server-alias': warn('redirects', PLANNED),
  'use-port-in-redirects': warn('redirects', PLANNED, OFF),
  'relative-redirects': warn('redirects', PLANNED, OFF),
  // canary releases
  canary: refuse('canary releases', PLANNED, OFF),
  'canary-by-header': refuse('canary releases', PLANNED),
  'canary-by-header-value': refuse('canary releases', PLANNED),
  'canary-by-header-pattern': refuse('canary releases', PLANNED),
  'canary-by-cookie': refuse('canary releases', PLANNED),
  'canary-weight': refuse('canary releases', PLANNED),
  'canary-weight-total': refuse('canary releases', PLANNED),
  // sticky sessions
  affinity: warn('sticky sessions', PLANNED),
  'affinity-mode': warn('sticky sessions', PLANNED),
  'affinity-canary-behavior': warn('sticky sessions', PLANNED),
  'session-cookie-name': warn('sticky sessions', PLANNED),
  'session-cookie-path': warn('sticky sessions', PLANNED),
  'session-cookie-domain': warn('sticky sessions', PLANNED),
  'session-cookie-max-age': warn('sticky sessions', PLANNED),
  'session-cookie-expires': warn('sticky sessions', PLANNED),
  'session-cookie-samesite': warn('sticky sessions', PLANNED),
  'session-cookie-conditional-samesite-none': warn('sticky sessions', PLANNED),
  'session-cookie-secure': warn('sticky sessions', PLANNED),
  'session-cookie-change-on-failure': warn('sticky sessions', PLANNED),
  // load balancing
  'load-balance': warn('load balancing', PLANNED, ['round_robin']),
  'upstream-hash-by': warn('load balancing', PLANNED),
  'upstream-hash-by-subset': warn('load balancing', PLANNED, OFF),
  'upstream-hash-by-subset-size': warn('load balancing', PLANNED),
  'service-upstream': warn('load balancing', PLANNED, OFF),
  // error pages
  'custom-http-errors': warn('error pages', PLANNED),
  'default-backend': warn('error pages', PLANNED),
  'disable-proxy-intercept-errors': warn('error pages', PLANNED, OFF),
  // retries
  'proxy-next-upstream': warn('retries', `${PLANNED} per Ingress (the global --proxy-next-upstream-tries and timeout apply)`),
  'proxy-next-upstream-tries': warn('retries', `${PLANNED} per Ingress (the global --proxy-next-upstream-tries applies)`),
  'proxy-next-upstream-timeout': warn('retries', `${PLANNED} per Ingress (the global --proxy-next-upstream-timeout applies)`),
  // headers
  'upstream-vhost': impl('headers'),
  'custom-headers': warn('headers', PLANNED),
  'connection-proxy-header': warn('headers', 'the Connection header to the pods is managed by Portico (keep-alive, or upgrade)'),
  'proxy-cookie-domain': warn('headers', PLANNED, ['off']),
  'proxy-cookie-path': warn('headers', PLANNED, ['off']),
  'proxy-redirect-from': warn('headers', PLANNED, ['off', 'default']),
  'proxy-redirect-to': warn('headers', PLANNED, ['off']),
  // timeouts and sizes
  'proxy-body-size': impl('timeouts and sizes'),
  'proxy-connect-timeout': impl('timeouts and sizes'),
  'proxy-read-timeout': impl('timeouts and sizes'),
  'proxy-send-timeout': impl('timeouts and sizes'),
  // buffering (nginx tuning)
  'client-body-buffer-size': ignored('buffering (nginx tuning)', STREAMING),
  'proxy-buffering': ignored('buffering (nginx tuning)', `${STREAMING} (Portico behaves as proxy-buffering: off)`),
  'proxy-buffer-size': ignored('buffering (nginx tuning)', STREAMING),
  'proxy-buffers-number': ignored('buffering (nginx tuning)', STREAMING),
  'proxy-busy-buffers-size': ignored('buffering (nginx tuning)', STREAMING),
  'proxy-max-temp-file-size': ignored('buffering (nginx tuning)', `${STREAMING}; nothing is written to temporary files`),
  'proxy-request-buffering': ignored('buffering (nginx tuning)', `${STREAMING} (request bodies go to the pod as they arrive: proxy-request-buffering: off)`),
  'proxy-http-version': ignored('buffering (nginx tuning)', 'Portico speaks HTTP/1.1 to HTTP and HTTPS pods'),
  'http2-push-preload': ignored('buffering (nginx tuning)', 'HTTP/2 server push is obsolete (removed from browsers and from nginx 1.25.1)'),
  // backend protocol
  'backend-protocol': impl('backend protocol', 'HTTP, HTTPS, GRPC, GRPCS; AUTO_HTTP and FCGI are InvalidAnnotation'),
  'fastcgi-index': warn('backend protocol', 'FastCGI backends are not supported'),
  'fastcgi-params-configmap': warn('backend protocol', 'FastCGI backends are not supported'),
  // backend TLS
  'proxy-ssl-secret': impl('backend TLS', 'the Secret must be in the Ingress\'s namespace'),
  'proxy-ssl-verify': impl('backend TLS'),
  'proxy-ssl-server-name': impl('backend TLS'),
  'proxy-ssl-name': impl('backend TLS'),
  'proxy-ssl-verify-depth': warn('backend TLS', 'the whole chain is verified up to a trusted CA'),
  'proxy-ssl-ciphers': warn('backend TLS', 'Node.js defaults are used for connections to pods'),
  'proxy-ssl-protocols': warn('backend TLS', 'TLS 1.2 and 1.3 are offered to pods'),
  // TLS
  'ssl-ciphers': warn('TLS', 'ciphers are set for every host by --ssl-ciphers'),
  'ssl-prefer-server-ciphers': ignored('TLS', 'Portico always prefers the server\'s cipher order'),
  'ssl-passthrough': impl('TLS', 'with --enable-ssl-passthrough (else refused): TLS to the host is spliced by SNI to the backend of its / path (docs/layer4.md)'),
  // mirroring
  'mirror-target': refuse('mirroring', PLANNED),
  'mirror-host': refuse('mirroring', PLANNED),
  'mirror-request-body': refuse('mirroring', PLANNED),
  // WAF
  'enable-modsecurity': refuse('WAF', 'ModSecurity is not available in Portico', OFF),
  'enable-owasp-core-rules': refuse('WAF', 'ModSecurity is not available in Portico', OFF),
  'modsecurity-snippet': refuse('WAF', 'ModSecurity is not available in Portico'),
  'modsecurity-transaction-id': ignored('WAF', 'ModSecurity is not available in Portico; without enable-modsecurity this has no effect'),
  // snippets
  'configuration-snippet': refuse('snippets', 'snippets are never executed'),
  'server-snippet': refuse('snippets', 'snippets are never executed'),
  'stream-snippet': refuse('snippets', 'snippets are never executed'),
  // logging and tracing
  'enable-access-log': warn('logging and tracing', PLANNED, ['true']),
  'enable-rewrite-log': ignored('logging and tracing', 'nginx\'s rewrite log; the access log records each routing decision'),
  'enable-opentelemetry': warn('logging and tracing', 'tracing is not implemented', OFF),
  'opentelemetry-operation-name': warn('logging and tracing', 'tracing is not implemented'),
  'opentelemetry-trust-incoming-span': warn('logging and tracing', 'tracing is not implemented'),
};

/** Unknown keys in these families are refused: a typo must not serve what it meant to close. */
const SENSITIVE = /^(auth-|.*source-range|limit-|satisfy|canary|.*modsecurity|.*owasp|ssl-passthrough|mirror-|.*snippet)/;

/** What an annotation key (after the prefix) is: its catalog entry, or an unknown key. */
export function lookup(key: string): AnnotationEntry {
  if (Object.hasOwn(ANNOTATIONS, key)) return ANNOTATIONS[key] as AnnotationEntry;
  return { family: 'unknown', status: 'unsupported', note: 'not an ingress-nginx annotation (a typo?)', ...(SENSITIVE.test(key) ? { refuse: true } : {}) };
}
