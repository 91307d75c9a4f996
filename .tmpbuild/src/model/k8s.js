/**
 * The subset of Kubernetes object shapes Portico reads, as they arrive on the wire
 * (networking.k8s.io/v1, discovery.k8s.io/v1, v1). Every field is optional on purpose:
 * input is untrusted, and the translator validates what it uses instead of trusting types.
 */
export const KINDS = ['Ingress', 'IngressClass', 'Service', 'EndpointSlice', 'Secret', 'ConfigMap', 'Namespace', 'GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant'];
/** The kinds that live outside namespaces. */
export const CLUSTER_SCOPED = new Set(['IngressClass', 'Namespace', 'GatewayClass']);
/** A namespaced object read from a file without a namespace is in `default`, as with `kubectl apply`. */
export function withDefaultNamespace(o) {
    if (CLUSTER_SCOPED.has(String(o.kind)) || (typeof o.metadata?.namespace === 'string' && o.metadata.namespace !== ''))
        return o;
    return { ...o, metadata: { ...(o.metadata ?? {}), namespace: 'default' } };
}
/** A plain object (not null, not an array): what every Kubernetes object and most of its fields must be. */
export function isObject(v) {
    return typeof v === 'object' && v !== null && !Array.isArray(v);
}
/** A field that should be a string: itself, or '' for anything else (never String(), which can throw). */
export const str = (v) => (typeof v === 'string' ? v : '');
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A lower-case RFC 1123 subdomain, as Kubernetes validates object names and DNS names. */
export const isDnsSubdomain = (s) => s.length > 0 && s.length <= 253 && DNS_SUBDOMAIN.test(s);
/** Any value for an error message; never throws (cycles, odd toString/toJSON). */
export function show(v) {
    try {
        return JSON.stringify(v) ?? String(typeof v);
    }
    catch {
        return `(unprintable ${typeof v})`;
    }
}
/** `namespace/name` of an object, the key of every store and index. */
export function keyOf(obj) {
    const m = obj.metadata;
    return `${str(m?.namespace)}/${str(m?.name)}`;
}
//# sourceMappingURL=k8s.js.map