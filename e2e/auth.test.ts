/**
 * Authentication against the real binary: basic auth with curl -u (every hash scheme, Secret
 * changes and removal), and external auth against a real auth service on loopback that counts
 * its calls and records what it receives (sign-in redirects, copied headers, cookies, the cache,
 * and 500 for a timeout, an unreachable service or an unexpected status). Addresses 127.0.150.x.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as joinPath } from 'node:path';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startApiDouble, type ApiDouble } from './apiserver/double.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { ingressYaml, join, opaque, serviceYaml } from './lib/manifests.js';
import { ingressObject, serviceWithSlices, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';
const run = promisify(execFile);

/** Made with Apache's htpasswd and openssl passwd (see src/proxy/auth/crypt.test.ts). */
const HTPASSWD = [
  'alice:$2y$05$ZrbMXcxqLXPGKdHk/0ro5OD4aYA4OCj7kq6MuC8x8GPGPUQocU9Ie', // p@ss:word
  'bob:$apr1$MriUlIAF$spp5YkNCjoV1JrZxOJkcj/', // hunter2
  'carol:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=', // hunter2
  'erin:$6$XaqhCgU1QnxfKiwj$MPU2xAUqO86OyBqf0SWUyjuVUgeTKVLcfFjTAnvP.nHIrcXSuhTUOrvAp5QzqTmRftZ2HZTHVEronBmgTYPRH1', // é pw
  'frank:$1$saltsalt$ZtMHw9WXbhe3pPBkCQJKC1', // secret pw
  'dave:$5$G9XY3kElp3Q04GEv$NC6VU6XNiLMo2pFjBBvo//dPJfAvF6Z0rtSJwS7Ch83', // x
  'mallory:{PLAIN}letmein',
].join('\n');

/** curl's answer: status, headers (lower-case names, repeated ones joined by a newline), body. */
interface Curl {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

async function curl(port: number, path: string, host: string, args: string[] = []): Promise<Curl> {
  const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-D', '-', '-H', `Host: ${host}`, ...args, `http://127.0.0.1:${port}${path}`], { encoding: 'utf8' });
  const split = stdout.indexOf('\r\n\r\n');
  const head = stdout.slice(0, split).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of head.slice(1)) {
    const c = line.indexOf(':');
    const k = line.slice(0, c).toLowerCase();
    const v = line.slice(c + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}\n${v}`;
  }
  return { status: Number(head[0]?.split(' ')[1]), headers, body: stdout.slice(split + 4) };
}

interface Call {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** An auth service: its answer depends on the path it is asked on. */
function startAuth(ip: string): Promise<{ server: Server; port: number; calls: Call[] }> {
  const calls: Call[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      calls.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString() });
      const path = (req.url ?? '').split('?')[0];
      switch (path) {
        case '/allow':
          res.writeHead(200, [['x-auth-request-user', 'alice'], ['x-other', 'not copied'], ['set-cookie', 'session=abc; Path=/'], ['set-cookie', 'theme=dark']].flat());
          return res.end('ok');
        case '/basic': {
          const ok = req.headers.authorization === `Basic ${Buffer.from('user:password').toString('base64')}`;
          res.writeHead(ok ? 200 : 401, ok ? { 'x-auth-request-user': 'user' } : { 'www-authenticate': 'Basic realm="auth service"' });
          return res.end();
        }
        case '/deny':
          res.writeHead(401, { 'www-authenticate': 'Bearer realm="sso"', 'set-cookie': 'tried=1' });
          return res.end('denied');
        case '/forbid':
          return res.writeHead(403).end();
        case '/error':
          return res.writeHead(500).end();
        case '/moved':
          return res.writeHead(302, { location: '/elsewhere' }).end();
        case '/hang':
          return; // never answers
        default:
          return res.writeHead(404).end();
      }
    });
  });
  return new Promise((resolve) => server.listen(0, ip, () => resolve({ server, port: (server.address() as AddressInfo).port, calls })));
}

/** A port that refuses connections: bound, then closed. */
async function closedPort(ip: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, ip, () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('basic authentication (curl -u against the real binary)', () => {
  let pod: Pod;
  let p: Portico;
  const secrets = (auth: string): string => join(opaque('htpasswd', { auth }), opaque('users', { zoe: '$apr1$xy$/B3YgSzvOD97f3u9mtaL4/' }));
  before(async () => {
    pod = await startPod('127.0.150.1', 'pod');
    p = await startPortico({
      'ing.yaml': join(
        ingressYaml('basic', [{ host: 'basic.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd', [`${N}auth-realm`]: 'Team area' }),
        ingressYaml('map', [{ host: 'map.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'default/users', [`${N}auth-secret-type`]: 'auth-map' }),
        ingressYaml('digest', [{ host: 'digest.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}auth-type`]: 'digest', [`${N}auth-secret`]: 'htpasswd' }),
        serviceYaml('pod', [pod]),
      ),
      'secrets.yaml': secrets(HTPASSWD),
    });
  });
  after(async () => {
    await p?.stop();
    await pod?.close();
  });

  test('no credentials, or wrong ones: 401 with WWW-Authenticate: Basic realm, nothing reaches the pod', async () => {
    const before = pod.seen.length;
    const none = await curl(p.httpPort, '/', 'basic.test');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="Team area"');
    assert.match(none.body, /401 Authorization Required/);
    for (const cred of ['alice:wrong', 'bob:hunter3', 'nobody:hunter2', 'mallory:letmein', 'carol:']) {
      const r = await curl(p.httpPort, '/', 'basic.test', ['-u', cred]);
      assert.equal(r.status, 401, cred);
      assert.equal(r.headers['www-authenticate'], 'Basic realm="Team area"');
    }
    for (const header of ['Basic', 'Basic !!!', `Basic ${Buffer.from('alice').toString('base64')}`, 'Bearer abc']) {
      assert.equal((await curl(p.httpPort, '/', 'basic.test', ['-H', `Authorization: ${header}`])).status, 401, header);
    }
    assert.equal(pod.seen.length, before);
  });

  test('every hash scheme lets its user in, and the pod never sees the Authorization header', async () => {
    for (const cred of ['alice:p@ss:word', 'bob:hunter2', 'carol:hunter2', 'erin:é pw', 'frank:secret pw', 'dave:x']) {
      const r = await curl(p.httpPort, '/private', 'basic.test', ['-u', cred]);
      assert.equal(r.status, 200, cred);
      const seen = pod.seen.at(-1);
      assert.equal(seen?.url, '/private');
      assert.equal(seen?.headers.authorization, undefined, cred);
    }
    // the verified header is cached: the same credentials again are served as well
    assert.equal((await curl(p.httpPort, '/', 'basic.test', ['-u', 'alice:p@ss:word'])).status, 200);
  });

  test('auth-map: one key per user', async () => {
    assert.equal((await curl(p.httpPort, '/', 'map.test', ['-u', 'zoe:a very long password that exceeds sixty-four bytes in length for sure ok'])).status, 200);
    assert.equal((await curl(p.httpPort, '/', 'map.test', ['-u', 'zoe:nope'])).status, 401);
    assert.equal((await curl(p.httpPort, '/', 'map.test')).headers['www-authenticate'], 'Basic realm=""');
  });

  test('auth-type: digest is not supported: 503, never served open', async () => {
    const r = await curl(p.httpPort, '/', 'digest.test', ['-u', 'carol:hunter2']);
    assert.equal(r.status, 503);
    assert.match(r.body, /auth-type/);
  });

  test('the {PLAIN} user is reported on the Secret line', async () => {
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => /Secret default\/htpasswd: InvalidSecret: auth line 7: user "mallory" has a \{PLAIN\} password/.test(d)), debug.diagnostics.join('\n'));
  });

  test('a changed Secret takes effect at once, and a removed one refuses the route (503), never opens it', async () => {
    p.write('secrets.yaml', secrets('carol:$apr1$MriUlIAF$spp5YkNCjoV1JrZxOJkcj/\n'));
    await eventually(async () => (await curl(p.httpPort, '/', 'basic.test', ['-u', 'bob:hunter2'])).status === 401, { ms: 5000, what: 'bob removed' });
    assert.equal((await curl(p.httpPort, '/', 'basic.test', ['-u', 'carol:hunter2'])).status, 200);
    p.write('secrets.yaml', opaque('users', { zoe: '$apr1$xy$/B3YgSzvOD97f3u9mtaL4/' }));
    await eventually(async () => (await curl(p.httpPort, '/', 'basic.test', ['-u', 'carol:hunter2'])).status === 503, { ms: 5000, what: 'route refused' });
    const r = await curl(p.httpPort, '/', 'basic.test');
    assert.equal(r.status, 503);
    assert.match(r.body, /auth-secret/);
  });
});

describe('external authentication (a real auth service on loopback)', () => {
  let pod: Pod;
  let auth: Awaited<ReturnType<typeof startAuth>>;
  let local: Awaited<ReturnType<typeof startAuth>>;
  let p: Portico;

  before(async () => {
    pod = await startPod('127.0.151.1', 'pod');
    auth = await startAuth('127.0.151.2');
    // a name the system resolver knows, as a Service's cluster DNS name is to a pod
    local = await startAuth('127.0.0.1');
    const refused = await closedPort('127.0.151.3');
    const base = `http://127.0.151.2:${auth.port}`;
    const on = (name: string, annotations: Record<string, string>, service = 'pod'): string => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path: '/', service }] }], {}, annotations);
    p = await startPortico({
      'ing.yaml': join(
        on('allow', { [`${N}auth-url`]: `${base}/allow?for=$host$request_uri`, [`${N}auth-response-headers`]: 'X-Auth-Request-User, X-Auth-Request-Email' }),
        on('signin', { [`${N}auth-url`]: `${base}/basic`, [`${N}auth-signin`]: 'http://$host/auth/start' }),
        on('param', { [`${N}auth-url`]: `${base}/basic`, [`${N}auth-signin`]: 'https://login.example.com/start?x=1', [`${N}auth-signin-redirect-param`]: 'orig' }),
        on('deny', { [`${N}auth-url`]: `${base}/deny` }),
        on('forbid', { [`${N}auth-url`]: `${base}/forbid`, [`${N}auth-signin`]: 'http://$host/auth/start' }),
        on('error', { [`${N}auth-url`]: `${base}/error` }),
        on('moved', { [`${N}auth-url`]: `${base}/moved` }),
        on('timeout', { [`${N}auth-url`]: `${base}/hang`, [`${N}proxy-read-timeout`]: '1' }),
        on('unreachable', { [`${N}auth-url`]: `http://127.0.151.3:${refused}/check` }),
        on('cached', { [`${N}auth-url`]: `${base}/allow?cached`, [`${N}auth-cache-key`]: '$http_x_team', [`${N}auth-cache-duration`]: '200 1m' }),
        on('method', { [`${N}auth-url`]: `${base}/allow?method`, [`${N}auth-method`]: 'POST', [`${N}auth-request-redirect`]: '/after' }),
        on('cookie', { [`${N}auth-url`]: `${base}/allow?cookie` }, 'empty'),
        on('always', { [`${N}auth-url`]: `${base}/allow?always`, [`${N}auth-always-set-cookie`]: 'true' }, 'empty'),
        on('dns', { [`${N}auth-url`]: `http://localhost:${local.port}/allow` }),
        on('bad', { [`${N}auth-url`]: `${base}/allow?x=$remote_port` }),
        serviceYaml('pod', [pod]),
        serviceYaml('empty', []),
      ),
    });
  });
  after(async () => {
    await p?.stop();
    await pod?.close();
    // Portico's pooled connections to the auth services must not keep them (and this file) alive
    for (const s of [auth?.server, local?.server]) {
      s?.closeAllConnections();
      await new Promise((r) => (s === undefined ? r(undefined) : s.close(r)));
    }
  });

  const lastCall = (path: string): Call | undefined => auth.calls.filter((c) => c.url.startsWith(path)).at(-1);

  test('2xx lets the request on; the sub-request carries what auth_request sends, without the body', async () => {
    const n = auth.calls.length;
    const r = await curl(p.httpPort, '/app/page?a=1', 'allow.test', ['-X', 'POST', '--data', 'the body', '-H', 'Cookie: sid=42', '-H', 'X-Forwarded-Host: evil.test', '-H', 'X-Original-URL: http://evil.test/', '-H', 'X-Auth-Request-Email: spoofed@evil.test']);
    assert.equal(r.status, 200);
    assert.equal(auth.calls.length, n + 1);
    const c = lastCall('/allow?for=') as Call;
    assert.equal(c.method, 'GET');
    assert.equal(c.url, '/allow?for=allow.test/app/page?a=1');
    assert.equal(c.body, '');
    assert.equal(c.headers['content-length'], undefined);
    assert.equal(c.headers.host, '127.0.151.2');
    assert.equal(c.headers['x-original-url'], 'http://allow.test/app/page?a=1');
    assert.equal(c.headers['x-original-method'], 'POST');
    assert.equal(c.headers['x-auth-request-redirect'], '/app/page?a=1');
    assert.equal(c.headers['x-real-ip'], '127.0.0.1');
    assert.equal(c.headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(c.headers['x-forwarded-proto'], 'http');
    assert.equal(c.headers['x-forwarded-host'], 'allow.test');
    assert.equal(c.headers['x-forwarded-uri'], '/app/page?a=1');
    assert.equal(c.headers.cookie, 'sid=42');
    assert.equal(c.headers['x-original-uri'], undefined);
    // the pod gets the request and its body, the copied header, and not the client's spoofed one
    const seen = pod.seen.at(-1);
    assert.equal(seen?.body.toString(), 'the body');
    assert.equal(seen?.headers['x-auth-request-user'], 'alice');
    assert.equal(seen?.headers['x-auth-request-email'], undefined);
    assert.equal(seen?.headers['x-other'], undefined);
    // the auth service's cookies reach the client with the 200
    assert.equal(r.headers['set-cookie'], 'session=abc; Path=/\ntheme=dark');
  });

  test('the auth service decides per request: credentials it accepts pass, others get the sign-in redirect', async () => {
    assert.equal((await curl(p.httpPort, '/', 'signin.test', ['-u', 'user:password'])).status, 200);
    const r = await curl(p.httpPort, '/?a=b&c=d', 'signin.test');
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://signin.test/auth/start?rd=http://signin.test%2F%3Fa%3Db%26c%3Dd');
    const q = await curl(p.httpPort, '/p/%7Eq?a=b&c', 'param.test');
    assert.equal(q.status, 302);
    assert.equal(q.headers.location, 'https://login.example.com/start?x=1&orig=http://param.test%2Fp%2F%257Eq%3Fa%3Db%26c');
  });

  test('401 and 403 pass through (with the service\'s WWW-Authenticate); a 403 is never redirected', async () => {
    const d = await curl(p.httpPort, '/', 'deny.test');
    assert.equal(d.status, 401);
    assert.equal(d.headers['www-authenticate'], 'Bearer realm="sso"');
    assert.equal(d.headers['set-cookie'], undefined);
    const f = await curl(p.httpPort, '/', 'forbid.test');
    assert.equal(f.status, 403);
    assert.equal(f.headers.location, undefined);
  });

  test('anything else is a 500, never a pass: a 5xx, a 3xx, a timeout, an unreachable service', async () => {
    const before = pod.seen.length;
    for (const host of ['error.test', 'moved.test', 'unreachable.test']) {
      const r = await curl(p.httpPort, '/', host);
      assert.equal(r.status, 500, host);
      assert.match(r.body, /authentication service/);
    }
    const t0 = Date.now();
    const t = await curl(p.httpPort, '/', 'timeout.test');
    assert.equal(t.status, 500);
    assert.match(t.body, /did not answer in time/);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
    assert.equal(pod.seen.length, before);
  });

  test('auth-cache-key: one call per key while the decision is kept', async () => {
    const calls = (): number => auth.calls.filter((c) => c.url === '/allow?cached').length;
    const n = calls();
    for (let i = 0; i < 3; i++) assert.equal((await curl(p.httpPort, `/${i}`, 'cached.test', ['-H', 'X-Team: red'])).status, 200);
    assert.equal(calls(), n + 1);
    assert.equal((await curl(p.httpPort, '/', 'cached.test', ['-H', 'X-Team: blue'])).status, 200);
    assert.equal(calls(), n + 2);
    // a cached decision still copies the service's cookies
    assert.equal((await curl(p.httpPort, '/', 'cached.test', ['-H', 'X-Team: blue'])).headers['set-cookie'], 'session=abc; Path=/\ntheme=dark');
    assert.equal(calls(), n + 2);
  });

  test('auth-method and auth-request-redirect', async () => {
    assert.equal((await curl(p.httpPort, '/m?x=1', 'method.test')).status, 200);
    const c = lastCall('/allow?method') as Call;
    assert.equal(c.method, 'POST');
    assert.equal(c.headers['x-original-uri'], '/m?x=1');
    assert.equal(c.headers['x-scheme'], 'http');
    assert.equal(c.headers['x-auth-request-redirect'], '/after');
  });

  test('the auth cookie is added to 2xx/3xx answers only, unless auth-always-set-cookie', async () => {
    const plain = await curl(p.httpPort, '/', 'cookie.test');
    assert.equal(plain.status, 503);
    assert.equal(plain.headers['set-cookie'], undefined);
    const always = await curl(p.httpPort, '/', 'always.test');
    assert.equal(always.status, 503);
    assert.equal(always.headers['set-cookie'], 'session=abc; Path=/\ntheme=dark');
  });

  test('a host name in auth-url resolves through the system resolver', async () => {
    const n = local.calls.length;
    assert.equal((await curl(p.httpPort, '/', 'dns.test')).status, 200);
    assert.equal(local.calls.length, n + 1);
    assert.equal(local.calls.at(-1)?.headers.host, 'localhost');
  });

  test('an unknown nginx variable refuses the Ingress: 503, the auth service never asked', async () => {
    const n = auth.calls.length;
    const r = await curl(p.httpPort, '/', 'bad.test');
    assert.equal(r.status, 503);
    assert.equal(auth.calls.length, n);
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => /Ingress default\/bad: InvalidAnnotation: nginx\.ingress\.kubernetes\.io\/auth-url: \$remote_port is not a variable/.test(d)), debug.diagnostics.join('\n'));
  });

  test('over HTTP/2 too: the same decisions', async () => {
    const ok = await run('curl', ['-sS', '-k', '--http2', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', '--resolve', `allow.test:${p.httpsPort}:127.0.0.1`, `https://allow.test:${p.httpsPort}/`], { encoding: 'utf8' });
    assert.equal(ok.stdout, '200 2');
    const no = await run('curl', ['-sS', '-k', '--http2', '-o', '/dev/null', '-w', '%{http_code} %{http_version}', '--resolve', `deny.test:${p.httpsPort}:127.0.0.1`, `https://deny.test:${p.httpsPort}/`], { encoding: 'utf8' });
    assert.equal(no.stdout, '401 2');
  });
});

describe('basic authentication in Kubernetes mode (the API-server double)', () => {
  let api: ApiDouble;
  let pod: Pod;
  let p: Portico;
  const secret = (auth: string): Obj => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'htpasswd', namespace: 'default' }, type: 'Opaque', data: { auth: Buffer.from(auth).toString('base64') } });

  before(async () => {
    api = await startApiDouble({ ip: '127.0.152.9' });
    pod = await startPod('127.0.152.1', 'pod');
    for (const o of serviceWithSlices('pod', [pod])) api.apply(o);
    api.apply(secret('carol:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=\n'));
    // a Secret of another type with the same layout is never read
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'token', namespace: 'default' }, type: 'kubernetes.io/service-account-token', data: { auth: Buffer.from('carol:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=').toString('base64') } });
    api.apply(ingressObject('basic', [{ host: 'basic.test', paths: [{ path: '/', service: 'pod' }] }], { ingressClassName: 'portico' }, { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd' }));
    api.apply(ingressObject('token', [{ host: 'token.test', paths: [{ path: '/', service: 'pod' }] }], { ingressClassName: 'portico' }, { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'token' }));
    const kc = api.kubeconfig(joinPath(mkdtempSync(joinPath(tmpdir(), 'portico-auth-')), 'kubeconfig'), undefined, 'ingress-system');
    p = await startPortico(null, ['--kubeconfig', kc], { env: { POD_NAME: 'portico-auth', POD_NAMESPACE: 'ingress-system' } });
  });
  after(async () => {
    await p?.stop();
    await api?.close();
    await pod?.close();
  });

  test('an Opaque htpasswd Secret is watched: its users get in, others get 401', async () => {
    await eventually(async () => (await curl(p.httpPort, '/', 'basic.test', ['-u', 'carol:hunter2'])).status === 200, { ms: 10_000, what: 'carol let in' });
    assert.equal((await curl(p.httpPort, '/', 'basic.test', ['-u', 'carol:nope'])).status, 401);
    assert.equal((await curl(p.httpPort, '/', 'token.test', ['-u', 'carol:hunter2'])).status, 503);
  });

  test('a changed Secret takes effect at once; a deleted one refuses the route (503), and a new one serves again', async () => {
    api.apply(secret('bob:$apr1$MriUlIAF$spp5YkNCjoV1JrZxOJkcj/\n'));
    await eventually(async () => (await curl(p.httpPort, '/', 'basic.test', ['-u', 'carol:hunter2'])).status === 401, { ms: 5000, what: 'carol removed' });
    assert.equal((await curl(p.httpPort, '/', 'basic.test', ['-u', 'bob:hunter2'])).status, 200);
    api.remove('Secret', 'default', 'htpasswd');
    await eventually(async () => (await curl(p.httpPort, '/', 'basic.test', ['-u', 'bob:hunter2'])).status === 503, { ms: 5000, what: 'route refused' });
    assert.equal((await curl(p.httpPort, '/', 'basic.test')).status, 503);
    api.apply(secret('carol:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=\n'));
    await eventually(async () => (await curl(p.httpPort, '/', 'basic.test', ['-u', 'carol:hunter2'])).status === 200, { ms: 5000, what: 'served again' });
  });
});
