/**
 * The crypto side of certificate checks: decode a kubernetes.io/tls Secret, parse the PEM pair
 * (RSA or ECDSA; PKCS#1, SEC1 or PKCS#8 keys) and check the key matches. Results are memoised
 * by content, so a rebuild re-checks only Secrets that changed.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import type { CertCheck, InspectSecret } from '../model/certs.js';
import { show, type Secret } from '../model/k8s.js';

function field(secret: Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const plain = (secret as { stringData?: Record<string, unknown> }).stringData?.[key];
  return typeof plain === 'string' ? plain : undefined;
}

/** Checks one Secret without memoisation. */
export function inspectSecret(secret: Secret): CertCheck {
  const fail = (reason: 'InvalidCertificate' | 'CertificateKeyMismatch', message: string): CertCheck => ({ ok: false, reason, message });
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls') return fail('InvalidCertificate', `type is ${show(secret.type)}, not kubernetes.io/tls`);
  const certPem = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  if (!certPem || !keyPem) return fail('InvalidCertificate', 'tls.crt and tls.key are both required');
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    return fail('InvalidCertificate', `tls.crt is not a PEM certificate (${(err as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    return fail('InvalidCertificate', `tls.key is not a PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) return fail('CertificateKeyMismatch', 'tls.key does not match the certificate in tls.crt');
  const id = createHash('sha256').update(certPem).update('\0').update(keyPem).digest('hex').slice(0, 32);
  return {
    ok: true,
    id,
    certPem,
    keyPem,
    notBefore: Date.parse(cert.validFrom),
    notAfter: Date.parse(cert.validTo),
    covers: (host) => cert.checkHost(host, { wildcards: true, subject: 'default' }) !== undefined || (host.startsWith('*.') && cert.checkHost(`x${host.slice(1)}`) !== undefined),
  };
}

/** A memoising inspector; `sweep()` forgets Secrets not inspected since the previous sweep. */
export function createInspector(): InspectSecret & { sweep(): void } {
  let current = new Map<string, CertCheck>();
  let previous = new Map<string, CertCheck>();
  const keyOf = (s: Secret): string => {
    const m = s.metadata;
    if (m?.uid && m.resourceVersion) return `${m.uid}@${m.resourceVersion}`;
    return createHash('sha256').update(show([s.type, s.data, (s as { stringData?: unknown }).stringData])).digest('hex');
  };
  const inspect = ((secret: Secret) => {
    const k = keyOf(secret);
    let r = current.get(k) ?? previous.get(k);
    if (r === undefined) r = inspectSecret(secret);
    current.set(k, r);
    return r;
  }) as InspectSecret & { sweep(): void };
  inspect.sweep = () => {
    previous = current;
    current = new Map();
  };
  return inspect;
}
