/** Kubernetes objects as plain JSON, for the API-server double. */
import type { Endpointish } from './manifests.js';

type Obj = Record<string, unknown> & { kind: string; metadata: { name: string; namespace?: string; [k: string]: unknown } };

export function ingress(name: string, host: string, service: string, opts: { namespace?: string; className?: string; path?: string; tls?: unknown[] } = {}): Obj {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: opts.namespace ?? 'default' },
    spec: {
      ingressClassName: opts.className ?? 'portico',
      ...(opts.tls ? { tls: opts.tls } : {}),
      rules: [{ host, http: { paths: [{ path: opts.path ?? '/', pathType: 'Prefix', backend: { service: { name: service, port: { number: 80 } } } }] } }],
    },
  };
}

export function service(name: string, namespace = 'default'): Obj {
  return { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { ports: [{ port: 80, targetPort: 8080 }], clusterIP: '10.96.0.10' } };
}

/** One EndpointSlice holding every endpoint (they must share a port). */
export function slice(name: string, serviceName: string, endpoints: readonly Endpointish[], namespace = 'default'): Obj {
  const port = endpoints[0]?.port ?? 8080;
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { name, namespace, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ port }],
    endpoints: endpoints.map((e) => ({ addresses: [e.ip], conditions: { ready: e.ready ?? true } })),
  };
}
