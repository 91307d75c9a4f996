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
    };

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
  /** Client-certificate verification by route host (auth-tls-secret); absent: no host asks for one. */
  readonly clientAuth?: ReadonlyMap<string, ClientAuth>;
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
  | 'CanaryWithoutMain'
  | 'CanaryConflict'
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
  | 'ClientAuthConflict'
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
  /** `namespace/name` of every Service and Secret the served Ingresses refer to, found or not: a change to anything else cannot change the table. */
  readonly references: { readonly services: ReadonlySet<string>; readonly secrets: ReadonlySet<string>; readonly externalNames: ReadonlySet<string> };
}

/** The table before the first rebuild: nothing routes, everything answers 404. */
export const EMPTY_TABLE: RouteTable = { routes: [], hostFallbacks: new Map(), defaultBackend: null, backends: new Map(), certs: new Map() };
