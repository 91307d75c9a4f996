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
