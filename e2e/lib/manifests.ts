/** Builds Kubernetes YAML for tests: an Ingress, its Services and one EndpointSlice per endpoint. */
import { stringify } from 'yaml';

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
}

export interface HostSpec {
  readonly host?: string;
  readonly paths: readonly PathSpec[];
}

const ns = 'default';

export function ingressYaml(name: string, rules: readonly HostSpec[], extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}): string {
  return stringify({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: ns, annotations },
    spec: {
      ingressClassName: 'portico',
      ...extra,
      rules: rules.map((r) => ({
        ...(r.host === undefined ? {} : { host: r.host }),
        http: { paths: r.paths.map((p) => ({ path: p.path, pathType: p.pathType ?? 'Prefix', backend: { service: { name: p.service, port: { number: 80 } } } })) },
      })),
    },
  });
}

/** A Service on port 80 and one EndpointSlice per endpoint (so each may have its own port). */
export function serviceYaml(name: string, endpoints: readonly Endpointish[]): string {
  const docs: unknown[] = [{ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { ports: [{ port: 80, targetPort: 8080 }] } }];
  endpoints.forEach((e, i) => {
    docs.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-${i}`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ port: e.port }],
      endpoints: [{ addresses: [e.ip], conditions: { ready: e.ready ?? true, ...(e.serving === undefined ? {} : { serving: e.serving }), ...(e.terminating === undefined ? {} : { terminating: e.terminating }) } }],
    });
  });
  return docs.map((d) => stringify(d)).join('---\n');
}

export const join = (...docs: string[]): string => docs.join('---\n');
