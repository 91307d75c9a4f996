/**
 * Distinguished names as nginx shows them in `$ssl_client_s_dn` / `$ssl_client_i_dn` since 1.11.6:
 * OpenSSL's `X509_NAME_print_ex(..., XN_FLAG_RFC2253)`, reproduced from the certificate's DER so
 * the text does not depend on how a Node version prints names. Most specific RDN first, `,`
 * between RDNs and `+` inside one; OpenSSL's short names (an OID it does not know is written
 * dotted, its value `#` and the DER in hex); values escaped as RFC 2253 says, with control
 * characters and every byte of a non-ASCII character as `\XX`, so the result is plain ASCII.
 */
/** OpenSSL's short names of attribute types (obj_mac.h; its long name where it has no short one). */
const NAMES = {
    '2.5.4.3': 'CN', '2.5.4.4': 'SN', '2.5.4.5': 'serialNumber', '2.5.4.6': 'C', '2.5.4.7': 'L', '2.5.4.8': 'ST', '2.5.4.9': 'street',
    '2.5.4.10': 'O', '2.5.4.11': 'OU', '2.5.4.12': 'title', '2.5.4.13': 'description', '2.5.4.14': 'searchGuide', '2.5.4.15': 'businessCategory',
    '2.5.4.16': 'postalAddress', '2.5.4.17': 'postalCode', '2.5.4.18': 'postOfficeBox', '2.5.4.19': 'physicalDeliveryOfficeName',
    '2.5.4.20': 'telephoneNumber', '2.5.4.21': 'telexNumber', '2.5.4.22': 'teletexTerminalIdentifier', '2.5.4.23': 'facsimileTelephoneNumber',
    '2.5.4.24': 'x121Address', '2.5.4.25': 'internationaliSDNNumber', '2.5.4.26': 'registeredAddress', '2.5.4.27': 'destinationIndicator',
    '2.5.4.28': 'preferredDeliveryMethod', '2.5.4.29': 'presentationAddress', '2.5.4.30': 'supportedApplicationContext', '2.5.4.31': 'member',
    '2.5.4.32': 'owner', '2.5.4.33': 'roleOccupant', '2.5.4.34': 'seeAlso', '2.5.4.35': 'userPassword', '2.5.4.36': 'userCertificate',
    '2.5.4.37': 'cACertificate', '2.5.4.38': 'authorityRevocationList', '2.5.4.39': 'certificateRevocationList', '2.5.4.40': 'crossCertificatePair',
    '2.5.4.41': 'name', '2.5.4.42': 'GN', '2.5.4.43': 'initials', '2.5.4.44': 'generationQualifier', '2.5.4.45': 'x500UniqueIdentifier',
    '2.5.4.46': 'dnQualifier', '2.5.4.47': 'enhancedSearchGuide', '2.5.4.48': 'protocolInformation', '2.5.4.49': 'distinguishedName',
    '2.5.4.50': 'uniqueMember', '2.5.4.51': 'houseIdentifier', '2.5.4.52': 'supportedAlgorithms', '2.5.4.53': 'deltaRevocationList',
    '2.5.4.54': 'dmdName', '2.5.4.65': 'pseudonym', '2.5.4.72': 'role', '2.5.4.97': 'organizationIdentifier', '2.5.4.98': 'c3', '2.5.4.99': 'n3',
    '2.5.4.100': 'dnsName',
    '0.9.2342.19200300.100.1.1': 'UID', '0.9.2342.19200300.100.1.3': 'mail', '0.9.2342.19200300.100.1.25': 'DC', '0.9.2342.19200300.100.1.44': 'uid',
    '1.2.840.113549.1.9.1': 'emailAddress', '1.2.840.113549.1.9.2': 'unstructuredName', '1.2.840.113549.1.9.8': 'unstructuredAddress',
    '1.3.6.1.4.1.311.60.2.1.1': 'jurisdictionL', '1.3.6.1.4.1.311.60.2.1.2': 'jurisdictionST', '1.3.6.1.4.1.311.60.2.1.3': 'jurisdictionC',
};
/** Bytes per character of the ASN.1 string types OpenSSL prints as text (0: UTF-8, taken byte by byte); others are dumped. */
const WIDTH = { 0x0c: 0, 0x12: 1, 0x13: 1, 0x14: 1, 0x16: 1, 0x1a: 1, 0x1b: 1, 0x1c: 4, 0x1e: 2 };
/** One DER element at `at`; throws on anything malformed (the caller falls back to ''). */
function tlv(b, at) {
    const tag = b[at];
    if ((tag & 0x1f) === 0x1f)
        throw new Error('multi-byte tag');
    let len = b[at + 1];
    if (len === undefined)
        throw new Error('truncated');
    let start = at + 2;
    if (len & 0x80) {
        const n = len & 0x7f;
        if (n === 0 || n > 4)
            throw new Error('bad length');
        len = 0;
        for (let i = 0; i < n; i++)
            len = len * 256 + b[start + i];
        start += n;
    }
    const end = start + len;
    if (end > b.length)
        throw new Error('truncated');
    return { tag, start, end, from: at };
}
function children(b, parent) {
    const out = [];
    for (let at = parent.start; at < parent.end;) {
        const t = tlv(b, at);
        out.push(t);
        at = t.end;
    }
    return out;
}
function oidText(b, t) {
    const parts = [];
    let v = 0;
    for (let i = t.start; i < t.end; i++) {
        const byte = b[i];
        v = v * 128 + (byte & 0x7f);
        if (!(byte & 0x80)) {
            if (parts.length === 0)
                parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
            else
                parts.push(v);
            v = 0;
        }
    }
    return parts.join('.');
}
/** UTF-8 of one code point as OpenSSL's UTF8_putc writes it (surrogates included, no checks). */
function utf8(c) {
    if (c < 0x80)
        return [c];
    if (c < 0x800)
        return [0xc0 | (c >> 6), 0x80 | (c & 0x3f)];
    if (c < 0x10000)
        return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)];
    return [0xf0 | (c >> 18), 0x80 | ((c >> 12) & 0x3f), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)];
}
const hex2 = (n) => (n < 16 ? '0' : '') + n.toString(16).toUpperCase();
/** OpenSSL's do_esc_char under ESC_2253 | ESC_CTRL | ESC_MSB; `first`/`last` as do_buf decides them. */
function escapeByte(c, first, last) {
    if (c > 0x7e || c < 0x20)
        return `\\${hex2(c)}`;
    const ch = String.fromCharCode(c);
    if ('"+,;<>\\'.includes(ch) || (ch === '#' && first) || (ch === ' ' && (first || last)))
        return `\\${ch}`;
    return ch;
}
/** A value as text, or null when OpenSSL would dump it. */
function valueText(b, t) {
    const width = WIDTH[t.tag];
    if (width === undefined)
        return null;
    const chars = [];
    if (width <= 1)
        for (let i = t.start; i < t.end; i++)
            chars.push(b[i]);
    else {
        if ((t.end - t.start) % width !== 0)
            return null;
        for (let i = t.start; i < t.end; i += width)
            chars.push(width === 2 ? b.readUInt16BE(i) : b.readUInt32BE(i));
        if (chars.some((c) => c > 0x10ffff))
            return null;
    }
    let out = '';
    for (let i = 0; i < chars.length; i++) {
        // after reading the last character, OpenSSL's "last" replaces its "first" (a one-character value is only "last")
        const last = i === chars.length - 1;
        const first = i === 0 && !last;
        const c = chars[i];
        // UTF8String is taken byte by byte; the other types are converted to UTF-8 first
        for (const byte of width === 0 ? [c] : utf8(c))
            out += escapeByte(byte, first, last);
    }
    return out;
}
/** A Name (SEQUENCE OF RDN) in RFC 2253 form. */
function nameText(b, name) {
    const entries = [];
    children(b, name).forEach((rdn, set) => {
        for (const atv of children(b, rdn)) {
            const [type, value] = children(b, atv);
            if (type === undefined || value === undefined)
                throw new Error('bad attribute');
            const oid = oidText(b, type);
            const short = NAMES[oid];
            const text = short === undefined ? null : valueText(b, value);
            entries.push({ set, text: `${short ?? oid}=${text ?? `#${b.subarray(value.from, value.end).toString('hex').toUpperCase()}`}` });
        }
    });
    let out = '';
    for (let i = entries.length - 1; i >= 0; i--) {
        const e = entries[i];
        if (i < entries.length - 1)
            out += entries[i + 1].set === e.set ? '+' : ',';
        out += e.text;
    }
    return out;
}
/** Subject and issuer DNs of a DER certificate, as nginx's `$ssl_client_s_dn` and `$ssl_client_i_dn`; '' for what cannot be read. */
export function certificateNames(der) {
    try {
        const cert = tlv(der, 0);
        const tbs = children(der, cert)[0];
        if (tbs === undefined)
            return { subject: '', issuer: '' };
        const fields = children(der, tbs);
        const at = fields[0]?.tag === 0xa0 ? 1 : 0; // [0] version is optional
        const issuer = fields[at + 2];
        const subject = fields[at + 4];
        if (issuer === undefined || subject === undefined)
            return { subject: '', issuer: '' };
        return { subject: nameText(der, subject), issuer: nameText(der, issuer) };
    }
    catch {
        return { subject: '', issuer: '' };
    }
}
/** PEM of a DER certificate as OpenSSL writes it (`$ssl_client_raw_cert`): 64-character lines, a final newline. */
export function pemOf(der) {
    const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n');
    return `-----BEGIN CERTIFICATE-----\n${b64}${b64.endsWith('\n') ? '' : '\n'}-----END CERTIFICATE-----\n`;
}
//# sourceMappingURL=dn.js.map