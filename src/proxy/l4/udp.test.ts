/** A UDP service on real loopback sockets: a flow per client address, replies returned, the flow table bounded (least recently active evicted), idle flows closed, draining, no endpoints. */
import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { after, before, describe, test } from 'node:test';
import type { Backend, RouteTable } from '../../model/types.js';
import { EMPTY_TABLE } from '../../model/types.js';
import { createBalancer } from '../balance.js';
import { createEndpointState } from '../endpoints.js';
import { createEndpointStats } from '../stats.js';
import { compileL4 } from './targets.js';
import type { Session } from './tcp.js';
import { createUdpService, type UdpService } from './udp.js';

async function bound(): Promise<UdpSocket> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  return s;
}

/** Sends `msg` from `from` and waits for one reply (null after `ms`). */
function ask(from: UdpSocket, port: number, msg: string, ms = 500): Promise<string | null> {
  return new Promise((resolve) => {
    const onMessage = (m: Buffer): void => {
      clearTimeout(t);
      resolve(m.toString());
    };
    const t = setTimeout(() => {
      from.off('message', onMessage);
      resolve(null);
    }, ms);
    from.once('message', onMessage);
    from.send(msg, port, '127.0.0.1');
  });
}

describe('UDP service', () => {
  let pod: UdpSocket;
  const senders = new Set<number>();

  before(async () => {
    pod = await bound();
    pod.on('message', (m, r) => {
      senders.add(r.port);
      pod.send(`pod:${m.toString()}`, r.port, r.address);
    });
  });
  after(() => pod.close());

  async function service(o: { maxFlows?: number; idle?: number; endpoints?: boolean } = {}) {
    const backend: Backend = { id: 'default/dns:53+udp', namespace: 'default', service: 'dns', port: '53', protocol: 'UDP', endpoints: o.endpoints === false ? [] : [{ ip: '127.0.0.1', port: pod.address().port, terminating: false }] };
    const table: RouteTable = { ...EMPTY_TABLE, backends: new Map([[backend.id, backend]]) };
    const target = compileL4({ source: { kind: 'ConfigMap', namespace: 'ingress', name: 'udp' }, backends: [{ backend: backend.id, weight: 1 }] }, table, 'udp/1', 'UDP', createEndpointState(), null);
    const causes: string[] = [];
    const sessions = new Set<Session>();
    const stats = createEndpointStats();
    const svc: UdpService = createUdpService({ port: 0, host: '127.0.0.1', target: () => target, balancer: createBalancer(), stats, idleTimeout: o.idle ?? 10_000, ...(o.maxFlows !== undefined ? { maxFlows: o.maxFlows } : {}), sessions, recordError: (_t, _b, c) => void causes.push(c), onError: () => {} });
    const port = await svc.listen();
    return { svc, port, causes, sessions };
  }

  test('a flow per client address: its datagrams go out through one socket, replies come back to the client', async () => {
    const s = await service();
    const [a, b] = await Promise.all([bound(), bound()]);
    try {
      senders.clear();
      for (let i = 0; i < 3; i++) assert.equal(await ask(a, s.port, `a${i}`), `pod:a${i}`);
      assert.equal(await ask(b, s.port, 'b'), 'pod:b');
      assert.equal(senders.size, 2, 'one socket towards the pod per client');
      assert.equal(s.svc.size(), 2);
      assert.equal(s.sessions.size, 2, 'flows are sessions: endpoint removal and draining find them');
    } finally {
      a.close();
      b.close();
      s.svc.close();
    }
  });

  test('the flow table is bounded: a new client evicts the least recently active flow', async () => {
    const s = await service({ maxFlows: 2 });
    const [a, b, c] = await Promise.all([bound(), bound(), bound()]);
    try {
      await ask(a, s.port, '1');
      await ask(b, s.port, '2');
      await ask(a, s.port, '3'); // a is now the most recent: b goes first
      assert.equal(await ask(c, s.port, '4'), 'pod:4');
      assert.equal(s.svc.size(), 2);
      assert.deepEqual(s.causes, ['flow_evicted']);
      assert.equal(await ask(a, s.port, '5'), 'pod:5', "a's flow was kept");
      assert.equal(s.causes.length, 1);
    } finally {
      a.close();
      b.close();
      c.close();
      s.svc.close();
    }
  });

  test('an idle flow is closed and forgotten; the next datagram opens a new one', async () => {
    const s = await service({ idle: 150 });
    const a = await bound();
    try {
      await ask(a, s.port, 'x');
      assert.equal(s.svc.size(), 1);
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(s.svc.size(), 0);
      assert.equal(s.sessions.size, 0);
      assert.equal(await ask(a, s.port, 'y'), 'pod:y');
    } finally {
      a.close();
      s.svc.close();
    }
  });

  test('draining: existing flows go on, new clients get none; no endpoints: dropped and counted', async () => {
    const s = await service();
    const [a, b] = await Promise.all([bound(), bound()]);
    try {
      await ask(a, s.port, 'x');
      s.svc.startDraining();
      assert.equal(await ask(a, s.port, 'still'), 'pod:still');
      assert.equal(await ask(b, s.port, 'new', 200), null);
      assert.deepEqual(s.causes, ['draining']);
    } finally {
      a.close();
      b.close();
      s.svc.close();
    }
    const empty = await service({ endpoints: false });
    const c = await bound();
    try {
      assert.equal(await ask(c, empty.port, 'x', 200), null);
      assert.deepEqual(empty.causes, ['no_endpoints']);
    } finally {
      c.close();
      empty.svc.close();
    }
  });
});
