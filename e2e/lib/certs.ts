/** Certificates and kubernetes.io/tls Secrets for tests. */
import { stringify } from 'yaml';
import { createSelfSigned, type SelfSigned, type SelfSignedOptions } from '../../src/tls/selfsigned.js';

export const cert = (dnsNames: string[], opts: Partial<SelfSignedOptions> = {}): SelfSigned => createSelfSigned({ commonName: dnsNames[0] ?? 'test', dnsNames, ...opts });

export function secretYaml(name: string, c: SelfSigned, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(c.certPem).toString('base64'), 'tls.key': Buffer.from(c.keyPem).toString('base64') },
  });
}
