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
  | { readonly kind: 'refuse'; readonly because: readonly string[] }
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
  | { readonly kind: 'rewrite'; readonly hostname?: string; readonly path?: PathRewrite; readonly forwardedPrefix?: string };

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
}

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
  /** `namespace/name` of every Service and Secret the served Ingresses refer to, found or not: a change to anything else cannot change the table. */
  readonly references: { readonly services: ReadonlySet<string>; readonly secrets: ReadonlySet<string>; readonly externalNames: ReadonlySet<string> };
}

/** The table before the first rebuild: nothing routes, everything answers 404. */
export const EMPTY_TABLE: RouteTable = { routes: [], hostFallbacks: new Map(), defaultBackend: null, backends: new Map(), certs: new Map() };
