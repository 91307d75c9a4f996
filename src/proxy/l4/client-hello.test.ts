/**
 * The ClientHello reader against real ClientHellos (captured from Node's OpenSSL client here,
 * TLS 1.3 and 1.2, with and without SNI) fed whole, byte by byte, split at every offset and
 * re-framed into many small records; and against a corpus of malformed, oversized, SSL 2.0-style
 * and non-TLS inputs. Random bytes never throw.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { connect } from 'node:tls';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_CLIENT_HELLO, readClientHello, type Hello } from './client-hello.js';

/** The first bytes a TLS client sends: what `tls.connect` with these options writes, until the server would have to answer. */
async function capture(opts: { servername?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3' }): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const chunks: Buffer[] = [];
  const got = new Promise<Buffer>((resolve) => {
    server.once('connection', (s) => {
      s.on('data', (c: Buffer) => {
        chunks.push(c);
        const all = Buffer.concat(chunks);
        if (readClientHello(all).kind !== 'more' || all.length > 70_000) {
          resolve(all);
          s.destroy();
        }
      });
    });
  });
  const c = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, rejectUnauthorized: false, ...opts });
  c.on('error', () => {});
  const bytes = await got;
  c.destroy();
  server.close();
  return bytes;
}

/** Re-frames the handshake bytes of a one-record hello into records of at most `size` bytes. */
function reframe(hello: Buffer, size: number): Buffer {
  const body = hello.subarray(5);
  const out: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const frag = body.subarray(i, i + size);
    out.push(Buffer.from([0x16, 0x03, 0x01, frag.length >> 8, frag.length & 0xff]), frag);
  }
  return Buffer.concat(out);
}

/** A ClientHello built by hand: `extensions` as [type, data] pairs. */
function hello(extensions: [number, Buffer][], opts: { sessionId?: number; suites?: number; compression?: number; noExtensions?: boolean } = {}): Buffer {
  const ext = Buffer.concat(extensions.map(([t, d]) => Buffer.concat([u16(t), u16(d.length), d])));
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([opts.sessionId ?? 0]),
    Buffer.alloc(opts.sessionId ?? 0, 1),
    u16(opts.suites ?? 2),
    Buffer.alloc(opts.suites ?? 2, 0x13),
    Buffer.from([opts.compression ?? 1]),
    Buffer.alloc(opts.compression ?? 1, 0),
    opts.noExtensions === true ? Buffer.alloc(0) : Buffer.concat([u16(ext.length), ext]),
  ]);
  const hs = Buffer.concat([Buffer.from([0x01, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  return reframe(Buffer.concat([Buffer.alloc(5), hs]), 16_384);
}
const u16 = (n: number): Buffer => Buffer.from([n >> 8, n & 0xff]);
/** A server_name extension's data naming `names` (as host_name entries). */
const sni = (...names: string[]): Buffer => {
  const list = Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([0]), u16(Buffer.byteLength(n, 'latin1')), Buffer.from(n, 'latin1')])));
  return Buffer.concat([u16(list.length), list]);
};

const name = (h: Hello): string | null | undefined => (h.kind === 'hello' ? h.sni : undefined);

describe('real ClientHellos', () => {
  let tls13: Buffer;
  let tls12: Buffer;
  let none: Buffer;
  before(async () => {
    [tls13, tls12, none] = await Promise.all([capture({ servername: 'App.Example.COM' }), capture({ servername: 'legacy.example.com', maxVersion: 'TLSv1.2' }), capture({})]);
  });

  test('the SNI of a TLS 1.3 and a TLS 1.2 hello, lower-cased; none from a client that sends none', () => {
    assert.deepEqual(readClientHello(tls13), { kind: 'hello', sni: 'app.example.com' });
    assert.deepEqual(readClientHello(tls12), { kind: 'hello', sni: 'legacy.example.com' });
    assert.deepEqual(readClientHello(none), { kind: 'hello', sni: null }, 'Node sends no SNI for an IP address');
  });

  test('split across segments at every offset: more until the last byte, then the name', () => {
    for (let i = 0; i < tls13.length; i++) assert.equal(readClientHello(tls13.subarray(0, i)).kind, 'more', `prefix of ${i} bytes`);
    assert.equal(name(readClientHello(tls13)), 'app.example.com');
  });

  test('split across many small records (fragmented handshake), and fed byte by byte', () => {
    for (const size of [1, 3, 4, 5, 100, 512]) {
      const framed = reframe(tls13, size);
      assert.equal(name(readClientHello(framed)), 'app.example.com', `records of ${size} bytes`);
      for (let i = 0; i < framed.length; i += Math.max(1, Math.floor(framed.length / 300))) assert.equal(readClientHello(framed.subarray(0, i)).kind, 'more', `records of ${size}, prefix ${i}`);
    }
  });

  test('bytes after the hello (early data, a pipelined record) do not change the answer', () => {
    assert.equal(name(readClientHello(Buffer.concat([tls13, Buffer.from([0x17, 0x03, 0x03, 0x00, 0x02, 1, 2])]))), 'app.example.com');
  });

  test('any split, as fast-check chooses it, gives the same answer', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), (size, cut) => {
        const framed = reframe(tls12, size);
        const at = cut % framed.length;
        return readClientHello(framed.subarray(0, at)).kind === 'more' && name(readClientHello(framed)) === 'legacy.example.com';
      }),
    );
  });
});

describe('a malformed ClientHello corpus', () => {
  test('hand-built hellos: with SNI, without extensions, with an empty list, with other name types only', () => {
    assert.equal(name(readClientHello(hello([[0, sni('a.example')]]))), 'a.example');
    assert.deepEqual(readClientHello(hello([], { noExtensions: true })), { kind: 'hello', sni: null });
    assert.deepEqual(readClientHello(hello([[10, Buffer.from([0, 2, 0, 29])]])), { kind: 'hello', sni: null });
    const otherType = Buffer.concat([u16(6), Buffer.from([1]), u16(3), Buffer.from('abc')]);
    assert.deepEqual(readClientHello(hello([[0, otherType]])), { kind: 'hello', sni: null });
  });

  const cases: [string, Buffer][] = [
    ['plain HTTP', Buffer.from('GET / HTTP/1.1\r\nHost: a\r\n\r\n')],
    ['a PROXY header', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n')],
    ['an application data record first', Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0x00])],
    ['an alert record first', Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28])],
    ['record version 2.0', Buffer.from([0x16, 0x02, 0x00, 0x00, 0x04, 1, 0, 0, 0])],
    ['a zero-length record', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])],
    ['a record over 2^14', Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01])],
    ['a ServerHello', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])],
    ['a session id of 33 bytes', hello([], { sessionId: 33 })],
    ['an odd cipher suite list', hello([], { suites: 3 })],
    ['no cipher suites', hello([], { suites: 0 })],
    ['no compression methods', hello([], { compression: 0 })],
    ['the same extension twice', hello([[0, sni('a.example')], [0, sni('b.example')]])],
    ['two host_name entries', hello([[0, sni('a.example', 'b.example')]])],
    ['a host_name with a NUL', hello([[0, sni('a.exa\u0000mple')]])],
    ['a host_name with a trailing dot', hello([[0, sni('a.example.')]])],
    ['a host_name with a space', hello([[0, sni('a example')]])],
    ['a host_name of 256 bytes', hello([[0, sni(`${'a'.repeat(63)}.`.repeat(4) + 'a')]])],
    ['an empty host_name', hello([[0, sni('')]])],
    ['a server_name list of the wrong length', hello([[0, Buffer.from([0, 9, 0, 0, 1, 0x61])]])],
    ['a truncated server_name entry', hello([[0, Buffer.from([0, 2, 0, 0])]])],
  ];
  for (const [what, bytes] of cases) {
    test(`${what} is invalid`, () => assert.equal(readClientHello(bytes).kind, 'invalid'));
  }

  test('an extension list that is longer than the hello, or shorter, is invalid', () => {
    const h = hello([[0, sni('a.example')]]);
    const long = Buffer.from(h);
    const extLenAt = 5 + 4 + 2 + 32 + 1 + 2 + 2 + 1 + 1;
    long.writeUInt16BE(long.readUInt16BE(extLenAt) + 1, extLenAt);
    assert.equal(readClientHello(long).kind, 'invalid');
    const short = Buffer.from(h);
    short.writeUInt16BE(short.readUInt16BE(extLenAt) - 1, extLenAt);
    assert.equal(readClientHello(short).kind, 'invalid');
  });

  test('SSL 2.0-style hellos are recognised (they cannot name a server)', () => {
    assert.deepEqual(readClientHello(Buffer.from([0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15])), { kind: 'sslv2' });
    assert.equal(readClientHello(Buffer.from([0x80, 0x2e])).kind, 'more');
    assert.equal(readClientHello(Buffer.from([0x80, 0x2e, 0x04])).kind, 'invalid');
  });

  test('oversize: a hello that says it is larger than the bound is refused at once, however it is split', () => {
    const big = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x01, 0x00, 0x00]); // 65536 bytes announced
    assert.match((readClientHello(big) as { why: string }).why, /more than/);
    assert.equal(readClientHello(hello([[0x15, Buffer.alloc(60_000)], [0, sni('a.example')]])).kind, 'hello', 'padding up to the bound is fine');
    assert.equal(readClientHello(hello([[0x15, Buffer.alloc(60_000)], [0, sni('a.example')]]), 32 * 1024).kind, 'invalid', 'over a smaller bound');
    // a handshake header split one byte per record, so the length comes last: still bounded
    const slow = reframe(Buffer.concat([Buffer.alloc(5), Buffer.from([0x01, 0x02, 0x00, 0x00])]), 1);
    assert.equal(readClientHello(slow).kind, 'invalid');
  });

  test('records that never complete a hello are bounded too', () => {
    const header = Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]);
    const many = Buffer.concat([header, Buffer.alloc(3)]); // a record promising 16 KiB: more
    assert.equal(readClientHello(many).kind, 'more');
    assert.equal(readClientHello(Buffer.alloc(MAX_CLIENT_HELLO + 100, 0x16)).kind, 'invalid');
  });

  test('random bytes, and random corruptions of a valid hello, never throw', () => {
    const valid = hello([[0, sni('a.example')], [10, Buffer.from([0, 2, 0, 29])]]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const k = readClientHello(Buffer.from(bytes)).kind;
        return k === 'more' || k === 'hello' || k === 'sslv2' || k === 'invalid';
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.nat({ max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (at, byte) => {
        const b = Buffer.from(valid);
        b[at] = byte;
        const k = readClientHello(b).kind;
        return k === 'more' || k === 'hello' || k === 'sslv2' || k === 'invalid';
      }),
      { numRuns: 3000 },
    );
  });
});
