/**
 * CA certificate references, as BackendTLSPolicy (`validation.caCertificateRefs`) and a Gateway's
 * frontend TLS validation (`spec.tls.frontend`) both name them: ConfigMaps with `ca.crt` (read
 * through the builder, so a change rebuilds), and, where the caller allows it, Secrets with
 * `ca.crt` (checked as auth-tls-secret is). Each usable one gives PEM certificates and an id that
 * changes exactly when they do; each unusable one a problem with the spec's reason. Pure.
 */
import type { TableBuilder } from '../build.js';
import { isObject, str, type Secret } from '../k8s.js';
import type { DiagnosticReason } from '../types.js';
import type { GrantIndex } from './grants.js';

/** Why a reference cannot be used: the condition reason (the caller maps it to its spec's word) and the diagnostic. */
export interface CaRefProblem {
  readonly reason: 'InvalidKind' | 'InvalidCACertificateRef' | 'RefNotPermitted';
  readonly diagnostic: DiagnosticReason;
  readonly message: string;
}

/** The usable CAs of a list of references, and what was wrong with the others. */
export interface CaRefs {
  /** PEM bundles, one per usable reference. */
  readonly pems: readonly string[];
  /** Their ids, in the same order. */
  readonly ids: readonly string[];
  /** `ConfigMap ns/name` per usable reference (for messages and printing). */
  readonly from: readonly string[];
  readonly problems: readonly CaRefProblem[];
}

export interface CaRefOptions {
  /** Secrets (`ca.crt`) are usable too; else only ConfigMaps are. */
  readonly secrets?: boolean;
  /** References may name another namespace when a ReferenceGrant there allows `referrer`; absent: the namespace field is not read (a LocalObjectReference). */
  readonly grants?: { readonly index: GrantIndex; readonly referrer: { readonly group: string; readonly kind: string; readonly namespace: string } };
}

/** Reads `refs` (relative to namespace `ns`). */
export function readCaRefs(b: TableBuilder, ns: string, refs: readonly unknown[], opts: CaRefOptions = {}): CaRefs {
  const pems: string[] = [];
  const ids: string[] = [];
  const from: string[] = [];
  const problems: CaRefProblem[] = [];
  const kinds = opts.secrets === true ? 'ConfigMaps and Secrets are' : 'ConfigMaps are';
  for (const raw of refs) {
    const ref = (isObject(raw) ? raw : {}) as { readonly group?: unknown; readonly kind?: unknown; readonly name?: unknown; readonly namespace?: unknown };
    const refName = str(ref.name);
    const kind = str(ref.kind);
    if (!isObject(raw) || str(ref.group) !== '' || !(kind === 'ConfigMap' || (kind === 'Secret' && opts.secrets === true))) {
      problems.push({ reason: 'InvalidKind', diagnostic: 'InvalidPolicy', message: `caCertificateRefs: ${str(ref.group) || 'core'}/${kind} ${refName}: only ${kinds} supported` });
      continue;
    }
    const refNs = opts.grants !== undefined ? str(ref.namespace) || ns : ns;
    const where = `${kind} ${refNs}/${refName}`;
    if (opts.grants !== undefined && !opts.grants.index.allows(opts.grants.referrer, { group: '', kind, namespace: refNs, name: refName })) {
      problems.push({ reason: 'RefNotPermitted', diagnostic: 'RefNotPermitted', message: `caCertificateRefs: ${where} is in another namespace and no ReferenceGrant there allows it` });
      continue;
    }
    const problem = (diagnostic: DiagnosticReason, message: string): void => void problems.push({ reason: 'InvalidCACertificateRef', diagnostic, message: `caCertificateRefs: ${where}${message}` });
    if (kind === 'Secret') {
      const check = b.secret(`${refNs}/${refName}`) === undefined ? undefined : b.clientCa(`${refNs}/${refName}`);
      if (check === undefined) problem('SecretNotFound', ' not found');
      else if (!check.ok) problem(check.reason, `: ${check.message.replace(/^auth-tls-secret [^:]*: /, '')}`);
      else {
        pems.push(check.caPem);
        ids.push(check.id);
        from.push(where);
      }
      continue;
    }
    const cm = b.configMap(`${refNs}/${refName}`);
    const pem = cm?.data?.['ca.crt'];
    if (cm === undefined) problem('ConfigMapNotFound', ' not found');
    else if (typeof pem !== 'string' || pem.trim() === '') problem('InvalidCertificate', ' has no ca.crt');
    else {
      const check = b.opts.inspectClientCa?.({ apiVersion: 'v1', kind: 'Secret', metadata: { namespace: refNs, name: refName }, stringData: { 'ca.crt': pem } } as Secret);
      if (check === undefined) problem('InvalidCertificate', ': CA certificates cannot be checked in this mode');
      else if (!check.ok) problem('InvalidCertificate', `: ${check.message.replace(/^auth-tls-secret [^:]*: /, '')}`);
      else {
        pems.push(check.caPem);
        ids.push(check.id);
        from.push(where);
      }
    }
  }
  return { pems, ids, from, problems };
}
