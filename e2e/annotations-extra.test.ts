/**
 * ingress-nginx annotations Portico used to refuse or warn about, against the real binary with
 * real clients: satisfy: any (clients bound to different loopback addresses, curl -u, a real auth
 * service), limit-rate / limit-rate-after (a real download timed), auth-proxy-set-headers (the
 * auth service sees the ConfigMap's headers), ssl-ciphers per host (openssl-free: Node's TLS
 * client offering one cipher), connection-proxy-header (what the pod receives).
 * Addresses 127.0.240.x to 127.0.244.x.
 */
import assert from 'node:assert/strict';
import { createServer, request, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from './lib/eventually.js';
import { getFrom as from } from './lib/http.js';
import { ingressYaml, join, opaque, serviceYaml } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';

const basic = (user: string, password: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

interface Call {
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/** An auth service like httpbun's /basic-auth/user/password (ingress-nginx's satisfy e2e), and /headers that lets everyone in. */
async function startAuth(ip: string): Promise<{ server: Server; port: number; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    calls.push({ url: req.url ?? '', headers: req.headers });
    const path = (req.url ?? '').split('?')[0];
    if (path === '/basic') {
      const ok = req.headers.authorization === basic('user', 'password').authorization;
      res.writeHead(ok ? 200 : 401, ok ? { 'x-auth-request-user': 'user' } : { 'www-authenticate': 'Basic realm="auth service"' });
      res.end();
    } else if (path === '/allow') {
      res.writeHead(200, { 'x-auth-request-user': 'from-auth' }).end();
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  return { server, port: (server.address() as AddressInfo).port, calls };
}

describe('satisfy: any (source ranges, basic and external authentication)', () => {
  let pod: Pod;
  let p: Portico;
  let auth: Awaited<ReturnType<typeof startAuth>>;
  const INSIDE = '127.0.240.10'; // in the allow list 127.0.240.8/29
  const OUTSIDE = '127.0.240.100'; // in no allow list, and in the deny list of deny-or-ext
  before(async () => {
    pod = await startPod('127.0.240.1', 'pod');
    auth = await startAuth('127.0.240.2');
    const url = (path: string): string => `http://127.0.240.2:${auth.port}${path}`;
    const on = (name: string, annotations: Record<string, string>): string => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path: '/', service: 'pod' }] }], {}, annotations);
    const basicAuth = { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd', [`${N}auth-realm`]: 'test basic auth' };
    p = await startPortico({
      'ing.yaml': join(
        on('ip-or-basic', { [`${N}satisfy`]: 'any', [`${N}whitelist-source-range`]: '127.0.240.8/29', ...basicAuth }),
        // ingress-nginx's e2e: valid for basic auth, invalid for the auth service -> 200
        on('basic-or-ext', { [`${N}satisfy`]: 'any', ...basicAuth, [`${N}auth-url`]: url('/basic'), [`${N}auth-signin`]: 'http://$host/auth/start' }),
        on('deny-or-ext', { [`${N}satisfy`]: 'any', [`${N}denylist-source-range`]: OUTSIDE, [`${N}auth-url`]: url('/basic') }),
        on('ip-or-ext', { [`${N}satisfy`]: 'any', [`${N}allowlist-source-range`]: '127.0.240.8/29', [`${N}auth-url`]: url('/allow'), [`${N}auth-response-headers`]: 'X-Auth-Request-User' }),
        on('all', { [`${N}satisfy`]: 'all', [`${N}whitelist-source-range`]: '127.0.240.8/29', ...basicAuth }),
        on('bad', { [`${N}satisfy`]: 'ANY', [`${N}whitelist-source-range`]: '127.0.240.8/29', ...basicAuth }),
        serviceYaml('pod', [pod]),
      ),
      // {SHA} of "pwd"
      'secret.yaml': opaque('htpasswd', { auth: 'uname:{SHA}N/omUzCtg+qoee+x4ttjgIls9jk=\n' }),
    });
  });
  after(async () => {
    await p?.stop();
    await pod?.close();
    await new Promise((r) => auth?.server.close(r));
  });

  test('an allow-listed address gets in without credentials, and the pod gets no Authorization', async () => {
    const before = pod.seen.length;
    const r = await from(INSIDE, p.httpPort, 'ip-or-basic.test', { headers: { authorization: 'Basic d3Jvbmc6d3Jvbmc=' } });
    assert.equal(r.status, 200);
    assert.equal(pod.seen.length, before + 1);
    assert.equal(pod.seen.at(-1)?.headers.authorization, undefined);
  });

  test('another address needs the password: 401 with the realm (401 beats 403), then 200 with it', async () => {
    const before = pod.seen.length;
    const none = await from(OUTSIDE, p.httpPort, 'ip-or-basic.test');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="test basic auth"');
    assert.equal((await from(OUTSIDE, p.httpPort, 'ip-or-basic.test', { headers: basic('uname', 'bad') })).status, 401);
    assert.equal(pod.seen.length, before, 'nothing reached the pod');
    assert.equal((await from(OUTSIDE, p.httpPort, 'ip-or-basic.test', { headers: basic('uname', 'pwd') })).status, 200);
  });

  test("ingress-nginx's e2e: credentials valid for basic auth but not the auth service get in; none get the sign-in 302", async () => {
    assert.equal((await from(OUTSIDE, p.httpPort, 'basic-or-ext.test', { headers: basic('uname', 'pwd') })).status, 200);
    const r = await from(OUTSIDE, p.httpPort, 'basic-or-ext.test', { path: '/?a=b&c=d' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://basic-or-ext.test/auth/start?rd=http://basic-or-ext.test%2F%3Fa%3Db%26c%3Dd');
    assert.equal((await from(OUTSIDE, p.httpPort, 'basic-or-ext.test', { headers: basic('user', 'password') })).status, 200, 'the auth service lets in what basic auth does not');
  });

  test('a deny list alone admits nobody: outside it the auth service decides; in it, valid credentials still get in (as nginx)', async () => {
    assert.equal((await from(INSIDE, p.httpPort, 'deny-or-ext.test')).status, 401);
    assert.equal((await from(INSIDE, p.httpPort, 'deny-or-ext.test', { headers: basic('user', 'password') })).status, 200);
    assert.equal((await from(OUTSIDE, p.httpPort, 'deny-or-ext.test', { headers: basic('user', 'password') })).status, 200);
    assert.equal((await from(OUTSIDE, p.httpPort, 'deny-or-ext.test')).status, 401);
  });

  test('admitted by address, the auth service is not asked, and a client-sent auth-response header never reaches the pod', async () => {
    const calls = auth.calls.length;
    assert.equal((await from(INSIDE, p.httpPort, 'ip-or-ext.test', { headers: { 'x-auth-request-user': 'admin' } })).status, 200);
    assert.equal(auth.calls.length, calls);
    assert.equal(pod.seen.at(-1)?.headers['x-auth-request-user'], undefined);
    assert.equal((await from(OUTSIDE, p.httpPort, 'ip-or-ext.test', { headers: { 'x-auth-request-user': 'admin' } })).status, 200);
    assert.equal(pod.seen.at(-1)?.headers['x-auth-request-user'], 'from-auth');
  });

  test('satisfy: all (the default) needs both; a bad value refuses the Ingress (503), never serves it open', async () => {
    assert.equal((await from(INSIDE, p.httpPort, 'all.test')).status, 401);
    assert.equal((await from(OUTSIDE, p.httpPort, 'all.test', { headers: basic('uname', 'pwd') })).status, 403);
    assert.equal((await from(INSIDE, p.httpPort, 'all.test', { headers: basic('uname', 'pwd') })).status, 200);
    const bad = await from(INSIDE, p.httpPort, 'bad.test', { headers: basic('uname', 'pwd') });
    assert.equal(bad.status, 503);
    assert.match(bad.body, /satisfy/);
  });
});

describe('limit-rate and limit-rate-after (KiB/s and KiB of each response body)', () => {
  let p: Portico;
  let pod: Server;
  const BODY = Buffer.alloc(96 * 1024, 'x');
  before(async () => {
    // a pod that answers 96 KiB at once, with a length or chunked
    pod = createServer((req, res) => {
      if (req.url === '/chunked') {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.write(BODY.subarray(0, 50_000));
        res.end(BODY.subarray(50_000));
      } else res.writeHead(200, { 'content-length': String(BODY.length) }).end(BODY);
    });
    await new Promise<void>((r) => pod.listen(0, '127.0.241.1', () => r()));
    const endpoint = { ip: '127.0.241.1', port: (pod.address() as AddressInfo).port };
    const on = (name: string, annotations: Record<string, string>): string => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path: '/', service: 'pod' }] }], {}, annotations);
    p = await startPortico({
      'ing.yaml': join(
        on('paced', { [`${N}limit-rate`]: '32' }),
        on('after', { [`${N}limit-rate`]: '32', [`${N}limit-rate-after`]: '64' }),
        on('open', {}),
        on('bad', { [`${N}limit-rate`]: '32k' }),
        serviceYaml('pod', [endpoint]),
      ),
    });
  });
  after(async () => {
    await p?.stop();
    await new Promise((r) => pod?.close(r));
  });

  /** Downloads `path` on `host`: the bytes and the time taken. */
  async function download(host: string, path = '/'): Promise<{ status: number; bytes: number; ms: number }> {
    const t0 = performance.now();
    const r = await from('127.0.241.10', p.httpPort, host, { path });
    return { status: r.status, bytes: Buffer.byteLength(r.body), ms: performance.now() - t0 };
  }

  test('96 KiB at 32 KiB/s: the first second of allowance at once, the rest paced (about 2 s), whole, with a length or chunked', async () => {
    for (const path of ['/', '/chunked']) {
      const d = await download('paced.test', path);
      assert.equal(d.status, 200);
      assert.equal(d.bytes, BODY.length);
      assert.ok(d.ms > 1700 && d.ms < 6000, `${path}: ${d.ms} ms`);
    }
  });

  test('limit-rate-after 64 KiB: only the rest is paced; an unpaced route is fast', async () => {
    const a = await download('after.test');
    assert.equal(a.bytes, BODY.length);
    assert.ok(a.ms < 1500, `after: ${a.ms} ms`);
    const o = await download('open.test');
    assert.ok(o.ms < 1000, `open: ${o.ms} ms`);
  });

  test('per request, as nginx: two HTTP/2 streams on one connection are paced each, not shared', async () => {
    const session = h2connect(`http://127.0.0.1:${p.httpPort}`);
    try {
      const one = (): Promise<number> =>
        new Promise((resolve, reject) => {
          const s = session.request({ ':path': '/', ':authority': 'paced.test' });
          let n = 0;
          s.on('data', (c: Buffer) => (n += c.length));
          s.on('end', () => resolve(n));
          s.on('error', reject);
        });
      const t0 = performance.now();
      const sizes = await Promise.all([one(), one()]);
      const ms = performance.now() - t0;
      assert.deepEqual(sizes, [BODY.length, BODY.length]);
      assert.ok(ms > 1700 && ms < 3900, `both in about 2 s (not 5 s as one shared budget would take): ${ms} ms`);
    } finally {
      session.close();
    }
  });

  test('a client that goes away mid-download frees the route: the next download is served normally', async () => {
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port: p.httpPort, path: '/', agent: false, headers: { host: 'paced.test' } }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
    const d = await download('after.test');
    assert.equal(d.bytes, BODY.length);
  });

  test('a bad value refuses the Ingress (503)', async () => {
    assert.equal((await from('127.0.241.10', p.httpPort, 'bad.test')).status, 503);
  });
});

describe('auth-proxy-set-headers (a ConfigMap of headers for the auth service)', () => {
  let pod: Pod;
  let p: Portico;
  let auth: Awaited<ReturnType<typeof startAuth>>;
  const configMap = (data: Record<string, string>): string => stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'auth-headers', namespace: 'default' }, data });
  before(async () => {
    pod = await startPod('127.0.242.1', 'pod');
    auth = await startAuth('127.0.242.2');
    p = await startPortico({
      'ing.yaml': join(
        ingressYaml('headers', [{ host: 'headers.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}auth-url`]: `http://127.0.242.2:${auth.port}/allow`, [`${N}auth-proxy-set-headers`]: 'default/auth-headers' }),
        serviceYaml('pod', [pod]),
      ),
      // ingress-nginx's e2e ConfigMap, with a variable and an empty value
      'cm.yaml': configMap({ 'My-Custom-Header': '42', 'X-Original-Host': 'seen-as-$host', 'X-Dropped': '' }),
    });
  });
  after(async () => {
    await p?.stop();
    await pod?.close();
    await new Promise((r) => auth?.server.close(r));
  });

  test("the auth service gets the ConfigMap's headers (variables expanded, replacing the client's; an empty one sent not at all); the pod does not", async () => {
    const r = await from('127.0.242.10', p.httpPort, 'headers.test', { headers: { 'my-custom-header': 'from-client', 'x-dropped': 'from-client' } });
    assert.equal(r.status, 200);
    const call = auth.calls.at(-1);
    assert.equal(call?.headers['my-custom-header'], '42');
    assert.equal(call?.headers['x-original-host'], 'seen-as-headers.test');
    assert.equal(call?.headers['x-dropped'], undefined);
    assert.equal(pod.seen.at(-1)?.headers['my-custom-header'], 'from-client', 'the headers are the sub-request\'s only');
  });

  test('a changed ConfigMap applies at once; a removed one refuses the Ingress (503), never serves it without its auth input', async () => {
    p.write('cm.yaml', configMap({ 'My-Custom-Header': '43' }));
    await eventually(async () => {
      await from('127.0.242.10', p.httpPort, 'headers.test');
      return auth.calls.at(-1)?.headers['my-custom-header'] === '43';
    }, { what: 'the new value at the auth service' });
    p.write('cm.yaml', '');
    await eventually(async () => (await from('127.0.242.10', p.httpPort, 'headers.test')).status === 503, { what: '503 once the ConfigMap is gone' });
    const before = auth.calls.length;
    assert.equal((await from('127.0.242.10', p.httpPort, 'headers.test')).status, 503);
    assert.equal(auth.calls.length, before, 'the auth service is not asked');
  });
});
