/**
 * Accepted sockets reading into one shared buffer (borrow.ts), through Portico's HTTP/1.1 server
 * side: request bodies, pipelined bytes and an upgrade's first bytes are kept as copies, so two
 * connections reading in turn never see each other's bytes, and a tunnel reads the socket as a
 * stream afterwards.
 */
import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { borrowReads, canBorrow } from './borrow.js';
import { createH1Front, type H1Handler } from './h1-server.js';

const IP = '127.0.72.2';

test('this Node lets accepted sockets read into a shared buffer (else Portico keeps data events, at a cost)', () => {
  assert.equal(canBorrow, true);
});

/** Writes `text` a few bytes at a time with a pause between, so reads of several sockets alternate. */
async function dribble(s: Socket, text: string, step = 5): Promise<void> {
  for (let i = 0; i < text.length; i += step) {
    s.write(text.slice(i, i + step), 'latin1');
    await sleep(1);
  }
}

async function front(handler: H1Handler): Promise<{ port: number; borrowed: () => number; close(): Promise<void> }> {
  const f = createH1Front(handler, { keepAliveTimeout: 5000, headersTimeout: 5000, maxHeaderSize: 16 * 1024, clientError: (_c, s) => s.destroy() });
  let borrowed = 0;
  const server = createServer({ allowHalfOpen: true }, (s) => {
    // what the front does with it, seen from outside: a borrowing socket emits no 'data'
    s.once('data', () => undefined);
    f.accept(s);
    if ((s as unknown as Record<symbol, unknown>)[Object.getOwnPropertySymbols(s).find((k) => k.description === 'kBufferCb') as symbol] != null) borrowed++;
  });
  await new Promise<void>((r) => server.listen(0, IP, r));
  return {
    port: (server.address() as AddressInfo).port,
    borrowed: () => borrowed,
    close: () =>
      new Promise((r) => {
        f.cut();
        server.close(() => r());
      }),
  };
}

test('request bodies and pipelined requests of two connections reading in turn arrive whole', { timeout: 10_000 }, async () => {
  const f = await front({
    request: ((req: NodeJS.ReadableStream & { url: string }, res: { end(s: string): void }) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c)); // kept as handed over, read only at the end
      req.on('end', () => setTimeout(() => res.end(`${req.url}=${Buffer.concat(chunks).toString('latin1')}`), 5));
    }) as unknown as H1Handler['request'],
    upgrade: (_r, s) => s.destroy(),
  });
  try {
    const run = (tag: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const body = tag.repeat(60);
        const s = connect(f.port, IP);
        s.setNoDelay(true);
        let got = '';
        s.on('data', (d) => {
          got += d.toString('latin1');
          if ((got.match(/HTTP\/1\.1 200/g) ?? []).length === 3 && got.endsWith(`/${tag}3=${body}`)) {
            s.destroy();
            resolve(got);
          }
        });
        s.on('error', reject);
        const chunked = `${(30).toString(16)}\r\n${body.slice(0, 30)}\r\n${(30).toString(16)}\r\n${body.slice(30)}\r\n0\r\n\r\n`;
        // three requests pipelined in one stream of small writes: a Content-Length body, a chunked one, one more
        const text =
          `POST /${tag}1 HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}` +
          `POST /${tag}2 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}` +
          `POST /${tag}3 HTTP/1.1\r\nHost: a\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        s.on('connect', () => void dribble(s, text));
      });
    const [a, b] = await Promise.all([run('a'), run('b')]);
    for (const [tag, got] of [['a', a], ['b', b]] as const) {
      const body = tag.repeat(60);
      for (const n of [1, 2, 3]) assert.ok(got.includes(`/${tag}${n}=${body}`), `${tag}${n} in ${got}`);
    }
    assert.equal(f.borrowed(), 2, 'both connections read into the shared buffer');
  } finally {
    await f.close();
  }
});

test('an upgraded connection is read as a stream again: the bytes after the head, then the rest, reach the tunnel', { timeout: 10_000 }, async () => {
  const f = await front({
    request: ((_req: unknown, res: { end(): void }) => res.end()) as unknown as H1Handler['request'],
    upgrade: (_req, socket, head) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n');
      socket.write(head);
      socket.on('data', (d: Buffer) => socket.write(d));
      socket.on('end', () => socket.destroy());
      socket.resume();
    },
  });
  try {
    const echoed = await new Promise<string>((resolve, reject) => {
      const s = connect(f.port, IP);
      s.setNoDelay(true);
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (got.endsWith('|end')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
      s.on('connect', () => void dribble(s, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\nfirst|' + 'x'.repeat(50) + '|end'));
    });
    assert.match(echoed, /^HTTP\/1\.1 101 /);
    assert.ok(echoed.endsWith(`first|${'x'.repeat(50)}|end`), echoed);
  } finally {
    await f.close();
  }
});

test('borrowReads says no where it cannot borrow: bytes already buffered', async () => {
  const server = createServer((s) => {
    s.pause();
    s.unshift(Buffer.from('early'));
    const ok = borrowReads(s, Buffer.alloc(16), () => true);
    s.destroy();
    server.close();
    result(ok);
  });
  let result: (ok: boolean) => void = () => {};
  const ok = new Promise<boolean>((r) => (result = r));
  await new Promise<void>((r) => server.listen(0, IP, r));
  const c = connect((server.address() as AddressInfo).port, IP);
  c.on('error', () => undefined);
  assert.equal(await ok, false);
  c.destroy();
});
