/**
 * BackendTLSPolicy (gateway.networking.k8s.io/v1): which Service ports of HTTPRoute and GRPCRoute
 * backends Portico reaches over TLS, and how it verifies their pods. Per the type's doc comments:
 *
 * - `targetRefs` name Services (an optional `sectionName` is a port name); a policy with a
 *   sectionName beats one without for that port. Two policies on the same Service (and
 *   sectionName): the older wins (then `namespace/name`), the others are `Accepted=False
 *   Conflicted` and apply nowhere.
 * - `validation.hostname` is the SNI and the name verified, unless `subjectAltNames` are given:
 *   then one of those must be in the certificate (Hostname as TLS matches DNS names, URI exactly).
 * - `caCertificateRefs`: ConfigMaps of the policy's namespace with `ca.crt` (read through the
 *   builder, so a change rebuilds); another kind is `InvalidKind`, a missing or unusable one
 *   `InvalidCACertificateRef`; when none is usable, `Accepted=False NoValidCACertificate`.
 *   `wellKnownCACertificates: System` is the system CAs; another value is `Accepted=False Invalid`.
 * - A policy that cannot be honoured still holds its targets: their backends answer 500, never
 *   plaintext and never unverified TLS (the spec: connections using an invalid CA ref MUST fail).
 * - `options`: Portico defines none; each key is reported and ignored.
 *
 * Status is per ancestor (GEP-713): the Gateways of the routes that send to a target. Pure.
 */
import type { TableBuilder } from '../build.js';
import { isObject, str, type KubeObject, type Secret } from '../k8s.js';
import type { BackendTls } from '../types.js';
import type { BackendTLSPolicy } from './objects.js';
import { condition, type Condition, type PolicyStatus } from './status.js';

/** What a route's reference to a Service port gets from the policies. */
export type Applied = { readonly policy: string; readonly tls: BackendTls } | { readonly policy: string; readonly tls: null; readonly why: string };

export interface BackendTlsIndex {
  /**
   * The policy for Service `ns/service` port `port` (named `portName`, '' if unnamed), if one
   * targets it; `tls: null` when it cannot be honoured. Records `route` (`Kind/ns/name`) as a user.
   */
  forPort(ns: string, service: string, portName: string, route: string): Applied | undefined;
  /** The policies' status, given the Gateways each route (`Kind/ns/name`) is accepted on. */
  statuses(gatewaysOf: (route: string) => readonly { readonly namespace: string; readonly name: string }[]): PolicyStatus[];
}

const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SAN_HOSTNAME = /^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const ABSOLUTE_URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:[^\s]+$/;
/** GEP-713's limit on ancestors in a policy's status. */
const MAX_ANCESTORS = 16;

interface Read {
  readonly ns: string;
  readonly name: string;
  readonly generation: number;
  /** Target keys: `ns/service` or `ns/service#port-name`. */
  readonly targets: readonly string[];
  readonly conditions: Condition[];
  /** The settings, or why the policy cannot be honoured. */
  readonly tls: BackendTls | null;
  readonly why: string;
  users: Set<string>;
}

const gen = (o: KubeObject): number => (typeof o.metadata?.generation === 'number' ? o.metadata.generation : 0);

/** Reads the policies (oldest first, then by namespace/name) and resolves their conflicts. */
export function indexBackendTls(b: TableBuilder, policies: readonly BackendTLSPolicy[]): BackendTlsIndex {
  const read: Read[] = [];
  const owner = new Map<string, Read>();
  for (const p of policies) {
    const ns = str(p.metadata?.namespace);
    const name = str(p.metadata?.name);
    if (ns === '' || name === '') continue;
    const r = readPolicy(b, p, ns, name);
    read.push(r);
    const taken = r.targets.map((t) => owner.get(t)).find((o) => o !== undefined);
    if (taken !== undefined) {
      const message = `a target is also selected by BackendTLSPolicy ${taken.ns}/${taken.name}, which is older and wins; this policy applies nowhere`;
      r.conditions.splice(0, 1, condition('Accepted', false, 'Conflicted', message, r.generation));
      b.report({ kind: 'BackendTLSPolicy', namespace: ns, name }, 'PolicyConflict', message);
      continue;
    }
    for (const t of r.targets) owner.set(t, r);
  }
  return {
    forPort(ns, service, portName, route) {
      const r = (portName !== '' ? owner.get(`${ns}/${service}#${portName}`) : undefined) ?? owner.get(`${ns}/${service}`);
      if (r === undefined) return undefined;
      r.users.add(route);
      const policy = `${r.ns}/${r.name}`;
      return r.tls !== null ? { policy, tls: r.tls } : { policy, tls: null, why: r.why };
    },
    statuses(gatewaysOf) {
      return read.map((r) => {
        // a conflicted policy's users are those of its targets' winner: it is reported where it would have applied
        const users = new Set(r.users);
        for (const t of r.targets) {
          const o = owner.get(t);
          if (o !== undefined && o !== r) for (const u of o.users) users.add(u);
        }
        const ancestors = new Map<string, { namespace: string; name: string }>();
        for (const u of users) for (const g of gatewaysOf(u)) ancestors.set(`${g.namespace}/${g.name}`, { namespace: g.namespace, name: g.name });
        const sorted = [...ancestors.entries()].sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0)).slice(0, MAX_ANCESTORS).map(([, g]) => g);
        return { kind: 'BackendTLSPolicy', namespace: r.ns, name: r.name, generation: r.generation, ancestors: sorted, conditions: r.conditions };
      });
    },
  };
}

function readPolicy(b: TableBuilder, p: BackendTLSPolicy, ns: string, name: string): Read {
  const generation = gen(p);
  const origin = { kind: 'BackendTLSPolicy', namespace: ns, name };
  const spec = isObject(p.spec) ? p.spec : undefined;
  const targets: string[] = [];
  const invalid = (message: string): Read => {
    b.report(origin, 'InvalidPolicy', `${message}; its targets' backends answer 500`);
    return { ns, name, generation, targets, conditions: [condition('Accepted', false, 'Invalid', message, generation)], tls: null, why: `BackendTLSPolicy ${ns}/${name} is invalid: ${message}`, users: new Set() };
  };
  // targets first: an invalid policy still holds them (their backends must not fall back to plaintext)
  for (const t of Array.isArray(spec?.targetRefs) ? (spec?.targetRefs ?? []) : []) {
    if (!isObject(t) || str(t.group) !== '' || str(t.kind) !== 'Service' || str(t.name) === '') continue;
    const key = `${ns}/${str(t.name)}${str(t.sectionName) !== '' ? `#${str(t.sectionName)}` : ''}`;
    if (!targets.includes(key)) targets.push(key);
  }
  const refs = Array.isArray(spec?.targetRefs) ? (spec?.targetRefs ?? []) : [];
  if (refs.length === 0) return invalid('spec.targetRefs is empty');
  if (targets.length < refs.length) return invalid('targetRefs: only Services (group "", kind Service) with a name can be targeted');
  const v = isObject(spec?.validation) ? spec?.validation : undefined;
  if (v === undefined) return invalid('spec.validation is required');
  const hostname = str(v.hostname);
  if (!DNS_NAME.test(hostname) || hostname.length > 253) return invalid(`validation.hostname ${JSON.stringify(v.hostname ?? '')} is not a precise DNS name`);
  const sans: { type: 'Hostname' | 'URI'; value: string }[] = [];
  for (const s of Array.isArray(v.subjectAltNames) ? v.subjectAltNames : []) {
    const type = isObject(s) ? str(s.type) : '';
    if (type === 'Hostname' && SAN_HOSTNAME.test(str(s.hostname)) && str(s.uri) === '') sans.push({ type, value: str(s.hostname) });
    else if (type === 'URI' && ABSOLUTE_URI.test(str(s.uri)) && str(s.hostname) === '') sans.push({ type, value: str(s.uri) });
    else return invalid(`validation.subjectAltNames: ${JSON.stringify(s)} is not a Hostname with a hostname or a URI with an absolute uri`);
  }
  const caRefs = Array.isArray(v.caCertificateRefs) ? v.caCertificateRefs : [];
  const wellKnown = str(v.wellKnownCACertificates);
  if (caRefs.length > 0 && wellKnown !== '') return invalid('validation must not have both caCertificateRefs and wellKnownCACertificates');
  if (caRefs.length === 0 && wellKnown === '') return invalid('validation needs caCertificateRefs or wellKnownCACertificates');
  if (wellKnown !== '' && wellKnown !== 'System') return invalid(`wellKnownCACertificates ${JSON.stringify(wellKnown)} is not supported (System is)`);
  const options = isObject(spec?.options) ? Object.keys(spec?.options ?? {}).sort() : [];
  if (options.length > 0) b.report(origin, 'InvalidPolicy', `options ${options.join(', ')}: Portico defines no BackendTLSPolicy options; ignored`);

  const settings = { policy: `${ns}/${name}`, hostname, ...(sans.length > 0 ? { subjectAltNames: sans } : {}) };
  if (wellKnown === 'System') {
    const conditions = [condition('Accepted', true, 'Accepted', 'Accepted', generation), condition('ResolvedRefs', true, 'ResolvedRefs', 'Resolved all the Object references', generation)];
    return { ns, name, generation, targets, conditions, tls: { ...settings, caId: 'System', caFrom: 'System' }, why: '', users: new Set() };
  }
  // caCertificateRefs: ConfigMaps with ca.crt, every one usable (else the targets answer 500)
  const pems: string[] = [];
  const ids: string[] = [];
  const from: string[] = [];
  const problems: { reason: 'InvalidKind' | 'InvalidCACertificateRef'; message: string }[] = [];
  for (const ref of caRefs) {
    const refName = isObject(ref) ? str(ref.name) : '';
    if (!isObject(ref) || str(ref.group) !== '' || str(ref.kind) !== 'ConfigMap') {
      problems.push({ reason: 'InvalidKind', message: `caCertificateRefs: ${str(ref?.group) || 'core'}/${str(ref?.kind)} ${refName}: only ConfigMaps are supported` });
      continue;
    }
    const cm = b.configMap(`${ns}/${refName}`);
    const pem = cm?.data?.['ca.crt'];
    if (cm === undefined) problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs: ConfigMap ${ns}/${refName} not found` });
    else if (typeof pem !== 'string' || pem.trim() === '') problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs: ConfigMap ${ns}/${refName} has no ca.crt` });
    else {
      const check = b.opts.inspectClientCa?.({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: ns, name: refName }, stringData: { 'ca.crt': pem } } as Secret);
      if (check === undefined) problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs: ConfigMap ${ns}/${refName}: CA certificates cannot be checked in this mode` });
      else if (!check.ok) problems.push({ reason: 'InvalidCACertificateRef', message: `caCertificateRefs: ConfigMap ${ns}/${refName}: ${check.message.replace(/^auth-tls-secret [^:]*: /, '')}` });
      else {
        pems.push(check.caPem);
        ids.push(check.id);
        from.push(`ConfigMap ${ns}/${refName}`);
      }
    }
  }
  const conditions: Condition[] = [];
  if (problems.length === 0) {
    conditions.push(condition('Accepted', true, 'Accepted', 'Accepted', generation), condition('ResolvedRefs', true, 'ResolvedRefs', 'Resolved all the Object references', generation));
    return { ns, name, generation, targets, conditions, tls: { ...settings, caPem: pems.join('\n'), caId: ids.join('+'), caFrom: from.join(', ') }, why: '', users: new Set() };
  }
  const first = problems.find((x) => x.reason === 'InvalidKind') ?? (problems[0] as (typeof problems)[number]);
  const message = problems.map((x) => x.message).join('; ');
  for (const x of problems) b.report(origin, x.reason === 'InvalidKind' ? 'InvalidPolicy' : x.message.endsWith('not found') ? 'ConfigMapNotFound' : 'InvalidCertificate', `${x.message}; its targets' backends answer 500`);
  conditions.push(
    pems.length === 0 ? condition('Accepted', false, 'NoValidCACertificate', 'no caCertificateRef is usable', generation) : condition('Accepted', true, 'Accepted', 'Accepted (but a caCertificateRef is invalid: its targets answer 500)', generation),
    condition('ResolvedRefs', false, first.reason, message, generation),
  );
  return { ns, name, generation, targets, conditions, tls: null, why: `BackendTLSPolicy ${ns}/${name}: ${message}`, users: new Set() };
}
