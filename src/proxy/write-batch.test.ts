import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { holdWrites, releaseWrites } from './write-batch.js';

const IP = '127.0.246.1';

/** A connected pair: `server` is the accepted side, `received()` what the client side has read so far. */
async function pair(): Promise<{ server: Socket; received: () => string; close: () => void }> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, IP, r));
  const accepted = new Promise<Socket>((r) => srv.once('connection', r));
  const client = connect((srv.address() as AddressInfo).port, IP);
  let text = '';
  client.on('data', (d) => (text += d.toString('latin1')));
  client.on('error', () => {});
  const server = await accepted;
  server.on('error', () => {});
  return {
    server,
    received: () => text,
    close: () => {
      client.destroy();
      server.destroy();
      srv.close();
    },
  };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 50));

test('writes held in one callback stay in the socket until the callbacks are done, then go out in order', async () => {
  const p = await pair();
  try {
    holdWrites(p.server);
    p.server.write('a');
    holdWrites(p.server); // held once
    p.server.write('bc');
    assert.equal(p.server.writableLength, 3, 'nothing sent yet');
    assert.equal(p.server.writableCorked, 1);
    await turn();
    assert.equal(p.server.writableLength, 0);
    assert.equal(p.server.writableCorked, 0);
    await settle();
    assert.equal(p.received(), 'abc');
  } finally {
    p.close();
  }
});

test('releaseWrites sends what a socket holds at once: a destroy after it drops nothing', async () => {
  const p = await pair();
  const q = await pair();
  try {
    holdWrites(p.server);
    p.server.write('answer');
    releaseWrites(p.server);
    p.server.destroy();
    // without the release, the destroy drops the held bytes: what callers of holdWrites must avoid
    holdWrites(q.server);
    q.server.write('answer');
    q.server.destroy();
    await settle();
    assert.equal(p.received(), 'answer');
    assert.equal(q.received(), '');
  } finally {
    p.close();
    q.close();
  }
});

test('a socket its writer corked is left to its writer', async () => {
  const p = await pair();
  try {
    p.server.cork();
    holdWrites(p.server);
    p.server.write('x');
    await turn();
    assert.equal(p.server.writableCorked, 1);
    p.server.uncork();
    await settle();
    assert.equal(p.received(), 'x');
  } finally {
    p.close();
  }
});

test('a socket held while a batch is being sent goes out with the next batch, not never', async () => {
  class Fake {
    writableCorked = 0;
    constructor(private readonly onUncork: () => void = () => undefined) {}
    cork(): void {
      this.writableCorked++;
    }
    uncork(): void {
      this.writableCorked--;
      this.onUncork();
    }
  }
  const late = new Fake();
  // sending the first socket's bytes holds another one (as a write's callback ending another answer could)
  const first = new Fake(() => holdWrites(late as unknown as Socket));
  holdWrites(first as unknown as Socket);
  assert.equal(first.writableCorked, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(first.writableCorked, 0);
  assert.equal(late.writableCorked, 1, 'held for the next batch');
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(late.writableCorked, 0, 'and sent with it');
});
