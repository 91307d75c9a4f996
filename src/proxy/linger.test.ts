import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { lingerOnClose, type LingerTimes } from './linger.js';

const run = promisify(execFile);

/** A server that refuses bodies over 1000 bytes with a 413 before reading them, as the body-limit policy does. */
async function server(times?: LingerTimes): Promise<{ server: Server; port: number; open: () => number }> {
  const sockets = new Set<Socket>();
  const s = createServer((req: IncomingMessage, res: ServerResponse) => {
    if (Number(req.headers['content-length'] ?? 0) > 1000) {
      res.shouldKeepAlive = false;
      lingerOnClose(req, times);
      res.writeHead(413, { 'content-type': 'text/plain', 'content-length': 9 }).end('too large');
      return;
    }
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  s.on('connection', (c: Socket) => {
    sockets.add(c);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { server: s, port: (s.address() as AddressInfo).port, open: () => sockets.size };
}

const close = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));

/** Node's HTTP client in another process (as a real client is), posting `n` bodies of `size` bytes without `Expect: 100-continue`; the outcomes. */
async function uploads(port: number, n: number, size: number): Promise<string[]> {
  const script = `
    const { request } = require('node:http');
    const body = Buffer.alloc(${size});
    const one = () => new Promise((resolve) => {
      const req = request({ host: '127.0.0.1', port: ${port}, method: 'POST', agent: false, headers: { 'content-length': body.length } }, (res) => {
        res.resume();
        res.on('end', () => resolve(String(res.statusCode)));
      });
      req.on('error', (err) => resolve(err.code || err.message));
      req.end(body);
    });
    (async () => { const out = []; for (let i = 0; i < ${n}; i++) out.push(await one()); console.log(out.join(' ')); })();
  `;
  const { stdout } = await run(process.execPath, ['-e', script], { timeout: 30_000 });
  return stdout.trim().split(' ');
}

test('clients still sending a large body read the 413 instead of a reset, and each connection closes when its client is done', async () => {
  const { server: s, port, open } = await server();
  try {
    // without lingering, about half of these end in EPIPE or ECONNRESET
    assert.deepEqual(await uploads(port, 20, 10 << 20), Array(20).fill('413'));
    const t0 = Date.now();
    while (open() > 0 && Date.now() - t0 < 2000) await new Promise((r) => setTimeout(r, 10));
    assert.equal(open(), 0, 'no connection is left lingering once its client closed');
  } finally {
    await close(s);
  }
});

/**
 * A raw client that keeps its side open after the server's (half-open): sends `head`, then a byte
 * every `everyMs` (0: nothing more). Resolves with what it read and how long after the answer the
 * server closed its end of the connection (seen by the server's connection count).
 */
async function rawClient(port: number, open: () => number, head: string, everyMs: number): Promise<{ text: string; closedAfterMs: number }> {
  const c = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => c.write(head));
  c.on('error', () => undefined);
  let text = '';
  c.on('data', (d) => (text += d.toString('latin1')));
  const trickle = everyMs > 0 ? setInterval(() => c.writable && c.write('x'), everyMs) : null;
  try {
    const t0 = Date.now();
    while (!text.includes('too large') && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 5));
    const answered = Date.now();
    while (open() > 0 && Date.now() - answered < 5000) await new Promise((r) => setTimeout(r, 5));
    return { text, closedAfterMs: Date.now() - answered };
  } finally {
    if (trickle) clearInterval(trickle);
    c.destroy();
  }
}

test('lingering is bounded: 5 s (here 200 ms) without data, 30 s (here 600 ms) in all', async () => {
  const { server: s, port, open } = await server({ totalMs: 600, idleMs: 200 });
  try {
    const head = 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n0123456789';
    const silent = await rawClient(port, open, head, 0);
    assert.match(silent.text, /^HTTP\/1\.1 413 /);
    assert.match(silent.text, /\r\nConnection: close\r\n/i);
    assert.ok(silent.closedAfterMs >= 150 && silent.closedAfterMs < 1500, `a silent client: closed ${silent.closedAfterMs} ms after the answer`);
    const trickling = await rawClient(port, open, head, 50);
    assert.match(trickling.text, /^HTTP\/1\.1 413 /);
    assert.ok(trickling.closedAfterMs >= 450 && trickling.closedAfterMs < 2500, `a trickling client: closed ${trickling.closedAfterMs} ms after the answer`);
  } finally {
    await close(s);
  }
});

test('a request whose body has arrived, or an HTTP/2 one, closes as before', () => {
  const socket = {} as Socket;
  lingerOnClose({ httpVersionMajor: 1, complete: true, socket } as IncomingMessage);
  lingerOnClose({ httpVersionMajor: 2, complete: false, socket } as IncomingMessage);
  assert.equal(Object.hasOwn(socket, 'destroySoon'), false);
});
