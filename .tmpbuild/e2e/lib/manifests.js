/** Kubernetes YAML for standalone-mode tests: the objects of objects.ts, written as manifest text. */
import { stringify } from 'yaml';
import { ingressObject, serviceWithSlices } from './objects.js';
export function ingressYaml(name, rules, extra = {}, annotations = {}) {
    return stringify(ingressObject(name, rules, extra, annotations));
}
/** A Service on port 80 and one EndpointSlice per endpoint (so each may have its own port). */
export function serviceYaml(name, endpoints) {
    return serviceWithSlices(name, endpoints).map((d) => stringify(d)).join('---\n');
}
export const join = (...docs) => docs.join('---\n');
//# sourceMappingURL=manifests.js.map