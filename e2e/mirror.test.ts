/**
 * ingress-nginx's mirror annotations against the real process (test/e2e/annotations/mirror.go's
 * values, and the docs' `https://test.env.com$request_uri` form): every path of the Ingress is
 * copied to mirror-target with its body (unless mirror-request-body: off) and mirror-host as Host;
 * the pod's answer is the client's whatever the mirror does; and the bounds: a mirror that never
 * answers, one that cannot take the body, one that refuses connections. Pods on 127.0.237.x.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { refusedPort, startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';
const on = (name: string, annotations: Record<string, string>, path = '/'): string => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path, service: 'app' }] }], {}, annotations);

/** Counts a Prometheus series (summed over label sets matching `labels`). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('mirror-target, mirror-request-body, mirror-host', () => {
  let app: Pod;
  let shadow: Pod;
  let p: Portico;
  const copiesOf = (target: string): Pod['seen'] => shadow.seen.filter((s) => s.url === target || s.url.endsWith(target));

  before(async () => {
    [app, shadow] = await Promise.all([startPod('127.0.237.1', 'app'), startPod('127.0.237.2', 'shadow')]);
    const m = `http://127.0.237.2:${shadow.port}`;
    p = await startPortico({
      'a.yaml': join(
        on('request-uri', { [`${N}mirror-target`]: `${m}$request_uri` }),
        on('literal', { [`${N}mirror-target`]: `${m}/mirror` }),
        on('no-body', { [`${N}mirror-target`]: `${m}/nobody$request_uri`, [`${N}mirror-request-body`]: 'off', [`${N}mirror-host`]: 'test.env.com' }),
        on('rewritten', { [`${N}mirror-target`]: `${m}/copy$request_uri`, [`${N}rewrite-target`]: '/$2', [`${N}use-regex`]: 'true' }, '/app(/|$)(.*)'),
        serviceYaml('app', [app]),
      ),
    });
  });

  after(async () => {
    await p?.stop();
    await Promise.all([app?.close(), shadow?.close()]);
  });

  test('the copy has the request URI ($request_uri), the method, the body and the target\'s host as Host; the pod\'s answer is the client\'s', async () => {
    const target = `/some/path?id=${randomUUID()}&x=1`;
    const r = await get(p.httpPort, target, { host: 'request-uri.test', method: 'PUT', body: 'the body', headers: { 'content-type': 'text/plain', 'x-client': 'c' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-pod'], 'app');
    const copy = await eventually(() => copiesOf(target)[0], { what: 'the copy' });
    assert.equal(copy.url, target);
    assert.equal(copy.method, 'PUT');
    assert.equal(copy.body.toString(), 'the body');
    assert.equal(copy.headers.host, '127.0.237.2');
    assert.equal(copy.headers['x-client'], 'c');
    assert.equal(copy.headers['x-forwarded-host'], 'request-uri.test');
  });

  test('a target without variables gets its own path and the request\'s query (nginx\'s proxy_pass)', async () => {
    const id = randomUUID();
    assert.equal((await get(p.httpPort, `/anything?id=${id}`, { host: 'literal.test' })).status, 200);
    const copy = await eventually(() => shadow.seen.find((s) => s.url === `/mirror?id=${id}`), { what: 'the copy' });
    assert.equal(copy.method, 'GET');
  });

  test('mirror-request-body: off sends the copy without the body; mirror-host is its Host', async () => {
    const target = `/upload?id=${randomUUID()}`;
    const r = await get(p.httpPort, target, { host: 'no-body.test', method: 'POST', body: 'x'.repeat(10_000) });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { bodyLength: number }).bodyLength, 10_000);
    const copy = await eventually(() => shadow.seen.find((s) => s.url === `/nobody${target}`), { what: 'the copy' });
    assert.equal(copy.method, 'POST');
    assert.equal(copy.body.length, 0);
    // no body: no length of the request's (undici states an empty POST body as Content-Length: 0)
    assert.equal(copy.headers['content-length'] ?? '0', '0');
    assert.equal(copy.headers['transfer-encoding'], undefined);
    assert.equal(copy.headers.host, 'test.env.com');
  });

  test('with rewrite-target, the pod gets the rewritten path and $request_uri is still the client\'s', async () => {
    const id = randomUUID();
    const r = await get(p.httpPort, `/app/users?id=${id}`, { host: 'rewritten.test' });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { url: string }).url, `/users?id=${id}`);
    await eventually(() => shadow.seen.find((s) => s.url === `/copy/app/users?id=${id}`), { what: 'the copy' });
  });

  test('the annotations are served, not refused, and reported nowhere as unsupported', async () => {
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.deepEqual(debug.diagnostics.filter((d) => /mirror/.test(d)), []);
    const metrics = (await get(p.adminPort, '/metrics')).body;
    assert.ok(metric(metrics, 'portico_mirror_requests_total', { result: 'answered' }) >= 4);
  });
});

describe('a mirror never holds the request back (--mirror-max-in-flight 3, --mirror-timeout 1s, --mirror-body-buffer 64k)', () => {
  let app: Pod;
  let hang: Pod;
  let stuck: Server;
  const stuckSockets: Socket[] = [];
  let dead: number;
  let p: Portico;

  before(async () => {
    [app, hang] = await Promise.all([startPod('127.0.237.11', 'app'), startPod('127.0.237.12', 'hang')]);
    hang.behaviour = 'hang';
    // accepts, never reads: a mirror that cannot take a body
    stuck = createServer((s) => {
      s.pause();
      s.on('error', () => {});
      stuckSockets.push(s);
    });
    await new Promise<void>((r) => stuck.listen(0, '127.0.237.13', r));
    dead = await refusedPort('127.0.237.14');
    const port = (stuck.address() as { port: number }).port;
    p = await startPortico(
      {
        'a.yaml': join(
          on('hang', { [`${N}mirror-target`]: `http://127.0.237.12:${hang.port}$request_uri` }),
          on('stuck', { [`${N}mirror-target`]: `http://127.0.237.13:${port}$request_uri`, [`${N}proxy-body-size`]: '0' }),
          on('dead', { [`${N}mirror-target`]: `http://127.0.237.14:${dead}$request_uri` }),
          serviceYaml('app', [app]),
        ),
      },
      ['--mirror-max-in-flight', '3', '--mirror-timeout', '1s', '--mirror-body-buffer', '64k'],
    );
  });

  after(async () => {
    await p?.stop();
    for (const s of stuckSockets) s.destroy();
    stuck?.close();
    await Promise.all([app?.close(), hang?.close()]);
  });

  test('a mirror that never answers: 3 copies in flight, the rest dropped, none waited for; aborted after 1s, then copies go again', async () => {
    const dest = `http://127.0.237.12:${hang.port}`;
    const replies = await Promise.all(
      Array.from({ length: 12 }, async (_, i) => {
        const t0 = Date.now();
        const r = await get(p.httpPort, `/r${i}`, { host: 'hang.test' });
        return { status: r.status, ms: Date.now() - t0 };
      }),
    );
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.ok(r.ms < 900, `a request took ${r.ms} ms`);
    }
    await eventually(() => hang.seen.length === 3, { what: '3 copies' });
    assert.equal(metric((await get(p.adminPort, '/metrics')).body, 'portico_mirror_dropped_total', { destination: dest, reason: 'in_flight' }), 9);
    await eventually(async () => metric((await get(p.adminPort, '/metrics')).body, 'portico_mirror_requests_total', { destination: dest, result: 'timeout' }) === 3, { what: 'the copies timed out' });
    assert.equal(hang.seen.length, 3);
    assert.equal((await get(p.httpPort, '/again', { host: 'hang.test' })).status, 200);
    await eventually(() => hang.seen.length === 4, { what: 'a copy after the timeouts' });
  });

  test('a mirror that cannot take the body is dropped past the buffer; the pod gets all 16 MiB', async () => {
    const body = Buffer.alloc(16 * 1024 * 1024, 'm');
    const r = await get(p.httpPort, '/upload', { host: 'stuck.test', method: 'POST', body });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { bodyLength: number }).bodyLength, body.length);
    await eventually(async () => metric((await get(p.adminPort, '/metrics')).body, 'portico_mirror_dropped_total', { reason: 'body_buffer' }) === 1, { what: 'the copy dropped' });
  });

  test('a mirror that refuses connections: the request is served, the copy counted as failed', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(p.httpPort, `/d${i}`, { host: 'dead.test' })).status, 200);
    await eventually(async () => metric((await get(p.adminPort, '/metrics')).body, 'portico_mirror_requests_total', { destination: `http://127.0.237.14:${dead}`, result: 'failed' }) === 3, { what: 'the failed copies' });
  });
});
