/** Kubernetes YAML for standalone-mode tests: the objects of objects.ts, written as manifest text. */
import { stringify } from 'yaml';
import { ingressObject, serviceWithSlices, type Endpointish, type HostSpec, type Obj } from './objects.js';

export type { Endpointish, HostSpec, PathSpec } from './objects.js';

export function ingressYaml(name: string, rules: readonly HostSpec[], extra: Record<string, unknown> = {}, annotations: Record<string, string> = {}): string {
  return stringify(ingressObject(name, rules, extra, annotations));
}

/** A Service on port 80 and one EndpointSlice per endpoint (so each may have its own port). */
export function serviceYaml(name: string, endpoints: readonly Endpointish[]): string {
  return yaml(serviceWithSlices(name, endpoints));
}

/** Objects as one manifest text, a document each. */
export const yaml = (objs: readonly Obj[]): string => objs.map((o) => stringify(o)).join('---\n');

export const join = (...docs: string[]): string => docs.join('---\n');

/** An Opaque Secret in the default namespace, its values given as text. */
export const opaque = (name: string, data: Record<string, string>): string =>
  stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'Opaque', data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])) });
