/**
 * Splicing TCP connections on real loopback sockets: connect retried on another endpoint (passive
 * health counts the failure and ejects), the retry limit, no endpoints, PROXY to the pod, bytes
 * read ahead written first, idle timeout, and sessions closed by cause.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Server } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { Backend, RouteTable } from '../../model/types.js';
import { EMPTY_TABLE } from '../../model/types.js';
import { createBalancer } from '../balance.js';
import { createEndpointState } from '../endpoints.js';
import { createEndpointStats, type EndpointStats } from '../stats.js';
import { compileL4, type L4Target } from './targets.js';
import { splice, type Session, type SpliceContext } from './tcp.js';
import { pino } from 'pino';

const listen = async (server: Server): Promise<number> => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
};

describe('splice', () => {
  let echo: Server;
  let echoPort: number;
  let refusedPort: number;
  let refusedPort2: number;
  const seen: string[] = [];

  before(async () => {
    echo = createServer({ allowHalfOpen: true }, (s) => {
      let first = true;
      s.on('data', (d: Buffer) => {
        if (first) seen.push(d.toString());
        first = false;
        s.write(d);
      });
      s.on('end', () => s.end());
      s.on('error', () => {});
    });
    echoPort = await listen(echo);
    const gone = [createServer(), createServer()];
    const ports = await Promise.all(gone.map(listen));
    refusedPort = ports[0] as number;
    refusedPort2 = ports[1] as number;
    for (const g of gone) g.close();
  });
  after(() => echo.close());

  /** A front that splices every connection to `target`, and a context recording causes. */
  async function front(eps: { port: number }[], o: { stats?: EndpointStats; tries?: number; idle?: number; encode?: boolean; head?: string } = {}) {
    const backend: Backend = { id: 'default/svc:80+tcp', namespace: 'default', service: 'svc', port: '80', protocol: 'TCP', endpoints: eps.map((e) => ({ ip: '127.0.0.1', port: e.port, terminating: false })) };
    const table: RouteTable = { ...EMPTY_TABLE, backends: new Map([[backend.id, backend]]) };
    const target: L4Target = compileL4({ source: { kind: 'ConfigMap', namespace: 'ingress', name: 'tcp' }, backends: [{ backend: backend.id, weight: 1 }] }, table, 'tcp/1', 'TCP', createEndpointState(), null, o.encode ?? false);
    const stats = o.stats ?? createEndpointStats();
    const causes: string[] = [];
    const sessions = new Set<Session>();
    const ctx: SpliceContext = { balancer: createBalancer(stats.ejected), stats, connectTimeout: 1000, tries: o.tries ?? 3, idleTimeout: o.idle ?? 10_000, sessions, log: pino({ level: 'silent' }), recordError: (_t, _b, cause) => void causes.push(cause) };
    const server = createServer({ allowHalfOpen: true }, (s) => splice(s, o.head !== undefined ? Buffer.from(o.head) : null, target, ctx, { address: '203.0.113.9', port: 4000 }, { address: '127.0.0.1', port: 1 }));
    const port = await listen(server);
    return { port, causes, sessions, stats, close: () => server.close() };
  }

  /** Sends and half-closes; resolves with what came back, or the error code. */
  const exchange = (port: number, data: string): Promise<string> =>
    new Promise((resolve) => {
      const c = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      let got = '';
      c.on('connect', () => c.end(data));
      c.on('data', (d: Buffer) => (got += d.toString()));
      c.on('end', () => {
        c.end();
        resolve(got);
      });
      c.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code}`));
    });

  test('a refused endpoint is retried on another; passive health counts it and, past max fails, skips it', async () => {
    const stats = createEndpointStats({ maxFails: 1, failTimeout: 60_000 });
    const f = await front([{ port: refusedPort }, { port: echoPort }], { stats });
    try {
      assert.equal(await exchange(f.port, 'one'), 'one');
      assert.deepEqual(f.causes, ['connect_refused']);
      assert.equal(stats.view(`127.0.0.1:${refusedPort}`).errors, 1);
      assert.equal(stats.ejected(`127.0.0.1:${refusedPort}`), true);
      for (let i = 0; i < 4; i++) assert.equal(await exchange(f.port, `x${i}`), `x${i}`);
      assert.deepEqual(f.causes, ['connect_refused'], 'the ejected endpoint is not tried again');
      assert.equal(stats.view(`127.0.0.1:${echoPort}`).requests, 5);
    } finally {
      f.close();
    }
  });

  test('tried up to --proxy-next-upstream-tries endpoints, then the client is reset', async () => {
    // one try: the refused endpoint is not followed by the good one
    const one = await front([{ port: refusedPort }, { port: echoPort }], { tries: 1 });
    try {
      assert.equal(await exchange(one.port, 'x'), 'error ECONNRESET');
      assert.deepEqual(one.causes, ['connect_refused']);
    } finally {
      one.close();
    }
    // two endpoints, both refused, three tries: each tried once
    const f = await front([{ port: refusedPort }, { port: refusedPort2 }], { tries: 3 });
    try {
      assert.equal(await exchange(f.port, 'x'), 'error ECONNRESET');
      assert.deepEqual(f.causes, ['connect_refused', 'connect_refused']);
    } finally {
      f.close();
    }
  });

  test('no endpoints: reset at once, counted as no_endpoints', async () => {
    const f = await front([]);
    try {
      assert.equal(await exchange(f.port, 'x'), 'error ECONNRESET');
      assert.deepEqual(f.causes, ['no_endpoints']);
    } finally {
      f.close();
    }
  });

  test('a PROXY v1 line to the pod names the client, then the bytes read ahead, then the rest', async () => {
    const f = await front([{ port: echoPort }], { encode: true, head: 'HEAD|' });
    try {
      const got = await exchange(f.port, 'body');
      assert.equal(got, 'PROXY TCP4 203.0.113.9 127.0.0.1 4000 1\r\nHEAD|body');
    } finally {
      f.close();
    }
  });

  test('a session idle past the timeout is closed; sessions are registered while open and closed by cause', async () => {
    const f = await front([{ port: echoPort }], { idle: 200 });
    try {
      const c = connect({ host: '127.0.0.1', port: f.port });
      c.on('error', () => {});
      c.write('hi');
      await once(c, 'data');
      assert.equal(f.sessions.size, 1);
      const [s] = [...f.sessions];
      assert.equal(s?.backend, 'default/svc:80+tcp');
      assert.equal(s?.endpoint, `127.0.0.1:${echoPort}`);
      await once(c, 'close');
      assert.deepEqual(f.causes, ['idle']);
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(f.sessions.size, 0);

      const d = connect({ host: '127.0.0.1', port: f.port });
      d.on('error', () => {});
      d.write('again');
      await once(d, 'data');
      [...f.sessions][0]?.close('endpoint_removed');
      await once(d, 'close');
      assert.deepEqual(f.causes, ['idle', 'endpoint_removed']);
    } finally {
      f.close();
    }
  });
});
