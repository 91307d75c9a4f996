/**
 * The subset of Kubernetes object shapes Portico reads, as they arrive on the wire
 * (networking.k8s.io/v1, discovery.k8s.io/v1, v1). Every field is optional on purpose:
 * input is untrusted, and the translator validates what it uses instead of trusting types.
 */

export interface ObjectMeta {
  readonly name?: string;
  readonly namespace?: string;
  readonly uid?: string;
  readonly resourceVersion?: string;
  readonly generation?: number;
  readonly creationTimestamp?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata?: ObjectMeta;
}

export interface ServiceBackendPort {
  readonly name?: string;
  readonly number?: number;
}

export interface IngressBackend {
  readonly service?: { readonly name?: string; readonly port?: ServiceBackendPort };
  readonly resource?: { readonly apiGroup?: string; readonly kind?: string; readonly name?: string };
}

export interface HTTPIngressPath {
  readonly path?: string;
  readonly pathType?: string;
  readonly backend?: IngressBackend;
}

export interface IngressRule {
  readonly host?: string;
  readonly http?: { readonly paths?: readonly HTTPIngressPath[] };
}

export interface IngressTLS {
  readonly hosts?: readonly string[];
  readonly secretName?: string;
}

export interface Ingress extends KubeObject {
  readonly spec?: {
    readonly ingressClassName?: string;
    readonly defaultBackend?: IngressBackend;
    readonly rules?: readonly IngressRule[];
    readonly tls?: readonly IngressTLS[];
  };
}

export interface IngressClass extends KubeObject {
  readonly spec?: { readonly controller?: string };
}

export interface ServicePort {
  readonly name?: string;
  readonly port?: number;
  readonly targetPort?: number | string;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

export interface Service extends KubeObject {
  readonly spec?: {
    readonly type?: string;
    readonly ports?: readonly ServicePort[];
    readonly externalName?: string;
    readonly clusterIP?: string;
  };
}

export interface EndpointConditions {
  readonly ready?: boolean | null;
  readonly serving?: boolean | null;
  readonly terminating?: boolean | null;
}

export interface Endpoint {
  readonly addresses?: readonly string[];
  readonly conditions?: EndpointConditions;
  readonly nodeName?: string;
  readonly zone?: string;
  readonly targetRef?: { readonly kind?: string; readonly name?: string; readonly namespace?: string };
}

export interface EndpointPort {
  readonly name?: string | null;
  readonly port?: number | null;
  readonly protocol?: string;
  readonly appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  readonly addressType?: string;
  readonly endpoints?: readonly Endpoint[] | null;
  readonly ports?: readonly EndpointPort[] | null;
}

export interface Secret extends KubeObject {
  readonly type?: string;
  readonly data?: Readonly<Record<string, string>>;
}

/** A ConfigMap: custom-headers, the --add-headers / --proxy-set-headers flags and the TCP/UDP services ConfigMaps read its `data`. */
export interface ConfigMap extends KubeObject {
  readonly data?: Readonly<Record<string, string>>;
}

/** The kinds Portico watches, and the key every store uses for them. */
export type Kind = 'Ingress' | 'IngressClass' | 'Service' | 'EndpointSlice' | 'Secret' | 'ConfigMap' | 'Namespace' | 'GatewayClass' | 'Gateway' | 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute' | 'ReferenceGrant' | 'BackendTLSPolicy';

export const KINDS: readonly Kind[] = ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret', 'ConfigMap', 'Namespace', 'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute', 'ReferenceGrant', 'BackendTLSPolicy'];

/** The kinds that live outside namespaces. */
export const CLUSTER_SCOPED: ReadonlySet<string> = new Set<Kind>(['IngressClass', 'Namespace', 'GatewayClass']);

/** A namespaced object read from a file without a namespace is in `default`, as with `kubectl apply`. */
export function withDefaultNamespace(o: KubeObject): KubeObject {
  if (CLUSTER_SCOPED.has(String(o.kind)) || (typeof o.metadata?.namespace === 'string' && o.metadata.namespace !== '')) return o;
  return { ...o, metadata: { ...(o.metadata ?? {}), namespace: 'default' } };
}

/** Everything the translator sees: one immutable view of the store. The Gateway API kinds, Namespaces and ConfigMaps may be absent. */
export interface Snapshot {
  readonly ingresses: readonly Ingress[];
  readonly ingressClasses: readonly IngressClass[];
  readonly services: readonly Service[];
  readonly endpointSlices: readonly EndpointSlice[];
  readonly secrets: readonly Secret[];
  /** Absent in snapshots made before ConfigMaps were read (tests): none. */
  readonly configMaps?: readonly ConfigMap[];
  readonly namespaces?: readonly KubeObject[];
  readonly gatewayClasses?: readonly KubeObject[];
  readonly gateways?: readonly KubeObject[];
  readonly httpRoutes?: readonly KubeObject[];
  readonly grpcRoutes?: readonly KubeObject[];
  readonly tlsRoutes?: readonly KubeObject[];
  readonly tcpRoutes?: readonly KubeObject[];
  readonly udpRoutes?: readonly KubeObject[];
  readonly referenceGrants?: readonly KubeObject[];
  readonly backendTlsPolicies?: readonly KubeObject[];
}

/** A plain object (not null, not an array): what every Kubernetes object and most of its fields must be. */
export function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A field that should be a string: itself, or '' for anything else (never String(), which can throw). */
export const str = (v: unknown): string => (typeof v === 'string' ? v : '');

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A lower-case RFC 1123 subdomain, as Kubernetes validates object names and DNS names. */
export const isDnsSubdomain = (s: string): boolean => s.length > 0 && s.length <= 253 && DNS_SUBDOMAIN.test(s);

/**
 * An annotation's `namespace/name` or `name` of a `kind` (Secret, ConfigMap), which must be in the
 * Ingress's own namespace `ns` (an Ingress must not borrow another namespace's objects; ingress-nginx
 * allows it): `ns/name`, or what is wrong with it.
 */
export function localRef(value: unknown, ns: string, kind: string): { readonly ref: string } | { readonly error: string } {
  const parts = typeof value === 'string' ? value.trim().split('/') : [];
  const [refNs, name] = parts.length === 2 ? parts : [ns, parts[0]];
  if (parts.length === 0 || parts.length > 2 || name === undefined || !isDnsSubdomain(name) || refNs === '') return { error: `expected "namespace/name" or "name" of a ${kind}, got ${show(value)}` };
  if (refNs !== ns) return { error: `the ${kind} must be in the Ingress's namespace (${ns}), got ${show(value)}` };
  return { ref: `${ns}/${name}` };
}

/** Any value for an error message; never throws (cycles, odd toString/toJSON). */
export function show(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(typeof v);
  } catch {
    return `(unprintable ${typeof v})`;
  }
}

/** `namespace/name` of an object, the key of every store and index. */
export function keyOf(obj: KubeObject): string {
  const m = obj.metadata;
  return nameKey(str(m?.namespace), str(m?.name));
}

/**
 * `namespace/name` as one flat string. A template literal (or `+`) makes a string of two parts
 * when the result is 13 characters or more: 32 bytes plus a fresh copy of "namespace/" (24), kept
 * for as long as the key is (35,000 keys of stores and indexes at 10,000 Ingresses: 0.8 MiB; heap
 * snapshots, docs/performance.md "Memory"). Array join writes one string.
 */
export const nameKey = (namespace: string, name: string): string => [namespace, name].join('/');
