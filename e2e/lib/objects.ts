/**
 * Kubernetes objects for tests, as plain JSON: the one place their shapes are written. The API
 * double takes them as they are; manifests.ts writes the same objects as YAML files.
 */

export type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown } };

/** An endpoint as tests describe it: a pod address with optional EndpointSlice conditions. */
export interface Endpointish {
  readonly ip: string;
  readonly port: number;
  readonly ready?: boolean;
  readonly serving?: boolean;
  readonly terminating?: boolean;
}

export interface PathSpec {
  readonly path: string;
  readonly pathType?: 'Exact' | 'Prefix' | 'ImplementationSpecific';
  readonly service: string;
  /** The Service port (default 80). */
  readonly port?: number;
}

export interface HostSpec {
  readonly host?: string;
  readonly paths: readonly PathSpec[];
}

/** An Ingress of class portico with these rules; `extra` is merged into spec (tls, defaultBackend, ...). */
export function ingressObject(name: string, rules: readonly HostSpec[], extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}, namespace = 'default'): Obj {
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
export function ingress(name: string, host: string, service: string, opts: { namespace?: string; className?: string; path?: string; tls?: unknown[] } = {}): Obj {
  const o = ingressObject(name, [{ host, paths: [{ path: opts.path ?? '/', service }] }], opts.tls ? { tls: opts.tls } : {}, {}, opts.namespace ?? 'default');
  (o.spec as Record<string, unknown>).ingressClassName = opts.className ?? 'portico';
  delete (o.metadata as Record<string, unknown>).annotations;
  return o;
}

/** A Service on port 80 (target 8080). */
export function service(name: string, namespace = 'default'): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80, targetPort: 8080 }], clusterIP: '10.96.0.10' } };
}

const conditions = (e: Endpointish): Record<string, boolean> => ({ ready: e.ready ?? true, ...(e.serving === undefined ? {} : { serving: e.serving }), ...(e.terminating === undefined ? {} : { terminating: e.terminating }) });

/** One EndpointSlice holding every endpoint (they must share a port). */
export function slice(name: string, serviceName: string, endpoints: readonly Endpointish[], namespace = 'default'): Obj {
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
export function serviceWithSlices(name: string, endpoints: readonly Endpointish[], namespace = 'default'): Obj[] {
  return [service(name, namespace), ...endpoints.map((e, i) => slice(`${name}-${i}`, name, [e], namespace))];
}

/** A Namespace with labels (Gateway listeners select routes' namespaces by them). */
export function namespace(name: string, labels: Record<string, string> = {}): Obj {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

const GATEWAY_API = 'gateway.networking.k8s.io/v1';

/** A GatewayClass of Portico's default controller name. */
export function gatewayClass(name = 'portico', controllerName = 'portico.dev/gateway-controller'): Obj {
  return { apiVersion: GATEWAY_API, kind: 'GatewayClass', metadata: { name }, spec: { controllerName } };
}

/** A Gateway of class portico with these listeners (`{name, port, protocol, hostname?, allowedRoutes?, tls?}`). */
export function gateway(name: string, namespace: string, listeners: readonly Record<string, unknown>[], className = 'portico'): Obj {
  return { apiVersion: GATEWAY_API, kind: 'Gateway', metadata: { name, namespace }, spec: { gatewayClassName: className, listeners } };
}

/** An HTTPRoute (or GRPCRoute) with this spec. */
export function httpRoute(name: string, namespace: string, spec: Record<string, unknown>, kind: 'HTTPRoute' | 'GRPCRoute' = 'HTTPRoute'): Obj {
  return { apiVersion: GATEWAY_API, kind, metadata: { name, namespace }, spec };
}

/** A ReferenceGrant in `namespace` letting `from` (kind + namespace) refer to `to` (kind, optional name). */
export function referenceGrant(name: string, namespace: string, from: { kind: string; namespace: string; group?: string }, to: { kind: string; name?: string; group?: string }): Obj {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1beta1',
    kind: 'ReferenceGrant',
    metadata: { name, namespace },
    spec: { from: [{ group: from.group ?? 'gateway.networking.k8s.io', kind: from.kind, namespace: from.namespace }], to: [{ group: to.group ?? '', kind: to.kind, ...(to.name === undefined ? {} : { name: to.name }) }] },
  };
}

/** A kubernetes.io/tls Secret. */
export function tlsSecret(name: string, namespace: string, pem: { certPem: string; keyPem: string }): Obj {
  return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(pem.certPem).toString('base64'), 'tls.key': Buffer.from(pem.keyPem).toString('base64') } };
}

/** A ConfigMap (the TCP and UDP services maps: port -> "<namespace>/<service>:<port>[:PROXY][:PROXY]"). */
export function configMap(name: string, namespace: string, data: Record<string, string>): Obj {
  return { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data };
}

/** A Service with named ports of their own protocols (`{name, port, protocol}`). */
export function serviceWithPorts(name: string, namespace: string, ports: readonly { name: string; port: number; protocol?: 'TCP' | 'UDP' }[]): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })), clusterIP: '10.96.0.11' } };
}

/** One EndpointSlice for a Service with named ports: each endpoint listens on every `ports` entry's port. */
export function sliceWithPorts(name: string, serviceName: string, ips: readonly string[], ports: readonly { name: string; port: number; protocol?: 'TCP' | 'UDP' }[], namespace = 'default'): Obj {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: ports.map((p) => ({ name: p.name, port: p.port, protocol: p.protocol ?? 'TCP' })),
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: true } })),
  };
}

/** A TLSRoute (`version`: v1, or v1alpha2 as experimental-channel clusters serve it). */
export function tlsRoute(name: string, namespace: string, spec: Record<string, unknown>, version: 'v1' | 'v1alpha2' = 'v1'): Obj {
  return { apiVersion: `gateway.networking.k8s.io/${version}`, kind: 'TLSRoute', metadata: { name, namespace }, spec };
}

/** A TCPRoute (`version`: v1, or v1alpha2 as experimental-channel clusters serve it). */
export function tcpRoute(name: string, namespace: string, spec: Record<string, unknown>, version: 'v1' | 'v1alpha2' = 'v1alpha2'): Obj {
  return { apiVersion: `gateway.networking.k8s.io/${version}`, kind: 'TCPRoute', metadata: { name, namespace }, spec };
}

/** A UDPRoute (`version`: v1, or v1alpha2 as experimental-channel clusters serve it). */
export function udpRoute(name: string, namespace: string, spec: Record<string, unknown>, version: 'v1' | 'v1alpha2' = 'v1'): Obj {
  return { apiVersion: `gateway.networking.k8s.io/${version}`, kind: 'UDPRoute', metadata: { name, namespace }, spec };
}
