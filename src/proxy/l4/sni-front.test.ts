/**
 * The SNI front on real sockets: a passthrough name is spliced with the hello; any other is handed,
 * with every byte read, to a real TLS server that completes the handshake; no routes: nothing is
 * read; no fallback: closed; a silent client closed after the timeout.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { EMPTY_TABLE } from '../../model/types.js';
import { createSelfSigned } from '../../tls/selfsigned.js';
import { createEndpointState } from '../endpoints.js';
import { createSniFront, type ConnectionTarget } from './sni-front.js';
import { compileL4, compileSni, type L4Target, type SniTable } from './targets.js';

const cert = createSelfSigned({ commonName: 'portico.test', dnsNames: ['portico.test'] });

describe('SNI front', () => {
  const tls = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (s) => s.end('terminated\n'));
  tls.on('tlsClientError', () => {});
  const table: SniTable = compileSni([{ port: 443, host: 'pass.test', source: { kind: 'Ingress', namespace: 'default', name: 'pass' }, backends: [{ backend: 'default/pass:443+tcp', weight: 1 }] }], (r) => compileL4(r, EMPTY_TABLE, 'https', 'TCP', createEndpointState(), null)).get(443)!;
  let servers: Server[] = [];

  after(() => {
    for (const s of servers) s.close();
  });

  /** A listener whose connections go through a front with these options; records spliced hellos and results. */
  async function front(o: { routes: SniTable | null; fallback: ConnectionTarget | null; timeout?: number }) {
    const spliced: { target: L4Target; hello: Buffer }[] = [];
    const results: string[] = [];
    const f = createSniFront({
      routes: () => o.routes,
      fallback: o.fallback,
      timeout: o.timeout ?? 1000,
      splice: (socket: Socket, target, hello) => {
        spliced.push({ target, hello });
        socket.end('spliced\n');
      },
      record: (r) => void results.push(r),
    });
    const server = createServer((s) => f.emit('connection', s));
    servers.push(server);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, spliced, results };
  }

  /** A TLS client's outcome: the first line the server sent over TLS, or the error (a spliced connection gets plain bytes). */
  const hello = (port: number, servername: string): Promise<string> =>
    new Promise((resolve) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false });
      s.on('data', (d: Buffer) => resolve(d.toString().trim()));
      s.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    });

  before(() => {
    servers = [];
  });

  test('a passthrough name is spliced with its hello; any other is handed to the TLS server with every byte', async () => {
    const f = await front({ routes: table, fallback: tls });
    assert.match(await hello(f.port, 'pass.test'), /^error/, 'the splice answered in plain text, not TLS');
    assert.equal(f.spliced.length, 1);
    assert.equal(f.spliced[0]?.hello[0], 0x16, 'the ClientHello, from its first byte');
    assert.equal(f.spliced[0]?.target.route.source.name, 'pass');
    assert.equal(await hello(f.port, 'other.test'), 'terminated');
    assert.deepEqual(f.results, ['passthrough', 'terminated']);
  });

  test('no passthrough routes on the port: nothing is read, the TLS server takes the connection as is', async () => {
    const f = await front({ routes: null, fallback: tls });
    assert.equal(await hello(f.port, 'pass.test'), 'terminated');
    assert.deepEqual(f.results, []);
  });

  test('a TLS-only listener (no fallback): an unknown name is closed', async () => {
    const f = await front({ routes: table, fallback: null });
    assert.match(await hello(f.port, 'other.test'), /^error/);
    assert.deepEqual(f.results, ['rejected']);
  });

  test('a client that sends nothing is closed after the timeout; bytes that are no ClientHello at once', async () => {
    const f = await front({ routes: table, fallback: tls, timeout: 200 });
    const t0 = Date.now();
    const silent = connect({ host: '127.0.0.1', port: f.port });
    silent.on('error', () => {});
    await once(silent, 'close');
    assert.ok(Date.now() - t0 >= 180, 'not before the timeout');
    const junk = connect({ host: '127.0.0.1', port: f.port }, () => junk.write('GET / HTTP/1.1\r\n\r\n'));
    junk.on('error', () => {});
    const t1 = Date.now();
    await once(junk, 'close');
    assert.ok(Date.now() - t1 < 150, 'closed at once');
    assert.deepEqual(f.results, ['timeout', 'invalid']);
  });
});
