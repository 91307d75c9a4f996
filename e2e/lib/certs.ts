/** Certificates, small CAs and their client certificates, CRLs, and Secrets for tests. */
import { X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import { tlsSecret } from './objects.js';
import { createCrl, createSelfSigned, type NameAttributes, type SelfSigned, type SelfSignedOptions } from '../../src/tls/selfsigned.js';

export const cert = (dnsNames: string[], opts: Partial<SelfSignedOptions> = {}): SelfSigned => createSelfSigned({ commonName: dnsNames[0] ?? 'test', dnsNames, ...opts });

export function secretYaml(name: string, c: SelfSigned, namespace = 'default'): string {
  return stringify(tlsSecret(name, namespace, c));
}

/** A certificate with its subject and serial number: a CA's, or a client's. */
export interface Issued extends SelfSigned {
  readonly subject: NameAttributes;
  /** Hex, as X509Certificate.serialNumber (for CRLs). */
  readonly serial: string;
}

const issued = (c: SelfSigned, subject: NameAttributes): Issued => ({ ...c, subject, serial: new X509Certificate(c.certPem).serialNumber });

/** A CA: a self-signed root, or an intermediate under `issuer`. */
export function ca(commonName: string, issuer?: Issued): Issued {
  const subject: NameAttributes = [['O', 'Portico Tests'], ['CN', commonName]];
  return issued(createSelfSigned({ commonName, dnsNames: [], isCA: true, subject, ...(issuer ? { issuer } : {}) }), subject);
}

/** A client certificate issued by `issuer` (self-signed without one). */
export function client(subject: NameAttributes, issuer?: Issued, opts: Partial<SelfSignedOptions> = {}): Issued {
  return issued(createSelfSigned({ commonName: 'client', dnsNames: [], subject, ...(issuer ? { issuer } : {}), ...opts }), subject);
}

/** A CRL from `issuer` revoking `revoked`. */
export const crl = (issuer: Issued, revoked: readonly Issued[]): string => createCrl(issuer, revoked.map((c) => c.serial));

/** A Secret with `ca.crt` (and `ca.crl`), as `kubectl create secret generic --from-file` makes it. */
export function caSecretYaml(name: string, caPem: string, crlPem?: string, namespace = 'default'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'Opaque',
    data: { 'ca.crt': Buffer.from(caPem).toString('base64'), ...(crlPem !== undefined ? { 'ca.crl': Buffer.from(crlPem).toString('base64') } : {}) },
  });
}
