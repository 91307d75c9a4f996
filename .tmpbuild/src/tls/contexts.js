/**
 * SNI: picks a SecureContext per handshake from the live table (exact host, then a wildcard one
 * label up, then the default certificate), with the host's client CAs when it verifies client
 * certificates (auth-tls-secret). Contexts are cached by certificate id and CA id, so a rotated
 * Secret or CA gets a new context for new handshakes while established connections keep theirs.
 */
import { constants, createPrivateKey, generateKeyPair, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { createSelfSigned } from './selfsigned.js';
export { DEFAULT_CIPHERS } from './settings.js';
/** Options shared by every context: protocol range, ciphers, server order, no renegotiation. */
export function baseOptions(s) {
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
/** The self-signed fallback (RSA, see listenerCert): a DNS SAN first, so clients that read the first SAN do not break. */
export function generateDefaultCert() {
    const c = createSelfSigned({ commonName: 'Portico Default Certificate', dnsNames: ['portico.local'], keyType: 'rsa' });
    return { id: 'generated-default', ...c };
}
/** The same, with the RSA key generated in libuv's thread pool (about 0.1 to 0.5 s of CPU). */
export async function generateDefaultCertAsync() {
    const key = await new Promise((resolve, reject) => generateKeyPair('rsa', { modulusLength: 2048 }, (err, _pub, priv) => (err ? reject(err) : resolve(priv))));
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
export function listenerContextOptions(s, cert, noTickets) {
    const base = baseOptions(s);
    return { ...base, cert: cert.certPem, key: cert.keyPem, ...(noTickets ? { secureOptions: (base.secureOptions ?? 0) | constants.SSL_OP_NO_TICKET } : {}) };
}
/** True when some host of the table asks for client certificates (the listener then issues no session tickets). */
export function verifiesClients(table) {
    for (const a of table.clientAuth?.values() ?? [])
        if (a.request)
            return true;
    return false;
}
function hostsOf(table) {
    const exact = new Set();
    const wildcard = new Set();
    const add = (h) => void (h.startsWith('*.') ? wildcard.add(h) : h !== '' && exact.add(h));
    for (const r of table.routes)
        add(r.host);
    for (const h of table.hostFallbacks.keys())
        add(h);
    return { exact, wildcard };
}
/**
 * The client verification for an SNI name: that of the host whose routes a request with this name
 * in its Host header would reach (exact, then a wildcard one label up, then rules without a host).
 */
function clientAuthFor(table, hosts, name) {
    const all = table.clientAuth;
    if (all === undefined)
        return undefined;
    if (hosts.exact.has(name))
        return all.get(name);
    const dot = name.indexOf('.');
    const wild = dot > 0 ? `*${name.slice(dot)}` : '';
    if (wild !== '' && hosts.wildcard.has(wild))
        return all.get(wild);
    return all.get('');
}
export function createTlsContexts(settings, generated = generateDefaultCert()) {
    const base = baseOptions(settings);
    /** Keyed by certificate id, or `certificate id + CA id`; each entry remembers both to be dropped with either. */
    const cache = new Map();
    const contextFor = (c, auth) => {
        const key = auth === undefined ? c.id : `${c.id}+${auth.id}`;
        let e = cache.get(key);
        if (e === undefined) {
            const ctx = createSecureContext({ ...base, cert: c.certPem, key: c.keyPem, ...(auth !== undefined ? { ca: auth.caPem, ...(auth.crlPem !== undefined ? { crl: auth.crlPem } : {}) } : {}) });
            cache.set(key, (e = { ctx, cert: c.id, ca: auth?.id ?? '' }));
        }
        return e.ctx;
    };
    const hostSets = new WeakMap();
    const defaultCert = (table) => table.certs.get('') ?? generated;
    const rsa = new Map();
    const isRsa = (c) => {
        let v = rsa.get(c.id);
        if (v === undefined)
            rsa.set(c.id, (v = createPrivateKey(c.keyPem).asymmetricKeyType === 'rsa'));
        return v;
    };
    const find = (table, name) => {
        const exact = table.certs.get(name);
        if (exact !== undefined)
            return exact;
        const dot = name.indexOf('.');
        return dot > 0 ? table.certs.get(`*${name.slice(dot)}`) : undefined;
    };
    return {
        select(table, servername) {
            const name = servername.toLowerCase().replace(/\.$/, '');
            let auth;
            if (table.clientAuth !== undefined) {
                let hosts = hostSets.get(table);
                if (hosts === undefined)
                    hostSets.set(table, (hosts = hostsOf(table)));
                auth = clientAuthFor(table, hosts, name);
                if (auth?.request !== true)
                    auth = undefined;
            }
            return { context: contextFor(find(table, name) ?? defaultCert(table), auth), clientCa: auth?.id ?? null };
        },
        defaultCert,
        listenerCert(table) {
            const d = defaultCert(table);
            return isRsa(d) ? d : generated;
        },
        retain(table) {
            const live = new Set([generated.id]);
            for (const c of table.certs.values())
                live.add(c.id);
            const cas = new Set(['']);
            for (const a of table.clientAuth?.values() ?? [])
                cas.add(a.id);
            for (const [key, e] of cache)
                if (!live.has(e.cert) || !cas.has(e.ca))
                    cache.delete(key);
            for (const id of rsa.keys())
                if (!live.has(id))
                    rsa.delete(id);
        },
    };
}
/** Expiry (Unix seconds) of a PEM certificate, for the generated default's metric. */
export function expiryOf(certPem) {
    return Date.parse(new X509Certificate(certPem).validTo) / 1000;
}
//# sourceMappingURL=contexts.js.map