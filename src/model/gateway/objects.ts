/**
 * The Gateway API objects Portico reads (gateway.networking.k8s.io/v1; ReferenceGrant also
 * v1beta1; TLSRoute and TCPRoute also v1alpha2), as they arrive on the wire: every field optional, validated where used. Shapes follow
 * sigs.k8s.io/gateway-api apis/v1.
 */
import type { KubeObject } from '../k8s.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

export interface ParentReference {
  readonly group?: string;
  readonly kind?: string;
  readonly namespace?: string;
  readonly name?: string;
  readonly sectionName?: string;
  readonly port?: number;
}

export interface BackendObjectReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly port?: number;
}

export interface SecretObjectReference {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly namespace?: string;
}

export interface LabelSelector {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: readonly { readonly key?: string; readonly operator?: string; readonly values?: readonly string[] }[];
}

export interface Listener {
  readonly name?: string;
  readonly hostname?: string;
  readonly port?: number;
  readonly protocol?: string;
  readonly tls?: { readonly mode?: string; readonly certificateRefs?: readonly SecretObjectReference[]; readonly options?: Readonly<Record<string, string>> };
  readonly allowedRoutes?: {
    readonly namespaces?: { readonly from?: string; readonly selector?: LabelSelector };
    readonly kinds?: readonly { readonly group?: string; readonly kind?: string }[];
  };
}

export interface GatewayClass extends KubeObject {
  readonly spec?: { readonly controllerName?: string; readonly parametersRef?: unknown; readonly description?: string };
}

export interface Gateway extends KubeObject {
  readonly spec?: { readonly gatewayClassName?: string; readonly listeners?: readonly Listener[]; readonly addresses?: readonly { readonly type?: string; readonly value?: string }[] };
}

export interface HTTPHeader {
  readonly name?: string;
  readonly value?: string;
}

export interface HeaderModifier {
  readonly set?: readonly HTTPHeader[];
  readonly add?: readonly HTTPHeader[];
  readonly remove?: readonly string[];
}

export interface PathModifier {
  readonly type?: string;
  readonly replaceFullPath?: string;
  readonly replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  readonly type?: string;
  readonly requestHeaderModifier?: HeaderModifier;
  readonly responseHeaderModifier?: HeaderModifier;
  readonly requestRedirect?: { readonly scheme?: string; readonly hostname?: string; readonly path?: PathModifier; readonly port?: number; readonly statusCode?: number };
  readonly urlRewrite?: { readonly hostname?: string; readonly path?: PathModifier };
  readonly requestMirror?: { readonly backendRef?: BackendObjectReference; readonly percent?: number; readonly fraction?: { readonly numerator?: number; readonly denominator?: number } };
  readonly cors?: unknown;
  readonly extensionRef?: unknown;
}

export interface HTTPBackendRef extends BackendObjectReference {
  readonly weight?: number;
  readonly filters?: readonly HTTPRouteFilter[];
}

export interface ValueMatchSpec {
  readonly type?: string;
  readonly name?: string;
  readonly value?: string;
}

export interface HTTPRouteMatch {
  readonly path?: { readonly type?: string; readonly value?: string };
  readonly headers?: readonly ValueMatchSpec[];
  readonly queryParams?: readonly ValueMatchSpec[];
  readonly method?: string;
}

export interface HTTPRouteRule {
  readonly name?: string;
  readonly matches?: readonly HTTPRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly HTTPBackendRef[];
  readonly timeouts?: { readonly request?: string; readonly backendRequest?: string };
  /** Experimental channel (HTTPRouteRetry). */
  readonly retry?: { readonly codes?: readonly number[]; readonly attempts?: number; readonly backoff?: string };
  /** Experimental channel: v1.6 and later shapes (validated where used). */
  readonly sessionPersistence?: unknown;
}

export interface HTTPRoute extends KubeObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly hostnames?: readonly string[]; readonly rules?: readonly HTTPRouteRule[] };
}

export interface GRPCRouteMatch {
  readonly method?: { readonly type?: string; readonly service?: string; readonly method?: string };
  readonly headers?: readonly ValueMatchSpec[];
}

export interface GRPCRouteRule {
  readonly name?: string;
  readonly matches?: readonly GRPCRouteMatch[];
  readonly filters?: readonly HTTPRouteFilter[];
  readonly backendRefs?: readonly HTTPBackendRef[];
  /** Experimental channel. */
  readonly sessionPersistence?: unknown;
}

export interface GRPCRoute extends KubeObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly hostnames?: readonly string[]; readonly rules?: readonly GRPCRouteRule[] };
}

/** A TLSRoute, TCPRoute or UDPRoute rule (v1: exactly one; v1alpha2: up to 16, of which Portico serves the first). */
export interface L4RouteRule {
  readonly name?: string;
  readonly backendRefs?: readonly HTTPBackendRef[];
}

/** TLSRoute (v1, v1alpha2): hostnames matched against the ClientHello's SNI. */
export interface TLSRoute extends KubeObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly hostnames?: readonly string[]; readonly rules?: readonly L4RouteRule[] };
}

/** TCPRoute (v1, v1alpha2). */
export interface TCPRoute extends KubeObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly rules?: readonly L4RouteRule[] };
}

/** UDPRoute (v1, v1alpha2): a UDP listener's datagrams to its backends. */
export interface UDPRoute extends KubeObject {
  readonly spec?: { readonly parentRefs?: readonly ParentReference[]; readonly rules?: readonly L4RouteRule[] };
}

export interface ReferenceGrant extends KubeObject {
  readonly spec?: {
    readonly from?: readonly { readonly group?: string; readonly kind?: string; readonly namespace?: string }[];
    readonly to?: readonly { readonly group?: string; readonly kind?: string; readonly name?: string }[];
  };
}

export interface Namespace extends KubeObject {}

/** BackendTLSPolicy (v1): how Portico speaks TLS to the pods of the Services it targets. */
export interface BackendTLSPolicy extends KubeObject {
  readonly spec?: {
    readonly targetRefs?: readonly { readonly group?: string; readonly kind?: string; readonly name?: string; readonly sectionName?: string }[];
    readonly validation?: {
      readonly caCertificateRefs?: readonly { readonly group?: string; readonly kind?: string; readonly name?: string }[];
      readonly wellKnownCACertificates?: string;
      readonly hostname?: string;
      readonly subjectAltNames?: readonly { readonly type?: string; readonly hostname?: string; readonly uri?: string }[];
    };
    readonly options?: Readonly<Record<string, string>>;
  };
}
