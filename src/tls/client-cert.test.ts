/**
 * The Node internals client certificates per host rely on, pinned on the running Node (CI runs
 * Node 20; the image's Node 24 runs the same file): in the SNI callback `this` is the connection,
 * and switching its verify mode asks that connection alone for a certificate, verified against
 * the SNI context's CAs. Also: the reasons of ssl-client-verify are OpenSSL's own strings, and the
 * depth counts intermediates as OpenSSL's verify depth does.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, createSecureContext, createServer, type Server, type TLSSocket } from 'node:tls';
import { chainLength, parseBundle, peerOf, requestClientCertificate, verificationOf, VERIFY_REASONS, type Peer } from './client-cert.js';
import { createCrl, createSelfSigned, type NameAttributes, type SelfSigned } from './selfsigned.js';

type Issued = SelfSigned & { subject: NameAttributes };
const issue = (cn: string, issuer?: Issued, opts: { isCA?: boolean; notAfter?: Date; notBefore?: Date } = {}): Issued => {
  const subject: NameAttributes = [['CN', cn]];
  return { ...createSelfSigned({ commonName: cn, dnsNames: [], subject, ...(issuer ? { issuer } : {}), ...opts }), subject };
};
const root = issue('Root', undefined, { isCA: true });
const int1 = issue('Intermediate 1', root, { isCA: true });
const int2 = issue('Intermediate 2', int1, { isCA: true });
const direct = issue('direct', root);
const viaOne = issue('via one', int1);
const viaTwo = issue('via two', int2);
const stranger = issue('stranger', issue('Other Root', undefined, { isCA: true }));
const selfSigned = issue('self');
const expired = issue('expired', root, { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
const revoked = issue('revoked', root);
const server = createSelfSigned({ commonName: 'srv', dnsNames: ['a.test', 'm.test', 'r.test'], keyType: 'rsa' });

describe('asking for a client certificate per connection, from the SNI callback', () => {
  let srv: Server;
  let port = 0;
  const seen: { socket: TLSSocket; thisWasSocket: boolean; verifyError: { code?: string; message?: string } | null; peer: Peer }[] = [];
  const ctx = (ca?: string, crl?: string) => createSecureContext({ cert: server.certPem, key: server.keyPem, ...(ca ? { ca } : {}), ...(crl ? { crl } : {}) });
  const contexts: Record<string, ReturnType<typeof ctx>> = { 'a.test': ctx(), 'm.test': ctx(root.certPem), 'r.test': ctx(root.certPem, createCrl(root, [new X509Certificate(revoked.certPem).serialNumber])) };
  let sniThis: unknown = null;

  before(async () => {
    srv = createServer(
      {
        cert: server.certPem,
        key: server.keyPem,
        rejectUnauthorized: false,
        SNICallback(this: unknown, name, cb) {
          sniThis = this;
          if (name !== 'a.test') assert.equal(requestClientCertificate(this, `ca-of-${name}`), true);
          cb(null, contexts[name]);
        },
      },
      (s) => {
        const handle = (s as unknown as { _handle?: { verifyError?: () => { code?: string; message?: string } | null } })._handle;
        // what a policy reads, while the connection is open
        seen.push({ socket: s, thisWasSocket: sniThis === s, verifyError: handle?.verifyError?.() ?? null, peer: peerOf(s, parseBundle(root.certPem)) });
        s.end('ok');
      },
    );
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
    port = (srv.address() as { port: number }).port;
  });
  after(() => srv.close());

  /** Connects with SNI `name` (and a client certificate) and returns the server side of the connection. */
  async function handshake(name: string, client?: SelfSigned, chain: readonly SelfSigned[] = []): Promise<(typeof seen)[number]> {
    const before = seen.length;
    await new Promise<void>((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false, ...(client ? { cert: [client.certPem, ...chain.map((c) => c.certPem)].join(''), key: client.keyPem } : {}) });
      s.on('data', () => {});
      s.on('end', () => resolve());
      s.on('error', reject);
    });
    assert.equal(seen.length, before + 1);
    return seen[before] as (typeof seen)[number];
  }

  test('the SNI callback runs as a method of the connection, and only the host that verifies asks for a certificate', async () => {
    const open = await handshake('a.test', direct);
    assert.equal(open.thisWasSocket, true);
    assert.equal(open.socket.getPeerX509Certificate(), undefined, 'a.test did not ask: the offered certificate is never sent');
    assert.equal(verificationOf(open.socket), undefined);
    const m = await handshake('m.test', direct);
    assert.equal(m.thisWasSocket, true);
    assert.equal(m.socket.getPeerX509Certificate()?.subject, 'CN=direct');
    assert.equal(m.socket.authorized, true);
    assert.equal(verificationOf(m.socket)?.ca, 'ca-of-m.test');
  });

  test("verification uses the SNI context's CAs, and the handshake never aborts: Node reports what failed", async () => {
    for (const [client, code] of [
      [stranger, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'],
      [selfSigned, 'DEPTH_ZERO_SELF_SIGNED_CERT'],
      [expired, 'CERT_HAS_EXPIRED'],
    ] as const) {
      const s = (await handshake('m.test', client)).socket;
      assert.equal(s.authorized, false);
      assert.equal(s.authorizationError, code);
    }
    const none = (await handshake('m.test')).socket;
    assert.equal(none.getPeerX509Certificate(), undefined);
  });

  test('ca.crl revokes (every certificate of the chain checked, as nginx does)', async () => {
    assert.equal((await handshake('r.test', direct)).socket.authorized, true);
    const r = (await handshake('r.test', revoked)).socket;
    assert.equal(r.authorized, false);
    assert.equal(r.authorizationError, 'CERT_REVOKED');
  });

  test("ssl-client-verify's reasons are OpenSSL's own strings", async () => {
    let checked = 0;
    for (const [name, client] of [['m.test', stranger], ['m.test', selfSigned], ['m.test', expired], ['r.test', revoked], ['r.test', viaOne]] as const) {
      const s = await handshake(name, client, client === viaOne ? [int1] : []);
      const code = s.socket.authorizationError as unknown as string;
      assert.equal(s.verifyError?.code, code);
      // Node 24 appends a hint to one of them: the reason is what comes before it
      assert.equal(VERIFY_REASONS[code], s.verifyError?.message?.replace(/; if the root CA is installed locally.*$/, ''), code);
      checked++;
    }
    assert.equal(checked, 5);
  });

  test("what a policy reads: the leaf's DNs, the URL-encoded PEM, the verified chain's length", async () => {
    const p = (await handshake('m.test', viaTwo, [int2, int1])).peer;
    assert.equal(p.error, null);
    assert.equal(p.subject, 'CN=via two');
    assert.equal(p.issuer, 'CN=Intermediate 2');
    assert.equal(p.chainLength, 4);
    assert.equal(p.escapedPem, encodeURIComponent(viaTwo.certPem));
    assert.equal((await handshake('m.test')).peer.der, null);
  });
});

describe('depth counts intermediate CAs, as OpenSSL verify depth does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-depth-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, pem: string): string => {
    const f = join(dir, name);
    writeFileSync(f, pem);
    return f;
  };
  const trusted = parseBundle(root.certPem);
  const x = (c: SelfSigned): X509Certificate => new X509Certificate(c.certPem);

  for (const [leaf, sent, intermediates] of [
    [direct, [], 0],
    [viaOne, [int1], 1],
    [viaTwo, [int2, int1], 2],
  ] as const) {
    test(`${intermediates} intermediate(s): ${intermediates + 2} certificates; openssl verify agrees at depths 0 to 3`, () => {
      const n = chainLength(x(leaf), sent.map(x), trusted);
      assert.equal(n, intermediates + 2);
      for (let depth = 0; depth <= 3; depth++) {
        const r = spawnSync('openssl', ['verify', '-verify_depth', String(depth), '-CAfile', file('root.pem', root.certPem), ...(sent.length ? ['-untrusted', file('chain.pem', sent.map((c) => c.certPem).join(''))] : []), file('leaf.pem', leaf.certPem)], { encoding: 'utf8', timeout: 10_000 });
        assert.ifError(r.error); // (openssl not on PATH, as in the image: ENOENT)
        assert.equal(r.status === 0, n <= depth + 2, `depth ${depth}: ${r.stdout}${r.stderr}`);
      }
    });
  }

  test('an intermediate in ca.crt is trusted first; a self-signed client listed in ca.crt is a chain of one', () => {
    assert.equal(chainLength(x(viaOne), [], parseBundle(root.certPem + int1.certPem)), 3);
    assert.equal(chainLength(x(selfSigned), [], parseBundle(selfSigned.certPem)), 1);
  });
});

test('requestClientCertificate refuses what is not a TLS connection it can switch (the handshake then fails: never open)', () => {
  assert.equal(requestClientCertificate({}, 'x'), false);
  assert.equal(requestClientCertificate(null, 'x'), false);
  assert.equal(requestClientCertificate({ _handle: {}, _requestCert: false }, 'x'), false);
});
