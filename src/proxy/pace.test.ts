import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { createPacing, type Paceable } from './pace.js';

/** A response double: records what reaches the socket and when; `full` makes write() answer false. */
class FakeResponse extends EventEmitter {
  readonly writes: { at: number; bytes: number }[] = [];
  ended = false;
  full = false;
  readonly t0 = performance.now();
  write(chunk: Buffer): boolean {
    this.writes.push({ at: performance.now() - this.t0, bytes: chunk.length });
    return !this.full;
  }
  end(): this {
    this.ended = true;
    this.emit('finish');
    return this;
  }
  get total(): number {
    return this.writes.reduce((n, w) => n + w.bytes, 0);
  }
}

const paceable = (r: FakeResponse): Paceable => r as unknown as Paceable;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('limit-rate pacing', () => {
  test('the first second of allowance plus limit-rate-after goes at once, the rest at the rate', async () => {
    const res = new FakeResponse();
    createPacing(100 * 1024, 50 * 1024)(paceable(res));
    const ok = res.write(Buffer.alloc(300 * 1024));
    assert.equal(ok, false, 'back-pressure while bytes wait');
    assert.equal(res.total, 150 * 1024, 'after + one second of rate');
    let drained = false;
    res.once('drain', () => (drained = true));
    res.end();
    assert.equal(res.ended, false, 'end waits for the queue');
    await sleep(700);
    const mid = res.total;
    assert.ok(mid > 180 * 1024 && mid < 240 * 1024, `about 70 KiB more after 0.7 s, got ${mid}`);
    for (let i = 0; i < 40 && !res.ended; i++) await sleep(100);
    assert.equal(res.total, 300 * 1024);
    assert.ok(res.ended);
    const last = res.writes.at(-1)?.at ?? 0;
    assert.ok(last > 1300 && last < 2500, `the last byte about 1.5 s in, got ${last} ms`);
    assert.equal(drained, false, 'an ended response gives no drain');
  });

  test("the exchange's 'drain' comes once the queue is out, not on the socket's own drain", async () => {
    const res = new FakeResponse();
    createPacing(64 * 1024, 0)(paceable(res));
    assert.equal(res.write(Buffer.alloc(64 * 1024)), true, 'within the first second: written at once');
    assert.equal(res.write(Buffer.alloc(16 * 1024)), false);
    let drains = 0;
    res.once('drain', () => drains++);
    res.emit('drain'); // the socket's: the pacer holds bytes, so the exchange must not resume
    assert.equal(drains, 0);
    for (let i = 0; i < 30 && drains === 0; i++) await sleep(50);
    assert.equal(drains, 1);
    assert.equal(res.total, 80 * 1024);
  });

  test("the client's back-pressure pauses the pacing until the socket drains", async () => {
    const res = new FakeResponse();
    createPacing(1024 * 1024, 0)(paceable(res));
    res.full = true;
    assert.equal(res.write(Buffer.alloc(10)), false);
    assert.equal(res.write(Buffer.alloc(10)), false);
    await sleep(30);
    assert.equal(res.writes.length, 1, 'nothing more is written while the socket is full');
    res.full = false;
    res.emit('drain');
    assert.equal(res.writes.length, 2);
  });

  test('a closed response frees its timer and drops what waits', async () => {
    const res = new FakeResponse();
    createPacing(1024, 0)(paceable(res));
    res.write(Buffer.alloc(64 * 1024));
    const n = res.writes.length;
    res.emit('close');
    await sleep(1200);
    assert.equal(res.writes.length, n, 'no write after close');
  });

  test('pacing twice is pacing once (a retry writes a second head)', () => {
    const res = new FakeResponse();
    const pace = createPacing(1024, 0);
    pace(paceable(res));
    const write = res.write;
    pace(paceable(res));
    assert.equal(res.write, write);
  });

  test('a real HTTP response: 48 KiB at 16 KiB/s takes about 2 s, and arrives whole', async () => {
    const pace = createPacing(16 * 1024, 0);
    const body = Buffer.alloc(48 * 1024, 7);
    const server = createServer((_req, res) => {
      pace(res as unknown as Paceable);
      res.writeHead(200, { 'content-length': String(body.length) });
      // as the exchange writes: chunks, then end
      res.write(body.subarray(0, 20_000));
      res.end(body.subarray(20_000));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const t0 = performance.now();
      const got = await new Promise<Buffer>((resolve, reject) => {
        get({ host: '127.0.0.1', port: (server.address() as AddressInfo).port, path: '/', agent: false }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve(Buffer.concat(chunks)));
        }).on('error', reject);
      });
      const ms = performance.now() - t0;
      assert.equal(got.length, body.length);
      assert.ok(ms > 1700 && ms < 4000, `took ${ms} ms`);
    } finally {
      server.close();
    }
  });
});
