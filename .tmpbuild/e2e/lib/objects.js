/**
 * Kubernetes objects for tests, as plain JSON: the one place their shapes are written. The API
 * double takes them as they are; manifests.ts writes the same objects as YAML files.
 */
/** An Ingress of class portico with these rules; `extra` is merged into spec (tls, defaultBackend, ...). */
export function ingressObject(name, rules, extra = {}, annotations = {}, namespace = 'default') {
    return {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name, namespace, annotations },
        spec: {
            ingressClassName: 'portico',
            ...extra,
            rules: rules.map((r) => ({
                ...(r.host === undefined ? {} : { host: r.host }),
                http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.pathType ?? 'Prefix', backend: { service: { name: p.service, port: { number: p.port ?? 80 } } } })) },
            })),
        },
    };
}
/** The common case: one host, one Prefix path, one Service. */
export function ingress(name, host, service, opts = {}) {
    const o = ingressObject(name, [{ host, paths: [{ path: opts.path ?? '/', service }] }], opts.tls ? { tls: opts.tls } : {}, {}, opts.namespace ?? 'default');
    o.spec.ingressClassName = opts.className ?? 'portico';
    delete o.metadata.annotations;
    return o;
}
/** A Service on port 80 (target 8080). */
export function service(name, namespace = 'default') {
    return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80, targetPort: 8080 }], clusterIP: '10.96.0.10' } };
}
const conditions = (e) => ({ ready: e.ready ?? true, ...(e.serving === undefined ? {} : { serving: e.serving }), ...(e.terminating === undefined ? {} : { terminating: e.terminating }) });
/** One EndpointSlice holding every endpoint (they must share a port). */
export function slice(name, serviceName, endpoints, namespace = 'default') {
    const port = endpoints[0]?.port ?? 8080;
    return {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
        addressType: 'IPv4',
        ports: [{ port }],
        endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: conditions(e) })),
    };
}
/** A Service and one EndpointSlice per endpoint (so each may have its own port). */
export function serviceWithSlices(name, endpoints, namespace = 'default') {
    return [service(name, namespace), ...endpoints.map((e, i) => slice(`${name}-${i}`, name, [e], namespace))];
}
/** A Namespace with labels (Gateway listeners select routes' namespaces by them). */
export function namespace(name, labels = {}) {
    return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}
const GATEWAY_API = 'gateway.networking.k8s.io/v1';
/** A GatewayClass of Portico's default controller name. */
export function gatewayClass(name = 'portico', controllerName = 'portico.dev/gateway-controller') {
    return { apiVersion: GATEWAY_API, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}
/** A Gateway of class portico with these listeners (`{name, port, protocol, hostname?, allowedRoutes?, tls?}`). */
export function gateway(name, namespace, listeners, className = 'portico') {
    return { apiVersion: GATEWAY_API, kind: 'Gateway', metadata: { name, namespace }, spec: { gatewayClassName: className, listeners } };
}
/** An HTTPRoute (or GRPCRoute) with this spec. */
export function httpRoute(name, namespace, spec, kind = 'HTTPRoute') {
    return { apiVersion: GATEWAY_API, kind, metadata: { name, namespace }, spec };
}
/** A ReferenceGrant in `namespace` letting `from` (kind + namespace) refer to `to` (kind, optional name). */
export function referenceGrant(name, namespace, from, to) {
    return {
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'ReferenceGrant',
        metadata: { name, namespace },
        spec: { from: [{ group: from.group ?? 'gateway.networking.k8s.io', kind: from.kind, namespace: from.namespace }], to: [{ group: to.group ?? '', kind: to.kind, ...(to.name === undefined ? {} : { name: to.name }) }] },
    };
}
/** A kubernetes.io/tls Secret. */
export function tlsSecret(name, namespace, pem) {
    return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') } };
}
//# sourceMappingURL=objects.js.map