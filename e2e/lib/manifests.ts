/** Kubernetes YAML for standalone-mode tests: the objects of objects.ts, written as manifest text. */
import { stringify } from 'yaml';
import { ingressObject, serviceWithSlices, type Endpointish, type HostSpec } from './objects.js';

export type { Endpointish, HostSpec, PathSpec } from './objects.js';

export function ingressYaml(name: string, rules: readonly HostSpec[], extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}): string {
  return stringify(ingressObject(name, rules, extra, annotations));
}

/** A Service on port 80 and one EndpointSlice per endpoint (so each may have its own port). */
export function serviceYaml(name: string, endpoints: readonly Endpointish[]): string {
  return serviceWithSlices(name, endpoints).map((d) => stringify(d)).join('---\n');
}

export const join = (...docs: string[]): string => docs.join('---\n');
