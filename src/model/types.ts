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
  | { readonly kind: 'rewrite'; readonly hostname?: string; readonly path?: PathRewrite };

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
  /** Layer 4: TCP and UDP services, TLS passthrough by SNI, TLSRoutes and TCPRoutes (docs/layer4.md). Absent: none. */
  readonly l4?: L4Table;
}

/** Where a Layer 4 route came from: a TCP/UDP services ConfigMap entry, an Ingress (ssl-passthrough), or a Gateway API route. */
export interface L4Source {
  readonly kind: 'ConfigMap' | 'Ingress' | 'TLSRoute' | 'TCPRoute';
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
  | 'RouteConflict'
  | 'ConfigMapNotFound'
  | 'InvalidServiceEntry'
  | 'PortConflict';

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
