import assert from 'node:assert/strict';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { test } from 'node:test';
import { holds, holdWrite, releaseWrites } from './write-batch.js';

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

test('writes held in one callback stay out of the socket until the callbacks are done, then go out in order as one write', async () => {
  const p = await pair();
  try {
    let writes = 0;
    const write = p.server.write.bind(p.server);
    p.server.write = ((...args: Parameters<Socket['write']>) => (writes++, write(...args))) as Socket['write'];
    holdWrite(p.server, 'a');
    holdWrite(p.server, Buffer.from('bc'));
    holdWrite(p.server, 'dé', 'utf8');
    assert.equal(holds(p.server), true);
    assert.equal(p.server.writableLength, 0, 'nothing in the socket yet');
    assert.equal(p.server.writableCorked, 0, 'the socket is not corked');
    await turn();
    assert.equal(holds(p.server), false);
    assert.equal(writes, 3, 'three pieces written at once (corked: one writev)');
    await settle();
    assert.equal(Buffer.from(p.received(), 'latin1').toString('utf8'), 'abcdé');
  } finally {
    p.close();
  }
});

test('releaseWrites sends what a socket holds at once: a write or a destroy after it comes after it', async () => {
  const p = await pair();
  const q = await pair();
  try {
    holdWrite(p.server, 'answer ');
    releaseWrites(p.server);
    p.server.write('next');
    p.server.destroySoon();
    // without the release, the destroy drops the held bytes: what callers of holdWrite must avoid
    holdWrite(q.server, 'answer');
    q.server.destroy();
    await settle();
    assert.equal(p.received(), 'answer next');
    assert.equal(q.received(), '');
    assert.equal(holds(q.server), false, 'a destroyed socket lets go of what it held');
  } finally {
    p.close();
    q.close();
  }
});

test('a socket held while a batch is being sent goes out with the next batch, not never', async () => {
  const sent: string[] = [];
  const fake = (name: string, onWrite: () => void = () => undefined): Socket =>
    ({
      destroyed: false,
      writableEnded: false,
      write(d: string): boolean {
        sent.push(`${name}:${d}`);
        onWrite();
        return true;
      },
      cork(): void {},
      uncork(): void {},
    }) as unknown as Socket;
  const late = fake('late');
  // sending the first socket's bytes holds another one (as a write's callback ending another answer could)
  const first = fake('first', () => holdWrite(late, 'x'));
  holdWrite(first, 'a');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, ['first:a']);
  assert.equal(holds(late), true, 'held for the next batch');
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, ['first:a', 'late:x'], 'and sent with it');
});
