/**
 * TCP services end to end (standalone mode): ingress-nginx's tcp-services ConfigMap in the
 * manifests directory, the real binary, real sockets. Bytes both ways and half-close, 100
 * connections at once, an endpoint change under load that breaks nothing, a removed endpoint's
 * connections cut after --shutdown-timeout, PROXY protocol in and out, ConfigMap changes opening
 * and closing listeners, bad entries as diagnostics, metrics, /debug/backends and SIGTERM.
 * Addresses: 127.0.210.0/24.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { endpointsOf, freePort, rejected, startTcpEcho, tcpExchange, type TcpPod } from './lib/l4.js';
import { sleep } from './lib/load.js';
import { yaml } from './lib/manifests.js';
import { configMap, serviceWithPorts, sliceWithPorts, type Obj } from './lib/objects.js';
import { CLI, startPortico, type Portico } from './lib/portico.js';

const HOST = '127.0.210.1';
const PORTS = [{ name: 'echo', port: 7000 }];
const echoService = (ips: readonly string[], podPort: number): Obj[] => [serviceWithPorts('echo', 'default', PORTS), sliceWithPorts('echo-1', 'echo', ips, [{ name: 'echo', port: podPort }])];

interface Chatter {
  readonly tag: string;
  /** Lines echoed so far. */
  echoed(): number;
  stop(): Promise<{ tag: string; sent: number; echoed: number; error: string | null }>;
}

const chatters = new Set<Chatter>();

/**
 * A client connection that sends a numbered line (`<tag> line <n>`) every `everyMs` and checks
 * each echo; `stop()` says how it went. The pod sees `tag` as the connection's first word.
 */
function chatter(port: number, tag: string, everyMs = 20): Chatter {
  const s = connect({ host: HOST, port });
  let sent = 0;
  let echoed = '';
  let error: string | null = null;
  s.on('data', (c: Buffer) => (echoed += c.toString()));
  s.on('error', (err) => (error ??= err.message));
  s.on('close', () => (error ??= 'closed'));
  const timer = setInterval(() => {
    if (s.writable) s.write(`${tag} line ${sent++}\n`);
  }, everyMs);
  const lines = (): string[] => echoed.split('\n').filter(Boolean);
  const c: Chatter = {
    tag,
    echoed: () => lines().length,
    async stop() {
      clearInterval(timer);
      chatters.delete(c);
      await sleep(100);
      const got = lines();
      if (!got.every((l, i) => l === `${tag} line ${i}`)) error ??= 'echo out of order';
      s.removeAllListeners('close');
      s.destroy();
      return { tag, sent, echoed: got.length, error };
    },
  };
  chatters.add(c);
  return c;
}

describe('TCP services (--tcp-services-configmap)', () => {
  let p: Portico;
  let a: TcpPod;
  let b: TcpPod;
  let port: number;
  let adminPort: number;
  const ECHO = 'default/echo:7000+tcp';

  const writeServices = (data: Record<string, string>): void => p.write('tcp.yaml', yaml([configMap('tcp-services', 'ingress', data)]));
  const routes = async (): Promise<{ l4?: { listeners: string[] }; diagnostics: string[] }> => JSON.parse((await get(adminPort, '/debug/routes')).body) as { l4?: { listeners: string[] }; diagnostics: string[] };
  const addr = (pod: TcpPod): string => `${pod.ip}:${pod.port}`;
  /** Writes the echo Service with these pods (one slice each: they listen on different ports) and waits until it is live. */
  const setPods = async (pods: readonly TcpPod[]): Promise<void> => {
    p.write('svc.yaml', yaml([serviceWithPorts('echo', 'default', PORTS), ...pods.map((x) => sliceWithPorts(`echo-${x.name}`, 'echo', [x.ip], [{ name: 'echo', port: x.port }]))]));
    const want = pods.map(addr).sort();
    await eventually(async () => JSON.stringify(await endpointsOf(adminPort, ECHO)) === JSON.stringify(want), { what: `endpoints ${want.join(', ')}` });
  };
  /** Writes the TCP services and waits until /debug/routes lists that many listeners. */
  const setServices = async (data: Record<string, string>, listeners: number): Promise<void> => {
    writeServices(data);
    await eventually(async () => (await routes()).l4?.listeners.length === listeners, { what: `${listeners} listeners` });
  };

  before(async () => {
    [a, b] = await Promise.all([startTcpEcho('127.0.210.11', 'a'), startTcpEcho('127.0.210.12', 'b')]);
    port = await freePort(HOST);
    // an explicit admin port: entries naming it are refused
    adminPort = await freePort('127.0.0.1');
    p = await startPortico(
      { 'tcp.yaml': yaml([configMap('tcp-services', 'ingress', { [port]: 'default/echo:7000' })]), 'svc.yaml': yaml(echoService([a.ip], a.port)) },
      ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--admin-port', String(adminPort), '--tcp-services-configmap', 'ingress/tcp-services', '--shutdown-timeout', '1500ms'],
    );
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `tcp/${port}`);
  });

  after(async () => {
    await Promise.all([...chatters].map((c) => c.stop()));
    await p?.stop();
    await Promise.all([a?.close(), b?.close()]);
  });

  test('bytes go both ways unchanged, and a half-close reaches the pod, whose answer still comes back', async () => {
    const payload = randomBytes(1024 * 1024);
    const r = await tcpExchange(HOST, port, payload);
    assert.equal(r.ended, true, 'the pod ended after the client did, and the end came through');
    assert.ok(r.data.equals(payload), `echoed ${r.data.length} of ${payload.length} bytes, in order`);
  });

  test('100 connections at once each get their own bytes back', async () => {
    const results = await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const payload = Buffer.from(`connection ${i} `.repeat(200));
        const r = await tcpExchange(HOST, port, payload);
        return r.data.equals(payload);
      }),
    );
    assert.equal(results.filter(Boolean).length, 100);
  });

  test('an endpoint change under load breaks no connection to an endpoint still listed; a removed one is cut after --shutdown-timeout', async () => {
    try {
      const first = Array.from({ length: 10 }, (_, i) => chatter(port, `first${i}`));
      await eventually(() => first.every((c) => c.echoed() > 0), { what: 'the first connections echo' });
      // a second endpoint joins: every open connection (to a) goes on; new ones are spread over both
      await setPods([a, b]);
      const bBefore = b.connections;
      await eventually(async () => (await tcpExchange(HOST, port, 'who')).data.toString() === 'who' && b.connections > bBefore, { what: 'new connections reach b' });
      await sleep(300);
      for (const r of await Promise.all(first.map((c) => c.stop()))) {
        assert.equal(r.error, null, `${r.tag} was not broken`);
        assert.ok(r.echoed >= 10, `${r.tag}: ${r.echoed} lines echoed`);
      }

      // a leaves: its open connections live on until --shutdown-timeout (1.5 s), then close; b's stay
      const second = Array.from({ length: 4 }, (_, i) => chatter(port, `second${i}`));
      await eventually(() => second.every((c) => c.echoed() > 0), { what: 'the second connections echo' });
      const onA = new Set(a.tags().filter((t) => t.startsWith('second')));
      assert.ok(onA.size > 0 && onA.size < 4, `connections are spread over both pods (${onA.size} of 4 on a)`);
      const t0 = Date.now();
      await setPods([b]);
      await sleep(500);
      assert.equal(a.tags().filter((t) => t.startsWith('second')).length, onA.size, "a's connections are not cut at once");
      await eventually(() => a.sockets.size === 0, { ms: 8000, what: "a's connections closed" });
      const took = Date.now() - t0;
      assert.ok(took >= 1300, `cut after ${took} ms, not before --shutdown-timeout`);
      for (const r of await Promise.all(second.map((c) => c.stop()))) {
        if (onA.has(r.tag)) assert.notEqual(r.error, null, `${r.tag}, to a, was cut`);
        else assert.equal(r.error, null, `${r.tag}, to b, was not cut`);
      }
      // new connections all go to b
      const before = b.connections;
      for (let i = 0; i < 5; i++) assert.equal((await tcpExchange(HOST, port, 'x')).data.toString(), 'x');
      assert.equal(b.connections - before, 5);
    } finally {
      await setPods([a]);
    }
  });

  test('PROXY protocol in and out, as the entry says: decode, encode, both', async () => {
    const [inPort, outPort, bothPort] = await Promise.all([freePort(HOST), freePort(HOST), freePort(HOST)]);
    try {
      await setServices({ [port]: 'default/echo:7000', [inPort]: 'default/echo:7000:PROXY', [outPort]: 'default/echo:7000::PROXY', [bothPort]: 'default/echo:echo:PROXY:PROXY' }, 4);
      await eventually(async () => (await rejected(HOST, bothPort)) !== 'refused', { what: 'the PROXY listeners bound' });
      const lines = a.proxyLines.length;
      // in: the header is read and not passed on
      const header = 'PROXY TCP4 203.0.113.7 127.0.210.1 51000 443\r\n';
      assert.equal((await tcpExchange(HOST, inPort, `${header}hello`)).data.toString(), 'hello');
      // v2 too
      const v2 = Buffer.concat([Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0x00, 0x0c]), Buffer.from([198, 51, 100, 9, 127, 0, 210, 1, 0xc3, 0x50, 0x01, 0xbb]), Buffer.from('v2')]);
      assert.equal((await tcpExchange(HOST, inPort, v2)).data.toString(), 'v2');
      assert.equal(a.proxyLines.length, lines, 'no header sent to the pod');
      // in without a header: closed, nothing reaches the pod
      assert.notEqual(await rejected(HOST, inPort, 'GET / HTTP/1.1\r\n\r\n'), 'answered');
      // out: the pod is told who connected
      const direct = connect({ host: HOST, port: outPort, localAddress: '127.0.210.250' });
      await once(direct, 'connect');
      const from = direct.localPort;
      const echoed: Buffer[] = [];
      direct.on('data', (c: Buffer) => echoed.push(c));
      direct.end('hi');
      await once(direct, 'close');
      assert.equal(Buffer.concat(echoed).toString(), 'hi');
      assert.equal(a.proxyLines.at(-1), `PROXY TCP4 127.0.210.250 ${HOST} ${from} ${outPort}`);
      // both: the client the load balancer named is passed on to the pod
      assert.equal((await tcpExchange(HOST, bothPort, `${header}both`)).data.toString(), 'both');
      assert.equal(a.proxyLines.at(-1), `PROXY TCP4 203.0.113.7 ${HOST} 51000 ${bothPort}`);
    } finally {
      await setServices({ [port]: 'default/echo:7000' }, 1);
    }
  });

  test('a ConfigMap change opens and closes listeners without a restart; bad entries are diagnostics naming them and the rest serve', async () => {
    const [added, taken] = await Promise.all([freePort(HOST), freePort(HOST)]);
    // a port some other process holds: an error in the log, never a crash
    const squatter = createServer().listen(taken, HOST);
    await once(squatter, 'listening');
    try {
      writeServices({ [port]: 'default/echo:7000', [added]: 'default/echo:7000', [taken]: 'default/echo:7000', [String(adminPort)]: 'default/echo:7000', '9x': 'default/echo:7000', '1': 'default/nope:7000', '2': 'default/echo:7000:PROXY:proxy:extra' });
      await eventually(async () => (await rejected(HOST, added)) !== 'refused', { what: 'the added entry listens' });
      assert.equal((await tcpExchange(HOST, added, 'new')).data.toString(), 'new');
      const failed = await p.waitForLog((l) => l.msg === 'cannot listen on a Layer 4 port; trying again' && l.port === taken);
      assert.equal(failed.level, 'error');
      const d = (await routes()).diagnostics.join('\n');
      assert.match(d, new RegExp(`TCP services entry "${adminPort}": port ${adminPort} is Portico's own`));
      assert.match(d, /TCP services entry "9x": "9x" is not a port number/);
      assert.match(d, /TCP services entry "1": Service default\/nope not found/);
      assert.match(d, /TCP services entry "2": .* is not "<namespace>\/<service>:<port>\[:PROXY\]\[:PROXY\]"/);
      // the port comes free: bound on the next try, still without a restart
      await new Promise((r) => squatter.close(r));
      await p.waitForLog((l) => l.msg === 'listening' && l.listener === `tcp/${taken}`, 15_000);
      assert.equal((await tcpExchange(HOST, taken, 'late')).data.toString(), 'late');
      writeServices({ [port]: 'default/echo:7000' });
      await eventually(async () => (await rejected(HOST, added)) === 'refused', { what: 'the removed entry stops listening' });
      assert.equal((await tcpExchange(HOST, port, 'still')).data.toString(), 'still');
    } finally {
      squatter.close();
      await setServices({ [port]: 'default/echo:7000' }, 1);
    }
  });

  test('a Service without endpoints: connections are closed, not left hanging', async () => {
    const empty = await freePort(HOST);
    try {
      p.write('empty.yaml', yaml([serviceWithPorts('empty', 'default', PORTS)]));
      await setServices({ [port]: 'default/echo:7000', [empty]: 'default/empty:7000' }, 2);
      await eventually(async () => (await rejected(HOST, empty)) === 'closed', { what: 'connections to an empty Service closed' });
    } finally {
      await setServices({ [port]: 'default/echo:7000' }, 1);
    }
  });

  test('metrics per Service and listener; /debug/backends and `portico backends` show the listener', async () => {
    await tcpExchange(HOST, port, 'count me');
    const labels = `namespace="default",service="echo",listener="tcp/${port}"`;
    // bytes are counted when a connection closes
    const text = await eventually(async () => {
      const t = (await get(adminPort, '/metrics')).body;
      return new RegExp(`portico_tcp_bytes_total\\{${labels},direction="sent"\\} [1-9]`).test(t) ? t : null;
    }, { what: 'byte counts' });
    assert.match(text, new RegExp(`portico_tcp_connections_total\\{${labels}\\} [1-9]`));
    assert.match(text, new RegExp(`portico_tcp_bytes_total\\{${labels},direction="received"\\} [1-9]`));
    assert.match(text, new RegExp(`portico_tcp_connection_duration_seconds_count\\{${labels}\\} [1-9]`));
    assert.match(text, new RegExp(`portico_tcp_open_connections\\{${labels}\\} 0`));
    assert.match(text, /portico_tcp_errors_total\{namespace="default",service="empty",listener="tcp\/\d+",cause="no_endpoints"\} [1-9]/);
    assert.match(text, /portico_tcp_errors_total\{[^}]*cause="endpoint_removed"\} [1-9]/);
    assert.match(text, /portico_tcp_errors_total\{[^}]*cause="proxy_protocol"\} [1-9]/);
    assert.match(text, /portico_l4_listen_errors_total\{listener="tcp\/\d+"\} [1-9]/);
    // no label carries a client's address or port
    assert.doesNotMatch(text, /portico_tcp_[a-z_]+\{[^}]*(127\.0\.210\.250|203\.0\.113)/);
    const view = JSON.parse((await get(adminPort, '/debug/backends')).body) as { backends: { id: string; protocol: string; endpoints: { address: string; requests: number }[] }[]; l4: { protocol: string; port: number; backend: string; source: string }[] };
    const be = view.backends.find((x) => x.id === ECHO);
    assert.equal(be?.protocol, 'TCP');
    assert.ok((be?.endpoints[0]?.requests ?? 0) > 0, 'connections are counted per endpoint');
    assert.deepEqual(view.l4.find((r) => r.port === port), { protocol: 'TCP', port, backend: ECHO, source: `ConfigMap ingress/tcp-services entry ${port}` });
    const cli = spawnSync(process.execPath, [CLI, 'backends', '--admin-url', `http://127.0.0.1:${adminPort}`], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /default\/echo:7000\+tcp\s+127\.0\.210\.11:\d+\s+ready/);
    assert.match(cli.stdout, new RegExp(`LISTENER\\s+PORT[^\\n]*\\nTCP\\s+${port}\\s+default/echo:7000\\+tcp\\s+ConfigMap ingress/tcp-services entry ${port}`));
  });
});

test('SIGTERM drains TCP listeners: open connections go on through the grace period, new ones are refused after it, the rest cut at --shutdown-timeout', async () => {
  const pod = await startTcpEcho('127.0.210.13', 'drain');
  const port = await freePort(HOST);
  const p = await startPortico(
    { 'tcp.yaml': yaml([configMap('tcp', 'ingress', { [port]: 'default/echo:7000' }), ...echoService([pod.ip], pod.port)]) },
    ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--tcp-services-configmap', 'ingress/tcp', '--shutdown-timeout', '800ms'],
    { grace: '600ms' },
  );
  try {
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `tcp/${port}`);
    const open = chatter(port, 'draining');
    await sleep(100);
    const exited = once(p.proc, 'exit');
    const t0 = Date.now();
    p.proc.kill('SIGTERM');
    await p.waitForLog((l) => l.msg === 'draining: /readyz now fails');
    // the grace period: still accepting, still serving
    assert.equal((await tcpExchange(HOST, port, 'grace')).data.toString(), 'grace');
    await eventually(async () => (await rejected(HOST, port)) === 'refused', { ms: 3000, what: 'new connections refused after the grace period' });
    await eventually(() => pod.sockets.size === 0, { ms: 4000, what: 'the open connection cut at the shutdown timeout' });
    const held = Date.now() - t0;
    assert.ok(held >= 1200, `the open connection lived ${held} ms (grace + shutdown timeout)`);
    const r = await open.stop();
    assert.ok(r.echoed > 10, 'it was served until then');
    const [code] = (await exited) as [number];
    assert.equal(code, 0);
  } finally {
    await p.stop();
    await pod.close();
  }
});
