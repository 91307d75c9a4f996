/** Certificates, small CAs and their client certificates, CRLs, and Secrets for tests. */
import { X509Certificate } from 'node:crypto';
import { stringify } from 'yaml';
import { tlsSecret } from './objects.js';
import { createCrl, createSelfSigned } from '../../src/tls/selfsigned.js';
export const cert = (dnsNames, opts = {}) => createSelfSigned({ commonName: dnsNames[0] ?? 'test', dnsNames, ...opts });
export function secretYaml(name, c, namespace = 'default') {
    return stringify(tlsSecret(name, namespace, c));
}
const issued = (c, subject) => ({ ...c, subject, serial: new X509Certificate(c.certPem).serialNumber });
/** A CA: a self-signed root, or an intermediate under `issuer`. */
export function ca(commonName, issuer) {
    const subject = [['O', 'Portico Tests'], ['CN', commonName]];
    return issued(createSelfSigned({ commonName, dnsNames: [], isCA: true, subject, ...(issuer ? { issuer } : {}) }), subject);
}
/** A client certificate issued by `issuer` (self-signed without one). */
export function client(subject, issuer, opts = {}) {
    return issued(createSelfSigned({ commonName: 'client', dnsNames: [], subject, ...(issuer ? { issuer } : {}), ...opts }), subject);
}
/** A CRL from `issuer` revoking `revoked`. */
export const crl = (issuer, revoked) => createCrl(issuer, revoked.map((c) => c.serial));
/** A Secret with `ca.crt` (and `ca.crl`), as `kubectl create secret generic --from-file` makes it. */
export function caSecretYaml(name, caPem, crlPem, namespace = 'default') {
    return stringify({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace },
        type: 'Opaque',
        data: { 'ca.crt': Buffer.from(caPem).toString('base64'), ...(crlPem !== undefined ? { 'ca.crl': Buffer.from(crlPem).toString('base64') } : {}) },
    });
}
//# sourceMappingURL=certs.js.map