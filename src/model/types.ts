/**
 * The routing model: what the translator produces and the router compiles.
 * It knows nothing of Kubernetes objects beyond the names it reports back.
 */
import type { GatewayApiStatus } from './gateway/status.js';

/**
 * How a route's path is compared with the request path: `Exact`; `Prefix`, element by element
 * (ImplementationSpecific is read as Prefix); `Regex`, an RE2 pattern anchored at the start of
 * the path (model/regex.ts: linear time, never a backtracking engine).
 */
export type PathMatch = 'Exact' | 'Prefix' | 'Regex';

/** Which object a route came from, for diagnostics, metrics labels, logs and status. */
export interface RouteSource {
  /** `DefaultBackend` is `--default-backend-service` (name = the Service). */
  readonly kind: 'Ingress' | 'HTTPRoute' | 'GRPCRoute' | 'Gateway' | 'DefaultBackend';
  readonly namespace: string;
  readonly name: string;
}

/** A header or query parameter condition (Gateway API HTTPHeaderMatch / HTTPQueryParamMatch). */
export interface ValueMatch {
  readonly type: 'Exact' | 'RegularExpression';
  /** Header names are lower-case; query parameter names as written (they are case-sensitive). */
  readonly name: string;
  readonly value: string;
}

/** Conditions beyond host and path; all must hold. */
export interface Conditions {
  readonly method?: string;
  readonly headers?: readonly ValueMatch[];
  readonly query?: readonly ValueMatch[];
}

/**
 * What a route does to a request besides forwarding it: typed, immutable data. The proxy runs the
 * request-phase policies in one fixed order whatever order they are listed in (docs/architecture.md).
 */
export type Policy =
  /**
   * The route is not served: 503 naming what cannot be honoured (an annotation that restricts
   * access or moves traffic, which Portico does not implement). Runs before everything else.
   */
  | {
      readonly kind: 'refuse';
      /** Unsupported annotations (refused unless --unsupported-annotations=warn). */
      readonly because: readonly string[];
      /** Supported access-control annotations with a bad value: refused whatever that flag says. */
      readonly invalid?: readonly string[];
      /** Why, when it is not "its Ingress uses <because>, which Portico cannot honour" (the 503 says "this route is not served: <message>"). */
      readonly message?: string;
    }
  /**
   * Plain-HTTP requests get a 308 to HTTPS (ssl-redirect, force-ssl-redirect); ACME HTTP-01
   * challenges are exempt. As ingress-nginx, one trailing `/` of a target without a query is
   * dropped from the Location unless `preserveTrailingSlash` (`preserve-trailing-slash`), and the
   * port is written even when it is 443 with `usePort` (`use-port-in-redirects`).
   */
  | { readonly kind: 'httpsRedirect'; readonly preserveTrailingSlash?: true; readonly usePort?: true }
  /**
   * Header edits, in the request sent upstream or the response sent back (Gateway API
   * RequestHeaderModifier / ResponseHeaderModifier): set replaces, add appends to an existing
   * value with ",", remove drops. Names are lower-case.
   */
  | { readonly kind: 'headers'; readonly phase: 'request' | 'response'; readonly set: readonly (readonly [string, string])[]; readonly add: readonly (readonly [string, string])[]; readonly remove: readonly string[] }
  /**
   * `app-root`: a request for `/` gets a 302 to `<scheme>://<Host header><path>` (the query is not
   * kept), before anything else of the route. The translator puts it on an Exact `/` route of the
   * host, which answers for `/` whichever Ingress's path would have (ingress-nginx renders it at
   * server level).
   */
  | { readonly kind: 'appRoot'; readonly path: string }
  /**
   * `from-to-www-redirect`: every request gets a 308 to `<scheme>://<host>:<port><target>` (one
   * trailing `/` of a target without a query dropped), the port being the one the client wrote in
   * Host, else the listener's (80 or 443), as ingress-nginx always writes one. On the routes of
   * the other name (`www.` added or removed).
   */
  | { readonly kind: 'hostRedirect'; readonly host: string }
  /**
   * `permanent-redirect` / `temporal-redirect`: every request gets `status` with `Location: url`,
   * the URL as written (no path or query appended: unlike {@link Policy} `redirect`, nothing of the
   * request is kept). A URL starting with `/` is made absolute with the request's scheme and host
   * (nginx's `return`), keeping the port of the Host header with `usePort`
   * (`use-port-in-redirects`), unless `relative` (`relative-redirects`).
   */
  | { readonly kind: 'fixedRedirect'; readonly url: string; readonly status: number; readonly relative?: true; readonly usePort?: true }
  /**
   * Answers with a redirect built from the request (Gateway API RequestRedirect): each part given
   * replaces the request's; the port follows the scheme (80/443 left out) or the listener's.
   */
  | { readonly kind: 'redirect'; readonly status: number; readonly scheme?: 'http' | 'https'; readonly hostname?: string; readonly port?: number; readonly path?: PathRewrite }
  /**
   * Rewrites the Host and/or path sent upstream (Gateway API URLRewrite, ingress-nginx
   * rewrite-target); the query is kept. `forwardedPrefix` (x-forwarded-prefix, a `template`) is
   * sent as X-Forwarded-Prefix.
   */
  | { readonly kind: 'rewrite'; readonly hostname?: string; readonly path?: PathRewrite; readonly forwardedPrefix?: string }
  /**
   * Client address ranges (`denylist-source-range`, `allowlist-source-range` alias
   * `whitelist-source-range`, or the `--denylist-source-range` / `--whitelist-source-range`
   * defaults): a client in `deny` gets 403, then, when `allow` is not empty, one outside it does.
   * Entries are addresses or CIDRs, IPv4 or IPv6, as written (validated by model/cidr.ts).
   */
  | SourceRangePolicy
  /**
   * `satisfy: any`: nginx's `satisfy any` over the checks of its access phase. The request goes on
   * as soon as one check lets it in (an allow-listed address needs no credentials; valid
   * credentials let in an address outside the allow list, or in the deny list), checked in nginx's
   * order: source ranges, basic auth, external auth. A source range with only a deny list lets no
   * one in by itself (nginx's access module declines when no rule matches). When every check
   * fails: the last 401 (or auth-signin 302) if any, else 403; any other answer of a check (an
   * auth service that fails: 500) ends the request at once, never a pass. Rate limits, client
   * certificates and CORS preflights are outside it, as in nginx.
   */
  | { readonly kind: 'satisfyAny'; readonly checks: readonly SatisfyCheck[] }
  /**
   * Rate and connection limits per client address (`limit-rps`, `limit-rpm`,
   * `limit-burst-multiplier`, `limit-connections`, `limit-allowlist`), with nginx's limit_req
   * (burst = limit x multiplier, nodelay) and limit_conn semantics. `id` names the counters:
   * every route of one Ingress shares them (ingress-nginx's zones are per Ingress). 0 = that limit
   * is off; clients in `exempt` are never limited.
   */
  | {
      readonly kind: 'rateLimit';
      /** `namespace/name` of the Ingress. */
      readonly id: string;
      readonly rps: number;
      readonly rpm: number;
      readonly burstMultiplier: number;
      readonly connections: number;
      readonly exempt: readonly string[];
    }
  /**
   * Client certificates (auth-tls-*), for every route of a host: the TLS handshake asked for a
   * certificate and verified it against the host's CA ({@link RouteTable.clientAuth}); this judges
   * the outcome per request, as nginx does: a connection set up for another CA (SNI and Host differ)
   * is 421, no certificate with `on` is 400, a failed verification 400 (`optional_no_ca` lets an
   * unknown issuer through), more than `depth` intermediates 400, a subject DN that `matchCn`
   * does not find 403; `errorPage` turns the 400s into a 302. Sets the ssl-client-* headers upstream.
   */
  | {
      readonly kind: 'clientCert';
      /** `namespace/name` of the Secret holding the CA (for messages). */
      readonly secret: string;
      /** {@link ClientAuth.id}: what the connection must have been verified against. */
      readonly ca: string;
      readonly verify: ClientCertVerify;
      /** Intermediate CA certificates allowed between the client's and a CA of `ca.crt` (OpenSSL's verify depth). */
      readonly depth: number;
      /** An absolute http(s) URL: failed or missing certificates get a 302 to it instead of a 400. */
      readonly errorPage?: string;
      /** Send the client certificate upstream as `ssl-client-cert` (URL-encoded PEM). */
      readonly passCertificate: boolean;
      /** An RE2 pattern searched (unanchored) in the RFC 2253 subject DN; no match is 403. */
      readonly matchCn?: string;
    }
  /**
   * HTTP Basic authentication (`auth-type: basic`): a request without credentials matching one of
   * `users` gets 401 with `WWW-Authenticate: Basic realm="<realm>"`; the pod never sees the
   * client's Authorization header. The hashes are secret material: never printed.
   */
  | BasicAuthPolicy
  /** External authentication (`auth-url`): a sub-request decides (2xx allows; 401/403 answer; anything else is 500). */
  | ExtAuthPolicy
  /** Cross-Origin Resource Sharing (enable-cors and the cors-* annotations, Gateway API CORS): see {@link CorsPolicy}. */
  | CorsPolicy
  /**
   * A copy of each request (or of a share of them) sent to a second destination, its answer
   * discarded (Gateway API RequestMirror, ingress-nginx mirror-target): see {@link MirrorPolicy}.
   * A route may have several. No request-phase policy: the exchange starts the copies when it
   * sends the request on (proxy/mirror.ts).
   */
  | MirrorPolicy
  /**
   * The route answers Portico's 404 page instead of forwarding: the unmatched paths of a host whose
   * Ingress has CORS, so that the 404 carries its CORS headers (ingress-nginx's catch-all location
   * of a host carries the annotations of the Ingress that first named the host).
   */
  | { readonly kind: 'notFound' }
  /**
   * Header edits of nginx header directives, applied as data (snippets are parsed, never executed;
   * custom-headers; --add-headers, --proxy-set-headers). `scope` is where nginx would have them,
   * which decides how they combine (docs/annotations.md#header-edits): `global` (http level),
   * `server` (server-snippet, one per host), `location` (configuration-snippet, custom-headers).
   */
  | HeaderDirectivesPolicy
  /**
   * custom-http-errors / default-backend: an upstream answer (or Portico's own 502/503/504) with a
   * listed status is replaced by the error backend's answer to `GET /`, with ingress-nginx's
   * X-Code, X-Format, X-Original-URI... headers; the `default-backend` Service also serves the
   * request itself when the route's backends have no endpoints.
   */
  | ErrorPagesPolicy
  /** proxy-redirect-from/-to, proxy-cookie-domain, proxy-cookie-path: see {@link ResponseRewritePolicy}. */
  | ResponseRewritePolicy;

/**
 * nginx's proxy_redirect, proxy_cookie_domain and proxy_cookie_path, on the pod's answers (never
 * on Portico's own). Values are plain text with nginx variables (`$host`, `$scheme`...).
 */
export interface ResponseRewritePolicy {
  readonly kind: 'responseRewrite';
  /** A `Location` value, or the URL of a `Refresh` value, that starts with `from` (case-sensitive) gets `to` in its place. */
  readonly redirect?: { readonly from: string; readonly to: string };
  /** A Set-Cookie `Domain` equal to `from` (case-blind; a leading dot is ignored on both sides) becomes `to`. */
  readonly cookieDomain?: { readonly from: string; readonly to: string };
  /** A Set-Cookie `Path` that starts with `from` (case-sensitive) gets `to` in its place. */
  readonly cookiePath?: { readonly from: string; readonly to: string };
}

/** One header edit of an nginx header directive. Names are tokens; values are checked when parsed. */
export interface HeaderEdit {
  /**
   * `set` replaces (or adds) the header, and an empty value removes it (more_set_headers,
   * more_set_input_headers, proxy_set_header); `clear` removes it, a trailing `*` matching a prefix
   * (more_clear_headers, more_clear_input_headers); `add` adds a response header for 2xx/3xx
   * statuses unless `always` (add_header); `hide` drops an upstream response header (proxy_hide_header).
   */
  readonly op: 'set' | 'clear' | 'add' | 'hide';
  readonly name: string;
  /** nginx syntax: `$var` and `${var}` are expanded (model/nginx-vars.ts HEADER_VARIABLES lists them), unless `literal`. */
  readonly value?: string;
  readonly literal?: boolean;
  /** `-s`: only for responses with one of these statuses. */
  readonly statuses?: readonly number[];
  /** `-t`: only when the response's (for input edits, the request's) Content-Type is one of these (lower-case, no parameters). */
  readonly types?: readonly string[];
  /** `add_header ... always`: for every status. */
  readonly always?: boolean;
  /** `more_set_input_headers -r`: only replace a header the request has. */
  readonly existing?: boolean;
}

/** Header edits from one place (a snippet, a ConfigMap, a flag), in the order written. */
export interface HeaderDirectivesPolicy {
  readonly kind: 'headerDirectives';
  readonly scope: 'global' | 'server' | 'location';
  /** What they came from, for printing: `configuration-snippet`, `custom-headers default/h`, `--add-headers ns/n`. */
  readonly from: string;
  /** Edits of the client's request headers before forwarding (more_set_input_headers, more_clear_input_headers). */
  readonly input: readonly HeaderEdit[];
  /** Headers of the request to the pod, over Portico's own (proxy_set_header, --proxy-set-headers). */
  readonly upstream: readonly HeaderEdit[];
  /** Response edits (more_set_headers, more_clear_headers, add_header, proxy_hide_header, custom-headers, --add-headers). */
  readonly response: readonly HeaderEdit[];
}

/** custom-http-errors, default-backend, disable-proxy-intercept-errors. */
export interface ErrorPagesPolicy {
  readonly kind: 'errorPages';
  /** Statuses (400-599) served by the error backend; empty with only a default-backend annotation. */
  readonly codes: readonly number[];
  /**
   * Error backends by id, in order: the `default-backend` annotation's, then `--default-backend-service`;
   * the first with endpoints answers. None left: Portico's 404 page (ingress-nginx's built-in default backend answers 404).
   */
  readonly backends: readonly string[];
  /** The `default-backend` annotation's backend: it serves the request itself when the route's backends have no endpoints. */
  readonly whenEmpty?: string;
  /** False with `disable-proxy-intercept-errors: "true"`: pods' answers pass; Portico's own 502/503/504 are still replaced. */
  readonly intercept: boolean;
}

/**
 * CORS, as ingress-nginx's enable-cors: for a request whose `Origin` is allowed, the CORS headers
 * go on every response of the route (replacing the pod's), and a preflight (`OPTIONS` with
 * `Origin` and `Access-Control-Request-Method`) is answered 204 without reaching the pod.
 */
export interface CorsPolicy {
  readonly kind: 'cors';
  /**
   * `'*'`: every origin (`Access-Control-Allow-Origin: *`, even without an `Origin`). Otherwise the
   * allowed origins, lower-case: `scheme://host[:port]`, `scheme://*.host[:port]` (`*` is exactly
   * one DNS label) or `null`; the request's `Origin` is echoed back, and never empty.
   */
  readonly origins: '*' | readonly string[];
  /** `Access-Control-Allow-Methods`, as written. */
  readonly methods: string;
  /** `Access-Control-Allow-Headers`, as written. */
  readonly headers: string;
  /** `Access-Control-Expose-Headers`; '' sends none. */
  readonly exposeHeaders: string;
  /** Sends `Access-Control-Allow-Credentials: true`. */
  readonly credentials: boolean;
  /** `Access-Control-Max-Age`, seconds. */
  readonly maxAge: number;
  /**
   * The Gateway API's HTTPCORSFilter semantics where they differ from ingress-nginx's (proxy/policies/cors.ts):
   * - origins: `*` in a host spans one or more DNS labels (`https://*.bar.com` allows
   *   `https://a.b.bar.com`), a host of `*` alone allows every host of that scheme and port, and a
   *   missing port is the scheme's (80, 443) on both sides;
   * - `*` (origins, `methods`, `headers`) with `credentials`: the request's Origin,
   *   Access-Control-Request-Method and -Headers are echoed instead (a browser refuses `*` with
   *   credentials), and `exposeHeaders` `*` is not sent; '' methods or headers send none;
   * - `Access-Control-Allow-Methods`, `-Allow-Headers` and `-Max-Age` only on preflight answers;
   * - a preflight from an origin that is not allowed is answered 204 without CORS headers (it never
   *   reaches the pod); a request without an Origin gets no CORS headers.
   */
  readonly gatewayApi?: true;
}

/**
 * Request mirroring. The copy is the request as it is sent to the route's backend (method, path
 * and query, headers after every request edit of the route; ingress-nginx targets choose their own
 * path and Host), sent when the request is; its answer is discarded, and it never delays or fails
 * the request itself: the proxy bounds copies in flight per destination, their time and the body
 * bytes they may hold back, and drops (and counts) what goes past (docs/annotations.md#mirroring).
 */
export interface MirrorPolicy {
  readonly kind: 'mirror';
  /** Gateway API RequestMirror: the backend (id in {@link RouteTable.backends}); each copy goes to one of its endpoints. */
  readonly backend?: string;
  /** ingress-nginx `mirror-target`: `http(s)://host[:port]` as written (no variables). */
  readonly origin?: string;
  /**
   * With `origin`: the target's path and query, a template of nginx variables (model/vars.ts; `$request_uri`
   * is the client's request URI). Without variables the request's query is appended, as nginx's
   * proxy_pass does; '' (a target without a path) sends the client's request URI.
   */
  readonly path?: string;
  /** With `origin`: the Host header of the copies (`mirror-host`, default the target's host without its port). */
  readonly host?: string;
  /** The copy carries the request body (ingress-nginx `mirror-request-body`, default on; always on for the Gateway API). */
  readonly body: boolean;
  /** The share of requests mirrored, numerator / denominator (Gateway API percent or fraction; 1/1: every request). */
  readonly numerator: number;
  readonly denominator: number;
}

/** One user of a basic-auth Secret and the stored hash of their password (an htpasswd scheme). */
export interface BasicUser {
  readonly user: string;
  readonly hash: string;
}

/** See {@link Policy}: client address ranges. */
export interface SourceRangePolicy {
  readonly kind: 'sourceRange';
  readonly allow: readonly string[];
  readonly deny: readonly string[];
}

/** The checks `satisfy: any` combines (nginx's access-phase handlers). */
export type SatisfyCheck = SourceRangePolicy | BasicAuthPolicy | ExtAuthPolicy;

/** See {@link Policy}. */
export interface BasicAuthPolicy {
  readonly kind: 'basicAuth';
  readonly realm: string;
  /** `namespace/name` of the Secret the users come from. */
  readonly secret: string;
  /** In Secret order; the first line of a user wins, as in nginx. */
  readonly users: readonly BasicUser[];
}

/**
 * `auth-url` and its companions, as ingress-nginx's auth_request location behaves. URL-like
 * fields are templates with nginx variables (model/nginx-vars.ts), expanded per request.
 */
export interface ExtAuthPolicy {
  readonly kind: 'extAuth';
  /** `http(s)://...`, possibly with variables. */
  readonly url: string;
  /** `auth-method`: the sub-request's method (default GET); when set, X-Original-URI and X-Scheme are sent too. */
  readonly method?: string;
  /** `auth-signin`: a 401 becomes a 302 to this URL with `<signinParam>=` the original URL. */
  readonly signin?: string;
  readonly signinParam: string;
  /** `auth-response-headers`: copied from the auth response onto the upstream request (removed when absent there). */
  readonly responseHeaders: readonly string[];
  /** `auth-request-redirect`: the X-Auth-Request-Redirect sent (default: the request URI). */
  readonly requestRedirect?: string;
  /** `auth-always-set-cookie`: the auth response's Set-Cookie on every answer, not only on 2xx/3xx ones. */
  readonly alwaysSetCookie: boolean;
  /** `auth-cache-key` + `auth-cache-duration`: decisions kept per route and expanded key. */
  readonly cache?: { readonly key: string; readonly durations: readonly AuthCacheDuration[] };
  /**
   * `auth-proxy-set-headers`: headers set on the sub-request (name, value with nginx variables),
   * from the ConfigMap `setHeadersFrom` (`namespace/name`), replacing the client's of that name; an
   * empty value removes it (nginx's proxy_set_header).
   */
  readonly setHeaders?: readonly (readonly [string, string])[];
  readonly setHeadersFrom?: string;
  /** The Ingress's proxy-connect-timeout and proxy-read-timeout, ms (absent: the global flags). */
  readonly connectTimeout?: number;
  readonly readTimeout?: number;
}

/** `[code ...] time`: how long answers with these statuses are kept ('any': every status). */
export interface AuthCacheDuration {
  readonly statuses: readonly (number | 'any')[];
  readonly ms: number;
}

/** `auth-tls-verify-client`: nginx's `ssl_verify_client`. */
export type ClientCertVerify = 'on' | 'off' | 'optional' | 'optional_no_ca';

/**
 * What the TLS handshake for one host does about client certificates (auth-tls-secret): ask for
 * one and verify it against these CAs (and CRLs). Never printed beyond its Secret and id.
 */
export interface ClientAuth {
  /** The route host it applies to (`*.example.com` for a wildcard, '' for rules without a host). */
  readonly host: string;
  /** `namespace/name` of the Secret. */
  readonly secret: string;
  /** Changes exactly when `ca.crt` or `ca.crl` does: the TLS context's cache key and what connections are checked against. */
  readonly id: string;
  /** `ca.crt`: one or more PEM certificates. */
  readonly caPem: string;
  /** `ca.crl`: PEM CRLs; with them every certificate of the chain must have one from its issuer (nginx's ssl_crl). */
  readonly crlPem?: string;
  /** Ask clients for a certificate (false when verification is `off`). */
  readonly request: boolean;
  readonly source: RouteSource;
}

/**
 * A path replacement: the whole path, the matched prefix (element-wise, Gateway API
 * ReplacePrefixMatch), or a template whose `$1`…`$9` stand for the captures of the route's Regex
 * path (ingress-nginx rewrite-target, nginx's `rewrite ... break`: the whole path is replaced),
 * escaped for the request line.
 */
export type PathRewrite = { readonly type: 'full'; readonly value: string } | { readonly type: 'prefix'; readonly prefix: string; readonly value: string } | { readonly type: 'template'; readonly value: string };

/** One of the backends a route forwards to, with its share of the traffic. */
export interface WeightedBackend {
  /** Id of the backend in {@link RouteTable.backends}. */
  readonly backend: string;
  /** Relative weight; 0 takes no traffic. */
  readonly weight: number;
  /**
   * Gateway API backendRef filters: run only when this backend is chosen, after the route's own
   * policies (request and response `headers`, `rewrite`, `redirect`; nothing else).
   */
  readonly policies?: readonly Policy[];
}

/** A route: a match (host, path, conditions), policies, and where it forwards. */
export interface Route {
  /** Lower-case host, `*.example.com` for a wildcard, or '' for any host. */
  readonly host: string;
  /** The path as written (its length decides precedence; for Regex, the pattern); '' for a fallback. */
  readonly path: string;
  readonly match: PathMatch;
  /** Regex only: compare case-insensitively (ingress-nginx's `~*` locations). */
  readonly ignoreCase?: boolean;
  readonly conditions?: Conditions;
  readonly source: RouteSource;
  readonly policies: readonly Policy[];
  /** Where the request goes; empty when nothing valid is left (the proxy answers 503). */
  readonly backends: readonly WeightedBackend[];
  /** Per-route settings from annotations; an absent field means the global flag. */
  readonly settings: RouteSettings;
  /**
   * Gateway API routes: the ports of the listeners they are attached to (80 is served on
   * --http-port, 443 on --https-port, any other on itself). Absent: an Ingress route, served on
   * both --http-port and --https-port.
   */
  readonly ports?: readonly number[];
  /** How an endpoint of the backend is picked; absent = `--load-balance`. */
  readonly balancing?: Balancing;
  /** A canary backend that takes part of this route's traffic (from a canary Ingress of the same host and path). */
  readonly canary?: Canary;
}

/**
 * How an endpoint of a backend is picked (`load-balance`, `upstream-hash-by`, `affinity`): cookie
 * affinity beats hashing, which beats the algorithm, as in ingress-nginx. Passive-health
 * ejection applies to every one of them.
 */
export interface Balancing {
  /** `load-balance`: absent = `--load-balance`. */
  readonly algorithm?: 'round_robin' | 'ewma';
  /** `upstream-hash-by`: an nginx variable expression (`$request_uri`, `$arg_id$host`...) hashed onto a consistent-hash ring. */
  readonly hashBy?: string;
  /** `upstream-hash-by-subset`: the key picks a subset of this many endpoints, and one of them is picked at random. */
  readonly hashSubsetSize?: number;
  /** `affinity: cookie`: sticky sessions. */
  readonly affinity?: Affinity;
}

/** Cookie affinity (`affinity: cookie` and the `session-cookie-*` annotations). */
export interface Affinity {
  /** `balanced`: a new session lands on the consistent-hash ring (scaling up moves some sessions); `persistent`: it stays while its endpoint lives. */
  readonly mode: 'balanced' | 'persistent';
  /** The cookie's name (`session-cookie-name`, default INGRESSCOOKIE). */
  readonly name: string;
  /** Cookie Path; absent = the route's path as written. */
  readonly path?: string;
  readonly domain?: string;
  /** Max-Age, seconds. */
  readonly maxAge?: number;
  /** Expires, seconds from the time the cookie is set. */
  readonly expires?: number;
  readonly sameSite?: 'Strict' | 'Lax' | 'None';
  /** Leave `SameSite=None` out for the user agents known to reject it. */
  readonly conditionalSameSiteNone?: boolean;
  /** Always `Secure` (it is also set on every HTTPS response). */
  readonly secure?: boolean;
  /** A retry after a failure picks a new endpoint and re-sets the cookie (default: the same endpoint again). */
  readonly changeOnFailure?: boolean;
}

/**
 * A canary: another backend that takes part of a route's traffic, decided per request in
 * ingress-nginx's order: session affinity, then the header, then the cookie, then the weight.
 */
export interface Canary {
  /** Id of the canary backend in {@link RouteTable.backends}. */
  readonly backend: string;
  /** The canary Ingress. */
  readonly source: RouteSource;
  /** The canary takes `weight` requests in `total` (of those no header or cookie decided). */
  readonly weight: number;
  readonly total: number;
  /** `canary-by-header`, lower-case: `always` sends to the canary, `never` to the main backend. */
  readonly header?: string;
  /** `canary-by-header-value`: this exact value sends to the canary (instead of always/never). */
  readonly headerValue?: string;
  /** `canary-by-header-pattern`: an RE2 pattern found in the value sends to the canary. */
  readonly headerPattern?: string;
  /** The pattern could not be used: a request carrying the header goes to the main backend. */
  readonly headerPatternInvalid?: true;
  /** `canary-by-cookie`: `always` / `never`. */
  readonly cookie?: string;
  /** How the canary's endpoints are picked (its own load-balance and upstream-hash-by; the main route's affinity unless `affinity-canary-behavior: legacy`). */
  readonly balancing?: Balancing;
}

/** proxy-body-size, proxy-*-timeout and proxy-ssl-* annotations: bytes and milliseconds. */
export interface RouteSettings {
  readonly bodySize?: number;
  readonly connectTimeout?: number;
  readonly readTimeout?: number;
  readonly sendTimeout?: number;
  /** The whole request, from its start to the last byte of the response (Gateway API timeouts.request): 504 after. */
  readonly requestTimeout?: number;
  /** `upstream-vhost`: the Host header sent to the backend instead of the request's. */
  readonly upstreamVhost?: string;
  /** `proxy-ssl-server-name: on`: send SNI to HTTPS/GRPCS backends. */
  readonly sslServerName?: boolean;
  /** `proxy-ssl-name`: the SNI name (default: upstream-vhost's host, else the ExternalName). */
  readonly sslName?: string;
  /** `proxy-ssl-verify: on`: verify HTTPS/GRPCS backends' certificates (system CAs and NODE_EXTRA_CA_CERTS) and their name. */
  readonly sslVerify?: boolean;
  /** `proxy-ssl-secret`: `namespace/name` of a Secret in the Ingress's namespace (its material is in {@link RouteTable.upstreamTls}). */
  readonly sslSecret?: string;
  /** `proxy-ssl-verify-depth`: with verification on, at most this many intermediate CAs between the backend's certificate and a trusted one. */
  readonly sslVerifyDepth?: number;
  /** `proxy-ssl-ciphers`: the OpenSSL cipher list offered to HTTPS/GRPCS backends (TLS 1.2 and below). */
  readonly sslCiphers?: string;
  /** `limit-rate`: the response body toward the client is paced to this many bytes per second (nginx's limit_rate: per request, so per HTTP/2 stream). */
  readonly limitRate?: number;
  /** `limit-rate-after`: the first this many bytes of the body go unpaced. */
  readonly limitRateAfter?: number;
  /** `proxy-ssl-protocols`: the TLS versions offered to HTTPS/GRPCS backends (sorted). */
  readonly sslProtocols?: readonly ('TLSv1.2' | 'TLSv1.3')[];
  /**
   * `proxy-next-upstream`: when a request goes to another endpoint (nginx's conditions: `error`,
   * `timeout`, `invalid_header`, `http_500`...`http_429`, `non_idempotent`, or only `off`).
   */
  readonly nextUpstream?: readonly NextUpstream[];
  /** `proxy-next-upstream-tries`: attempts in all, the first included (0 = no limit but Portico's cap). */
  readonly nextUpstreamTries?: number;
  /** `proxy-next-upstream-timeout`: no new attempt after this long, ms (0 = no limit). */
  readonly nextUpstreamTimeout?: number;
  /** `enable-access-log: "false"`: no access log line for the route's requests (metrics still count them). */
  readonly accessLog?: false;
  /**
   * Gateway API `retry` (HTTPRouteRetry): when set, these three replace the proxy-next-upstream
   * settings and flags for the route: connection failures and timeouts, and answers with a status
   * of `retryCodes`, are tried again up to `retryAttempts` times (on the same endpoint when it is the
   * only one, whatever the method, a body replayed only when kept whole), at least `retryBackoff`
   * ms apart.
   */
  readonly retryAttempts?: number;
  readonly retryCodes?: readonly number[];
  readonly retryBackoff?: number;
}

/** A `proxy-next-upstream` condition. */
export type NextUpstream = 'error' | 'timeout' | 'invalid_header' | 'http_500' | 'http_502' | 'http_503' | 'http_504' | 'http_403' | 'http_404' | 'http_429' | 'non_idempotent' | 'off';

/**
 * TLS material for connections to backends, from a `proxy-ssl-secret`: trusted CAs (`ca.crt`,
 * replacing the system ones) and a client certificate (`tls.crt`, `tls.key`). Never printed.
 */
export interface UpstreamTls {
  /** Changes exactly when the material does (pool key). */
  readonly id: string;
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
}

/**
 * How Portico talks to the pods of a backend (`backend-protocol` annotation). H2C: HTTP/2 over
 * cleartext with prior knowledge, for a Gateway API backend whose Service port's appProtocol is
 * `kubernetes.io/h2c` (GRPC is the same transport, with gRPC's headers).
 */
export type BackendProtocol = 'HTTP' | 'HTTPS' | 'GRPC' | 'GRPCS' | 'H2C';

/** Layer 4 backends: bytes spliced over TCP (TCP services, TCPRoutes, TLS passthrough), or UDP datagrams. */
export type StreamProtocol = 'TCP' | 'UDP';

/** A pod address that can take traffic. */
export interface Endpoint {
  readonly ip: string;
  readonly port: number;
  /** Set when the endpoint is terminating but still serving: used only when no ready endpoint is left. */
  readonly terminating: boolean;
}

/** A Service port: the unit of load balancing. Id is `namespace/service:port`. */
export interface Backend {
  readonly id: string;
  readonly namespace: string;
  readonly service: string;
  /** The Service port as the Ingress named it (number or name). */
  readonly port: string;
  readonly protocol: BackendProtocol | StreamProtocol;
  readonly endpoints: readonly Endpoint[];
  /** An ExternalName Service's DNS name: its endpoints are that name's addresses, resolved outside the translator. */
  readonly externalName?: string;
  /** `service-upstream`: the one endpoint is the Service's ClusterIP and port (EndpointSlices do not change it). */
  readonly serviceUpstream?: true;
  /** A Gateway API BackendTLSPolicy applies: TLS to the pods, their certificate verified (the protocol is then HTTPS or GRPCS). */
  readonly tls?: BackendTls;
}

/**
 * How Portico verifies a backend's pods (Gateway API BackendTLSPolicy): SNI `hostname`, the
 * certificate checked against `caPem` (or the system CAs) and its name against `hostname`, or
 * against `subjectAltNames` when given. Never unverified: an unusable policy makes its backend
 * answer 500 instead (the translator leaves such a backend out).
 */
export interface BackendTls {
  /** `namespace/name` of the BackendTLSPolicy. */
  readonly policy: string;
  /** SNI, and the name verified unless `subjectAltNames` are given. */
  readonly hostname: string;
  /** PEM CAs from the policy's ConfigMaps; absent: the system CAs (`wellKnownCACertificates: System`). */
  readonly caPem?: string;
  /** Changes exactly when the CAs do (pool key); `System` for the system CAs. */
  readonly caId: string;
  /** What the CAs came from, for printing: `ConfigMap ns/a` or `System`. */
  readonly caFrom: string;
  /** The certificate must carry at least one of these (DNS names as TLS matches them; URIs exactly). */
  readonly subjectAltNames?: readonly { readonly type: 'Hostname' | 'URI'; readonly value: string }[];
}

/** A usable certificate for one host (exact or `*.` wildcard), from a kubernetes.io/tls Secret. */
export interface Cert {
  readonly host: string;
  /** `namespace/name` of the Secret. */
  readonly secret: string;
  /** Stable cache key for the TLS context: changes exactly when the Secret's content does. */
  readonly id: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** Expiry, Unix milliseconds. */
  readonly notAfter: number;
  readonly source: RouteSource;
}

/** Everything the data plane needs, as plain immutable data. */
export interface RouteTable {
  /** Sorted by host, then path, Exact before Prefix before Regex; routes of one path in precedence order. */
  readonly routes: readonly Route[];
  /** Per host ('' = any host): the route for requests no path matched (an Ingress's spec.defaultBackend). */
  readonly hostFallbacks: ReadonlyMap<string, Route>;
  /** The route for requests no host matched; null = the built-in 404. */
  readonly defaultBackend: Route | null;
  readonly backends: ReadonlyMap<string, Backend>;
  /** Valid certificates by host; a TLS host missing here is served the default certificate. */
  readonly certs: ReadonlyMap<string, Cert>;
  /** Usable `proxy-ssl-secret` material by Secret (`namespace/name`). */
  readonly upstreamTls?: ReadonlyMap<string, UpstreamTls>;
  /** Client-certificate verification by route host (auth-tls-secret); absent: no host asks for one. */
  readonly clientAuth?: ReadonlyMap<string, ClientAuth>;
  /** Gateway API listeners on ports other than 80 and 443, which the data plane opens on the port itself. */
  readonly listeners?: readonly ListenerPort[];
  /** Layer 4: TCP and UDP services, TLS passthrough by SNI, TLSRoutes and TCPRoutes (docs/layer4.md). Absent: none. */
  readonly l4?: L4Table;
}

/** Where a Layer 4 route came from: a TCP/UDP services ConfigMap entry, an Ingress (ssl-passthrough), or a Gateway API route. */
export interface L4Source {
  readonly kind: 'ConfigMap' | 'Ingress' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  readonly namespace: string;
  readonly name: string;
  /** A ConfigMap entry's key (its port). */
  readonly entry?: string;
}

/** Where the connections (or UDP flows) of a Layer 4 listener or SNI name go: weighted backends, balanced per connection. */
export interface L4Route {
  readonly source: L4Source;
  /** Ids in {@link RouteTable.backends}; '' is an invalid Gateway API backendRef, whose share of the connections is rejected. */
  readonly backends: readonly WeightedBackend[];
}

/** A TLS passthrough route: connections whose ClientHello names `host` (SNI) on `port` are spliced, unterminated, to its backends. */
export interface SniRoute extends L4Route {
  /** 443 = --https-port; any other port is a Gateway TLS listener's own. */
  readonly port: number;
  /** Lower-case; `*.example.com` for a wildcard; '' for any name (and none). */
  readonly host: string;
  /** A wildcard covers one label (an Ingress host) or one or more (a Gateway API hostname). */
  readonly wildcard?: 'one-label' | 'any-labels';
}

/** A port of its own for Layer 4 traffic. */
export type L4Listener =
  /** TCP: each connection to one endpoint. `decode`: read a PROXY protocol header from clients; `encode`: send one (v1) to the pods. */
  | { readonly protocol: 'TCP'; readonly port: number; readonly route: L4Route; readonly proxyProtocol?: { readonly decode: boolean; readonly encode: boolean } }
  /** UDP: datagrams forwarded per client address (a flow), replies returned. */
  | { readonly protocol: 'UDP'; readonly port: number; readonly route: L4Route }
  /** TLS passthrough only (a Gateway TLS listener on a port without an HTTPS listener): an SNI no route names is closed. */
  | { readonly protocol: 'TLS'; readonly port: number };

/** Layer 4 serving, as plain data. */
export interface L4Table {
  /** Sorted by port, then protocol. */
  readonly listeners: readonly L4Listener[];
  /** Sorted by port, then host. On a port with an HTTPS listener (443, or a Gateway HTTPS listener), other names get Portico's own TLS. */
  readonly sni: readonly SniRoute[];
}

/** A port a Gateway listener asks for, and how it is spoken. */
export interface ListenerPort {
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS';
}

/** A problem in user input, reported instead of thrown. */
export interface Diagnostic {
  readonly source: { readonly kind: string; readonly namespace: string; readonly name: string };
  /** Stable, CamelCase, in the style of Kubernetes condition reasons. */
  readonly reason: DiagnosticReason;
  readonly message: string;
  /** `info`: nothing is wrong, but nothing is silent either (an annotation accepted and ignored on purpose). */
  readonly severity?: 'info';
}

export type DiagnosticReason =
  | 'InvalidObject'
  | 'InvalidHost'
  | 'InvalidPath'
  | 'InvalidPathType'
  | 'InvalidBackend'
  | 'UnsupportedBackend'
  | 'ServiceNotFound'
  | 'ServicePortNotFound'
  | 'NoEndpoints'
  | 'DuplicateRoute'
  | 'CanaryWithoutMain'
  | 'CanaryConflict'
  | 'DefaultBackendConflict'
  | 'InvalidAnnotation'
  | 'UnsupportedAnnotation'
  | 'IgnoredAnnotation'
  | 'SecretNotFound'
  | 'InvalidSecret'
  | 'ConfigMapNotFound'
  | 'InvalidCertificate'
  | 'CertificateKeyMismatch'
  | 'CertificateExpired'
  | 'CertificateNotYetValid'
  | 'CertificateHostMismatch'
  | 'DuplicateTLSHost'
  | 'RefNotPermitted'
  | 'InvalidRoute'
  | 'InvalidListener'
  | 'RouteConflict'
  | 'ConfigMapNotFound'
  | 'InvalidServiceEntry'
  | 'PortConflict'
  | 'ClientAuthConflict'
  | 'InvalidPolicy'
  | 'PolicyConflict'
  // problems of the input itself, reported by a source (standalone: `source.kind` is `File`)
  | 'InvalidManifest'
  | 'UnknownKind'
  | 'UnsupportedAPIVersion';

/** The translator's whole output. */
export interface Translation {
  readonly table: RouteTable;
  readonly diagnostics: readonly Diagnostic[];
  /** Gateway API status (GatewayClasses, Gateways and listeners, route parents), when the Gateway API is on. */
  readonly gateway?: GatewayApiStatus;
  /** `namespace/name` of every Service, Secret and ConfigMap the served Ingresses (and flags) refer to, found or not: a change to anything else cannot change the table. */
  readonly references: { readonly services: ReadonlySet<string>; readonly secrets: ReadonlySet<string>; readonly configMaps: ReadonlySet<string>; readonly externalNames: ReadonlySet<string> };
}

/** The table before the first rebuild: nothing routes, everything answers 404. */
export const EMPTY_TABLE: RouteTable = { routes: [], hostFallbacks: new Map(), defaultBackend: null, backends: new Map(), certs: new Map() };
