/**
 * Client certificates per host, on a Node TLS server that asks for them per listener only.
 *
 * Node sets `requestCert` for a whole server, not per SNI context. The SNI callback runs as a
 * method of the connection's TLSSocket, before the server's certificate request is decided, so
 * for a host that verifies clients it switches that one connection to "ask for a certificate,
 * never abort the handshake" through the socket's handle (`_handle.setVerifyMode`, what Node's own
 * `requestCert` uses) and marks it for Node's post-handshake check (`_requestCert`), which fills
 * the documented `authorized` and `authorizationError`. The host's SecureContext carries its CAs:
 * Node makes the SNI context's store the connection's verify store. These are Node internals:
 * tests pin them on Node 20 and 24, and a Node without them fails the handshake (never open).
 *
 * Each verified connection records the CA (by id) it was verified against; a request on it may
 * only reach a host with the same CA (SNI and Host can differ). Session resumption would skip the
 * SNI callback and carry an old verification (Node 20's OpenSSL even resumes a session of another
 * host), so while any host verifies clients the listener issues no session tickets (contexts.ts).
 */
import { X509Certificate } from 'node:crypto';
import { certificateNames, pemOf } from './dn.js';
const CLIENT_CA = Symbol('portico.clientCa');
/**
 * Called in the SNI callback (`socket` is its `this`): this connection asks for a client
 * certificate and is marked as verified against `ca`. False when this Node has not the internals
 * it needs: the caller must then fail the handshake.
 */
export function requestClientCertificate(socket, ca) {
    const s = socket;
    const handle = s?._handle;
    if (handle === null || handle === undefined || typeof handle.setVerifyMode !== 'function' || !('_requestCert' in s))
        return false;
    handle.setVerifyMode(true, false);
    s._requestCert = true;
    s._rejectUnauthorized = false;
    s[CLIENT_CA] = { ca };
    return true;
}
/** The verification of a connection (also through HTTP/2's socket proxy), or undefined when none was asked for. */
export function verificationOf(socket) {
    return socket[CLIENT_CA];
}
/** The certificates of a PEM bundle (`ca.crt`); what does not parse is left out (the inspector refuses such bundles). */
export function parseBundle(pem) {
    const out = [];
    for (const m of pem.matchAll(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g)) {
        try {
            out.push(new X509Certificate(m[0]));
        }
        catch {
            // skipped
        }
    }
    return out;
}
const issues = (issuer, cert) => {
    try {
        return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
    }
    catch {
        return false;
    }
};
/**
 * The length of the chain OpenSSL built, trusted issuers first (its default): from the leaf
 * through the client's and the trusted certificates up to a self-signed one. OpenSSL's verify
 * depth N allows N intermediates, i.e. N + 2 certificates.
 */
export function chainLength(leaf, sent, trusted) {
    let cur = leaf;
    let n = 1;
    for (let guard = 0; guard < 32; guard++) {
        if (issues(cur, cur))
            return n;
        const next = trusted.find((c) => issues(c, cur)) ?? sent.find((c) => issues(c, cur));
        if (next === undefined)
            return n;
        cur = next;
        n++;
    }
    return n;
}
const NO_PEER = { der: null, error: null, chainLength: 0, subject: '', issuer: '', escapedPem: '' };
/** The client certificate of a connection, judged against the CA bundle it was verified with. */
export function peerOf(socket, trusted) {
    const linked = socket.getPeerCertificate(true);
    if (linked === null || !Buffer.isBuffer(linked.raw))
        return NO_PEER;
    const leaf = new X509Certificate(linked.raw);
    // the certificates the client sent after its own, as Node links them from the leaf
    const sent = [];
    const seen = new Set([linked.fingerprint256 ?? '']);
    for (let c = linked.issuerCertificate; c !== undefined && Buffer.isBuffer(c.raw) && !seen.has(c.fingerprint256 ?? ''); c = c.issuerCertificate) {
        seen.add(c.fingerprint256 ?? '');
        sent.push(new X509Certificate(c.raw));
    }
    const { subject, issuer } = certificateNames(leaf.raw);
    const error = socket.authorized ? null : typeof socket.authorizationError === 'string' ? socket.authorizationError : String(socket.authorizationError ?? 'CERT_UNTRUSTED');
    return {
        der: leaf.raw,
        error,
        chainLength: error === null ? chainLength(leaf, sent, trusted) : 0,
        subject,
        issuer,
        escapedPem: encodeURIComponent(pemOf(leaf.raw)),
    };
}
/** OpenSSL's X509_verify_cert_error_string for the codes Node reports: the reason in `FAILED:<reason>`. */
export const VERIFY_REASONS = {
    UNABLE_TO_GET_ISSUER_CERT: 'unable to get issuer certificate',
    UNABLE_TO_GET_CRL: 'unable to get certificate CRL',
    UNABLE_TO_DECRYPT_CERT_SIGNATURE: "unable to decrypt certificate's signature",
    UNABLE_TO_DECRYPT_CRL_SIGNATURE: "unable to decrypt CRL's signature",
    UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY: 'unable to decode issuer public key',
    CERT_SIGNATURE_FAILURE: 'certificate signature failure',
    CRL_SIGNATURE_FAILURE: 'CRL signature failure',
    CERT_NOT_YET_VALID: 'certificate is not yet valid',
    CERT_HAS_EXPIRED: 'certificate has expired',
    CRL_NOT_YET_VALID: 'CRL is not yet valid',
    CRL_HAS_EXPIRED: 'CRL has expired',
    ERROR_IN_CERT_NOT_BEFORE_FIELD: "format error in certificate's notBefore field",
    ERROR_IN_CERT_NOT_AFTER_FIELD: "format error in certificate's notAfter field",
    ERROR_IN_CRL_LAST_UPDATE_FIELD: "format error in CRL's lastUpdate field",
    ERROR_IN_CRL_NEXT_UPDATE_FIELD: "format error in CRL's nextUpdate field",
    OUT_OF_MEM: 'out of memory',
    DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed certificate',
    SELF_SIGNED_CERT_IN_CHAIN: 'self-signed certificate in certificate chain',
    UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'unable to get local issuer certificate',
    UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'unable to verify the first certificate',
    CERT_CHAIN_TOO_LONG: 'certificate chain too long',
    CERT_REVOKED: 'certificate revoked',
    INVALID_CA: 'invalid CA certificate',
    PATH_LENGTH_EXCEEDED: 'path length constraint exceeded',
    INVALID_PURPOSE: 'unsupported certificate purpose',
    CERT_UNTRUSTED: 'certificate not trusted',
    CERT_REJECTED: 'certificate rejected',
    HOSTNAME_MISMATCH: 'hostname mismatch',
};
/** The errors `optional_no_ca` lets through (nginx's ngx_ssl_verify_error_optional): an issuer nobody vouches for. */
export const UNKNOWN_ISSUER = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_UNTRUSTED', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE']);
//# sourceMappingURL=client-cert.js.map