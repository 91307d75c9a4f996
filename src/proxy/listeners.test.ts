import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { test } from 'node:test';
import { frontOf, type PlainServer } from './server.js';
import { connect } from 'node:net';
import { createPortClaims, listenSockets, portListener, probeClaim, REUSE_PORT_SOCKETS, reusePortSupported, type Admit, type Claim } from './listeners.js';

const IP = '127.0.0.1';

test('SO_REUSEPORT is taken from Node 22.12 and 23.1 on', () => {
  for (const v of ['20.20.0', '22.11.0', '23.0.0', '18.20.4']) assert.equal(reusePortSupported(v), false, v);
  for (const v of ['22.12.0', '22.21.1', '23.1.0', '24.22.3', '25.0.0']) assert.equal(reusePortSupported(v), true, v);
});

test('several sockets per port only with --reuse-port and a Node that has it (in each --workers process too)', () => {
  assert.equal(listenSockets(true, '24.22.3'), REUSE_PORT_SOCKETS);
  assert.ok(REUSE_PORT_SOCKETS > 1);
  assert.equal(listenSockets(false, '24.22.3'), 1);
  assert.equal(listenSockets(true, '20.20.0'), 1);
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

/** A free port on IP (bound, then let go). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, IP, r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** A server whose listen() records the options it was asked for, then binds with `bind(options)`. */
function recordingServer(options: unknown[], bind: (o: Record<string, unknown>) => Record<string, unknown> = (o) => o): Server {
  const server = createServer();
  const listen = server.listen.bind(server);
  server.listen = ((o: Record<string, unknown>, cb: () => void) => {
    options.push(o);
    return listen(bind(o), cb);
  }) as Server['listen'];
  return server;
}

test("a --workers process's claim: even one socket binds with SO_REUSEPORT, bound by the worker itself (exclusive), on the claimed port; closing releases it", async () => {
  const options: unknown[] = [];
  // Node 20 ignores reusePort; binding it here checks only what was asked
  const only = recordingServer(options, (o) => ({ port: o.port, host: o.host }));
  const port = await freePort();
  const log: string[] = [];
  const claim: Claim = async (p, host) => {
    log.push(`claim ${host}:${p}`);
    return { port, release: () => void log.push(`release ${port}`) };
  };
  const l = portListener(() => only, REUSE_PORT_SOCKETS, 0, claim);
  assert.equal(l.sockets, 1);
  assert.equal(await l.listen(0, IP), port, 'the port the claim gave');
  assert.deepEqual(options, [{ port, host: IP, reusePort: true, exclusive: true }]);
  assert.deepEqual(log, [`claim ${IP}:0`]);
  l.close();
  assert.deepEqual(log, [`claim ${IP}:0`, `release ${port}`]);
  assert.equal(only.listening, false);
});

test('without a claim one socket binds as it always did (no SO_REUSEPORT, no probe)', async () => {
  const options: unknown[] = [];
  const only = recordingServer(options);
  const l = portListener(() => only, REUSE_PORT_SOCKETS, 0);
  await l.listen(0, IP);
  assert.deepEqual(options, [{ port: 0, host: IP }]);
  l.close();
});

test('a claim that is refused binds nothing; a bind that fails after a claim releases it', async () => {
  const made: Server[] = [];
  const make = (): Server => {
    const s = createServer();
    made.push(s);
    return s;
  };
  const refused: Claim = () => Promise.reject(Object.assign(new Error('listen EADDRINUSE: address already in use'), { code: 'EADDRINUSE' }));
  await assert.rejects(portListener(make, 3, 0, refused).listen(8080, IP), { code: 'EADDRINUSE' });
  assert.ok(made.every((s) => !s.listening));
  // the claimed port is held by another process, without SO_REUSEPORT: the bind fails
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, IP, r));
  const port = (holder.address() as AddressInfo).port;
  let released = 0;
  const l = portListener(make, 3, 0, async () => ({ port, release: () => void released++ }));
  try {
    await assert.rejects(l.listen(port, IP), { code: 'EADDRINUSE' });
    assert.equal(released, 1);
    assert.ok(made.every((s) => !s.listening));
  } finally {
    holder.close();
  }
});

test("one process's claim probes a fixed port exclusively and leaves port 0 to the first socket", async () => {
  const holder = createServer();
  await new Promise<void>((r) => holder.listen(0, IP, r));
  const port = (holder.address() as AddressInfo).port;
  try {
    await assert.rejects(probeClaim(port, IP), { code: 'EADDRINUSE' });
  } finally {
    holder.close();
  }
  assert.equal((await probeClaim(0, IP)).port, 0);
  const free = await freePort();
  assert.equal((await probeClaim(free, IP)).port, free);
});

test("the primary's claims: one probe however many workers ask at once, the others join; a port no worker holds any more is probed again", async () => {
  const probes: number[] = [];
  let gate: (() => void) | null = null;
  const claims = createPortClaims(async (port) => {
    probes.push(port);
    await new Promise<void>((r) => (gate = r));
    return port === 0 ? 40000 : port;
  });
  const asked = [1, 2, 3].map((w) => claims.claim(w, 8080, IP));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(probes, [8080], 'one probe for three workers');
  gate!();
  assert.deepEqual(await Promise.all(asked), [8080, 8080, 8080]);
  // a replacement joins while others hold it: no probe (it would find their sockets)
  assert.equal(await claims.claim(4, 8080, IP), 8080);
  assert.deepEqual(probes, [8080]);
  claims.release(1, 8080, IP);
  claims.forget(2);
  claims.release(3, 8080, IP);
  claims.forget(4);
  const again = claims.claim(5, 8080, IP);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(probes, [8080, 8080], 'no holder left: probed again');
  gate!();
  await again;
  // port 0: the port the probe got, held under that number
  const zero = claims.claim(0, 0, IP);
  await new Promise((r) => setImmediate(r));
  gate!();
  assert.equal(await zero, 40000);
  assert.equal(await claims.claim(1, 40000, IP), 40000);
  assert.deepEqual(probes, [8080, 8080, 0]);
  // another host is another port
  const other = claims.claim(1, 8080, '127.0.0.2');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(probes, [8080, 8080, 0, 8080]);
  gate!();
  await other;
});

test("the primary's claims: a refused probe is not passed on: a worker that waited on it probes for itself", async () => {
  let calls = 0;
  const claims = createPortClaims(async () => {
    calls++;
    await new Promise((r) => setImmediate(r));
    throw Object.assign(new Error('listen EADDRINUSE: address already in use 127.0.0.1:8080'), { code: 'EADDRINUSE' });
  });
  const results = await Promise.allSettled([claims.claim(1, 8080, IP), claims.claim(2, 8080, IP)]);
  assert.deepEqual(results.map((r) => r.status), ['rejected', 'rejected']);
  assert.equal(calls, 2, 'the waiting worker probes for itself once the first probe failed');
});
