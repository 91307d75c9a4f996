/**
 * A CA id with the CLIENT_CERT_REQUIRED prefix (Gateway frontend validation, AllowValidOnly) makes
 * the handshake itself refuse, pinned on the running Node: no certificate, or one that does not
 * chain to the SNI context's CAs, never gets a byte of the server's answer; one that chains does.
 * Without the prefix the same clients all get through (the routes judge them).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { connect, createSecureContext, createServer, type Server } from 'node:tls';
import { CLIENT_CERT_REQUIRED } from '../model/types.js';
import { requestClientCertificate } from './client-cert.js';
import { createSelfSigned, type NameAttributes, type SelfSigned } from './selfsigned.js';

type Issued = SelfSigned & { subject: NameAttributes };
const issue = (cn: string, issuer?: Issued, isCA = false): Issued => {
  const subject: NameAttributes = [['CN', cn]];
  return { ...createSelfSigned({ commonName: cn, dnsNames: [], subject, isCA, ...(issuer ? { issuer } : {}) }), subject };
};
const root = issue('Root', undefined, true);
const good = issue('good', root);
const stranger = issue('stranger', issue('Other Root', undefined, true));
const server = createSelfSigned({ commonName: 'srv', dnsNames: ['required.test', 'judged.test'], keyType: 'rsa' });

/** What the client read before the connection ended, or the error it got. */
function attempt(port: number, servername: string, cert?: SelfSigned): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    const s = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ...(cert ? { cert: cert.certPem, key: cert.keyPem } : {}) });
    s.setEncoding('utf8');
    s.on('data', (d: string) => (got += d));
    s.on('error', (err) => resolve(got || `error: ${err.message}`));
    s.on('close', () => resolve(got || 'closed'));
  });
}

describe('a CA id that requires a certificate refuses at the handshake', () => {
  let srv: Server;
  let port = 0;
  before(async () => {
    const ctx = createSecureContext({ cert: server.certPem, key: server.keyPem, ca: root.certPem });
    srv = createServer({
      cert: server.certPem,
      key: server.keyPem,
      rejectUnauthorized: false,
      SNICallback(this: unknown, name, cb) {
        assert.equal(requestClientCertificate(this, name === 'required.test' ? `${CLIENT_CERT_REQUIRED}root` : 'root'), true);
        cb(null, ctx);
      },
    }, (s) => s.end('ok'));
    srv.on('tlsClientError', () => {});
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    port = (srv.address() as { port: number }).port;
  });
  after(() => new Promise<void>((resolve) => srv.close(() => resolve())));

  test('a certificate that chains to the CAs is served', async () => {
    assert.equal(await attempt(port, 'required.test', good), 'ok');
  });
  test('no certificate, or another CA\'s, never gets an answer', async () => {
    assert.notEqual(await attempt(port, 'required.test'), 'ok');
    assert.notEqual(await attempt(port, 'required.test', stranger), 'ok');
  });
  test('without the prefix every client gets through (the routes judge)', async () => {
    assert.equal(await attempt(port, 'judged.test'), 'ok');
    assert.equal(await attempt(port, 'judged.test', stranger), 'ok');
  });
});
