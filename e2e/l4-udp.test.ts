/**
 * UDP services end to end (standalone mode): ingress-nginx's udp-services ConfigMap in the
 * manifests directory, the real binary, real datagram sockets. Many clients at once, a flow per
 * client address that sticks to one pod, idle expiry, an endpoint change, ConfigMap changes,
 * metrics, SIGTERM; TCP and UDP services with --workers; and the Gateway API's UDPRoute.
 * Addresses: 127.0.211.0/24.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { endpointsOf, freePort, startTcpEcho, startUdpEcho, tcpExchange, udpClient, type UdpPod } from './lib/l4.js';
import { sleep } from './lib/load.js';
import { yaml } from './lib/manifests.js';
import { configMap, gateway, gatewayClass, serviceWithPorts, sliceWithPorts, udpRoute, type Obj } from './lib/objects.js';
import { startPortico, type Portico } from './lib/portico.js';

const HOST = '127.0.211.1';
const CLIENT = '127.0.211.250';
const PORTS = [{ name: 'dns', port: 53, protocol: 'UDP' as const }];
/** The dns Service with these pods, one slice each (they listen on different ports). */
const dnsService = (pods: readonly UdpPod[]): Obj[] => [serviceWithPorts('dns', 'default', PORTS), ...pods.map((x) => sliceWithPorts(`dns-${x.name}`, 'dns', [x.ip], [{ name: 'dns', port: x.port, protocol: 'UDP' }]))];
const UDP_ID = 'default/dns:53+udp';

describe('UDP services (--udp-services-configmap)', () => {
  let p: Portico;
  let u1: UdpPod;
  let u2: UdpPod;
  let port: number;
  const clients: { close(): void }[] = [];

  const client = async (): Promise<Awaited<ReturnType<typeof udpClient>>> => {
    const c = await udpClient(CLIENT);
    clients.push(c);
    return c;
  };
  const setPods = async (pods: readonly UdpPod[]): Promise<void> => {
    p.write('svc.yaml', yaml(dnsService(pods)));
    const want = pods.map((x) => `${x.ip}:${x.port}`).sort();
    await eventually(async () => JSON.stringify(await endpointsOf(p.adminPort, UDP_ID)) === JSON.stringify(want), { what: `endpoints ${want.join(', ')}` });
  };
  const setServices = async (data: Record<string, string>, listeners: number): Promise<void> => {
    p.write('udp.yaml', yaml([configMap('udp-services', 'ingress', data)]));
    await eventually(async () => ((JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { l4?: { listeners: string[] } }).l4?.listeners.length ?? 0) === listeners, { what: `${listeners} listeners` });
  };
  /** Who answered (`u1`/`u2`), or null without an answer. */
  const who = (reply: string | null): string | null => (reply === null ? null : (reply.split(':')[0] ?? null));

  before(async () => {
    [u1, u2] = await Promise.all([startUdpEcho('127.0.211.11', 'u1'), startUdpEcho('127.0.211.12', 'u2')]);
    port = await freePort(HOST);
    p = await startPortico(
      { 'udp.yaml': yaml([configMap('udp-services', 'ingress', { [port]: 'default/dns:53' })]), 'svc.yaml': yaml(dnsService([u1, u2])) },
      ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--udp-services-configmap', 'ingress/udp-services', '--proxy-stream-timeout', '2s', '--shutdown-timeout', '1s'],
    );
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `udp/${port}`);
  });

  after(async () => {
    for (const c of clients) c.close();
    await p?.stop();
    u1?.close();
    u2?.close();
  });

  test('50 clients at once each get their own replies, each from the one pod its flow was given; both pods take flows', async () => {
    const cs = await Promise.all(Array.from({ length: 50 }, () => client()));
    const results = await Promise.all(
      cs.map(async (c, i) => {
        const answers: (string | null)[] = [];
        for (let k = 0; k < 5; k++) answers.push(await c.ask(port, HOST, `c${i}-${k}`));
        return answers;
      }),
    );
    const pods = new Set<string>();
    for (const [i, answers] of results.entries()) {
      const from = who(answers[0] ?? null);
      assert.ok(from !== null, `client ${i} got an answer`);
      pods.add(from);
      assert.deepEqual(answers, [0, 1, 2, 3, 4].map((k) => `${from}:c${i}-${k}`), `client ${i}: every reply, from one pod`);
    }
    assert.deepEqual([...pods].sort(), ['u1', 'u2']);
  });

  test('a flow idle for --proxy-stream-timeout is closed; a busy one is not; the next datagram starts a new flow', async () => {
    const c = await client();
    const first = who(await c.ask(port, HOST, 'one'));
    assert.ok(first !== null);
    const pod = first === 'u1' ? u1 : u2;
    const senders = (): Set<string> => new Set(pod.senders.keys());
    const before = senders();
    // busy for twice the timeout: one flow, one sender at the pod
    for (let i = 0; i < 8; i++) {
      assert.equal(who(await c.ask(port, HOST, `busy${i}`)), first);
      await sleep(350);
    }
    assert.equal(senders().size, before.size, 'the busy flow kept its socket');
    // idle past the timeout: the flow is gone (the active-flows gauge says so), and the next datagram opens another
    await eventually(async () => {
      const m = (await get(p.adminPort, '/metrics')).body;
      return /portico_udp_active_flows\{[^}]*\} 0/.test(m) && !/portico_udp_active_flows\{[^}]*\} [1-9]/.test(m);
    }, { ms: 8000, what: 'no active flow' });
    const again = who(await c.ask(port, HOST, 'two'));
    assert.ok(again !== null);
    const all = new Set([...u1.senders.keys(), ...u2.senders.keys()]);
    assert.ok(all.size > before.size, 'a new flow (a new socket towards the pods)');
  });

  test("an endpoint change keeps flows to listed endpoints; a removed endpoint's flows end after --shutdown-timeout and the client moves on", async () => {
    try {
      const cs = await Promise.all(Array.from({ length: 6 }, () => client()));
      const firsts = await Promise.all(cs.map((c, i) => c.ask(port, HOST, `start${i}`)));
      const on2 = cs.filter((_, i) => who(firsts[i] ?? null) === 'u2');
      const on1 = cs.filter((_, i) => who(firsts[i] ?? null) === 'u1');
      assert.ok(on1.length > 0 && on2.length > 0, 'flows on both pods');
      await setPods([u1]);
      // within the shutdown timeout: each flow keeps its pod
      for (const c of on2) assert.equal(who(await c.ask(port, HOST, 'still')), 'u2');
      for (const c of on1) assert.equal(who(await c.ask(port, HOST, 'still')), 'u1');
      // after it: u2's flows were closed; their clients' next datagrams go to u1
      await sleep(1300);
      for (const c of on2) assert.equal(who(await c.ask(port, HOST, 'moved')), 'u1');
      for (const c of on1) assert.equal(who(await c.ask(port, HOST, 'kept')), 'u1');
    } finally {
      await setPods([u1, u2]);
    }
  });

  test('a ConfigMap change opens and closes UDP listeners; a Service without endpoints drops datagrams and counts them', async () => {
    const [added, empty] = await Promise.all([freePort(HOST), freePort(HOST)]);
    try {
      p.write('empty.yaml', yaml([serviceWithPorts('empty', 'default', PORTS)]));
      await setServices({ [port]: 'default/dns:53', [added]: 'default/dns:dns', [empty]: 'default/empty:53' }, 3);
      const c = await client();
      await eventually(async () => (await c.ask(added, HOST, 'new', 300)) !== null, { what: 'the added listener answers' });
      assert.equal(await c.ask(empty, HOST, 'nobody', 500), null);
      await setServices({ [port]: 'default/dns:53' }, 1);
      await eventually(async () => (await c.ask(added, HOST, 'gone', 300)) === null, { what: 'the removed listener is closed' });
      const metrics = (await get(p.adminPort, '/metrics')).body;
      assert.match(metrics, /portico_udp_errors_total\{namespace="default",service="empty",listener="udp\/\d+",cause="no_endpoints"\} [1-9]/);
    } finally {
      await setServices({ [port]: 'default/dns:53' }, 1);
    }
  });

  test('metrics per Service and listener: flows, datagrams and bytes both ways, flow durations; /debug/backends lists the listener', async () => {
    const c = await client();
    assert.ok((await c.ask(port, HOST, 'metrics')) !== null);
    const text = (await get(p.adminPort, '/metrics')).body;
    const labels = `namespace="default",service="dns",listener="udp/${port}"`;
    assert.match(text, new RegExp(`portico_udp_flows_total\\{${labels}\\} [1-9]`));
    assert.match(text, new RegExp(`portico_udp_datagrams_total\\{${labels},direction="received"\\} [1-9]`));
    assert.match(text, new RegExp(`portico_udp_datagrams_total\\{${labels},direction="sent"\\} [1-9]`));
    assert.match(text, new RegExp(`portico_udp_bytes_total\\{${labels},direction="received"\\} [1-9]`));
    assert.match(text, new RegExp(`portico_udp_flow_duration_seconds_count\\{${labels}\\} [1-9]`));
    assert.doesNotMatch(text, /portico_udp_[a-z_]+\{[^}]*127\.0\.211\.250/, 'no client address in a label');
    const view = JSON.parse((await get(p.adminPort, '/debug/backends')).body) as { backends: { id: string; protocol: string }[]; l4: unknown[] };
    assert.equal(view.backends.find((b) => b.id === UDP_ID)?.protocol, 'UDP');
    assert.deepEqual(view.l4, [{ protocol: 'UDP', port, backend: UDP_ID, source: `ConfigMap ingress/udp-services entry ${port}` }]);
  });
});

test('SIGTERM: a UDP flow is served through the grace period and the shutdown timeout; new clients get no flow once draining', async () => {
  const pod = await startUdpEcho('127.0.211.21', 'drain');
  const port = await freePort(HOST);
  const p = await startPortico(
    { 'udp.yaml': yaml([configMap('udp', 'ingress', { [port]: 'default/dns:53' }), ...dnsService([pod])]) },
    ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--udp-services-configmap', 'ingress/udp', '--shutdown-timeout', '1s'],
    { grace: '500ms' },
  );
  const old = await udpClient(CLIENT);
  const fresh = await udpClient(CLIENT);
  try {
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `udp/${port}`);
    assert.equal(await old.ask(port, HOST, 'before'), 'drain:before');
    const exited = once(p.proc, 'exit');
    p.proc.kill('SIGTERM');
    await p.waitForLog((l) => l.msg === 'draining: /readyz now fails');
    await sleep(700);
    // past the grace period, within the shutdown timeout: the old flow still works, a new client gets nothing
    assert.equal(await old.ask(port, HOST, 'during', 1000), 'drain:during');
    assert.equal(await fresh.ask(port, HOST, 'late', 300), null);
    const [code] = (await exited) as [number];
    assert.equal(code, 0);
  } finally {
    old.close();
    fresh.close();
    await p.stop();
    pod.close();
  }
});

test('--udp-max-flows: the least recently active flow gives way to a new client, counted as flow_evicted; its client gets a new flow', async () => {
  const pod = await startUdpEcho('127.0.211.22', 'few');
  const port = await freePort(HOST);
  const p = await startPortico(
    { 'udp.yaml': yaml([configMap('udp', 'ingress', { [port]: 'default/dns:53' }), ...dnsService([pod])]) },
    ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--udp-services-configmap', 'ingress/udp', '--udp-max-flows', '2'],
  );
  const cs = [await udpClient(CLIENT), await udpClient(CLIENT), await udpClient(CLIENT)];
  try {
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `udp/${port}`);
    for (const [i, c] of cs.entries()) assert.equal(await c.ask(port, HOST, `hello ${i}`), `few:hello ${i}`);
    const metrics = (await get(p.adminPort, '/metrics')).body;
    assert.match(metrics, /portico_udp_errors_total\{[^}]*cause="flow_evicted"\} 1\n/);
    assert.match(metrics, /portico_udp_active_flows\{[^}]*\} 2\n/);
    assert.equal(pod.senders.size, 3);
    // the evicted client is served again, on a flow (and a socket towards the pod) of its own
    assert.equal(await cs[0]!.ask(port, HOST, 'again'), 'few:again');
    assert.equal(pod.senders.size, 4);
  } finally {
    for (const c of cs) c.close();
    await p.stop();
    pod.close();
  }
});

test('UDPRoute: a UDP listener of a Gateway forwards datagrams to its route\'s pods; an invalid backendRef\'s share is dropped; the port closes with the route', async () => {
  const [a, b] = await Promise.all([startUdpEcho('127.0.211.41', 'ua'), startUdpEcho('127.0.211.42', 'ub')]);
  const port = await freePort(HOST);
  const routes = (refs: readonly Record<string, unknown>[]): string => yaml([udpRoute('dns', 'default', { parentRefs: [{ name: 'edge', sectionName: 'dns' }], rules: [{ backendRefs: refs }] })]);
  const infra = yaml([gatewayClass(), gateway('edge', 'default', [{ name: 'dns', port, protocol: 'UDP' }]), ...dnsService([a, b])]);
  const p = await startPortico({ 'infra.yaml': infra, 'routes.yaml': routes([{ name: 'dns', port: 53 }]) }, ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1']);
  const cs: { close(): void }[] = [];
  try {
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `udp/${port}`);
    // every client gets its answers, from one pod per client; both pods take clients
    const who = new Set<string>();
    for (let i = 0; i < 12; i++) {
      const c = await udpClient(CLIENT);
      cs.push(c);
      const first = await c.ask(port, HOST, `q${i}`);
      assert.ok(first !== null && first.endsWith(`:q${i}`), `client ${i}: ${first}`);
      const pod = first.split(':')[0]!;
      who.add(pod);
      assert.equal(await c.ask(port, HOST, `again${i}`), `${pod}:again${i}`);
    }
    assert.deepEqual([...who].sort(), ['ua', 'ub']);
    // a backendRef to a Service that does not exist keeps its share: those clients get nothing
    p.write('routes.yaml', routes([{ name: 'dns', port: 53, weight: 1 }, { name: 'missing', port: 53, weight: 1 }]));
    await eventually(async () => /UDPRoute default\/dns/.test((await get(p.adminPort, '/debug/routes')).body) && /invalid/.test((await get(p.adminPort, '/debug/routes')).body), { what: 'the invalid backendRef in the table' });
    const answers = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
      const c = await udpClient(CLIENT);
      cs.push(c);
      return c.ask(port, HOST, `w${i}`, 1000);
    }));
    assert.ok(answers.some((x) => x === null), 'some flows dropped');
    assert.ok(answers.some((x) => x !== null), 'the valid share served');
    assert.match((await get(p.adminPort, '/metrics')).body, new RegExp(`portico_udp_errors_total\\{namespace="default",service="",listener="udp/${port}",cause="rejected"\\} [1-9]`));
    // the route removed: the listener goes away with it
    p.write('routes.yaml', '');
    await p.waitForLog((l) => l.listener === `udp/${port}` && /closed|stopped/.test(String(l.msg)), 10_000);
    const late = await udpClient(CLIENT);
    cs.push(late);
    assert.equal(await late.ask(port, HOST, 'late', 500), null);
  } finally {
    for (const c of cs) c.close();
    await p.stop();
    a.close();
    b.close();
  }
});

test('--workers 2: TCP services on every worker, UDP services on one (a flow stays in one process)', async () => {
  const tcpPod = await startTcpEcho('127.0.211.31', 'tcp');
  const udpPod = await startUdpEcho('127.0.211.32', 'udp');
  const [tport, uport] = await Promise.all([freePort(HOST), freePort(HOST)]);
  const objs = [
    configMap('tcp', 'ingress', { [tport]: 'default/echo:7000' }),
    configMap('udp', 'ingress', { [uport]: 'default/dns:53' }),
    serviceWithPorts('echo', 'default', [{ name: 'echo', port: 7000 }]),
    sliceWithPorts('echo-1', 'echo', [tcpPod.ip], [{ name: 'echo', port: tcpPod.port }]),
    ...dnsService([udpPod]),
  ];
  const p = await startPortico({ 'l4.yaml': yaml(objs) }, ['--workers', '2', '--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--tcp-services-configmap', 'ingress/tcp', '--udp-services-configmap', 'ingress/udp', '--shutdown-timeout', '1s']);
  const cs = await Promise.all(Array.from({ length: 10 }, () => udpClient(CLIENT)));
  try {
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `udp/${uport}`);
    await eventually(() => p.logs.filter((l) => l.msg === 'listening' && l.listener === `tcp/${tport}`).length === 2, { what: 'both workers listen on the TCP port' });
    assert.equal(p.logs.filter((l) => l.msg === 'listening' && l.listener === `udp/${uport}`).length, 1, 'one worker binds the UDP port');
    for (let i = 0; i < 20; i++) assert.equal((await tcpExchange(HOST, tport, `w${i}`)).data.toString(), `w${i}`);
    for (const [i, c] of cs.entries()) for (let k = 0; k < 3; k++) assert.equal(await c.ask(uport, HOST, `${i}.${k}`), `udp:${i}.${k}`);
    // one flow per client: the pod saw exactly one sender per client
    assert.equal(udpPod.senders.size, 10);
    const metrics = (await get(p.adminPort, '/metrics')).body;
    assert.match(metrics, new RegExp(`portico_tcp_connections_total\\{namespace="default",service="echo",listener="tcp/${tport}"\\} 20\\n`), 'connections summed over the workers');
    assert.match(metrics, new RegExp(`portico_udp_flows_total\\{namespace="default",service="dns",listener="udp/${uport}"\\} 10\\n`));
  } finally {
    for (const c of cs) c.close();
    await p.stop();
    await tcpPod.close();
    udpPod.close();
  }
});
