import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { frontOf, type PlainServer } from './server.js';
import { connect } from 'node:net';
import { listenSockets, portListener, REUSE_PORT_SOCKETS, reusePortSupported, type Admit } from './listeners.js';

const IP = '127.0.0.1';

test('SO_REUSEPORT is taken from Node 22.12 and 23.1 on', () => {
  for (const v of ['20.20.0', '22.11.0', '23.0.0', '18.20.4']) assert.equal(reusePortSupported(v), false, v);
  for (const v of ['22.12.0', '22.21.1', '23.1.0', '24.22.3', '25.0.0']) assert.equal(reusePortSupported(v), true, v);
});

test('several sockets per port only with --reuse-port, a Node that has it, and outside --workers processes', () => {
  assert.equal(listenSockets(true, '24.22.3', false), REUSE_PORT_SOCKETS);
  assert.ok(REUSE_PORT_SOCKETS > 1);
  assert.equal(listenSockets(false, '24.22.3', false), 1);
  assert.equal(listenSockets(true, '24.22.3', true), 1, 'node:cluster hands connections to workers');
  assert.equal(listenSockets(true, '20.20.0', false), 1);
});

test('one socket: the front listens as it is and no shared count is made (frontOf sets its maxConnections)', async () => {
  const made: Server[] = [];
  const l = portListener((admit) => {
    assert.equal(admit, undefined, 'one socket counts its own connections');
    const s = createServer();
    made.push(s);
    return s;
  }, 1, 5);
  assert.equal(l.sockets, 1);
  const port = await l.listen(0, IP);
  assert.equal(made.length, 1);
  assert.equal((made[0]!.address() as AddressInfo).port, port);
  assert.ok(l.is(made[0]), 'the front is the listener');
  l.close();
  assert.equal(made[0]!.listening, false);
});

test('a front that cannot be made twice (the server itself) listens alone', () => {
  const only = createServer();
  const l = portListener(() => only, 4, 0);
  assert.equal(l.sockets, 1);
  assert.ok(l.is(only));
});

test('a port another process holds fails before any socket binds (no silent sharing)', async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, IP, r));
  const port = (holder.address() as AddressInfo).port;
  const made: Server[] = [];
  const l = portListener(() => {
    const s = createServer();
    made.push(s);
    return s;
  }, 3, 0);
  try {
    await assert.rejects(l.listen(port, IP), { code: 'EADDRINUSE' });
    assert.ok(made.every((s) => !s.listening));
  } finally {
    holder.close();
  }
});

test('a socket that cannot bind closes the ones already bound', async () => {
  // the second socket's bind fails (as it would if the port were taken between two binds)
  const made: Server[] = [];
  const l = portListener(() => {
    const s = createServer();
    if (made.length === 1) {
      s.listen = ((_o: unknown, _cb: unknown) => {
        setImmediate(() => s.emit('error', Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' })));
        return s;
      }) as Server['listen'];
    }
    made.push(s);
    return s;
  }, 2, 0);
  assert.equal(l.sockets, 2);
  await assert.rejects(l.listen(0, IP), { code: 'EADDRINUSE' });
  assert.equal(made[0]!.listening, false, 'the first socket was bound, then closed');
});

class FakeSocket extends EventEmitter {
  destroyed = false;
  destroy(): void {
    this.destroyed = true;
    this.emit('close');
  }
}

test('with several sockets, one connection limit counts across all of them', () => {
  const admits: (Admit | undefined)[] = [];
  const l = portListener((admit) => {
    admits.push(admit);
    return createServer();
  }, 3, 2);
  assert.equal(l.sockets, 3);
  assert.equal(admits.length, 3);
  const admit = admits[0] as Admit;
  assert.ok(admits.every((a) => a === admit), 'every socket shares one count');
  const a = new FakeSocket();
  const b = new FakeSocket();
  const c = new FakeSocket();
  assert.equal(admit(a as unknown as Socket), true);
  assert.equal(admit(b as unknown as Socket), true);
  assert.equal(admit(c as unknown as Socket), false);
  assert.equal(c.destroyed, true, 'over the limit: closed at once');
  a.emit('close');
  const d = new FakeSocket();
  assert.equal(admit(d as unknown as Socket), true, 'room again after one closed');
  assert.equal(admit(new FakeSocket() as unknown as Socket), false);
});

test('with several sockets and no limit, nothing is counted', () => {
  const admits: (Admit | undefined)[] = [];
  portListener((admit) => {
    admits.push(admit);
    return createServer();
  }, 2, 0);
  assert.deepEqual(admits, [undefined, undefined]);
});

test('frontOf asks admit before a connection reaches the server, with and without PROXY protocol', async () => {
  for (const proxyProtocol of [false, true]) {
    const accepted: Socket[] = [];
    const server = { accept: (socket: Socket) => void accepted.push(socket) } as unknown as PlainServer;
    let allow = false;
    const asked: Socket[] = [];
    const front = frontOf(server, { keepAliveTimeout: 1000, headersTimeout: 1000, maxConnections: 1, proxyProtocol, http1Server: 'portico' }, undefined, (socket) => {
      asked.push(socket);
      if (!allow) socket.destroy();
      return allow;
    });
    assert.notEqual(front.maxConnections, 1, 'admit counts, not the socket');
    await new Promise<void>((r) => front.listen(0, IP, r));
    const port = (front.address() as AddressInfo).port;
    const send = (): Promise<boolean> =>
      new Promise((resolve) => {
        const c = connect(port, IP, () => c.write(proxyProtocol ? 'PROXY TCP4 192.0.2.1 192.0.2.2 5000 80\r\nGET / HTTP/1.1\r\n\r\n' : 'GET / HTTP/1.1\r\n\r\n'));
        c.on('error', () => undefined);
        c.on('close', () => resolve(true));
        setTimeout(() => {
          c.destroy();
          resolve(false);
        }, 300);
      });
    assert.equal(await send(), true, 'refused: closed');
    assert.equal(asked.length, 1);
    assert.equal(accepted.length, 0, `nothing reached the server (proxyProtocol ${proxyProtocol})`);
    allow = true;
    assert.equal(await send(), false, 'admitted: kept open');
    assert.equal(asked.length, 2);
    assert.equal(accepted.length, 1, `admitted: handed to the server (proxyProtocol ${proxyProtocol})`);
    for (const a of accepted) a.destroy();
    front.close();
  }
});
