/**
 * Reads the server name (SNI, RFC 6066 section 3) from the first bytes a TLS client sends,
 * without terminating TLS: the ClientHello (RFC 8446 section 4.1.2; RFC 5246 section 7.4.1.2),
 * which may be split across several TLS records and across TCP segments. Pure: the caller feeds
 * every byte seen so far and gets 'more', the name (or none), or why the bytes cannot be a
 * ClientHello. Bounded: a ClientHello larger than `max` bytes is refused, however it is split.
 */

/** What the bytes seen so far are. */
export type Hello =
  /** Not enough bytes yet. */
  | { readonly kind: 'more' }
  /** A complete ClientHello; `sni` is its host_name, lower-case, or null when it names none. */
  | { readonly kind: 'hello'; readonly sni: string | null }
  /** An SSL 2.0-style ClientHello (RFC 5246 appendix E.2): it cannot carry SNI. */
  | { readonly kind: 'sslv2' }
  /** Not a ClientHello, malformed, or larger than allowed. */
  | { readonly kind: 'invalid'; readonly why: string };

/** The largest ClientHello read (handshake bytes). Real ones are under 2 KiB, about 8 KiB with many PSK identities. */
export const MAX_CLIENT_HELLO = 64 * 1024;

const HANDSHAKE = 0x16;
const CLIENT_HELLO = 0x01;
const SERVER_NAME = 0x0000;
const HOST_NAME = 0x00;
/** TLSPlaintext.length may not exceed 2^14 (RFC 8446 section 5.1). */
const MAX_RECORD = 16_384;

const MORE: Hello = { kind: 'more' };
const invalid = (why: string): Hello => ({ kind: 'invalid', why });

/** Reads the ClientHello at the start of `buf` (every byte received so far). */
export function readClientHello(buf: Buffer, max = MAX_CLIENT_HELLO): Hello {
  if (buf.length === 0) return MORE;
  const first = buf[0] as number;
  if (first !== HANDSHAKE) {
    // SSL 2.0 record header: high bit set, 15-bit length, then msg_type 1 (client-hello)
    if ((first & 0x80) !== 0) {
      if (buf.length < 3) return MORE;
      if (buf[2] === CLIENT_HELLO) return { kind: 'sslv2' };
    }
    return invalid('not a TLS handshake record');
  }
  // gather the handshake bytes of the records received in full
  const fragments: Buffer[] = [];
  let have = 0;
  let pos = 0;
  let need = -1;
  while (pos + 5 <= buf.length) {
    if (buf[pos] !== HANDSHAKE) return invalid('a record other than handshake before the ClientHello ended');
    if (buf[pos + 1] !== 3) return invalid('not a TLS record version');
    const len = buf.readUInt16BE(pos + 3);
    if (len === 0 || len > MAX_RECORD) return invalid(`a record of ${len} bytes`);
    if (pos + 5 + len > buf.length) break;
    fragments.push(buf.subarray(pos + 5, pos + 5 + len));
    have += len;
    pos += 5 + len;
    if (need < 0 && have >= 4) {
      const hs = fragments.length === 1 ? (fragments[0] as Buffer) : Buffer.concat(fragments);
      if (hs[0] !== CLIENT_HELLO) return invalid('the first handshake message is not a ClientHello');
      need = 4 + hs.readUIntBE(1, 3);
      if (need > max) return invalid(`a ClientHello of ${need} bytes (more than ${max})`);
    }
    if (need >= 0 && have >= need) break;
  }
  if (need < 0) {
    // the first 4 handshake bytes may still arrive; the records so far must stay within bounds
    if (buf.length > max + 5 * Math.ceil(max / MAX_RECORD) + 5) return invalid('too many bytes without a ClientHello');
    return MORE;
  }
  if (have < need) return MORE;
  const hs = fragments.length === 1 ? (fragments[0] as Buffer) : Buffer.concat(fragments);
  return parseBody(hs.subarray(4, need));
}

/** The ClientHello body: version, random, session id, cipher suites, compression methods, extensions. */
function parseBody(b: Buffer): Hello {
  let p = 2 + 32; // legacy_version, random
  if (p + 1 > b.length) return invalid('a truncated ClientHello');
  const sid = b[p] as number;
  if (sid > 32) return invalid('a session id longer than 32 bytes');
  p += 1 + sid;
  if (p + 2 > b.length) return invalid('a truncated ClientHello');
  const suites = b.readUInt16BE(p);
  if (suites < 2 || suites % 2 !== 0) return invalid('a malformed cipher suite list');
  p += 2 + suites;
  if (p + 1 > b.length) return invalid('a truncated ClientHello');
  const comp = b[p] as number;
  if (comp < 1) return invalid('no compression method');
  p += 1 + comp;
  if (p > b.length) return invalid('a truncated ClientHello');
  if (p === b.length) return { kind: 'hello', sni: null }; // no extensions (TLS 1.2 and earlier may omit them)
  if (p + 2 > b.length) return invalid('a truncated extension list');
  const extLen = b.readUInt16BE(p);
  p += 2;
  if (p + extLen !== b.length) return invalid('the extension list does not fill the ClientHello');
  const seen = new Set<number>();
  let sni: string | null = null;
  while (p < b.length) {
    if (p + 4 > b.length) return invalid('a truncated extension');
    const type = b.readUInt16BE(p);
    const len = b.readUInt16BE(p + 2);
    p += 4;
    if (p + len > b.length) return invalid('an extension longer than the list');
    if (seen.has(type)) return invalid(`extension ${type} twice`);
    seen.add(type);
    if (type === SERVER_NAME) {
      const name = serverName(b.subarray(p, p + len));
      if (typeof name === 'object') return name;
      sni = name === '' ? null : name;
    }
    p += len;
  }
  return { kind: 'hello', sni };
}

/** The host_name of a server_name extension ('' when it lists none), or why it is malformed. */
function serverName(e: Buffer): string | Hello {
  if (e.length === 0) return ''; // a server's empty echo; a client sends a list
  if (e.length < 2 || e.readUInt16BE(0) !== e.length - 2) return invalid('a malformed server_name list');
  let p = 2;
  let host = '';
  while (p < e.length) {
    if (p + 3 > e.length) return invalid('a truncated server_name entry');
    const type = e[p] as number;
    const len = e.readUInt16BE(p + 1);
    p += 3;
    if (p + len > e.length) return invalid('a server_name entry longer than the list');
    if (type === HOST_NAME) {
      if (host !== '') return invalid('two host_name entries');
      const name = e.subarray(p, p + len).toString('latin1');
      // RFC 6066: a DNS hostname in ASCII, no trailing dot; case-blind
      if (len === 0 || len > 255 || !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/.test(name)) return invalid('a host_name that is not a DNS name');
      host = name.toLowerCase();
    }
    p += len;
  }
  return host;
}

/**
 * Whether the hello is settled: the name (null = none) a connection is routed by, or undefined
 * while more bytes are needed. An SSL 2.0 hello has no name.
 */
export function helloName(h: Hello): string | null | undefined {
  if (h.kind === 'hello') return h.sni;
  if (h.kind === 'sslv2') return null;
  return undefined;
}
