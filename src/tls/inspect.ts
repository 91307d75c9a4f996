/**
 * The crypto side of certificate checks: decode a kubernetes.io/tls Secret, parse the PEM pair
 * (RSA or ECDSA; PKCS#1, SEC1 or PKCS#8 keys) and check the key matches. Results are memoised
 * by content, so a rebuild re-checks only Secrets that changed.
 */
import { createHash, createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { CertCheck, ClientCaCheck, InspectSecret, UpstreamTlsCheck } from '../model/certs.js';
import { show, type Secret } from '../model/k8s.js';

function field(secret: Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const plain = (secret as { stringData?: Record<string, unknown> }).stringData?.[key];
  return typeof plain === 'string' ? plain : undefined;
}

type Failed = { readonly ok: false; readonly reason: 'InvalidCertificate' | 'CertificateKeyMismatch'; readonly message: string };
const failed = (reason: Failed['reason'], message: string): Failed => ({ ok: false, reason, message });

/** Parses a certificate and its key and checks they belong together. */
function checkPair(certPem: string, keyPem: string): { cert: X509Certificate } | Failed {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch (err) {
    return failed('InvalidCertificate', `tls.crt is not a PEM certificate (${(err as Error).message})`);
  }
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch (err) {
    return failed('InvalidCertificate', `tls.key is not a PEM private key (${(err as Error).message})`);
  }
  if (!cert.checkPrivateKey(key)) return failed('CertificateKeyMismatch', 'tls.key does not match the certificate in tls.crt');
  return { cert };
}

/**
 * Checks a `proxy-ssl-secret`: `ca.crt` (trusted CAs for the backend's certificate) and/or the
 * client pair `tls.crt` + `tls.key`. Any Secret type: the material is what matters.
 */
export function inspectUpstreamSecret(secret: Secret): UpstreamTlsCheck {
  const caPem = field(secret, 'ca.crt');
  const certPem = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  if (!caPem && !certPem && !keyPem) return failed('InvalidCertificate', 'needs ca.crt, or tls.crt and tls.key, or all three');
  if (caPem) {
    try {
      new X509Certificate(caPem);
    } catch (err) {
      return failed('InvalidCertificate', `ca.crt is not a PEM certificate (${(err as Error).message})`);
    }
  }
  if (certPem || keyPem) {
    if (!certPem || !keyPem) return failed('InvalidCertificate', 'a client certificate needs both tls.crt and tls.key');
    const pair = checkPair(certPem, keyPem);
    if ('ok' in pair) return pair;
  }
  const id = createHash('sha256').update(caPem ?? '').update('\0').update(certPem ?? '').update('\0').update(keyPem ?? '').digest('hex').slice(0, 32);
  return { ok: true, id, ...(caPem ? { caPem } : {}), ...(certPem && keyPem ? { certPem, keyPem } : {}) };
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
/** Checked CA bundles by content hash: a rebuild does not re-parse an unchanged Secret (bounded). */
const clientCas = new Map<string, ClientCaCheck>();

/**
 * Checks an `auth-tls-secret`: `ca.crt` (one or more PEM certificates, each must parse) and the
 * optional `ca.crl`, loaded into a TLS context as a handshake will (so what OpenSSL refuses is
 * refused here, not at the first client). Any Secret type: the material is what matters.
 */
export function inspectClientCaSecret(secret: Secret): ClientCaCheck {
  const caPem = field(secret, 'ca.crt');
  const crlPem = field(secret, 'ca.crl');
  if (caPem === undefined || caPem.trim() === '') return failed('InvalidCertificate', 'has no ca.crt (the CA certificates to verify clients against)');
  const id = createHash('sha256').update(caPem).update('\0').update(crlPem ?? '').digest('hex').slice(0, 32);
  const known = clientCas.get(id);
  if (known !== undefined) return known;
  let check: ClientCaCheck;
  const blocks = caPem.match(PEM_CERT) ?? [];
  try {
    if (blocks.length === 0) throw new Error('no PEM certificate in it');
    for (const b of blocks) new X509Certificate(b);
    try {
      createSecureContext({ ca: caPem, ...(crlPem !== undefined && crlPem.trim() !== '' ? { crl: crlPem } : {}) });
    } catch (err) {
      if (crlPem === undefined) throw err;
      throw new Error(`ca.crl: ${(err as Error).message}`);
    }
    check = { ok: true, id, caPem, ...(crlPem !== undefined && crlPem.trim() !== '' ? { crlPem } : {}) };
  } catch (err) {
    const m = (err as Error).message;
    check = failed('InvalidCertificate', m.startsWith('ca.crl') ? m : `ca.crt holds no usable PEM certificates (${m})`);
  }
  if (clientCas.size >= 256) clientCas.delete(clientCas.keys().next().value as string);
  clientCas.set(id, check);
  return check;
}

/** Checks one Secret without memoisation. */
export function inspectSecret(secret: Secret): CertCheck {
  if (secret.type !== undefined && secret.type !== 'kubernetes.io/tls') return failed('InvalidCertificate', `type is ${show(secret.type)}, not kubernetes.io/tls`);
  const certPem = field(secret, 'tls.crt');
  const keyPem = field(secret, 'tls.key');
  if (!certPem || !keyPem) return failed('InvalidCertificate', 'tls.crt and tls.key are both required');
  const pair = checkPair(certPem, keyPem);
  if ('ok' in pair) return pair;
  const { cert } = pair;
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

/** A memoising inspector ({@link createInspector}). */
export type Inspector = InspectSecret & {
  /** Forgets Secrets not inspected since the previous sweep (called as a build starts). */
  sweep(): void;
  /**
   * The earliest time after `now` at which a certificate inspected since the last sweep is judged
   * differently (it becomes valid at notBefore, expired just past notAfter: certProblem); Infinity
   * when none will.
   */
  nextChange(now: number): number;
};

/** A memoising inspector; `sweep()` forgets Secrets not inspected since the previous sweep. */
export function createInspector(): Inspector {
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
  }) as Inspector;
  inspect.sweep = () => {
    previous = current;
    current = new Map();
  };
  inspect.nextChange = (now) => {
    let next = Infinity;
    for (const c of current.values()) {
      if (!c.ok) continue;
      if (c.notBefore > now && c.notBefore < next) next = c.notBefore;
      if (c.notAfter + 1 > now && c.notAfter + 1 < next) next = c.notAfter + 1;
    }
    return next;
  };
  return inspect;
}
