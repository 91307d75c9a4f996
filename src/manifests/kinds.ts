/**
 * Which objects of a manifest file Portico can read: the kinds it serves from, in the API version
 * it reads, and the kinds it leaves to other controllers. A typo in a kind (`Ingres`) or an API
 * version Kubernetes removed (`extensions/v1beta1`) is a problem that says what to do, never a
 * silent skip: the API server would have refused both.
 */
import { KINDS, show, type Kind, type KubeObject } from '../model/k8s.js';
import type { DiagnosticReason } from '../model/types.js';

/** What a manifest problem is about. */
export type ManifestReason = Extract<DiagnosticReason, 'InvalidManifest' | 'UnknownKind' | 'UnsupportedAPIVersion'>;

const GATEWAY_V1 = 'gateway.networking.k8s.io/v1';
/** Served beside v1 by Gateway API releases, with the same schema for these kinds. */
const GATEWAY_V1BETA1 = ['gateway.networking.k8s.io/v1beta1'];

/**
 * The API version Portico reads for each kind (`current`, and `also` where another version has
 * the same schema), and the versions Kubernetes removed (with the release).
 */
const VERSIONS: Readonly<Record<Kind, { readonly current: string; readonly also?: readonly string[]; readonly removed: Readonly<Record<string, string>> }>> = {
  Ingress: { current: 'networking.k8s.io/v1', removed: { 'extensions/v1beta1': '1.22', 'networking.k8s.io/v1beta1': '1.22' } },
  IngressClass: { current: 'networking.k8s.io/v1', removed: { 'networking.k8s.io/v1beta1': '1.22' } },
  Service: { current: 'v1', removed: {} },
  EndpointSlice: { current: 'discovery.k8s.io/v1', removed: { 'discovery.k8s.io/v1beta1': '1.25' } },
  Secret: { current: 'v1', removed: {} },
  ConfigMap: { current: 'v1', removed: {} },
  Namespace: { current: 'v1', removed: {} },
  GatewayClass: { current: GATEWAY_V1, also: GATEWAY_V1BETA1, removed: {} },
  Gateway: { current: GATEWAY_V1, also: GATEWAY_V1BETA1, removed: {} },
  HTTPRoute: { current: GATEWAY_V1, also: GATEWAY_V1BETA1, removed: {} },
  GRPCRoute: { current: GATEWAY_V1, removed: {} },
  // v1 in the standard channel from Gateway API v1.5 (TLSRoute) and v1.6 (TCPRoute, UDPRoute); the experimental channel's earlier versions read the same
  TLSRoute: { current: GATEWAY_V1, also: ['gateway.networking.k8s.io/v1alpha2', 'gateway.networking.k8s.io/v1alpha3'], removed: {} },
  TCPRoute: { current: GATEWAY_V1, also: ['gateway.networking.k8s.io/v1alpha2'], removed: {} },
  UDPRoute: { current: GATEWAY_V1, also: ['gateway.networking.k8s.io/v1alpha2'], removed: {} },
  ReferenceGrant: { current: 'gateway.networking.k8s.io/v1beta1', removed: {} },
  // v1 from Gateway API v1.4 (the standard channel serves only v1; v1alpha3 is deprecated and not served)
  BackendTLSPolicy: { current: GATEWAY_V1, removed: {} },
};

/** The Gateway API's other kinds (experimental channel), which Portico does not read. */
const OTHER_GATEWAY_KINDS = new Set(['BackendLBPolicy', 'ListenerSet', 'XListenerSet', 'BackendTrafficPolicy', 'XBackendTrafficPolicy', 'XMesh']);

/** What converting a removed version means, where it is more than changing the apiVersion line. */
const CONVERSION: Partial<Record<Kind, string>> = {
  Ingress: 'backend.serviceName and servicePort become backend.service.name and port.number or port.name, and every path needs a pathType: Prefix, Exact or ImplementationSpecific',
  EndpointSlice: 'topology becomes nodeName and zone',
};

/** API groups served by Kubernetes itself ('' is the core group, `v1`); other groups are custom resources. */
const BUILTIN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'extensions', 'networking.k8s.io', 'discovery.k8s.io', 'rbac.authorization.k8s.io',
  'storage.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io', 'admissionregistration.k8s.io', 'apiextensions.k8s.io',
  'apiregistration.k8s.io', 'certificates.k8s.io', 'events.k8s.io', 'flowcontrol.apiserver.k8s.io', 'authentication.k8s.io',
  'authorization.k8s.io', 'resource.k8s.io', 'internal.apiserver.k8s.io', 'storagemigration.k8s.io',
]);

/** The kinds of those groups, which Portico leaves to other controllers (a Deployment next to its Service is fine). */
const BUILTIN_KINDS = new Set([
  ...KINDS,
  'Pod', 'Endpoints', 'ConfigMap', 'Namespace', 'Node', 'PersistentVolume', 'PersistentVolumeClaim', 'ServiceAccount',
  'ReplicationController', 'LimitRange', 'ResourceQuota', 'Event', 'PodTemplate', 'Binding', 'ComponentStatus',
  'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'ControllerRevision', 'Job', 'CronJob', 'HorizontalPodAutoscaler',
  'PodDisruptionBudget', 'Eviction', 'NetworkPolicy', 'IPAddress', 'ServiceCIDR', 'Role', 'RoleBinding', 'ClusterRole',
  'ClusterRoleBinding', 'StorageClass', 'VolumeAttachment', 'CSIDriver', 'CSINode', 'CSIStorageCapacity',
  'VolumeAttributesClass', 'PriorityClass', 'Lease', 'LeaseCandidate', 'RuntimeClass', 'ValidatingWebhookConfiguration',
  'MutatingWebhookConfiguration', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'MutatingAdmissionPolicy',
  'MutatingAdmissionPolicyBinding', 'CustomResourceDefinition', 'APIService', 'CertificateSigningRequest', 'ClusterTrustBundle',
  'FlowSchema', 'PriorityLevelConfiguration', 'TokenReview', 'SubjectAccessReview', 'SelfSubjectAccessReview',
  'LocalSubjectAccessReview', 'SelfSubjectRulesReview', 'SelfSubjectReview', 'ResourceClaim', 'ResourceClaimTemplate',
  'DeviceClass', 'ResourceSlice', 'PodSecurityPolicy', 'StorageVersion', 'StorageVersionMigration',
]);

/** Levenshtein distance, case-insensitive (a kind written `ingress` is one edit from `Ingress`). */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let prev = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const row = [i];
    for (let j = 1; j <= y.length; j++) row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1)));
    prev = row;
  }
  return prev[y.length]!;
}

/** The kind `kind` was probably meant to be, among `among`: Portico's own kinds first. */
function closest(kind: string, among: Iterable<string> = BUILTIN_KINDS): string | null {
  let best: string | null = null;
  let bestD = Math.min(3, Math.floor(kind.length / 3) + 1);
  for (const k of among) {
    const d = distance(kind, k);
    if (d < bestD || (d === bestD && best !== null && !(KINDS as readonly string[]).includes(best) && (KINDS as readonly string[]).includes(k))) {
      best = k;
      bestD = d;
    }
  }
  return best;
}

const named = (o: KubeObject): string => {
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : '';
  const ns = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : '';
  return name === '' ? '' : ` ${ns === '' ? '' : `${ns}/`}${name}`;
};

/**
 * Whether Portico can read `o` (whose `kind` is a string): null when it can, or leaves it to
 * another controller; else the problem, naming the object and saying what to do.
 */
export function checkKind(o: KubeObject): { reason: ManifestReason; message: string } | null {
  const kind = o.kind as string;
  const apiVersion = typeof o.apiVersion === 'string' ? o.apiVersion : '';
  const v = (VERSIONS as Partial<Record<string, (typeof VERSIONS)[Kind]>>)[kind];
  if (v !== undefined) {
    // no apiVersion at all reads as the current one (kubectl would ask for it; the meaning is clear)
    if (apiVersion === '' || apiVersion === v.current || v.also?.includes(apiVersion)) return null;
    const removedIn = v.removed[apiVersion];
    const what = `${kind}${named(o)}`;
    if (removedIn !== undefined) {
      const how = CONVERSION[kind as Kind];
      return { reason: 'UnsupportedAPIVersion', message: `${what}: apiVersion ${apiVersion} was removed in Kubernetes ${removedIn}; convert it to ${v.current}${how === undefined ? '' : ` (${how})`}` };
    }
    return { reason: 'UnsupportedAPIVersion', message: `${what}: apiVersion ${show(apiVersion)} is not one Portico reads ${kind} in; write apiVersion: ${v.current}` };
  }
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  if (group === 'gateway.networking.k8s.io') {
    // the Gateway API's kinds change between releases: only a near miss of one Portico reads is a problem
    const near = OTHER_GATEWAY_KINDS.has(kind) ? null : closest(kind, KINDS);
    return near === null ? null : { reason: 'UnknownKind', message: `${kind}${named(o)}: kind ${show(kind)} (apiVersion ${apiVersion}) is not a Gateway API kind Portico reads; did you mean ${show(near)}?` };
  }
  // a custom resource (cert-manager, ...) is another controller's business
  if (!BUILTIN_GROUPS.has(group) || BUILTIN_KINDS.has(kind)) return null;
  const guess = closest(kind);
  const hint = guess === null ? `Portico reads ${KINDS.slice(0, -1).join(', ')} and ${KINDS.at(-1)}` : `did you mean ${show(guess)}?`;
  return { reason: 'UnknownKind', message: `${kind}${named(o)}: kind ${show(kind)}${apiVersion === '' ? '' : ` (apiVersion ${apiVersion})`} is not a Kubernetes kind, so nothing reads it; ${hint}` };
}
