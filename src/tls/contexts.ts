/**
 * SNI: picks a SecureContext per handshake from the live table (exact host, then a wildcard one
 * label up, then the default certificate), with the host's client CAs when it verifies client
 * certificates (auth-tls-secret). Contexts are cached by certificate id and CA id, so a rotated
 * Secret or CA gets a new context for new handshakes while established connections keep theirs.
 */
import { constants, createPrivateKey, generateKeyPair, X509Certificate, type KeyObject } from 'node:crypto';
import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { Cert, ClientAuth, RouteTable } from '../model/types.js';
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

/** What a handshake uses: the context, and the id of the CAs to verify a client certificate against (null: ask for none). */
export interface Selected {
  readonly context: SecureContext;
  readonly clientCa: string | null;
}

export interface TlsContexts {
  /** The context for an SNI name against a table (the default certificate when none matches). */
  select(table: RouteTable, servername: string): Selected;
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

/**
 * The options of the listener's own context. While any host verifies client certificates it
 * issues no session tickets: a resumed session skips the SNI callback (so the certificate request)
 * and carries the verification of its first handshake, which may have been for another host (Node
 * 20's OpenSSL resumes across SNI names) or another CA. Without tickets, and with Node's server-side
 * session cache off, every handshake is a full one. Measured cost: about 0.5 ms more CPU per new
 * connection (RSA 2048), nothing for requests on open connections.
 */
export function listenerContextOptions(s: TlsSettings, cert: ServedCert, noTickets: boolean): SecureContextOptions {
  const base = baseOptions(s);
  return { ...base, cert: cert.certPem, key: cert.keyPem, ...(noTickets ? { secureOptions: (base.secureOptions ?? 0) | constants.SSL_OP_NO_TICKET } : {}) };
}

/** True when some host of the table asks for client certificates (the listener then issues no session tickets). */
export function verifiesClients(table: RouteTable): boolean {
  for (const a of table.clientAuth?.values() ?? []) if (a.request) return true;
  return false;
}

/** Route hosts of a table, for the SNI name -> host decision the router makes for Host headers. */
interface Hosts {
  readonly exact: ReadonlySet<string>;
  readonly wildcard: ReadonlySet<string>;
}

function hostsOf(table: RouteTable): Hosts {
  const exact = new Set<string>();
  const wildcard = new Set<string>();
  const add = (h: string): void => void (h.startsWith('*.') ? wildcard.add(h) : h !== '' && exact.add(h));
  for (const r of table.routes) add(r.host);
  for (const h of table.hostFallbacks.keys()) add(h);
  return { exact, wildcard };
}

/**
 * The client verification for an SNI name: that of the host whose routes a request with this name
 * in its Host header would reach (exact, then a wildcard one label up, then rules without a host).
 */
function clientAuthFor(table: RouteTable, hosts: Hosts, name: string): ClientAuth | undefined {
  const all = table.clientAuth;
  if (all === undefined) return undefined;
  if (hosts.exact.has(name)) return all.get(name);
  const dot = name.indexOf('.');
  const wild = dot > 0 ? `*${name.slice(dot)}` : '';
  if (wild !== '' && hosts.wildcard.has(wild)) return all.get(wild);
  return all.get('');
}

export function createTlsContexts(settings: TlsSettings, generated: ServedCert = generateDefaultCert()): TlsContexts {
  const base = baseOptions(settings);
  /** Keyed by certificate id, or `certificate id + CA id`; each entry remembers both to be dropped with either. */
  const cache = new Map<string, { ctx: SecureContext; cert: string; ca: string }>();
  const contextFor = (c: ServedCert, auth: ClientAuth | undefined): SecureContext => {
    const key = auth === undefined ? c.id : `${c.id}+${auth.id}`;
    let e = cache.get(key);
    if (e === undefined) {
      const ctx = createSecureContext({ ...base, cert: c.certPem, key: c.keyPem, ...(auth !== undefined ? { ca: auth.caPem, ...(auth.crlPem !== undefined ? { crl: auth.crlPem } : {}) } : {}) });
      cache.set(key, (e = { ctx, cert: c.id, ca: auth?.id ?? '' }));
    }
    return e.ctx;
  };
  const hostSets = new WeakMap<RouteTable, Hosts>();
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
      let auth: ClientAuth | undefined;
      if (table.clientAuth !== undefined) {
        let hosts = hostSets.get(table);
        if (hosts === undefined) hostSets.set(table, (hosts = hostsOf(table)));
        auth = clientAuthFor(table, hosts, name);
        if (auth?.request !== true) auth = undefined;
      }
      return { context: contextFor(find(table, name) ?? defaultCert(table), auth), clientCa: auth?.id ?? null };
    },
    defaultCert,
    listenerCert(table) {
      const d = defaultCert(table);
      return isRsa(d) ? d : generated;
    },
    retain(table) {
      const live = new Set<string>([generated.id]);
      for (const c of table.certs.values()) live.add(c.id);
      const cas = new Set<string>(['']);
      for (const a of table.clientAuth?.values() ?? []) cas.add(a.id);
      for (const [key, e] of cache) if (!live.has(e.cert) || !cas.has(e.ca)) cache.delete(key);
      for (const id of rsa.keys()) if (!live.has(id)) rsa.delete(id);
    },
  };
}

/** Expiry (Unix seconds) of a PEM certificate, for the generated default's metric. */
export function expiryOf(certPem: string): number {
  return Date.parse(new X509Certificate(certPem).validTo) / 1000;
}
