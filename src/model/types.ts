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
    }
  /** Plain-HTTP requests get a 308 to HTTPS (ssl-redirect, force-ssl-redirect); ACME HTTP-01 challenges are exempt. */
  | { readonly kind: 'httpsRedirect' }
  /**
   * Header edits, in the request sent upstream or the response sent back (Gateway API
   * RequestHeaderModifier / ResponseHeaderModifier): set replaces, add appends to an existing
   * value with ",", remove drops. Names are lower-case.
   */
  | { readonly kind: 'headers'; readonly phase: 'request' | 'response'; readonly set: readonly (readonly [string, string])[]; readonly add: readonly (readonly [string, string])[]; readonly remove: readonly string[] }
  /**
   * Answers with a redirect built from the request (Gateway API RequestRedirect): each part given
   * replaces the request's; the port follows the scheme (80/443 left out) or the listener's.
   */
  | { readonly kind: 'redirect'; readonly status: number; readonly scheme?: 'http' | 'https'; readonly hostname?: string; readonly port?: number; readonly path?: PathRewrite }
  /** Rewrites the Host and/or path sent upstream (Gateway API URLRewrite); the query is kept. */
  | { readonly kind: 'rewrite'; readonly hostname?: string; readonly path?: PathRewrite }
  /**
   * Client address ranges (`denylist-source-range`, `allowlist-source-range` alias
   * `whitelist-source-range`, or the `--denylist-source-range` / `--whitelist-source-range`
   * defaults): a client in `deny` gets 403, then, when `allow` is not empty, one outside it does.
   * Entries are addresses or CIDRs, IPv4 or IPv6, as written (validated by model/cidr.ts).
   */
  | { readonly kind: 'sourceRange'; readonly allow: readonly string[]; readonly deny: readonly string[] }
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
  | ErrorPagesPolicy;

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
  /** nginx syntax: `$var` and `${var}` are expanded (model/headers.ts lists them), unless `literal`. */
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

/** A path replacement: the whole path, or the matched prefix (element-wise, Gateway API ReplacePrefixMatch). */
export type PathRewrite = { readonly type: 'full'; readonly value: string } | { readonly type: 'prefix'; readonly prefix: string; readonly value: string };

/** One of the backends a route forwards to, with its share of the traffic. */
export interface WeightedBackend {
  /** Id of the backend in {@link RouteTable.backends}. */
  readonly backend: string;
  /** Relative weight; 0 takes no traffic. */
  readonly weight: number;
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

/** How Portico talks to the pods of a backend (`backend-protocol` annotation). */
export type BackendProtocol = 'HTTP' | 'HTTPS' | 'GRPC' | 'GRPCS';

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
  readonly protocol: BackendProtocol;
  readonly endpoints: readonly Endpoint[];
  /** An ExternalName Service's DNS name: its endpoints are that name's addresses, resolved outside the translator. */
  readonly externalName?: string;
  /** `service-upstream`: the one endpoint is the Service's ClusterIP and port (EndpointSlices do not change it). */
  readonly serviceUpstream?: true;
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
  /** Gateway API listeners on ports other than 80 and 443, which the data plane opens on the port itself. */
  readonly listeners?: readonly ListenerPort[];
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
  | 'DefaultBackendConflict'
  | 'InvalidAnnotation'
  | 'UnsupportedAnnotation'
  | 'IgnoredAnnotation'
  | 'SecretNotFound'
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
  | 'RouteConflict';

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
