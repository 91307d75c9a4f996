/** The objects of the scale benchmarks (bench:scale, bench:soak --ingresses). */
import type { KubeObject } from '../src/model/k8s.js';

/** n Ingresses with 5 paths each on n/5 hosts, n/2 Services with 10 endpoints each (50,000 endpoints for 10,000 Ingresses). */
export function scaleObjects(n: number): KubeObject[] {
  const out: KubeObject[] = [];
  const services = Math.max(1, Math.floor(n / 2)); // 50,000 endpoints at 10 per Service for 10,000 Ingresses
  for (let s = 0; s < services; s++) {
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name: `svc-${s}`, namespace: 'default' }, spec: { ports: [{ port: 80 }] } } as KubeObject);
    out.push({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `svc-${s}-1`, namespace: 'default', labels: { 'kubernetes.io/service-name': `svc-${s}` } },
      addressType: 'IPv4',
      ports: [{ port: 8080 }],
      endpoints: Array.from({ length: 10 }, (_, e) => ({ addresses: [`10.${(s >> 8) & 255}.${s & 255}.${e + 1}`], conditions: { ready: true } })),
    } as KubeObject);
  }
  for (let i = 0; i < n; i++) {
    out.push({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: `ing-${i}`, namespace: 'default' },
      spec: {
        ingressClassName: 'portico',
        rules: [{ host: `h${i % Math.max(1, Math.floor(n / 5))}.scale.test`, http: { paths: Array.from({ length: 5 }, (_, k) => ({ path: `/i${i}/p${k}`, pathType: k % 2 ? 'Exact' : 'Prefix', backend: { service: { name: `svc-${i % services}`, port: { number: 80 } } } })) } }],
      },
    } as KubeObject);
  }
  return out;
}

