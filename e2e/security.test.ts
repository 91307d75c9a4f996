/**
 * The smuggling and edge-hardening corpus (docs/reliability.md): each finding as a smuggling
 * researcher would send it, against the real process, with pods that record the raw bytes they
 * receive. Every test here failed before its fix.
 */
import assert from 'node:assert/strict';
import { connect as h2connect, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { cert, secretYaml } from './lib/certs.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { raw, rawTls, startRawPod, startScriptedPod, statusLines, type RawPod } from './lib/raw.js';
import { startPortico, type Portico } from './lib/portico.js';
import { startWsPod, type WsPod } from './lib/ws.js';

const tlsCert = cert(['c.example', 'u.test']);

/** Requests a pod received, by request line, from its raw bytes. */
const requestLines = (p: RawPod): string[] => p.all().match(/^[A-Z]+ [^\r\n]* HTTP\/1\.1$/gm) ?? [];

describe('request targets: the upstream request line is built only from the origin-form bytes', () => {
  let p: Portico;
  let pub: RawPod;
  let admin: RawPod;
  let other: RawPod;
  before(async () => {
    pub = await startRawPod('127.0.120.1');
    admin = await startRawPod('127.0.120.2');
    other = await startRawPod('127.0.120.3');
    p = await startPortico({
      'a.yaml': join(
        ingressYaml('c', [{ host: 'c.example', paths: [{ path: '/', service: 'pub' }, { path: '/admin', service: 'admin' }] }], { tls: [{ hosts: ['c.example'], secretName: 'c-tls' }] }, { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }),
        ingressYaml('o', [{ host: 'other.example', paths: [{ path: '/', service: 'other' }] }]),
        serviceYaml('pub', [pub]),
        serviceYaml('admin', [admin]),
        serviceYaml('other', [other]),
        secretYaml('c-tls', tlsCert),
      ),
    });
  });
  after(async () => {
    await p.stop();
    await Promise.all([pub.close(), admin.close(), other.close()]);
  });

  const injection = 'http://c.example/public/x%20HTTP/1.1%0d%0aHost:%20c.example%0d%0a%0d%0aGET%20/admin/delete-all%20HTTP/1.1%0d%0aHost:%20c.example%0d%0a%0d%0a';
  const variants: [string, string][] = [
    ['the reported payload (absolute-form, %0d%0a)', injection],
    ['%0a alone', 'http://c.example/public/x%20HTTP/1.1%0aHost:%20c.example%0a%0aGET%20/admin/delete-all%20HTTP/1.1%0a%0a'],
    ['%0d alone', 'http://c.example/public/x%20HTTP/1.1%0dHost:%20c.example%0d%0dGET%20/admin/delete-all'],
    ['%00', 'http://c.example/public/x%00GET%20/admin/delete-all'],
    ['origin-form with dot segments', '/public/../public/x%20HTTP/1.1%0d%0aHost:%20c.example%0d%0a%0d%0aGET%20/admin/delete-all%20HTTP/1.1%0d%0a%0d%0a'],
    ['in the query', 'http://c.example/public/x?q=%0d%0aGET%20/admin/delete-all%20HTTP/1.1%0d%0a%0d%0a'],
  ];
  for (const [name, target] of variants) {
    test(`CR/LF injection through the target: ${name} -> one request, sent as received`, async () => {
      const before = { pub: pub.requests.length, admin: admin.requests.length, lines: requestLines(pub).length };
      const r = await raw(p.httpPort, `GET ${target} HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n`);
      assert.equal(statusLines(r.text).length, 1, 'one response');
      assert.equal(admin.requests.length, before.admin, 'nothing reached /admin');
      assert.equal(pub.requests.length, before.pub + 1, 'exactly one request reached the pod');
      const lines = requestLines(pub);
      assert.equal(lines.length, before.lines + 1, 'one request line on the wire');
      const origin = target.startsWith('http://') ? target.slice('http://c.example'.length) : target;
      assert.equal(lines.at(-1), `GET ${origin} HTTP/1.1`, 'the origin-form bytes, still encoded');
    });
  }

  test('CR/LF injection over HTTPS/1.1 -> one request, sent as received', async () => {
    const before = admin.requests.length;
    const r = await rawTls(p.httpsPort, 'c.example', `GET ${injection} HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n`);
    assert.equal(statusLines(r.text).length, 1);
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.equal(admin.requests.length, before);
    assert.equal(pub.requests.at(-1)?.url, injection.slice('http://c.example'.length));
  });

  test('a shared upstream connection never answers another client with a smuggled response', async () => {
    // the attacker's request, then an ordinary client on the same (pooled) upstream connection
    await raw(p.httpPort, `GET ${injection} HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n`);
    const victim = await get(p.httpPort, '/hello', { host: 'c.example' });
    assert.equal(victim.status, 200);
    assert.equal(victim.body, `pod 127.0.120.1 saw GET /hello\n`);
  });

  test('an absolute-form target is routed by its authority, not the Host header, and forwarded with its query', async () => {
    const r = await raw(p.httpPort, 'GET http://other.example/x?q=1&r=%2F HTTP/1.1\r\nHost: c.example\r\nConnection: close\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    const seen = other.requests.at(-1)!;
    assert.equal(seen.url, '/x?q=1&r=%2F');
    assert.equal(seen.headers.host, 'other.example', 'the authority is the Host upstream');
  });

  test('an absolute-form target without a path is forwarded as /, with its query', async () => {
    await raw(p.httpPort, 'GET http://other.example?q=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n');
    assert.equal(other.requests.at(-1)!.url, '/?q=1');
  });

  test('an encoded ? stays in the path: %3F never becomes a query, in origin- or absolute-form', async () => {
    await get(p.httpPort, '/a%3Fb=1', { host: 'other.example' });
    assert.equal(other.requests.at(-1)!.url, '/a%3Fb=1');
    await raw(p.httpPort, 'GET http://other.example/a%3Fb=1 HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n');
    assert.equal(other.requests.at(-1)!.url, '/a%3Fb=1');
  });

  test('userinfo or a bad authority in an absolute-form target -> 400, nothing forwarded', async () => {
    for (const t of ['http://user@other.example/x', 'http://other.example:80:80/x', 'ftp://other.example/x', 'http:///x']) {
      const before = other.requests.length;
      const r = await raw(p.httpPort, `GET ${t} HTTP/1.1\r\nHost: other.example\r\n\r\n`);
      assert.match(r.text, /^HTTP\/1\.1 400 /, t);
      assert.equal(other.requests.length, before, t);
    }
  });
});

describe('upgrades: a tunnel only after the pod agreed, and the same admission as any request', () => {
  let p: Portico;
  let ignorer: RawPod;
  let ws: WsPod;
  let wrong: RawPod;
  before(async () => {
    ignorer = await startRawPod('127.0.121.1');
    ws = await startWsPod('127.0.121.2');
    wrong = await startScriptedPod('127.0.121.3', () => 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n');
    p = await startPortico(
      {
        'a.yaml': join(
          ingressYaml('u', [{ host: 'u.test', paths: [{ path: '/', service: 'ignorer' }] }]),
          ingressYaml('ws', [{ host: 'ws.test', paths: [{ path: '/', service: 'ws' }] }]),
          ingressYaml('tls', [{ host: 'tls.test', paths: [{ path: '/', service: 'ws' }] }], { tls: [{ hosts: ['tls.test'], secretName: 't' }] }),
          ingressYaml('wrong', [{ host: 'wrong.test', paths: [{ path: '/', service: 'wrong' }] }]),
          serviceYaml('ignorer', [ignorer]),
          serviceYaml('ws', [ws]),
          serviceYaml('wrong', [wrong]),
          secretYaml('t', cert(['tls.test'])),
        ),
      },
      ['--max-headers', '20', '--upgrade-idle-timeout', '400ms'],
    );
  });
  after(async () => {
    await p.stop();
    await Promise.all([ignorer.close(), ws.close(), wrong.close()]);
  });

  const upgradeHead = (host: string, extra = ''): string => `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n${extra}\r\n`;

  test('a pod that answers 200 to an Upgrade: a normal response, the connection closed, the pipelined request never forwarded', async () => {
    const before = ignorer.requests.length;
    const r = await raw(p.httpPort, `${upgradeHead('u.test')}GET /admin/secret HTTP/1.1\r\nHost: u.test\r\nX-Real-IP: 6.6.6.6\r\n\r\n`);
    assert.deepEqual(statusLines(r.text), ['HTTP/1.1 200 OK']);
    assert.match(r.text, /pod 127\.0\.121\.1 saw GET \/ws/);
    assert.equal(r.closed, true);
    assert.equal(ignorer.requests.length, before + 1, 'only the upgrade request reached the pod');
    assert.doesNotMatch(ignorer.all(), /admin\/secret|6\.6\.6\.6/);
  });

  test('a 101 naming a protocol the client did not ask for -> 502, never a tunnel', async () => {
    const r = await raw(p.httpPort, `${upgradeHead('wrong.test')}GET /after HTTP/1.1\r\nHost: wrong.test\r\n\r\n`);
    assert.deepEqual(statusLines(r.text), ['HTTP/1.1 502 Bad Gateway']);
    assert.doesNotMatch(wrong.all(), /GET \/after/);
  });

  test('a 101 for the asked protocol is a tunnel: bytes both ways', async () => {
    const s = netConnect(p.httpPort, '127.0.0.1');
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.write(upgradeHead('ws.test'));
    const deadline = Date.now() + 3000;
    while (!text.includes('\r\n\r\n') && Date.now() < deadline) await sleep(10);
    assert.match(text, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    assert.match(text, /sec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=/i);
    // a masked text frame "hi"; the pod echoes it unmasked
    s.write(Buffer.from([0x81, 0x82, 1, 2, 3, 4, 'h'.charCodeAt(0) ^ 1, 'i'.charCodeAt(0) ^ 2]));
    while (!text.endsWith('hi') && Date.now() < deadline) await sleep(10);
    assert.ok(text.endsWith('\x81\x02hi'), JSON.stringify(text.slice(-10)));
    s.destroy();
  });

  test('an idle tunnel is closed after --upgrade-idle-timeout', async () => {
    const t0 = Date.now();
    const r = await raw(p.httpPort, upgradeHead('ws.test'), 4000);
    assert.match(r.text, /^HTTP\/1\.1 101 /);
    assert.equal(r.closed, true, 'closed by Portico');
    assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
  });

  // [name, bytes, expected answer, whether a plain request with the same shape gets the same answer]
  const shapes: [string, string, RegExp, boolean][] = [
    ['two Host headers', upgradeHead('ws.test', 'Host: evil.test\r\n'), /^HTTP\/1\.1 400 /, true],
    ['more header fields than --max-headers', upgradeHead('ws.test', Array.from({ length: 20 }, (_, i) => `X-H${i}: v\r\n`).join('')), /^HTTP\/1\.1 431 /, true],
    ['no route', upgradeHead('nothing.test'), /^HTTP\/1\.1 404 /, true],
    ['an HTTPS-only host over plain HTTP', upgradeHead('tls.test'), /^HTTP\/1\.1 308 [^]*\r\nlocation: https:\/\/tls\.test\/ws\r\n/i, true],
    ['HTTP/2.0 on an HTTP/1 connection', upgradeHead('ws.test').replace('HTTP/1.1', 'HTTP/2.0'), /^HTTP\/1\.1 505 /, true],
    // the bytes after the head would be both a body and the tunnel's first bytes
    ['a body', upgradeHead('ws.test', 'Content-Length: 5\r\n').replace(/\r\n$/, '\r\nhello'), /^HTTP\/1\.1 400 /, false],
  ];
  for (const [name, bytes, expected, samePlain] of shapes) {
    test(`an upgrade request with ${name} is refused as a plain request would be, with no tunnel`, async () => {
      const before = ws.upgrades.length;
      const up = await raw(p.httpPort, bytes);
      assert.match(up.text, expected);
      assert.equal(up.closed, true);
      assert.equal(ws.upgrades.length, before, 'nothing reached the pod');
      if (!samePlain) return;
      const plain = await raw(p.httpPort, bytes.replace(/Connection: Upgrade\r\nUpgrade: websocket\r\n/, ''));
      assert.equal(statusLines(plain.text)[0], statusLines(up.text)[0], 'the plain request gets the same status');
    });
  }
});

describe('response framing and header hygiene', () => {
  let p: Portico;
  let pod: RawPod;
  let echo: RawPod;
  before(async () => {
    pod = await startScriptedPod('127.0.122.1', (head) => {
      if (head.startsWith('GET /clte ')) return 'HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n';
      if (head.startsWith('GET /barelf ')) return 'HTTP/1.1 200 OK\r\nX-A: a\nX-Injected: 1\r\nContent-Length: 2\r\n\r\nok';
      if (head.startsWith('GET /nul ')) return 'HTTP/1.1 200 OK\r\nX-A: a\0b\r\nContent-Length: 2\r\n\r\nok';
      return 'HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nsecond';
    });
    echo = await startRawPod('127.0.122.2');
    p = await startPortico({
      'a.yaml': join(ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 'pod' }] }]), ingressYaml('e', [{ host: 'e.test', paths: [{ path: '/', service: 'echo' }] }]), serviceYaml('pod', [pod]), serviceYaml('echo', [echo])),
    });
  });
  after(async () => {
    await p.stop();
    await Promise.all([pod.close(), echo.close()]);
  });

  test('a pod sending Content-Length and Transfer-Encoding: the client gets the chunked body without the Content-Length, then the pipelined response intact', async () => {
    const r = await raw(p.httpPort, 'GET /clte HTTP/1.1\r\nHost: h.test\r\n\r\nGET /next HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n');
    assert.deepEqual(statusLines(r.text), ['HTTP/1.1 200 OK', 'HTTP/1.1 200 OK']);
    const [first = ''] = r.text.split(/(?=HTTP\/1\.1 200 OK)/).filter(Boolean);
    assert.doesNotMatch(first, /content-length/i, 'RFC 9112 6.3: the Content-Length is removed');
    assert.match(first, /\r\n\r\n5\r\nhello\r\n0\r\n\r\n$/);
    assert.match(r.text, /\r\n\r\nsecond$/);
  });

  test('a pod header with a bare LF or a NUL -> 502 Bad Gateway (not 499), nothing of it forwarded', async () => {
    for (const path of ['/barelf', '/nul']) {
      const r = await get(p.httpPort, path, { host: 'h.test', agent: false });
      assert.equal(r.status, 502, path);
      assert.equal(r.headers['x-injected'], undefined);
    }
  });

  test('header names with underscores are dropped, so X_Real_IP cannot pose as X-Real-IP', async () => {
    await get(p.httpPort, '/u', { host: 'e.test', headers: { X_Forwarded_For: '6.6.6.6', X_Real_IP: '6.6.6.6', 'x-ok': 'yes' } });
    const h = echo.requests.at(-1)!.headers;
    assert.equal(h['x_forwarded_for'], undefined);
    assert.equal(h['x_real_ip'], undefined);
    assert.equal(h['x-ok'], 'yes');
    assert.equal(h['x-real-ip'], '127.0.0.1');
  });

  test('the Proxy request header is cleared (httpoxy)', async () => {
    await get(p.httpPort, '/p', { host: 'e.test', headers: { proxy: 'http://evil.example:8080' } });
    assert.equal(echo.requests.at(-1)!.headers.proxy, undefined);
  });

  test('HTTP/2.0 in an HTTP/1 request line -> 505, and its chunked body is never forwarded', async () => {
    const before = echo.requests.length;
    const r = await raw(p.httpPort, 'POST / HTTP/2.0\r\nHost: e.test\r\nHost: other.test\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n');
    assert.match(r.text, /^HTTP\/1\.1 505 /);
    assert.equal(r.closed, true);
    assert.equal(echo.requests.length, before);
  });

  test('a declared body over the limit gets 413 without 100 Continue; an acceptable one gets 100 Continue, then the answer', async () => {
    const big = await raw(p.httpPort, 'POST / HTTP/1.1\r\nHost: e.test\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n');
    assert.match(big.text, /^HTTP\/1\.1 413 /);
    assert.doesNotMatch(big.text, /100 Continue/);
    const s = netConnect(p.httpPort, '127.0.0.1');
    let text = '';
    s.on('data', (d) => (text += d.toString('latin1')));
    s.write('POST /ok HTTP/1.1\r\nHost: e.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n');
    const deadline = Date.now() + 3000;
    while (!text.includes('100 Continue') && Date.now() < deadline) await sleep(10);
    assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    s.write('hello');
    while (!text.includes('saw POST') && Date.now() < deadline) await sleep(10);
    assert.match(text, /HTTP\/1\.1 200 OK[^]*pod 127\.0\.122\.2 saw POST \/ok/);
    s.destroy();
  });
});

describe('--allow-underscores-in-headers', () => {
  test('keeps header names with underscores, as nginx underscores_in_headers on', async () => {
    const echo = await startRawPod('127.0.123.1');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 'echo' }] }]), serviceYaml('echo', [echo])) }, ['--allow-underscores-in-headers']);
    try {
      await get(p.httpPort, '/', { host: 'h.test', headers: { x_custom: 'kept' } });
      assert.equal(echo.requests.at(-1)!.headers['x_custom'], 'kept');
    } finally {
      await p.stop();
      await echo.close();
    }
  });
});

describe('HTTP/2 and TLS limits', () => {
  let p: Portico;
  let slow: RawPod;
  let inFlight = 0;
  let maxInFlight = 0;
  before(async () => {
    slow = await startRawPod('127.0.124.1', (_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        res.writeHead(200, { 'content-length': 2 });
        res.end('ok');
      }, 30);
    });
    p = await startPortico(
      { 'a.yaml': join(ingressYaml('a', [{ host: 'h2.test', paths: [{ path: '/', service: 'slow' }] }], { tls: [{ hosts: ['h2.test'], secretName: 't' }] }), serviceYaml('slow', [slow]), secretYaml('t', cert(['h2.test']))) },
      // the keep-alive timeout leaves room for a loaded machine to build 2,000 streams before the first is sent
      ['--keep-alive-timeout', '1500ms', '--ssl-handshake-timeout', '500ms'],
    );
  });
  after(async () => {
    await p.stop();
    await slow.close();
  });

  const session = (): Promise<ClientHttp2Session> =>
    new Promise((resolve, reject) => {
      const s = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: 'h2.test', rejectUnauthorized: false });
      s.once('remoteSettings', () => resolve(s));
      s.once('error', reject);
    });
  const request = (s: ClientHttp2Session, headers: Record<string, string>): Promise<number> =>
    new Promise((resolve, reject) => {
      const r = s.request({ ':path': '/', ':authority': 'h2.test', ...headers });
      r.on('response', (h) => {
        r.resume();
        r.on('end', () => resolve(Number(h[':status'])));
      });
      r.on('error', reject);
      r.end();
    });

  test('SETTINGS_MAX_CONCURRENT_STREAMS is 128: 2,000 concurrent streams never put more than 128 requests on the pods', { timeout: 30_000 }, async () => {
    const s = await session();
    try {
      assert.equal(s.remoteSettings.maxConcurrentStreams, 128);
      maxInFlight = 0;
      const statuses = await Promise.all(Array.from({ length: 2000 }, () => request(s, {})));
      assert.equal(statuses.filter((x) => x === 200).length, 2000);
      assert.ok(maxInFlight <= 128, `the pod saw ${maxInFlight} at once`);
      assert.ok(maxInFlight > 1, 'requests did run concurrently');
    } finally {
      s.destroy();
    }
  });

  test('an idle HTTP/2 session is closed after the keep-alive timeout', async () => {
    const s = await session();
    assert.equal(await request(s, {}), 200);
    const t0 = Date.now();
    const closed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 6000);
      s.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    s.destroy();
    assert.ok(closed, 'the session was closed by Portico');
    assert.ok(Date.now() - t0 >= 1000 && Date.now() - t0 < 5000, `closed after ${Date.now() - t0} ms`);
  });

  test('an HTTP/2 request whose Host differs from :authority is malformed -> 400 (RFC 9113 8.3.1)', async () => {
    const s = await session();
    try {
      const before = slow.requests.length;
      assert.equal(await request(s, { host: 'other.test' }), 400);
      assert.equal(slow.requests.length, before);
      assert.equal(await request(s, { host: 'H2.test' }), 200, 'the same name in another case is the same host');
    } finally {
      s.destroy();
    }
  });

  test('a connection to the HTTPS port that never starts a handshake is closed after --ssl-handshake-timeout', async () => {
    const t0 = Date.now();
    const r = await raw(p.httpsPort, '', 5000);
    assert.equal(r.closed, true);
    assert.ok(Date.now() - t0 < 2500, `held ${Date.now() - t0} ms`);
  });
});
