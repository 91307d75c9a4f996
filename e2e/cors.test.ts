/**
 * CORS against the real process: preflights answered 204 (curl, HTTP/1.1 and HTTP/2) without
 * reaching the pod, the headers on proxied responses (replacing the pod's) and on Portico's own
 * answers (404 of a CORS host, 503 without endpoints, 413, 308), allowed and refused origins,
 * wildcard subdomains, credentials, Vary: Origin, and a bad origin list that sends nothing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { connect as h2connect, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { cert, secretYaml } from './lib/certs.js';
import { get, type Reply } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';
const DEFAULT_METHODS = 'GET, PUT, POST, DELETE, PATCH, OPTIONS';
const DEFAULT_HEADERS = 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization';
const APP = 'https://app.example.org';

const on = (name: string, service: string, annotations: Record<string, string>, extra: Record<string, unknown> = {}, path = '/'): string =>
  ingressYaml(name, [{ host: `${name}.test`, paths: [{ path, service }] }], extra, { [`${N}enable-cors`]: 'true', ...annotations });

function manifests(pod: Pod, own: number): Record<string, string> {
  return {
    'cors.yaml': join(
      on('star', 'pod', { [`${N}ssl-redirect`]: 'false' }, { tls: [{ hosts: ['star.test'], secretName: 'star-tls' }] }),
      on('list', 'pod', { [`${N}cors-allow-origin`]: `${APP}, http://*.example.com:8080`, [`${N}cors-allow-methods`]: 'GET, POST', [`${N}cors-expose-headers`]: 'X-Total', [`${N}cors-allow-credentials`]: 'false', [`${N}cors-max-age`]: '600' }),
      on('own', 'own', { [`${N}cors-allow-origin`]: APP }),
      on('api', 'pod', { [`${N}cors-allow-origin`]: APP }, {}, '/api'),
      on('down', 'empty', {}),
      on('small', 'pod', { [`${N}proxy-body-size`]: '10' }),
      on('secure', 'pod', { [`${N}force-ssl-redirect`]: 'true', [`${N}cors-allow-origin`]: APP }),
      on('badorigin', 'pod', { [`${N}cors-allow-origin`]: `${APP}/path` }),
      on('locked', 'pod', { [`${N}enable-modsecurity`]: 'true' }),
      serviceYaml('pod', [pod]),
      serviceYaml('own', [{ ip: '127.0.170.2', port: own }]),
      serviceYaml('empty', []),
      secretYaml('star-tls', cert(['star.test'])),
    ),
  };
}

const preflight = (origin: string, method = 'PUT'): Record<string, string> => ({ origin, 'access-control-request-method': method, 'access-control-request-headers': 'content-type' });
const cors = (r: Reply): Record<string, string | string[] | undefined> => Object.fromEntries(Object.entries(r.headers).filter(([k]) => k.startsWith('access-control-')));

describe('CORS', () => {
  let pod: Pod;
  let own: Server;
  let p: Portico;
  const options = (): number => pod.seen.filter((s) => s.method === 'OPTIONS').length;

  before(async () => {
    pod = await startPod('127.0.170.1', 'pod');
    // a pod that sends CORS headers of its own
    own = createServer((_req, res) => {
      res.writeHead(200, { 'access-control-allow-origin': 'https://pod.example', 'access-control-allow-methods': 'GET', vary: 'Accept-Encoding', 'content-length': '3' });
      res.end('own');
    });
    await new Promise<void>((r) => own.listen(0, '127.0.170.2', () => r()));
    p = await startPortico(manifests(pod, (own.address() as AddressInfo).port));
  });
  after(async () => {
    await p.stop();
    await pod.close();
    await new Promise((r) => own.close(r));
  });

  test('enable-cors alone: "*" with the defaults on a proxied response, even without an Origin, and no Vary', async () => {
    const r = await get(p.httpPort, '/', { host: 'star.test' });
    assert.equal(r.status, 200);
    assert.deepEqual(cors(r), {
      'access-control-allow-origin': '*',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': DEFAULT_METHODS,
      'access-control-allow-headers': DEFAULT_HEADERS,
      'access-control-max-age': '1728000',
    });
    assert.equal(r.headers.vary, undefined);
  });

  test('a preflight is answered 204 by Portico, as curl sees it on the wire, and never reaches the pod', () => {
    const before = options();
    const r = spawnSync('curl', ['-si', '--max-time', '5', '-X', 'OPTIONS', '-H', 'Host: star.test', '-H', `Origin: ${APP}`, '-H', 'Access-Control-Request-Method: PUT', `http://127.0.0.1:${p.httpPort}/anything`], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const [head = '', body = ''] = r.stdout.split('\r\n\r\n');
    const lines = head.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 204 No Content');
    const h = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 2)]));
    assert.equal(h.get('content-length'), '0');
    assert.equal(h.has('content-type'), false, 'a 204 has no type (nginx drops the one the template sets)');
    assert.equal(h.get('access-control-allow-origin'), '*');
    assert.equal(h.get('access-control-allow-methods'), DEFAULT_METHODS);
    assert.equal(h.get('access-control-max-age'), '1728000');
    assert.equal(body, '');
    assert.equal(options(), before);
  });

  test('a preflight over HTTP/2 is answered 204 too', async () => {
    const s = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: 'star.test', rejectUnauthorized: false });
    try {
      const h = await new Promise<IncomingHttpHeaders>((resolve, reject) => {
        const r = s.request({ ':method': 'OPTIONS', ':path': '/', ':authority': 'star.test', ...preflight(APP) });
        r.on('response', (x) => {
          r.resume();
          resolve(x);
        });
        r.on('error', reject);
        r.end();
      });
      assert.equal(h[':status'], 204);
      assert.equal(h['access-control-allow-origin'], '*');
      assert.equal(h['access-control-allow-credentials'], 'true');
    } finally {
      s.destroy();
    }
  });

  test('an OPTIONS request that is not a preflight reaches the pod, with the CORS headers on its answer', async () => {
    const before = options();
    const r = await get(p.httpPort, '/', { host: 'star.test', method: 'OPTIONS', headers: { origin: APP } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(options(), before + 1);
  });

  test('an allowed origin is echoed, with the annotations\' headers, no credentials when off, and Vary: Origin', async () => {
    const r = await get(p.httpPort, '/', { host: 'list.test', headers: { origin: APP } });
    assert.equal(r.status, 200);
    assert.deepEqual(cors(r), {
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST',
      'access-control-allow-headers': DEFAULT_HEADERS,
      'access-control-expose-headers': 'X-Total',
      'access-control-max-age': '600',
    });
    assert.equal(r.headers.vary, 'Origin');
  });

  test('a wildcard subdomain allows exactly one label, on its port', async () => {
    for (const [origin, allowed] of [
      ['http://shop.example.com:8080', true],
      ['http://a-b.example.com:8080', true],
      ['http://a.b.example.com:8080', false],
      ['http://example.com:8080', false],
      ['http://shop.example.com', false],
      ['https://shop.example.com:8080', false],
    ] as const) {
      const r = await get(p.httpPort, '/', { host: 'list.test', headers: { origin } });
      assert.equal(r.status, 200);
      assert.equal(r.headers['access-control-allow-origin'], allowed ? origin : undefined, origin);
      assert.equal(r.headers.vary, 'Origin', origin);
    }
  });

  test('an origin not allowed gets no CORS header (the response is served), and its preflight goes to the pod', async () => {
    const r = await get(p.httpPort, '/', { host: 'list.test', headers: { origin: 'https://evil.example' } });
    assert.equal(r.status, 200);
    assert.deepEqual(cors(r), {});
    assert.equal(r.headers.vary, 'Origin', 'the answer depends on the Origin: caches must know');
    const before = options();
    const pre = await get(p.httpPort, '/', { host: 'list.test', method: 'OPTIONS', headers: preflight('https://evil.example') });
    assert.equal(pre.status, 200, 'the pod answered');
    assert.deepEqual(cors(pre), {});
    assert.equal(options(), before + 1);
    const ok = await get(p.httpPort, '/', { host: 'list.test', method: 'OPTIONS', headers: preflight('http://shop.example.com:8080') });
    assert.equal(ok.status, 204);
    assert.equal(ok.headers['access-control-allow-origin'], 'http://shop.example.com:8080');
    assert.equal(options(), before + 1);
  });

  test("the pod's own CORS headers are replaced, its Vary kept next to Portico's", async () => {
    const r = await get(p.httpPort, '/', { host: 'own.test', headers: { origin: APP } });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'own');
    assert.equal(r.headers['access-control-allow-origin'], APP);
    assert.equal(r.headers['access-control-allow-methods'], DEFAULT_METHODS);
    const vary = r.rawHeaders.filter((_, i) => i % 2 === 1 && r.rawHeaders[i - 1]!.toLowerCase() === 'vary');
    assert.deepEqual(vary, ['Accept-Encoding', 'Origin']);
    const refused = await get(p.httpPort, '/', { host: 'own.test', headers: { origin: 'https://evil.example' } });
    assert.equal(refused.headers['access-control-allow-origin'], 'https://pod.example', "an origin Portico does not allow leaves the pod's answer alone");
  });

  test("Portico's 404 for a CORS host's unmatched path carries the headers, and a preflight there is answered", async () => {
    const r = await get(p.httpPort, '/other', { host: 'api.test', headers: { origin: APP } });
    assert.equal(r.status, 404);
    assert.match(r.body, /404 Not Found/);
    assert.equal(r.headers['access-control-allow-origin'], APP);
    assert.equal(r.headers.vary, 'Origin');
    const pre = await get(p.httpPort, '/other', { host: 'api.test', method: 'OPTIONS', headers: preflight(APP) });
    assert.equal(pre.status, 204);
    assert.equal((await get(p.httpPort, '/api/x', { host: 'api.test', headers: { origin: APP } })).headers['access-control-allow-origin'], APP);
    const unknown = await get(p.httpPort, '/', { host: 'nobody.test', headers: { origin: APP } });
    assert.equal(unknown.status, 404);
    assert.deepEqual(cors(unknown), {}, 'a host no Ingress names has no CORS (ingress-nginx: its default server)');
  });

  test("Portico's 503 (no endpoints), 413 (body too large) and 308 (HTTPS redirect) carry the headers", async () => {
    const down = await get(p.httpPort, '/', { host: 'down.test', headers: { origin: APP } });
    assert.equal(down.status, 503);
    assert.equal(down.headers['access-control-allow-origin'], '*');
    const big = await get(p.httpPort, '/', { host: 'small.test', method: 'POST', headers: { origin: APP }, body: 'x'.repeat(100), agent: false });
    assert.equal(big.status, 413);
    assert.equal(big.headers['access-control-allow-origin'], '*');
    const moved = await get(p.httpPort, '/x', { host: 'secure.test', headers: { origin: APP } });
    assert.equal(moved.status, 308);
    assert.equal(moved.headers['access-control-allow-origin'], APP);
    assert.equal(moved.headers.vary, 'Origin');
  });

  test('a cors-allow-origin ingress-nginx would replace by "*" sends no CORS headers; preflights reach the pod', async () => {
    const r = await get(p.httpPort, '/', { host: 'badorigin.test', headers: { origin: APP } });
    assert.equal(r.status, 200);
    assert.deepEqual(cors(r), {});
    const before = options();
    assert.equal((await get(p.httpPort, '/', { host: 'badorigin.test', method: 'OPTIONS', headers: preflight(APP) })).status, 200);
    assert.equal(options(), before + 1);
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => d.includes('default/badorigin: InvalidAnnotation: nginx.ingress.kubernetes.io/cors-allow-origin') && d.includes('no CORS headers are sent')), debug.diagnostics.join('\n'));
  });

  test('a refused Ingress answers 503 without CORS headers, preflights included', async () => {
    for (const method of ['GET', 'OPTIONS']) {
      const r = await get(p.httpPort, '/', { host: 'locked.test', method, headers: preflight(APP) });
      assert.equal(r.status, 503);
      assert.deepEqual(cors(r), {});
    }
  });
});
