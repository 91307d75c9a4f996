/**
 * Self-signed X.509 certificates with node:crypto alone (Node can sign but not build certificates):
 * a minimal DER encoder for one TBSCertificate with a DNS SAN. Used for the default certificate
 * when `--default-ssl-certificate` is not given, and by tests to make certificates of any shape
 * (also signed by another: a small CA and its client certificates).
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
const der = (tag, ...parts) => {
    const body = Buffer.concat(parts);
    const n = body.length;
    const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
    return Buffer.concat([Buffer.from([tag]), len, body]);
};
const seq = (...p) => der(0x30, ...p);
const oid = (dotted) => {
    const [a, b, ...rest] = dotted.split('.').map(Number);
    const bytes = [a * 40 + b];
    for (const v of rest) {
        const enc = [v & 0x7f];
        for (let x = v >> 7; x > 0; x >>= 7)
            enc.unshift((x & 0x7f) | 0x80);
        bytes.push(...enc);
    }
    return der(0x06, Buffer.from(bytes));
};
const utf8 = (s) => der(0x0c, Buffer.from(s, 'utf8'));
const time = (d) => {
    const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';
    // UTCTime for 1950-2049, GeneralizedTime otherwise (RFC 5280 4.1.2.5)
    const y = d.getUTCFullYear();
    return y >= 1950 && y < 2050 ? der(0x17, Buffer.from(iso.slice(2), 'ascii')) : der(0x18, Buffer.from(iso, 'ascii'));
};
/** Attribute types a test subject may use. */
const ATTRIBUTES = { C: '2.5.4.6', ST: '2.5.4.8', L: '2.5.4.7', O: '2.5.4.10', OU: '2.5.4.11', CN: '2.5.4.3', emailAddress: '1.2.840.113549.1.9.1' };
/** A Name, one RDN per attribute, in the order given (most general first). */
const name = (attrs) => seq(...attrs.map(([type, value]) => der(0x31, seq(oid(ATTRIBUTES[type] ?? type), type === 'emailAddress' ? der(0x16, Buffer.from(value, 'ascii')) : utf8(value)))));
/** Creates a self-signed certificate and its private key (PKCS#8 PEM). */
export function createSelfSigned(opts) {
    const keyType = opts.keyType ?? 'ec';
    const privateKey = opts.key ?? (keyType === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'prime256v1' }) : generateKeyPairSync('rsa', { modulusLength: 2048 })).privateKey;
    const signer = opts.issuer === undefined ? privateKey : createPrivateKey(opts.issuer.keyPem);
    const isEc = signer.asymmetricKeyType === 'ec';
    const publicKey = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
    const sigAlg = isEc ? seq(oid('1.2.840.10045.4.3.2')) : seq(oid('1.2.840.113549.1.1.11'), der(0x05));
    const serial = Buffer.from(opts.serial ?? randomBytes(16));
    serial[0] = (serial[0] & 0x7f) | 0x40; // a positive INTEGER whose first byte is never a (non-minimal) zero
    const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000);
    const notAfter = opts.notAfter ?? new Date(Date.now() + 365 * 86_400_000);
    const names = [...opts.dnsNames.map((d) => der(0x82, Buffer.from(d, 'ascii'))), ...(opts.ipAddresses ?? []).map((ip) => der(0x87, Buffer.from(ip.split('.').map(Number))))];
    const san = names.length > 0 ? [seq(oid('2.5.29.17'), der(0x04, seq(...names)))] : [];
    const basic = seq(oid('2.5.29.19'), der(0x01, Buffer.from([0xff])), der(0x04, opts.isCA ? seq(der(0x01, Buffer.from([0xff]))) : seq()));
    const tbs = seq(der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, serial), sigAlg, name(opts.issuer?.subject ?? opts.subject ?? [['CN', opts.commonName]]), seq(time(notBefore), time(notAfter)), name(opts.subject ?? [['CN', opts.commonName]]), publicKey, der(0xa3, seq(basic, ...san)));
    const signature = sign('sha256', tbs, signer);
    const cert = seq(tbs, sigAlg, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
    const b64 = cert.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
    return {
        certPem: `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`,
        keyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }),
    };
}
/**
 * A CRL (PEM) signed by `issuer`, revoking certificates by serial number (hex, as
 * X509Certificate.serialNumber gives it). Valid from an hour ago for `days` (tests: ca.crl).
 */
export function createCrl(issuer, revoked, days = 30) {
    const key = createPrivateKey(issuer.keyPem);
    const sigAlg = key.asymmetricKeyType === 'ec' ? seq(oid('1.2.840.10045.4.3.2')) : seq(oid('1.2.840.113549.1.1.11'), der(0x05));
    const now = Date.now();
    const integer = (hex) => {
        const b = Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
        return der(0x02, b[0] & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b);
    };
    const entries = revoked.map((serial) => seq(integer(serial), time(new Date(now - 60_000))));
    const tbs = seq(der(0x02, Buffer.from([1])), sigAlg, name(issuer.subject), time(new Date(now - 3_600_000)), time(new Date(now + days * 86_400_000)), ...(entries.length > 0 ? [seq(...entries)] : []));
    const crl = seq(tbs, sigAlg, der(0x03, Buffer.concat([Buffer.from([0]), sign('sha256', tbs, key)])));
    const b64 = crl.toString('base64').replace(/(.{64})/g, '$1\n').trimEnd();
    return `-----BEGIN X509 CRL-----\n${b64}\n-----END X509 CRL-----\n`;
}
//# sourceMappingURL=selfsigned.js.map