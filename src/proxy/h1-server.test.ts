/**
 * Portico's HTTP/1.1 server side against real sockets: the bytes its responses put on the wire are
 * the ones Node's ServerResponse writes (Date aside) for the same handler, and it keeps what Node's
 * server does for a client: pipelined responses in order, headers and keep-alive timeouts, Host
 * required, Expect, Upgrade and CONNECT, request bodies with back-pressure, a body left unread
 * drained for keep-alive, FIN, draining. Random bytes never throw and leave no connection behind.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createH1Front, type H1Front, type H1Handler } from './h1-server.js';
import { endTakesAtOnce, H1Response } from './h1-message.js';
import { createPacing } from './pace.js';

const IP = '127.0.72.1';

/** What a test handler does with a request: the same code runs on Node's objects and on ours. */
type Script = (req: IncomingMessage, res: ServerResponse) => void;

/** Sends bytes, reads until the server closes or goes quiet for `quietMs`. */
function exchange(port: number, bytes: string | Buffer, quietMs = 150, ip = IP): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = connect(port, ip, () => s.write(bytes));
    let text = '';
    let timer = setTimeout(done, 2000);
    function done(closed = false): void {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    }
    s.on('data', (d) => {
      text += d.toString('latin1');
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    s.on('close', () => done(true));
    s.on('error', () => undefined);
  });
}

interface Pair {
  node: number;
  ours: number;
  front: H1Front;
  close(): Promise<void>;
}

/** Node's server and Portico's, with the same handler and timeouts. */
async function pair(script: Script, opts: { keepAliveTimeout?: number; headersTimeout?: number } = {}): Promise<Pair> {
  const keepAliveTimeout = opts.keepAliveTimeout ?? 5000;
  const headersTimeout = opts.headersTimeout ?? 5000;
  const nodeServer = createHttpServer({ keepAliveTimeout, headersTimeout, requestTimeout: 0, maxHeaderSize: 16 * 1024, connectionsCheckingInterval: Math.min(1000, headersTimeout) }, script);
  nodeServer.on('checkContinue', script);
  nodeServer.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => clientError(err.code ?? '', socket));
  const front = createH1Front({ request: script as unknown as H1Handler['request'], upgrade: (_req, socket) => socket.destroy() }, { keepAliveTimeout, headersTimeout, maxHeaderSize: 16 * 1024, clientError });
  const ourServer = createServer({ allowHalfOpen: true }, (s) => front.accept(s));
  const listen = (srv: Server): Promise<number> => new Promise((r) => srv.listen(0, IP, () => r((srv.address() as AddressInfo).port)));
  const [node, ours] = [await listen(nodeServer), await listen(ourServer)];
  return {
    node,
    ours,
    front,
    close: async () => {
      front.cut();
      nodeServer.closeAllConnections();
      await Promise.all([new Promise((r) => nodeServer.close(r)), new Promise((r) => ourServer.close(r))]);
    },
  };
}

function clientError(code: string, socket: Socket): void {
  if (!socket.writable) return void socket.destroy();
  const status = code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}

const noDate = (t: string): string => t.replace(/\r\nDate: [^\r]*/g, '\r\nDate: -');

/**
 * A chunked response as HTTP reads it: the head as sent, the body decoded (strictly: hex sizes,
 * CRLF after each chunk's data, a last chunk and the trailer section's end) and the trailer lines,
 * and whatever follows. Where a body is cut into chunks is not part of the message (RFC 9112 7.1):
 * Node 24's ServerResponse joins the writes of a corked response into one chunk, Node 20's sends
 * one chunk per write.
 */
function dechunked(text: string): { head: string; body: string; trailers: string; after: string } {
  const end = text.indexOf('\r\n\r\n');
  assert.ok(end > 0, `no head: ${JSON.stringify(text.slice(0, 200))}`);
  const head = text.slice(0, end + 4);
  assert.match(head, /\r\nTransfer-Encoding: chunked\r\n/, 'a chunked response');
  let at = end + 4;
  let body = '';
  for (;;) {
    const eol = text.indexOf('\r\n', at);
    const size = eol === -1 ? '' : text.slice(at, eol);
    assert.match(size, /^[0-9a-f]+$/, `a chunk size at ${at}: ${JSON.stringify(text.slice(at, at + 20))}`);
    const n = parseInt(size, 16);
    at = eol + 2;
    if (n === 0) break;
    assert.equal(text.slice(at + n, at + n + 2), '\r\n', `CRLF after ${n} bytes of chunk data`);
    body += text.slice(at, at + n);
    at += n + 2;
  }
  const trailersEnd = text.indexOf('\r\n', at) === at ? at : text.indexOf('\r\n\r\n', at) + 2;
  assert.ok(trailersEnd >= at, 'the trailer section ends');
  return { head, body, trailers: text.slice(at, trailersEnd), after: text.slice(trailersEnd + 2) };
}

describe('responses: the same bytes as Node\'s ServerResponse', () => {
  const body = (req: IncomingMessage, then: () => void): void => {
    req.resume();
    req.once('end', then);
  };
  /** 'message': the same HTTP message (head bytes, decoded body, trailers), however the body is cut into chunks; else the same bytes. */
  const cases: [string, string, Script, 'message'?][] = [
    ['a length-delimited answer', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-type', 'text/plain', 'content-length', '5']).end('hello')],
    ['a streamed answer (chunked)', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => {
      s.writeHead(200, ['x-a', 'b']);
      s.write('ab');
      s.write(Buffer.from('cd'));
      s.end('ef');
    }, 'message'],
    ['an empty chunked answer', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['x-a', 'b']).end()],
    ['204 and 304 carry no body', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(204, ['x', 'y']).end('dropped')],
    ['304', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(304, ['etag', '"x"']).end()],
    ['HEAD keeps the length, drops the body', 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', '5']).end('hello')],
    ['HEAD without a length', 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['x', 'y']).end('hello')],
    ['HTTP/1.0 without a length closes', 'GET / HTTP/1.0\r\n\r\n', (_q, s) => void s.writeHead(200, ['x', 'y']).end('hello')],
    ['HTTP/1.0 keep-alive with a length', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', '2']).end('ok')],
    ['HTTP/1.0 keep-alive without a length', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', (_q, s) => void s.writeHead(200, []).end('ok')],
    ['HTTP/1.0 asking for chunks', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\nTE: chunked\r\n\r\n', (_q, s) => void s.writeHead(200, []).end('ok')],
    ['Connection: close from the client', 'GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', '2']).end('ok')],
    ['shouldKeepAlive = false', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => {
      s.shouldKeepAlive = false;
      s.writeHead(200, ['content-length', '2']).end('ok');
    }],
    ['a Connection header from the handler', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['connection', 'close', 'content-length', '2']).end('ok')],
    ['a Keep-Alive header from the handler', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['keep-alive', 'timeout=9', 'content-length', '2']).end('ok')],
    ['a Date header from the handler', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['date', 'yesterday', 'content-length', '2']).end('ok')],
    ['trailers', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => {
      s.writeHead(200, ['x', 'y']);
      s.write('a');
      s.addTrailers({ 'x-t': '1', 'grpc-status': '0' });
      s.end();
    }],
    ['an unknown status and a reason of its own', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(599, ['content-length', '0']).end()],
    ['a reason phrase', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, 'Fine', ['content-length', '0']).end()],
    ['headers as an object, with an array value', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, { 'set-cookie': ['a=1', 'b=2'], 'content-length': 2 }).end('ok')],
    // a string body goes out as UTF-8 (the head as latin1), small or large, with a length or chunked
    ['a UTF-8 string body', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', String(Buffer.byteLength('h\u00e9llo \u2713'))]).end('h\u00e9llo \u2713')],
    ['a large UTF-8 string body', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['x-a', 'b', 'content-length', String(Buffer.byteLength('\u2713'.repeat(20_000)))]).end('\u2713'.repeat(20_000))],
    ['a UTF-8 string as the last chunk', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['x-a', 'b']).end('\u00fc\u2713')],
    ['a large body', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', '100000']).end(Buffer.alloc(100_000, 'z'))],
    ['a large streamed body', 'GET / HTTP/1.1\r\nHost: h\r\n\r\n', (_q, s) => {
      s.writeHead(200, []);
      s.write(Buffer.alloc(70_000, 'y'));
      s.end(Buffer.alloc(30_000, 'z'));
    }, 'message'],
    ['Expect: 100-continue answered with Continue first', 'POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok', (q, s) => {
      s.writeContinue();
      body(q, () => void s.writeHead(200, ['content-length', '2']).end('ok'));
    }],
    ['Expect: 100-continue answered without Continue closes', 'POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n', (_q, s) => void s.writeHead(413, ['content-length', '0']).end()],
    ['a body read, then answered', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello', (q, s) => body(q, () => void s.writeHead(200, ['content-length', '2']).end('ok'))],
    ['a chunked body with trailers', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX: y\r\n\r\n', (q, s) => body(q, () => void s.writeHead(200, ['content-length', String(q.rawTrailers.length)]).end(String(q.rawTrailers.length)))],
    ['an answer before the body, then the next request', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET /2 HTTP/1.1\r\nHost: h\r\n\r\n', (q, s) => void s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url)],
    ['pipelined requests', 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /22 HTTP/1.1\r\nHost: h\r\n\r\nGET /333 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', (q, s) => void s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url)],
    // answers are held to the end of the loop iteration (write-batch.ts): one ended just before a
    // parse error, an upgrade or a PRI preface must still go out ahead of what follows
    ['an answer, then a malformed pipelined request', 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost h\r\n\r\n', (q, s) => void s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url)],
    ['an answer, then a pipelined request over the header limit', `GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\nX: ${'x'.repeat(17 * 1024)}\r\n\r\n`, (q, s) => void s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url)],
    // and one held when the next request is served at once: whatever that one writes goes after it
    ['an answer, then a pipelined 100-continue request', 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nPOST /22 HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok', (q, s) => {
      if (q.method === 'POST') {
        s.writeContinue();
        body(q, () => void s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url));
      } else s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url);
    }],
    ['an answer, then a pipelined streamed answer', 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /22 HTTP/1.1\r\nHost: h\r\n\r\n', (q, s) => {
      if (q.url === '/1') return void s.writeHead(200, ['content-length', '2']).end('/1');
      s.writeHead(200, ['x-a', 'b']);
      s.write('ab');
      s.end('cd');
    }],
    ['an answer, then a pipelined request without Host', 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\n\r\n', (q, s) => void s.writeHead(200, ['content-length', String(q.url?.length)]).end(q.url)],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', '2']).end('ok')],
    ['an Expect other than 100-continue', 'GET / HTTP/1.1\r\nHost: h\r\nExpect: tea\r\n\r\n', (_q, s) => void s.writeHead(200, ['content-length', '2']).end('ok')],
  ];
  for (const [name, request, script, compare] of cases) {
    test(name, async () => {
      const p = await pair(script);
      try {
        const [want, got] = await Promise.all([exchange(p.node, request), exchange(p.ours, request)]);
        // the two servers word a few answers of their own differently: compare what is defined
        if (name === 'no Host in HTTP/1.1') {
          assert.match(want.text, /^HTTP\/1\.1 400 /);
          assert.match(got.text, /^HTTP\/1\.1 400 /);
          assert.equal(got.closed, true);
          return;
        }
        if (name === 'an answer, then a pipelined request without Host') {
          const [first, second] = [want, got].map((r) => noDate(r.text).split(/(?=HTTP\/1\.1 )/));
          assert.equal(second?.[0], first?.[0], 'the answer first, as Node sends it');
          assert.match(second?.[1] ?? '', /^HTTP\/1\.1 400 /);
          assert.equal(got.closed, true);
          return;
        }
        if (name === 'an Expect other than 100-continue') {
          assert.match(want.text, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
          assert.match(got.text, /^HTTP\/1\.1 417 Expectation Failed\r\n/);
          assert.equal(got.closed, false, 'the connection stays open');
          return;
        }
        if (compare === 'message') assert.deepEqual(dechunked(noDate(got.text)), dechunked(noDate(want.text)));
        else assert.equal(noDate(got.text), noDate(want.text));
        assert.equal(got.closed, want.closed, 'closed by the server after the answer');
      } finally {
        await p.close();
      }
    });
  }
});

describe('connections', () => {
  let p: Pair;
  const seen: string[] = [];
  before(async () => {
    p = await pair((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      const delay = /delay=(\d+)/.exec(req.url ?? '')?.[1];
      const answer = (): void => void res.writeHead(200, ['content-length', String(req.url?.length)]).end(req.url);
      if (req.method === 'POST' && req.url === '/slow-reader') {
        // reads the body slowly: back-pressure must hold the socket, not buffer it all
        let n = 0;
        req.on('data', (d: Buffer) => {
          n += d.length;
          req.pause();
          setTimeout(() => req.resume(), 1);
        });
        req.on('end', () => void res.writeHead(200, ['content-length', String(String(n).length)]).end(String(n)));
        return;
      }
      if (delay !== undefined) setTimeout(answer, Number(delay));
      else answer();
    }, { keepAliveTimeout: 300, headersTimeout: 400 });
  });
  after(() => p.close());

  test('pipelined requests are answered in order, one after another, whatever each takes', async () => {
    const r = await exchange(p.ours, 'GET /a?delay=60 HTTP/1.1\r\nHost: h\r\n\r\nGET /b?delay=0 HTTP/1.1\r\nHost: h\r\n\r\nGET /c?delay=20 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', 500);
    const bodies = r.text.split('\r\n\r\n').slice(1).map((x) => x.split('HTTP/1.1')[0]);
    assert.deepEqual(bodies, ['/a?delay=60', '/b?delay=0', '/c?delay=20']);
    assert.equal(r.closed, true);
  });

  test('headers that do not arrive within the headers timeout: 408 and closed', async () => {
    const t0 = Date.now();
    const r = await exchange(p.ours, 'GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ', 2000);
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.equal(r.closed, true);
    assert.ok(Date.now() - t0 >= 350 && Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  });

  test('an idle keep-alive connection is closed after the keep-alive timeout', async () => {
    const t0 = Date.now();
    const r = await exchange(p.ours, 'GET /k HTTP/1.1\r\nHost: h\r\n\r\n', 2000);
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n/);
    assert.equal(r.closed, true);
    assert.ok(Date.now() - t0 >= 250 && Date.now() - t0 < 1500, `${Date.now() - t0} ms`);
  });

  test('a request body is streamed with back-pressure, intact', async () => {
    const size = 3 * 1024 * 1024;
    const r = await exchange(p.ours, Buffer.concat([Buffer.from(`POST /slow-reader HTTP/1.1\r\nHost: h\r\nContent-Length: ${size}\r\nConnection: close\r\n\r\n`), Buffer.alloc(size, 'b')]), 3000);
    assert.match(r.text, new RegExp(`\\r\\n\\r\\n${size}$`));
  });

  test('a client that sends FIN after its request gets the answer, then the connection closes', async () => {
    const text = await new Promise<string>((resolve) => {
      let t = '';
      const s = connect(p.ours, IP, () => s.end('GET /fin?delay=30 HTTP/1.1\r\nHost: h\r\n\r\n'));
      s.on('data', (d) => (t += d.toString('latin1')));
      s.on('close', () => resolve(t));
    });
    assert.match(text, /^HTTP\/1\.1 200 OK\r\n[^]*\/fin\?delay=30$/);
  });

  test('a FIN in the middle of a head is a 400', async () => {
    const text = await new Promise<string>((resolve) => {
      let t = '';
      const s = connect(p.ours, IP, () => s.end('GET /cut HTTP/1.1\r\nHost: h\r\n'));
      s.on('data', (d) => (t += d.toString('latin1')));
      s.on('close', () => resolve(t));
    });
    assert.match(text, /^HTTP\/1\.1 400 /);
  });

  test('CONNECT is closed without an answer; an HTTP/2 preface cut short gets what Node gives it', async () => {
    const before = seen.length;
    const r = await exchange(p.ours, 'CONNECT h:443 HTTP/1.1\r\nHost: h:443\r\n\r\n', 500);
    assert.equal(r.text, '');
    assert.equal(r.closed, true);
    const preface = 'PRI * HTTP/2.0\r\n\r\n';
    const [want, got] = await Promise.all([exchange(p.node, preface, 1500), exchange(p.ours, preface, 1500)]);
    assert.equal(got.text, want.text);
    assert.equal(got.closed, want.closed);
    assert.equal(seen.length, before, 'nothing reached the handler');
  });

  test('random bytes and broken requests never throw and leave no connection behind', async () => {
    let seed = 7;
    const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const valid = Buffer.from('POST /x?y=1 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nok');
    const inputs: Buffer[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) inputs.push(Buffer.from(Array.from({ length: rand(200) }, () => rand(256))));
      else {
        const b = Buffer.from(valid);
        for (let k = 0; k < 1 + rand(3); k++) b[rand(b.length)] = rand(256);
        inputs.push(b);
      }
    }
    for (let i = 0; i < inputs.length; i += 30) await Promise.all(inputs.slice(i, i + 30).map((b) => exchange(p.ours, b, 50)));
    const r = await exchange(p.ours, 'GET /still HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n[^]*\/still$/);
    for (let i = 0; i < 50 && p.front.size > 0; i++) await sleep(20);
    assert.equal(p.front.size, 0, 'every connection was closed and forgotten');
  });

  test('drain: idle connections close at once, a busy one after its answer', async () => {
    const idle = connect(p.ours, IP);
    const idleClosed = new Promise<void>((r) => idle.on('close', () => r()));
    idle.on('error', () => undefined);
    idle.resume();
    await new Promise<void>((r) => idle.on('connect', () => r()));
    idle.write('GET /idle HTTP/1.1\r\nHost: h\r\n\r\n');
    await sleep(50);
    const busy = exchange(p.ours, 'GET /busy?delay=100 HTTP/1.1\r\nHost: h\r\n\r\n', 1000);
    await sleep(30);
    p.front.drain();
    await idleClosed;
    const r = await busy;
    // (its Connection header is the front door's to choose; the connection closes after it regardless)
    assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n[^]*\/busy\?delay=100$/);
    assert.equal(r.closed, true);
  });
});

describe('upgrades', () => {
  test('an Upgrade head is handed over with the bytes after it; the socket is the upgrade path\'s', async () => {
    let got: { url: string; head: string } | null = null;
    const front = createH1Front(
      {
        request: (_req, res) => void res.writeHead(500, ['content-length', '0']).end(),
        upgrade: (req, socket, head) => {
          got = { url: req.url, head: head.toString('latin1') };
          socket.on('data', (d: Buffer) => socket.write(d));
          socket.on('end', () => socket.end());
          socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
          socket.write(head);
          socket.resume();
        },
      },
      { keepAliveTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 16 * 1024, clientError },
    );
    const server = createServer({ allowHalfOpen: true }, (s) => front.accept(s));
    const port = await new Promise<number>((r) => server.listen(0, IP, () => r((server.address() as AddressInfo).port)));
    try {
      const text = await new Promise<string>((resolve) => {
        let t = '';
        const s = connect(port, IP, () => s.write('GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nfirst'));
        s.on('data', (d) => {
          t += d.toString('latin1');
          if (t.endsWith('first')) s.write('second');
          if (t.endsWith('second')) s.destroy();
        });
        s.on('close', () => resolve(t));
      });
      assert.deepEqual(got, { url: '/ws', head: 'first' });
      assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nfirstsecond$/);
      assert.equal(front.size, 0, 'the front end forgot the connection');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  test('an Upgrade head in the sniffed first bytes: what the client sends before the tunnel is spliced still reaches it', async () => {
    // as the plain listener does (server.ts sniff): the first read decides HTTP/1.1, the socket is
    // paused and handed over with those bytes; the upgrade path splices its tunnel only once the
    // pod answered 101 (here 150 ms later). Bytes the client sends in between wait in the socket.
    const front = createH1Front(
      {
        request: (_req, res) => void res.writeHead(500, ['content-length', '0']).end(),
        upgrade: (_req, socket, head) => {
          setTimeout(() => {
            socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n');
            socket.write(head);
            socket.on('data', (d: Buffer) => socket.write(d));
            socket.on('end', () => socket.end());
            socket.resume();
          }, 150);
        },
      },
      { keepAliveTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 16 * 1024, clientError },
    );
    const server = createServer({ allowHalfOpen: true }, (s) =>
      s.once('data', (first: Buffer) => {
        s.pause();
        front.accept(s, first);
      }),
    );
    const port = await new Promise<number>((r) => server.listen(0, IP, () => r((server.address() as AddressInfo).port)));
    try {
      const text = await new Promise<string>((resolve) => {
        let t = '';
        const s = connect(port, IP, () => {
          s.write('GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\nfirst');
          // sent before the 101: a client may speak first on the new protocol
          setTimeout(() => s.write('second'), 50);
        });
        const timer = setTimeout(() => s.destroy(), 1500);
        s.on('data', (d) => {
          t += d.toString('latin1');
          if (t.endsWith('firstsecond')) s.destroy();
        });
        s.on('close', () => {
          clearTimeout(timer);
          resolve(t);
        });
      });
      assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nfirstsecond$/, JSON.stringify(text));
    } finally {
      front.cut();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('what a client cannot make the front end do', () => {
  const start = async (handler: H1Handler): Promise<{ port: number; front: H1Front; server: Server }> => {
    const front = createH1Front(handler, { keepAliveTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 16 * 1024, clientError });
    const server = createServer({ allowHalfOpen: true }, (s) => front.accept(s));
    const port = await new Promise<number>((r) => server.listen(0, IP, () => r((server.address() as AddressInfo).port)));
    return { port, front, server };
  };

  test('a handler that throws after answering: the connection is cut, after the answer it ended', async () => {
    // answers are held to the end of the loop iteration (write-batch.ts); the cut must not drop one
    const { port, front, server } = await start({
      request: (_req, res) => {
        res.writeHead(200, ['content-length', '2']).end('ok');
        throw new Error('after the answer');
      },
      upgrade: (_req, socket) => socket.destroy(),
    });
    try {
      const r = await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
      assert.match(r.text, /^HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\nok$/);
      assert.equal(r.closed, true);
    } finally {
      front.cut();
      await new Promise((r) => server.close(r));
    }
  });

  test('the headers timeout runs from when the connection was accepted, not from its first byte (a sniffer read before)', async () => {
    const front = createH1Front({ request: (_req, res) => void res.writeHead(200, ['content-length', '0']).end(), upgrade: (_req, socket) => socket.destroy() }, { keepAliveTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 16 * 1024, clientError });
    // accepted 4.5 s ago (by the h2c sniffer, say): 0.5 s of the 5 s are left
    const server = createServer({ allowHalfOpen: true }, (s) => front.accept(s, Buffer.from('G'), performance.now() - 4500));
    const port = await new Promise<number>((r) => server.listen(0, IP, () => r((server.address() as AddressInfo).port)));
    try {
      const t0 = Date.now();
      const r = await exchange(port, 'ET / HTTP/1.1\r\nHost: h\r\nX-Slow: ', 4000);
      assert.match(r.text, /^HTTP\/1\.1 408 /);
      assert.equal(r.closed, true);
      assert.ok(Date.now() - t0 < 3500, `closed after ${Date.now() - t0} ms, as if the 5 s had started at the first byte`);
    } finally {
      front.cut();
      await new Promise((r) => server.close(r));
    }
  });

  test('an upgrade handler that throws cuts that connection, never the process', async () => {
    const { port, front, server } = await start({
      request: (_req, res) => void res.writeHead(200, ['content-length', '2']).end('ok'),
      upgrade: () => {
        throw new Error('boom');
      },
    });
    try {
      const r = await exchange(port, 'GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
      assert.equal(r.closed, true);
      assert.equal(r.text, '');
      // the process and the listener serve on
      assert.match((await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n')).text, /^HTTP\/1\.1 200 OK\r\n[^]*ok$/);
    } finally {
      front.cut();
      await new Promise((r) => server.close(r));
    }
  });

  test('an early answer to an endless body: the body is dropped up to 256 KiB, then the connection is closed', async () => {
    const { port, front, server } = await start({
      // answers at once without reading the body (a 401 to an upload)
      request: (_req, res) => void res.writeHead(401, ['content-length', '0']).end(),
      upgrade: (_req, socket) => socket.destroy(),
    });
    try {
      const result = await new Promise<{ text: string; sent: number; closedBy: 'server' | 'timeout' }>((resolve) => {
        let text = '';
        let sent = 0;
        const s = connect(port, IP, () => {
          s.write('POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n');
          const chunk = `${(16 * 1024).toString(16)}\r\n${'x'.repeat(16 * 1024)}\r\n`;
          const pump = (): void => {
            while (!s.destroyed && sent < 64 * 1024 * 1024) {
              sent += 16 * 1024;
              if (!s.write(chunk)) return void s.once('drain', pump);
            }
          };
          pump();
        });
        const timer = setTimeout(() => (s.destroy(), resolve({ text, sent, closedBy: 'timeout' })), 10_000);
        s.on('data', (d) => (text += d.toString('latin1')));
        s.on('error', () => undefined);
        s.on('close', () => {
          clearTimeout(timer);
          resolve({ text, sent, closedBy: 'server' });
        });
      });
      assert.match(result.text, /^HTTP\/1\.1 401 Unauthorized\r\n/);
      assert.equal(result.closedBy, 'server');
      assert.ok(result.sent < 64 * 1024 * 1024, `the server read all ${result.sent} bytes`);
      assert.equal(front.size, 0);
    } finally {
      front.cut();
      await new Promise((r) => server.close(r));
    }
  });
});

describe('a borrowed last chunk (http1-conn.ts lends a response\'s last body bytes)', () => {
  test('end() is done with the chunk when endTakesAtOnce says so: bytes changed after it are not sent', async () => {
    const seen: boolean[] = [];
    const p = await pair((q, s) => {
      const res = s as unknown as H1Response;
      if (q.url === '/small') {
        const b = Buffer.from('hello');
        seen.push(endTakesAtOnce(res, b));
        s.writeHead(200, ['content-length', '5']).end(b);
        b.fill('X'); // the read buffer's next bytes
        return;
      }
      const big = Buffer.alloc(20_000, 'z');
      seen.push(endTakesAtOnce(res, big)); // sent as it is: kept by the socket
      if (q.url === '/paced') {
        createPacing(1_000_000, 0)(s);
        seen.push(endTakesAtOnce(res, Buffer.from('hello'))); // a pacing wrapper keeps what it is given
      }
      s.writeHead(200, ['content-length', '1']).end('z');
    });
    try {
      const got = await exchange(p.ours, 'GET /small HTTP/1.1\r\nHost: h\r\n\r\nGET /big HTTP/1.1\r\nHost: h\r\n\r\nGET /paced HTTP/1.1\r\nHost: h\r\n\r\n');
      assert.match(got.text, /\r\n\r\nhello(HTTP|$)/);
      assert.deepEqual(seen, [true, false, false, false]);
    } finally {
      await p.close();
    }
  });
});

describe('writeHeadChecked (an upstream head\'s fields, checked by its reader, are not checked again)', () => {
  /** The bytes a response's head and body put on a socket. */
  async function bytesOf(write: (res: H1Response) => void): Promise<string> {
    let out = '';
    const socket = { destroyed: false, writableEnded: false, write: (d: string | Buffer) => ((out += typeof d === 'string' ? d : d.toString('latin1')), true), cork() {}, uncork() {} };
    const conn = { socket: socket as unknown as Socket, responseDone() {}, requestTimeout() {}, readMore() {} };
    const res = new H1Response(conn, { method: 'GET', httpVersionMajor: 1, httpVersionMinor: 1, headers: {} } as never, true, 5);
    write(res);
    res.end('body');
    await new Promise((r) => setImmediate(r));
    return noDate(out);
  }
  const lists: string[][] = [
    ['Content-Type', 'text/plain', 'Content-Length', '4', 'ETag', '"x"', 'server', 'portico'],
    ['Connection', 'close', 'Content-Length', '4', 'X-A', 'a\tb'],
    ['Transfer-Encoding', 'chunked', 'Date', 'yesterday', 'Keep-Alive', 'timeout=3', 'x-b', 'é'],
    ['x-c', 'c'],
  ];
  test('the same bytes as writeHead, framing fields included, for any number of checked entries', async () => {
    for (const list of lists) {
      const want = await bytesOf((r) => void r.writeHead(200, list));
      for (let checked = 0; checked <= list.length; checked += 2) assert.equal(await bytesOf((r) => void r.writeHeadChecked(200, list, checked)), want, `${JSON.stringify(list)} ${checked}`);
    }
  });
  test('entries past the checked ones are checked as writeHead checks them', async () => {
    await bytesOf((r) => assert.throws(() => r.writeHeadChecked(200, ['x-ok', '1', 'bad name', 'v'], 2), { code: 'ERR_INVALID_HTTP_TOKEN' }));
    await bytesOf((r) => assert.throws(() => r.writeHeadChecked(200, ['x-ok', '1', 'x-bad', 'a\r\nb'], 2), { code: 'ERR_INVALID_CHAR' }));
  });
});

describe('a keep-alive connection after a request body that filled the body\'s buffer', () => {
  test('the next request on the connection is read (the socket paused for back-pressure is read again)', async () => {
    const p = await pair((q, s) => {
      if (q.method === 'GET') return void s.writeHead(200, ['content-length', '1']).end('0');
      let n = 0;
      q.on('data', (c: Buffer) => (n += c.length));
      q.on('end', () => void s.writeHead(200, ['content-length', String(String(n).length)]).end(String(n)));
      q.resume();
    });
    const s = connect(p.ours, IP);
    try {
      await new Promise((r) => s.once('connect', r));
      let text = '';
      s.on('data', (d) => (text += d.toString('latin1')));
      const until = async (re: RegExp): Promise<void> => {
        for (let i = 0; i < 100 && !re.test(text); i++) await sleep(20);
      };
      // one write: the head and a body past the buffer's high-water mark arrive in one read, so the
      // body's one push fills its buffer (the socket pauses) and the message ends in the same parse
      s.write(`POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 40000\r\n\r\n${'b'.repeat(40_000)}`);
      await until(/\r\n\r\n40000$/);
      assert.match(text, /\r\n\r\n40000$/);
      s.write('GET /next HTTP/1.1\r\nHost: h\r\n\r\n');
      await until(/\r\n\r\n0$/);
      assert.match(text, /40000HTTP\/1\.1 200 OK\r\n[^]*\r\n\r\n0$/, 'the second request is answered');
    } finally {
      s.destroy();
      await p.close();
    }
  });
});
