/** Certificates and kubernetes.io/tls Secrets for tests. */
import { stringify } from 'yaml';
import { tlsSecret } from './objects.js';
import { createSelfSigned, type SelfSigned, type SelfSignedOptions } from '../../src/tls/selfsigned.js';

export const cert = (dnsNames: string[], opts: Partial<SelfSignedOptions> = {}): SelfSigned => createSelfSigned({ commonName: dnsNames[0] ?? 'test', dnsNames, ...opts });

export function secretYaml(name: string, c: SelfSigned, namespace = 'default'): string {
  return stringify(tlsSecret(name, namespace, c));
}
