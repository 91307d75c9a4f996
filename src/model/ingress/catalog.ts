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

/** Keys after the prefix (`nginx.ingress.kubernetes.io/` or `portico.dev/`). */
export const ANNOTATIONS: Readonly<Record<string, AnnotationEntry>> = {
  // access control
  'allowlist-source-range': impl('access control', 'clients outside these addresses/CIDRs get 403; replaces --whitelist-source-range; a bad entry refuses the Ingress'),
  'whitelist-source-range': { ...impl('access control', 'read only when allowlist-source-range is absent or empty'), aliasOf: 'allowlist-source-range' },
  'denylist-source-range': impl('access control', 'clients in these addresses/CIDRs get 403, before the allow list; replaces --denylist-source-range; a bad entry refuses the Ingress'),
  satisfy: impl('access control', 'any: one of source ranges, basic and external authentication is enough (nginx\'s access phase); all is the default; a bad value refuses the Ingress'),
  'enable-global-auth': ignored('authentication', 'Portico has no global external authentication (ingress-nginx global-auth-url) to opt out of'),
  // authentication
  'auth-type': impl('authentication', '"basic"; "digest" is not supported and refuses the Ingress'),
  'auth-secret': impl('authentication', 'a Secret in the Ingress\'s namespace'),
  'auth-secret-type': impl('authentication'),
  'auth-realm': impl('authentication'),
  'auth-url': impl('authentication'),
  'auth-method': impl('authentication'),
  'auth-signin': impl('authentication'),
  'auth-signin-redirect-param': impl('authentication'),
  'auth-response-headers': impl('authentication'),
  'auth-request-redirect': impl('authentication', 'a bad value refuses the Ingress (ingress-nginx drops external authentication)'),
  'auth-always-set-cookie': impl('authentication', 'a bad value refuses the Ingress (ingress-nginx drops external authentication)'),
  'auth-cache-key': impl('authentication'),
  'auth-cache-duration': impl('authentication', 'a bad value refuses the Ingress (ingress-nginx drops external authentication on some)'),
  'auth-proxy-set-headers': impl('authentication', 'a ConfigMap in the Ingress\'s namespace; values may use nginx variables; a missing ConfigMap or a bad entry refuses the Ingress'),
  'auth-keepalive': ignored('authentication', 'connections to the auth service are always pooled and kept alive'),
  'auth-keepalive-requests': ignored('authentication', 'connections to the auth service are always pooled and kept alive'),
  'auth-keepalive-share-vars': ignored('authentication', 'no nginx variables are shared with the auth request'),
  'auth-keepalive-timeout': ignored('authentication', 'connections to the auth service are always pooled and kept alive'),
  'auth-snippet': refuse('snippets', 'snippets are never executed'),
  // client certificates
  'auth-tls-secret': impl('client certificates', "ca.crt (and ca.crl) of a Secret in the Ingress's namespace, any type; a missing or broken one refuses the whole host (503)"),
  'auth-tls-verify-client': impl('client certificates', 'on, off, optional, optional_no_ca; another value refuses the Ingress'),
  'auth-tls-verify-depth': impl('client certificates', 'intermediate CAs allowed (OpenSSL verify depth); 0 is 1'),
  'auth-tls-error-page': impl('client certificates', 'an absolute http(s) URL (302); a path or @name refuses the Ingress'),
  'auth-tls-pass-certificate-to-upstream': impl('client certificates'),
  'auth-tls-match-cn': impl('client certificates', 'an RE2 pattern searched in the RFC 2253 subject DN'),
  // rate limits
  'limit-rps': impl('rate limits', 'requests per second per client address, nginx limit_req with burst and nodelay (--limit-req-status-code); per replica'),
  'limit-rpm': impl('rate limits', 'requests per minute per client address, as limit-rps; both apply when both are set'),
  'limit-burst-multiplier': impl('rate limits', 'burst = limit x multiplier (default 5)'),
  'limit-connections': impl('rate limits', 'requests in flight per client address (--limit-conn-status-code); per replica'),
  'limit-allowlist': impl('rate limits', 'client addresses/CIDRs never limited'),
  'limit-whitelist': { ...impl('rate limits', 'read only when limit-allowlist is absent or empty'), aliasOf: 'limit-allowlist' },
  'limit-rate': impl('rate limits', 'KiB/s of each response body toward the client (nginx limit_rate <n>k), per request (so per HTTP/2 stream); 0 is off; a bad value refuses the Ingress'),
  'limit-rate-after': impl('rate limits', 'KiB of each response body sent before limit-rate applies'),
  // CORS
  'enable-cors': impl('CORS', 'preflights (OPTIONS with Origin and Access-Control-Request-Method) are answered 204; other OPTIONS requests reach the pod'),
  'cors-allow-origin': impl('CORS', 'adds Vary: Origin when the answer depends on it; a value ingress-nginx would replace by "*" sends no CORS headers'),
  'cors-allow-methods': impl('CORS'),
  'cors-allow-headers': impl('CORS'),
  'cors-expose-headers': impl('CORS'),
  'cors-allow-credentials': impl('CORS', 'a bad value allows no credentials (ingress-nginx: true)'),
  'cors-max-age': impl('CORS'),
  // rewrites and regex paths
  'use-regex': impl('rewrites and regex paths', "RE2 syntax (linear time); only this Ingress's paths become regexes, not the whole host's"),
  'rewrite-target': impl('rewrites and regex paths', '$1…$9 captures; makes the paths of this Ingress regexes, as use-regex'),
  'app-root': impl('rewrites and regex paths', '302 from / only'),
  'x-forwarded-prefix': impl('rewrites and regex paths', 'sent only with an effective rewrite-target'),
  // redirects
  'ssl-redirect': impl('redirects'),
  'force-ssl-redirect': impl('redirects'),
  'preserve-trailing-slash': impl('redirects'),
  'permanent-redirect': impl('redirects'),
  'permanent-redirect-code': impl('redirects', '300-308, else 301'),
  'temporal-redirect': impl('redirects', 'wins over permanent-redirect'),
  'temporal-redirect-code': impl('redirects', '300-307, else 302'),
  'from-to-www-redirect': impl('redirects', '308, both directions'),
  'server-alias': impl('redirects', 'host names and `*.` wildcards; a real rule host wins'),
  'use-port-in-redirects': impl('redirects'),
  'relative-redirects': impl('redirects'),
  // canary releases
  canary: impl('canary releases', 'splits traffic off the main Ingress of the same host and path; never a route of its own'),
  'canary-by-header': impl('canary releases'),
  'canary-by-header-value': impl('canary releases'),
  'canary-by-header-pattern': impl('canary releases', 'RE2, searched in the value'),
  'canary-by-cookie': impl('canary releases'),
  'canary-weight': impl('canary releases'),
  'canary-weight-total': impl('canary releases', 'any total (ingress-nginx reads one below 100 as 100)'),
  // sticky sessions
  affinity: impl('sticky sessions', 'cookie; per route (ingress-nginx: per Service)'),
  'affinity-mode': impl('sticky sessions'),
  'affinity-canary-behavior': impl('sticky sessions'),
  'session-cookie-name': impl('sticky sessions'),
  'session-cookie-path': impl('sticky sessions'),
  'session-cookie-domain': impl('sticky sessions'),
  'session-cookie-max-age': impl('sticky sessions'),
  'session-cookie-expires': impl('sticky sessions'),
  'session-cookie-samesite': impl('sticky sessions'),
  'session-cookie-conditional-samesite-none': impl('sticky sessions'),
  'session-cookie-secure': impl('sticky sessions'),
  'session-cookie-change-on-failure': impl('sticky sessions'),
  // load balancing
  'load-balance': impl('load balancing', 'round_robin, ewma; per route (ingress-nginx: per Service)'),
  'upstream-hash-by': impl('load balancing', 'consistent hash (ingress-nginx\'s ring); per route'),
  'upstream-hash-by-subset': impl('load balancing'),
  'upstream-hash-by-subset-size': impl('load balancing'),
  'service-upstream': impl('load balancing', 'the Service\'s ClusterIP and port as the one endpoint; a headless or ExternalName Service keeps its endpoints'),
  // error pages
  'custom-http-errors': impl('error pages', 'with default-backend or --default-backend-service; the error backend gets GET / with X-Code and the other ingress-nginx headers'),
  'default-backend': impl('error pages', 'a Service in the Ingress\'s namespace (its first port): error pages, and the route when its backends have no endpoints'),
  'disable-proxy-intercept-errors': impl('error pages'),
  // retries
  'proxy-next-upstream': impl('retries', 'a request whose body was read is sent again only if it was 64 KiB or less (kept for replay)'),
  'proxy-next-upstream-tries': impl('retries', '0 = no limit, capped at 100 attempts'),
  'proxy-next-upstream-timeout': impl('retries'),
  // headers
  'upstream-vhost': impl('headers'),
  'custom-headers': impl('headers', 'a ConfigMap in the Ingress\'s namespace; no global-allowed-response-headers list is needed'),
  'connection-proxy-header': warn('headers', 'the Connection header to the pods belongs to Portico\'s connection pool: it always sends keep-alive (or upgrade for an upgrade request), and "close" would cost a new connection per request; served without it'),
  'proxy-cookie-domain': impl('headers', 'Set-Cookie Domain rewritten on the pod\'s answers'),
  'proxy-cookie-path': impl('headers', 'Set-Cookie Path rewritten on the pod\'s answers'),
  'proxy-redirect-from': impl('headers', 'Location and Refresh rewritten on the pod\'s answers; "default" asks for nothing'),
  'proxy-redirect-to': impl('headers'),
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
  'proxy-ssl-verify-depth': impl('backend TLS'),
  'proxy-ssl-ciphers': impl('backend TLS'),
  'proxy-ssl-protocols': impl('backend TLS'),
  // TLS
  'ssl-ciphers': warn('TLS', 'the TLS 1.2 cipher list is --ssl-ciphers for every host: Node\'s SNI callback switches the certificate but not the cipher list (measured on Node 20), so a per-host list would need the ClientHello read before the handshake; served with --ssl-ciphers'),
  'ssl-prefer-server-ciphers': ignored('TLS', 'Portico always prefers the server\'s cipher order'),
  'ssl-passthrough': impl('TLS', 'with --enable-ssl-passthrough (else refused): TLS to the host is spliced by SNI to the backend of its / path (docs/layer4.md)'),
  // mirroring
  'mirror-target': impl('mirroring', 'an http(s) URL, variables in its path only (https://test.env.com$request_uri); the copy never holds the request back, and is dropped (counted) past --mirror-max-in-flight, --mirror-timeout or --mirror-body-buffer'),
  'mirror-host': impl('mirroring', 'the Host header of the copies (default: the mirror-target\'s host)'),
  'mirror-request-body': impl('mirroring', '"on" (default) or "off"; the body is copied as it streams, never buffered whole'),
  // WAF
  'enable-modsecurity': refuse('WAF', 'ModSecurity is not available in Portico', OFF),
  'enable-owasp-core-rules': refuse('WAF', 'ModSecurity is not available in Portico', OFF),
  'modsecurity-snippet': refuse('WAF', 'ModSecurity is not available in Portico'),
  'modsecurity-transaction-id': ignored('WAF', 'ModSecurity is not available in Portico; without enable-modsecurity this has no effect'),
  // snippets
  'configuration-snippet': impl('snippets', 'parsed, never executed: header directives only (more_set_headers, more_clear_headers, more_set_input_headers, more_clear_input_headers, add_header, proxy_set_header, proxy_hide_header); any other directive refuses the Ingress'),
  'server-snippet': impl('snippets', 'parsed, never executed, as configuration-snippet; for every route of the host, the oldest Ingress\'s winning'),
  'stream-snippet': refuse('snippets', 'snippets are never executed'),
  // logging and tracing
  'enable-access-log': impl('logging and tracing', '"false": no access log line for the Ingress\'s requests; metrics still count them'),
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
