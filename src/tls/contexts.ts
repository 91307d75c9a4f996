/**
 * SNI: picks a SecureContext per handshake from the live table (exact host, then a wildcard one
 * label up, then the default certificate). Contexts are cached by certificate id, so a rotated
 * Secret gets a new context for new handshakes while established connections keep theirs.
 */
import { constants, createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Cert, RouteTable } from '../model/types.js';
import { createSelfSigned } from './selfsigned.js';
import type { TlsSettings } from './settings.js';

export { DEFAULT_CIPHERS, type TlsSettings } from './settings.js';

/** Options shared by every context: protocol range, ciphers, server order, no renegotiation. */
export function baseOptions(s: TlsSettings): SecureContextOptions {
  return {
    minVersion: s.minVersion,
    maxVersion: s.maxVersion,
    ciphers: s.ciphers,
    honorCipherOrder: true,
    // TLS 1.2 renegotiation is a DoS lever and unneeded; TLS 1.3 has none.
    secureOptions: constants.SSL_OP_NO_RENEGOTIATION,
    sessionTimeout: 300,
  };
}

/** A certificate that can be served, whether from a Secret or generated. */
export interface ServedCert {
  readonly id: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface TlsContexts {
  /** The context for an SNI name against a table (the default certificate when none matches). */
  select(table: RouteTable, servername: string): SecureContext;
  /** The certificate for SNI names nothing else matches. */
  defaultCert(table: RouteTable): ServedCert;
  /**
   * The listener's own certificate, served to clients that send no SNI. It must be RSA: when the
   * listener's context holds an ECDSA certificate, OpenSSL keeps serving it after the SNI callback
   * switches to an RSA context (see tls test "a wildcard certificate covers one label").
   */
  listenerCert(table: RouteTable): ServedCert;
  /** Drops cached contexts whose certificate is no longer in the table. */
  retain(table: RouteTable): void;
}

/** The self-signed fallback (RSA, see listenerCert): a DNS SAN first, so clients that read the first SAN do not break. */
export function generateDefaultCert(): ServedCert {
  const c = createSelfSigned({ commonName: 'Portico Default Certificate', dnsNames: ['portico.local'], keyType: 'rsa' });
  return { id: 'generated-default', ...c };
}

/** The same, with the RSA key generated in libuv's thread pool (about 0.1 to 0.5 s of CPU). */
export async function generateDefaultCertAsync(): Promise<ServedCert> {
  const key = await new Promise<KeyObject>((resolve, reject) => generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv))));
  const c = createSelfSigned({ commonName: 'Portico Default Certificate', dnsNames: ['portico.local'], keyType: 'rsa', key });
  return { id: 'generated-default', ...c };
}

export function createTlsContexts(settings: TlsSettings, generated: ServedCert = generateDefaultCert()): TlsContexts {
  const base = baseOptions(settings);
  const cache = new Map<string, SecureContext>();
  const contextFor = (c: ServedCert): SecureContext => {
    let ctx = cache.get(c.id);
    if (ctx === undefined) {
      ctx = createSecureContext({ ...base, cert: c.certPem, key: c.keyPem });
      cache.set(c.id, ctx);
    }
    return ctx;
  };
  const defaultCert = (table: RouteTable): ServedCert => table.certs.get('') ?? generated;
  const rsa = new Map<string, boolean>();
  const isRsa = (c: ServedCert): boolean => {
    let v = rsa.get(c.id);
    if (v === undefined) rsa.set(c.id, (v = createPrivateKey(c.keyPem).asymmetricKeyType === 'rsa'));
    return v;
  };
  const find = (table: RouteTable, name: string): Cert | undefined => {
    const exact = table.certs.get(name);
    if (exact !== undefined) return exact;
    const dot = name.indexOf('.');
    return dot > 0 ? table.certs.get(`*${name.slice(dot)}`) : undefined;
  };
  return {
    select(table, servername) {
      const name = servername.toLowerCase().replace(/\.$/, '');
      return contextFor(find(table, name) ?? defaultCert(table));
    },
    defaultCert,
    listenerCert(table) {
      const d = defaultCert(table);
      return isRsa(d) ? d : generated;
    },
    retain(table) {
      const live = new Set<string>([generated.id]);
      for (const c of table.certs.values()) live.add(c.id);
      for (const id of cache.keys()) if (!live.has(id)) cache.delete(id);
      for (const id of rsa.keys()) if (!live.has(id)) rsa.delete(id);
    },
  };
}

/** Expiry (Unix seconds) of a PEM certificate, for the generated default's metric. */
export function expiryOf(certPem: string): number {
  return Date.parse(new X509Certificate(certPem).validTo) / 1000;
}
