import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { oneAtATime, sniffPlain } from './server.js';

const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

test('a plain connection speaks h2c when it starts with the HTTP/2 preface, HTTP/1.1 otherwise, and waits while undecided', () => {
  assert.equal(sniffPlain(Buffer.from(preface)), 'h2c');
  assert.equal(sniffPlain(Buffer.from(preface + '\x00\x00\x12\x04')), 'h2c', 'the SETTINGS frame may follow in the same read');
  for (let n = 1; n < preface.length; n++) assert.equal(sniffPlain(Buffer.from(preface.slice(0, n))), 'more', `${n} bytes of the preface`);
  assert.equal(sniffPlain(Buffer.from('GET / HTTP/1.1\r\n')), 'http/1.1');
  assert.equal(sniffPlain(Buffer.from('P')), 'more');
  assert.equal(sniffPlain(Buffer.from('POST / HTTP/1.1\r\n')), 'http/1.1');
  assert.equal(sniffPlain(Buffer.from('PRI * HTTP/1.1\r\n\r\n')), 'http/1.1', 'PRI with another version is HTTP/1 (and refused there)');
  assert.equal(sniffPlain(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n')), 'http/1.1', 'a broken preface is not HTTP/2');
  assert.equal(sniffPlain(Buffer.from([0x16, 0x03, 0x01])), 'http/1.1', 'TLS on the plain port is HTTP/1 garbage (400)');
});

test("on Node's HTTP server, a pipelined request waits for the response before it, and one behind a response that closes the connection is never handled", { timeout: 10_000 }, async () => {
  const handled: string[] = [];
  const server = createServer(
    oneAtATime((req: IncomingMessage, res: ServerResponse) => {
      handled.push(req.url ?? '');
      if (req.url === '/refused') {
        // as admission refuses: the response closes the connection
        res.shouldKeepAlive = false;
        res.writeHead(400, { 'content-length': '3' }).end('bad');
        return;
      }
      // answered later: the next request must not be handled before this is done
      setTimeout(() => {
        assert.equal(handled.at(-1), req.url, `nothing after ${req.url} was handled while it was answered`);
        res.writeHead(200, { 'content-length': String(req.url?.length) }).end(req.url);
      }, 50);
    }),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const text = await new Promise<string>((resolve) => {
      const c = connect(port, '127.0.0.1', () => c.write(['/1', '/2', '/refused', '/after'].map((u) => `GET ${u} HTTP/1.1\r\nHost: h\r\n\r\n`).join('')));
      let t = '';
      c.on('data', (d: Buffer) => (t += d.toString('latin1')));
      c.on('close', () => resolve(t));
      // a connection left open (the request behind the refusal answered on it) ends the wait too
      setTimeout(() => c.destroy(), 3000);
    });
    assert.deepEqual(handled, ['/1', '/2', '/refused'], 'the request behind the refusal was never handled');
    assert.deepEqual(text.match(/HTTP\/1\.1 \d{3}/g), ['HTTP/1.1 200', 'HTTP/1.1 200', 'HTTP/1.1 400']);
    assert.match(text, /\/1[^]*\/2[^]*bad$/, 'responses in order');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
