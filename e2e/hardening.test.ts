/**
 * Hostile and unusual input against the real process: request-smuggling shapes, size and time
 * limits, forwarded-header trust, PROXY protocol, passive health and retries.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { refusedPort, startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';
import { raw } from './lib/raw.js';

describe('hostile input', () => {
  let p: Portico;
  let echo: Pod;
  before(async () => {
    echo = await startPod('127.0.100.1', 'echo');
    p = await startPortico(
      {
        'a.yaml': join(
          ingressYaml('small', [{ host: 'h.test', paths: [{ path: '/', service: 'echo' }] }]),
          ingressYaml('big', [{ host: 'big.test', paths: [{ path: '/', service: 'echo' }] }], {}, { 'nginx.ingress.kubernetes.io/proxy-body-size': '64k' }),
          serviceYaml('echo', [echo]),
        ),
      },
      ['--proxy-body-size', '1k', '--client-body-timeout', '300ms', '--max-headers', '50', '--trusted-proxies', '127.0.0.0/8'],
    );
  });
  after(async () => {
    await p.stop();
    await echo.close();
  });

  const corpus: [string, string][] = [
    ['Content-Length with Transfer-Encoding (CL.TE)', 'POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n'],
    ['two different Content-Lengths', 'POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd'],
    ['a Content-Length list', 'POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: 4, 4\r\n\r\nabcd'],
    ['a malformed Content-Length', 'POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: +4\r\n\r\nabcd'],
    ['Transfer-Encoding with chunked not last', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
    ['an obfuscated Transfer-Encoding (space before colon)', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding : chunked\r\n\r\n0\r\n\r\n'],
    ['an unknown transfer coding', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n'],
    ['Transfer-Encoding in HTTP/1.0', 'POST / HTTP/1.0\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    // llhttp refuses these from 9.4.3 on (nodejs/llhttp#874); the front end's parser takes the field as absent, admission
    // refuses it, and the request pipelined behind never reaches a pod (on either HTTP/1.1 server side)
    ['an empty Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding:\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n'],
    ['a blank Transfer-Encoding before a Content-Length', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: \t\r\nContent-Length: 5\r\n\r\nhelloGET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n'],
    ['an empty Transfer-Encoding after chunked', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding:\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h.test\r\n\r\n'],
    ['an obs-fold header', 'GET / HTTP/1.1\r\nHost: h.test\r\nX-A: b\r\n c\r\n\r\n'],
    ['a bare CR in a header value', 'GET / HTTP/1.1\r\nHost: h.test\r\nX-A: b\rc\r\n\r\n'],
    ['bare LF line endings', 'GET / HTTP/1.1\nHost: h.test\n\n'],
    ['an invalid chunk size', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n'],
    ['a chunk extension ending in bare LF', 'POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n3;x\nabc\r\n0\r\n\r\n'],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: h.test\r\nHost: evil.test\r\n\r\n'],
    ['no Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n'],
  ];
  for (const [name, bytes] of corpus) {
    test(`smuggling shape: ${name} -> 400 and the connection closed`, async () => {
      const before = echo.seen.length;
      const r = await raw(p.httpPort, bytes);
      assert.match(r.text, /^HTTP\/1\.1 400 /);
      assert.equal(r.closed, true);
      assert.equal((r.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, 'exactly one response');
      await sleep(50);
      assert.equal(echo.seen.length, before, 'nothing reached the pod');
    });
  }

  test('more header fields than --max-headers -> 431', async () => {
    const headers = Array.from({ length: 60 }, (_, i) => `X-H${i}: v`).join('\r\n');
    const r = await raw(p.httpPort, `GET / HTTP/1.1\r\nHost: h.test\r\n${headers}\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 431 /);
  });

  test('headers larger than 16 KiB -> 431', async () => {
    const r = await raw(p.httpPort, `GET / HTTP/1.1\r\nHost: h.test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 431 /);
  });

  test('a declared body over --proxy-body-size -> 413 without reading it; the annotation raises the limit', async () => {
    const r = await get(p.httpPort, '/', { host: 'h.test', method: 'POST', body: 'x'.repeat(2000) });
    assert.equal(r.status, 413);
    assert.equal(r.headers.connection, 'close');
    assert.equal((await get(p.httpPort, '/', { host: 'big.test', method: 'POST', body: 'x'.repeat(2000) })).status, 200);
  });

  test('a chunked body over the limit -> 413', async () => {
    const chunk = 'a'.repeat(600);
    const r = await raw(p.httpPort, `POST / HTTP/1.1\r\nHost: h.test\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n${chunk}\r\n258\r\n${chunk}\r\n0\r\n\r\n`);
    assert.match(r.text, /^HTTP\/1\.1 413 /);
  });

  test('a body that stops arriving -> 408 after --client-body-timeout', async () => {
    const t0 = Date.now();
    const r = await raw(p.httpPort, 'POST / HTTP/1.1\r\nHost: h.test\r\nContent-Length: 10\r\n\r\nab', 3000);
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.ok(Date.now() - t0 < 2500);
  });

  test('X-Forwarded-For from a trusted proxy is extended, and X-Real-IP is the first untrusted address', async () => {
    await get(p.httpPort, '/', { host: 'h.test', headers: { 'x-forwarded-for': '198.51.100.7, 127.0.0.9', 'x-forwarded-proto': 'https' } });
    const h = echo.seen.at(-1)!.headers;
    assert.equal(h['x-forwarded-for'], '198.51.100.7, 127.0.0.9, 127.0.0.1');
    assert.equal(h['x-real-ip'], '198.51.100.7');
    assert.equal(h['x-forwarded-proto'], 'https');
  });
});

describe('connection limits and timeouts', () => {
  let p: Portico;
  let pod: Pod;
  let hang: Pod;
  before(async () => {
    pod = await startPod('127.0.102.1', 'ok');
    hang = await startPod('127.0.102.2', 'hang');
    hang.behaviour = 'hang';
    p = await startPortico(
      {
        'a.yaml': join(
          ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 'ok' }] }]),
          ingressYaml('slow', [{ host: 'slow.test', paths: [{ path: '/', service: 'hang' }] }], {}, { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '300ms' }),
          serviceYaml('ok', [pod]),
          serviceYaml('hang', [hang]),
        ),
      },
      ['--client-header-timeout', '500ms', '--keep-alive-timeout', '300ms', '--max-connections', '3'],
    );
  });
  after(async () => {
    await p.stop();
    await Promise.all([pod.close(), hang.close()]);
  });

  test('headers that do not arrive within --client-header-timeout -> 408 and closed', async () => {
    const t0 = Date.now();
    const r = await raw(p.httpPort, 'GET / HTTP/1.1\r\nHost: h.test\r\nX-Slow: ', 4000);
    assert.match(r.text, /^HTTP\/1\.1 408 /);
    assert.equal(r.closed, true);
    assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
  });

  test('an idle keep-alive connection is closed after --keep-alive-timeout', async () => {
    const t0 = Date.now();
    const r = await raw(p.httpPort, 'GET / HTTP/1.1\r\nHost: h.test\r\n\r\n', 4000);
    assert.match(r.text, /^HTTP\/1\.1 200 /);
    assert.equal(r.closed, true, 'closed by the server');
    assert.ok(Date.now() - t0 < 2000);
  });

  test('the proxy-read-timeout annotation overrides the global timeout for its Ingress', async () => {
    const t0 = Date.now();
    assert.equal((await get(p.httpPort, '/', { host: 'slow.test', agent: false })).status, 504);
    assert.ok(Date.now() - t0 < 3000, 'well under the 60 s default');
  });

  test('connections beyond --max-connections are refused while the others work', async () => {
    const held = await Promise.all([0, 1, 2].map(() => new Promise<Socket>((r) => { const s = connect(p.httpPort, '127.0.0.1', () => r(s)); })));
    try {
      const extra = await raw(p.httpPort, 'GET / HTTP/1.1\r\nHost: h.test\r\n\r\n', 1000);
      assert.equal(extra.text, '');
      assert.equal(extra.closed, true);
    } finally {
      for (const s of held) s.destroy();
    }
    await sleep(100);
    assert.equal((await get(p.httpPort, '/', { host: 'h.test', agent: false })).status, 200);
  });
});

describe('untrusted peers and PROXY protocol', () => {
  test('without --trusted-proxies, client forwarding headers are replaced', async () => {
    const echo = await startPod('127.0.100.2', 'echo');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 'echo' }] }]), serviceYaml('echo', [echo])) });
    try {
      await get(p.httpPort, '/', { host: 'h.test', headers: { 'x-forwarded-for': '198.51.100.7', 'x-forwarded-proto': 'https' } });
      const h = echo.seen.at(-1)!.headers;
      assert.equal(h['x-forwarded-for'], '127.0.0.1');
      assert.equal(h['x-forwarded-proto'], 'http');
    } finally {
      await p.stop();
      await echo.close();
    }
  });

  test('--use-proxy-protocol takes the client address from PROXY v1 and v2 headers and closes connections without one; timeouts and h2c work behind it', async () => {
    const echo = await startPod('127.0.100.3', 'echo');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 'echo' }] }]), serviceYaml('echo', [echo])) }, ['--use-proxy-protocol', '--client-header-timeout', '1s']);
    try {
      // behind the PROXY reader the HTTP server still enforces the headers timeout
      const t0 = Date.now();
      const slow = await raw(p.httpPort, 'PROXY TCP4 203.0.113.9 10.0.0.1 51234 80\r\nGET / HTTP/1.1\r\nHost: h.test\r\nX-Slow: ', 4000);
      assert.match(slow.text, /^HTTP\/1\.1 408 /);
      assert.ok(Date.now() - t0 < 3000, `took ${Date.now() - t0} ms`);
      // and h2c with prior knowledge works behind it too
      const h2 = await raw(p.httpPort, Buffer.concat([Buffer.from('PROXY TCP4 203.0.113.9 10.0.0.1 51234 80\r\nPRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]), 1000);
      assert.equal(h2.text.charCodeAt(3), 4, 'the server answers with its SETTINGS frame');
      const v1 = await raw(p.httpPort, 'PROXY TCP4 203.0.113.9 10.0.0.1 51234 80\r\nGET /v1 HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n');
      assert.match(v1.text, /^HTTP\/1\.1 200 /);
      assert.equal(echo.seen.at(-1)!.headers['x-real-ip'], '203.0.113.9');
      const addr = Buffer.from([198, 51, 100, 23, 10, 0, 0, 1, 0xc8, 0x1c, 0, 80]);
      const v2 = Buffer.concat([Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21, 0x11, 0, addr.length]), addr, Buffer.from('GET /v2 HTTP/1.1\r\nHost: h.test\r\nConnection: close\r\n\r\n')]);
      const r2 = await raw(p.httpPort, v2);
      assert.match(r2.text, /^HTTP\/1\.1 200 /);
      assert.equal(echo.seen.at(-1)!.headers['x-forwarded-for'], '198.51.100.23');
      const none = await raw(p.httpPort, 'GET / HTTP/1.1\r\nHost: h.test\r\n\r\n');
      assert.equal(none.closed, true);
      assert.equal(none.text, '');
    } finally {
      await p.stop();
      await echo.close();
    }
  });
});

describe('passive health and retries', () => {
  test('an endpoint refusing connections is ejected; clients see no error', async () => {
    const good = [await startPod('127.0.101.1', 'g1'), await startPod('127.0.101.2', 'g2')];
    const dead = await refusedPort('127.0.101.3');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 's' }] }]), serviceYaml('s', [...good, { ip: '127.0.101.3', port: dead }])) }, ['--upstream-max-fails', '2', '--upstream-fail-timeout', '30s']);
    try {
      for (let i = 0; i < 30; i++) assert.equal((await get(p.httpPort, '/', { host: 'h.test' })).status, 200, `request ${i}`);
      const b = JSON.parse((await get(p.adminPort, '/debug/backends')).body) as { backends: { endpoints: { address: string; ejected: boolean; errors: number }[] }[] };
      const d = b.backends[0]!.endpoints.find((e) => e.address === `127.0.101.3:${dead}`)!;
      assert.equal(d.ejected, true);
      assert.equal(d.errors, 2, 'tried only until ejected');
      assert.match((await get(p.adminPort, '/metrics')).body, /portico_upstream_ejections_total\{namespace="default",service="s"\} 1/);
    } finally {
      await p.stop();
      await Promise.all(good.map((x) => x.close()));
    }
  });

  test('an idempotent request reset before any response byte is retried; a POST is not', async () => {
    const resetter = await startPod('127.0.101.4', 'resetter');
    resetter.behaviour = 'reset';
    const good = await startPod('127.0.101.5', 'good');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'h.test', paths: [{ path: '/', service: 's' }] }]), serviceYaml('s', [resetter, good])) }, ['--upstream-max-fails', '100']);
    try {
      for (let i = 0; i < 6; i++) assert.equal((await get(p.httpPort, '/', { host: 'h.test' })).status, 200);
      const posts = await Promise.all(Array.from({ length: 6 }, () => get(p.httpPort, '/', { host: 'h.test', method: 'POST', body: 'x' })));
      assert.ok(posts.some((r) => r.status === 502), 'a POST that reached the resetting pod is not sent again');
    } finally {
      await p.stop();
      await Promise.all([resetter.close(), good.close()]);
    }
  });
});
