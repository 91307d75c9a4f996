/**
 * Source ranges and per-client limits against the real binary, with real clients bound to
 * different loopback source addresses (127.0.140.x-127.0.149.x): the address judged is the peer,
 * a trusted proxy's X-Forwarded-For client, or the PROXY protocol's source.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { connect, type AddressInfo } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { sleep } from './lib/load.js';
import { getFrom as from, type Reply } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';

/** Statuses of `n` requests sent at once, each on its own connection, in the order they were sent. */
const burst = (n: number, f: () => Promise<Reply>): Promise<number[]> => Promise.all(Array.from({ length: n }, () => f().then((r) => r.status)));
const count = (statuses: number[], s: number): number => statuses.filter((x) => x === s).length;

/** A pod that holds every request until `release()`; `seen` counts those that reached it. */
async function startGatedPod(ip: string): Promise<{ ip: string; port: number; seen: () => number; release: () => void; close: () => Promise<void> }> {
  let held: (() => void)[] = [];
  let seen = 0;
  const server: Server = createServer((_req, res) => {
    seen++;
    held.push(() => res.writeHead(200, { 'content-type': 'text/plain' }).end('done'));
  });
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  return {
    ip,
    port: (server.address() as AddressInfo).port,
    seen: () => seen,
    release: () => {
      const fns = held;
      held = [];
      for (const f of fns) f();
    },
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

describe('source ranges and limits per client address', () => {
  let pod: Pod;
  let gated: Awaited<ReturnType<typeof startGatedPod>>;
  let p: Portico;
  const on = (name: string, hosts: string[], annotations: Record<string, string>, service = 'pod'): string => ingressYaml(name, hosts.map((host) => ({ host, paths: [{ path: '/', service }] })), {}, annotations);
  before(async () => {
    pod = await startPod('127.0.140.1', 'pod');
    gated = await startGatedPod('127.0.140.2');
    p = await startPortico(
      {
        'a.yaml': join(
          on('allow', ['allow.test'], { [`${N}whitelist-source-range`]: '127.0.140.10/32, 127.0.141.0/24' }),
          on('deny-and-allow', ['both.test'], { [`${N}denylist-source-range`]: '127.0.140.12', [`${N}allowlist-source-range`]: '127.0.140.0/24' }),
          on('bad', ['bad.test'], { [`${N}whitelist-source-range`]: '10.0.0.0/8, foo' }),
          on('xff', ['xff.test'], { [`${N}whitelist-source-range`]: '10.0.0.0/8' }),
          on('rps', ['rps.test', 'rps2.test'], { [`${N}limit-rps`]: '1' }),
          on('exempt', ['exempt.test'], { [`${N}limit-rps`]: '1', [`${N}limit-burst-multiplier`]: '0', [`${N}limit-allowlist`]: '127.0.145.20' }),
          on('conn', ['conn.test'], { [`${N}limit-connections`]: '3' }, 'gated'),
          serviceYaml('pod', [pod]),
          serviceYaml('gated', [gated]),
        ),
      },
      ['--trusted-proxies', '127.0.144.1/32'],
    );
  });
  after(async () => {
    await p.stop();
    await pod.close();
    await gated.close();
  });

  test('an allow list: clients inside it reach the pod, others get 403 and never reach it', async () => {
    assert.equal((await from('127.0.140.10', p.httpPort, 'allow.test')).status, 200);
    assert.equal((await from('127.0.141.77', p.httpPort, 'allow.test')).status, 200);
    const before = pod.seen.length;
    const r = await from('127.0.140.11', p.httpPort, 'allow.test');
    assert.equal(r.status, 403);
    assert.match(r.body, /^403 Forbidden: /);
    assert.equal(pod.seen.length, before);
  });

  test('deny wins over allow; outside the allow list is 403 too', async () => {
    assert.equal((await from('127.0.140.12', p.httpPort, 'both.test')).status, 403);
    assert.equal((await from('127.0.140.13', p.httpPort, 'both.test')).status, 200);
    assert.equal((await from('127.0.142.1', p.httpPort, 'both.test')).status, 403);
  });

  test('a bad CIDR refuses the Ingress (503 naming it), never serving it open', async () => {
    const before = pod.seen.length;
    for (const src of ['127.0.140.10', '127.0.142.2']) {
      const r = await from(src, p.httpPort, 'bad.test');
      assert.equal(r.status, 503);
      assert.match(r.body, /not served: its Ingress's nginx\.ingress\.kubernetes\.io\/whitelist-source-range has an invalid value/);
    }
    assert.equal(pod.seen.length, before);
    const debug = JSON.parse((await from('127.0.0.1', p.adminPort, 'admin', { path: '/debug/routes' })).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => /default\/bad: InvalidAnnotation: nginx\.ingress\.kubernetes\.io\/whitelist-source-range: "foo" is not an IP address or CIDR/.test(d)), debug.diagnostics.join('\n'));
  });

  test('behind a trusted proxy the X-Forwarded-For client is judged; from anyone else the header is not believed', async () => {
    const xff = (client: string, src = '127.0.144.1'): Promise<number> => from(src, p.httpPort, 'xff.test', { headers: { 'x-forwarded-for': client } }).then((r) => r.status);
    assert.equal(await xff('10.1.2.3'), 200);
    assert.equal(await xff('192.168.1.1'), 403);
    assert.equal(await xff('10.1.2.3, 192.168.1.1'), 403, 'the rightmost untrusted entry is the client: a prepended address is not believed');
    assert.equal(await xff('192.168.1.1, 10.1.2.3'), 200);
    assert.equal(await xff('10.1.2.3', '127.0.144.2'), 403, 'an untrusted peer is judged by its own address');
  });

  test('limit-rps 1: eight requests at once give exactly six 200s (1 + burst 5) and two 503s, per client', async () => {
    const got = await burst(8, () => from('127.0.145.10', p.httpPort, 'rps.test'));
    assert.deepEqual([count(got, 200), count(got, 503)], [6, 2], `statuses: ${got.join(',')}`);
    assert.equal((await from('127.0.145.11', p.httpPort, 'rps.test')).status, 200, 'another client has its own counter');
    // the counters are the Ingress's: its other host shares them
    const other = await from('127.0.145.10', p.httpPort, 'rps2.test');
    assert.equal(other.status, 503);
    assert.match(other.body, /^503 Service Unavailable: too many requests/);
    await sleep(1100);
    assert.equal((await from('127.0.145.10', p.httpPort, 'rps2.test')).status, 200, 'one request a second drains');
  });

  test('behind a trusted proxy each X-Forwarded-For client has its own counter', async () => {
    const got = await burst(8, () => from('127.0.144.1', p.httpPort, 'rps.test', { headers: { 'x-forwarded-for': '10.7.0.1' } }));
    assert.deepEqual([count(got, 200), count(got, 503)], [6, 2], `statuses: ${got.join(',')}`);
    assert.equal((await from('127.0.144.1', p.httpPort, 'rps.test', { headers: { 'x-forwarded-for': '10.7.0.2' } })).status, 200);
  });

  test('limit-allowlist clients are never limited', async () => {
    const got = await burst(10, () => from('127.0.145.20', p.httpPort, 'exempt.test'));
    assert.equal(count(got, 200), 10);
    const limited = await burst(3, () => from('127.0.145.21', p.httpPort, 'exempt.test'));
    assert.deepEqual([count(limited, 200), count(limited, 503)], [1, 2], 'burst 0: one request, then 503');
  });

  test('limit-connections 3 with a slow pod: of eight requests in flight exactly three reach it, five get 503; slots come back', async () => {
    const settled: number[] = [];
    const pending = Array.from({ length: 8 }, () => from('127.0.146.10', p.httpPort, 'conn.test').then((r) => (settled.push(r.status), r.status)));
    // the five over the limit are answered while the three are still held by the pod
    await eventually(() => gated.seen() === 3 && settled.length === 5, { what: 'three requests held, five answered' });
    assert.deepEqual(settled, [503, 503, 503, 503, 503]);
    await sleep(100);
    assert.equal(gated.seen(), 3);
    const otherClient = from('127.0.146.11', p.httpPort, 'conn.test').then((r) => r.status);
    await eventually(() => gated.seen() === 4, { what: 'another client is not limited by the first one' });
    gated.release();
    const all = await Promise.all(pending);
    assert.deepEqual([count(all, 200), count(all, 503)], [3, 5], `statuses: ${all.join(',')}`);
    assert.equal(await otherClient, 200);
    // the three slots were given back when their responses ended
    const again = Array.from({ length: 3 }, () => from('127.0.146.10', p.httpPort, 'conn.test').then((r) => r.status));
    await eventually(() => gated.seen() === 7, { what: 'three new requests held by the pod' });
    gated.release();
    assert.deepEqual(await Promise.all(again), [200, 200, 200]);
  });

  test('limit-connections over HTTP/2: each stream in flight counts, and its slot comes back when it ends', async () => {
    const session = h2connect(`https://127.0.0.1:${p.httpsPort}`, {
      createConnection: () => tlsConnect({ socket: connect({ host: '127.0.0.1', port: p.httpsPort, localAddress: '127.0.146.20' }), servername: 'conn.test', rejectUnauthorized: false, ALPNProtocols: ['h2'] }),
    });
    const stream = (): Promise<number> =>
      new Promise((resolve, reject) => {
        const r = session.request({ ':path': '/', ':authority': 'conn.test' });
        // settled once the response has ended: its slot is given back when it ends, not at its head
        let status = 0;
        r.on('response', (h) => (status = Number(h[':status'])));
        r.on('end', () => resolve(status));
        r.on('error', reject);
        r.resume();
        r.end();
      });
    try {
      const base = gated.seen();
      const held = [stream(), stream(), stream()];
      await eventually(() => gated.seen() === base + 3, { what: 'three streams held by the pod' });
      assert.equal(await stream(), 503, 'a fourth stream from the same client');
      gated.release();
      assert.deepEqual(await Promise.all(held), [200, 200, 200]);
      const next = stream();
      await eventually(() => gated.seen() === base + 4, { what: 'a new stream reaches the pod' });
      gated.release();
      assert.equal(await next, 200);
    } finally {
      session.destroy();
    }
  });

  test("a table swap keeps an Ingress's counters while its limits are unchanged, and new limits start afresh", async () => {
    const got = await burst(7, () => from('127.0.147.10', p.httpPort, 'rps.test'));
    assert.equal(count(got, 503), 1);
    // another Ingress appears: a new table, the same limits for rps.test
    p.write('b.yaml', join(on('later', ['later.test'], {}), serviceYaml('pod', [pod])));
    await eventually(async () => (await from('127.0.147.99', p.httpPort, 'later.test')).status === 200, { what: 'the new table' });
    assert.equal((await from('127.0.147.10', p.httpPort, 'rps.test')).status, 503, 'still limited after the swap');
  });
});

describe('global source ranges (flags), the status flags, and the PROXY protocol', () => {
  let pod: Pod;
  let p: Portico;
  let q: Portico;
  before(async () => {
    pod = await startPod('127.0.148.1', 'pod');
    const files = {
      'a.yaml': join(
        ingressYaml('plain', [{ host: 'plain.test', paths: [{ path: '/', service: 'pod' }] }]),
        ingressYaml('own', [{ host: 'own.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}whitelist-source-range`]: '127.0.149.0/24' }),
        ingressYaml('limited', [{ host: 'limited.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}limit-rps`]: '1', [`${N}limit-burst-multiplier`]: '0' }),
        serviceYaml('pod', [pod]),
      ),
    };
    p = await startPortico(files, ['--whitelist-source-range', '127.0.148.0/24', '--denylist-source-range', '127.0.148.66', '--limit-req-status-code', '429']);
    q = await startPortico(files, ['--use-proxy-protocol', '--whitelist-source-range', '10.0.0.0/8']);
  });
  after(async () => {
    await p.stop();
    await q.stop();
    await pod.close();
  });

  test('the global lists apply to every Ingress; an annotation replaces the global list of its kind only', async () => {
    assert.equal((await from('127.0.148.10', p.httpPort, 'plain.test')).status, 200);
    assert.equal((await from('127.0.148.66', p.httpPort, 'plain.test')).status, 403);
    assert.equal((await from('127.0.149.1', p.httpPort, 'plain.test')).status, 403);
    assert.equal((await from('127.0.149.1', p.httpPort, 'own.test')).status, 200);
    assert.equal((await from('127.0.148.10', p.httpPort, 'own.test')).status, 403, 'the annotation replaced the global allow list');
    assert.equal((await from('127.0.149.66', p.httpPort, 'own.test')).status, 200);
  });

  test('--limit-req-status-code answers requests over the limit', async () => {
    const got = await burst(3, () => from('127.0.148.20', p.httpPort, 'limited.test'));
    assert.deepEqual([count(got, 200), count(got, 429)], [1, 2], `statuses: ${got.join(',')}`);
  });

  test('with --use-proxy-protocol the PROXY header source is judged, IPv4-mapped IPv6 as IPv4', async () => {
    const send = (header: string): Promise<string> =>
      new Promise((resolve) => {
        const s = connect({ port: q.httpPort, host: '127.0.0.1', localAddress: '127.0.148.30' }, () => s.write(`${header}\r\nGET / HTTP/1.1\r\nHost: plain.test\r\nConnection: close\r\n\r\n`));
        let text = '';
        s.on('data', (d) => (text += d.toString('latin1')));
        s.on('close', () => resolve(text.slice(0, 12)));
        s.on('error', () => resolve(text.slice(0, 12)));
      });
    assert.equal(await send('PROXY TCP4 10.1.2.3 127.0.0.1 5555 80'), 'HTTP/1.1 200');
    assert.equal(await send('PROXY TCP4 127.0.148.30 127.0.0.1 5555 80'), 'HTTP/1.1 403', 'the peer address is not what is judged');
    assert.equal(await send('PROXY TCP6 ::ffff:10.9.8.7 ::1 5555 80'), 'HTTP/1.1 200');
    assert.equal(await send('PROXY TCP6 2001:db8::1 ::1 5555 80'), 'HTTP/1.1 403');
  });
});

describe('flags', () => {
  test('a bad --whitelist-source-range or limit status is a flag error: exit 2', async () => {
    const { spawnSync } = await import('node:child_process');
    const { CLI } = await import('./lib/portico.js');
    const { NODE_FLAGS } = await import('../src/paths.js');
    for (const args of [['--whitelist-source-range', '10.0.0.0/8,foo'], ['--denylist-source-range', '1.2.3.4/40'], ['--limit-req-status-code', '200'], ['--limit-conn-status-code', 'x']]) {
      const r = spawnSync(process.execPath, [...NODE_FLAGS, CLI, '--manifests', '/nonexistent', ...args], { encoding: 'utf8', timeout: 10_000 });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`invalid value .* for ${args[0]}`));
    }
  });
});
