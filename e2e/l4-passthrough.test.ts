/**
 * TLS passthrough by SNI end to end (standalone mode, --enable-ssl-passthrough and the
 * ssl-passthrough annotation): openssl s_client and Node's TLS client reach the pod's own
 * certificate through Portico's HTTPS port while other names get Portico's (HTTP/1.1 and HTTP/2);
 * a ClientHello split across segments and records; a malformed-ClientHello corpus, a huge one and
 * a silent client are closed within bounds; metrics. Without the flag such an Ingress is refused.
 * Addresses: 127.0.212.0/24.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { run } from './lib/command.js';
import { cert } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { get, httpsGet } from './lib/http.js';
import { captureClientHello, probe, startSplitRelay, startTlsPod, type TlsPod } from './lib/l4.js';
import { yaml } from './lib/manifests.js';
import { ingressObject, serviceWithPorts, serviceWithSlices, sliceWithPorts, tlsSecret, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const HOST = '127.0.212.1';
const PASSTHROUGH = { 'nginx.ingress.kubernetes.io/ssl-passthrough': 'true' };

/** The leaf certificate's fingerprint in `openssl s_client -showcerts` output (the first PEM block). */
function leafOf(out: string): X509Certificate | null {
  const m = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(out);
  return m === null ? null : new X509Certificate(m[0]);
}

/** A TLS session through `port` with `servername`: the leaf presented, and the pod's first line (if a pod answered). */
function session(port: number, servername: string | undefined, o: { host?: string; send?: string } = {}): Promise<{ fingerprint: string; line: string; echoed: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: o.host ?? HOST, port, rejectUnauthorized: false, ...(servername !== undefined ? { servername } : {}) }, () => {
      fingerprint = s.getPeerCertificate().fingerprint256;
      if (o.send !== undefined) s.end(o.send);
      else s.end();
    });
    let fingerprint = '';
    let data = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no end within 10 s (got ${JSON.stringify(data)})`));
    }, 10_000);
    s.on('data', (d: Buffer) => (data += d.toString()));
    s.on('end', () => {
      clearTimeout(timer);
      const nl = data.indexOf('\n');
      resolve({ fingerprint, line: nl === -1 ? data : data.slice(0, nl), echoed: nl === -1 ? '' : data.slice(nl + 1) });
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

describe('TLS passthrough by SNI (--enable-ssl-passthrough)', () => {
  let p: Portico;
  let pod: TlsPod;
  let web: Pod;
  const podCert = cert(['pass.l4.test']);
  const webCert = cert(['web.l4.test']);
  const fp = (c: { certPem: string }): string => new X509Certificate(c.certPem).fingerprint256;

  before(async () => {
    [pod, web] = await Promise.all([startTlsPod('127.0.212.11', 'pass', podCert), startPod('127.0.212.12', 'web')]);
    const objs: Obj[] = [
      ingressObject('pass', [{ host: 'pass.l4.test', paths: [{ path: '/', service: 'pass', port: 443 }] }], {}, PASSTHROUGH),
      serviceWithPorts('pass', 'default', [{ name: 'https', port: 443 }]),
      sliceWithPorts('pass-1', 'pass', [pod.ip], [{ name: 'https', port: pod.port }]),
      ingressObject('wild', [{ host: '*.wild.l4.test', paths: [{ path: '/', service: 'pass', port: 443 }] }], {}, PASSTHROUGH),
      // access control cannot be enforced on a connection Portico does not decrypt: not passed through
      ingressObject('guarded', [{ host: 'guarded.l4.test', paths: [{ path: '/', service: 'web' }] }], {}, { ...PASSTHROUGH, 'nginx.ingress.kubernetes.io/whitelist-source-range': '10.0.0.0/8' }),
      ingressObject('web', [{ host: 'web.l4.test', paths: [{ path: '/', service: 'web' }] }], { tls: [{ hosts: ['web.l4.test'], secretName: 'web-tls' }] }),
      tlsSecret('web-tls', 'default', webCert),
      ...serviceWithSlices('web', [web]),
    ];
    p = await startPortico({ 'all.yaml': yaml(objs) }, ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--enable-ssl-passthrough', '--ssl-handshake-timeout', '1s']);
  });

  after(async () => {
    await p?.stop();
    await Promise.all([pod?.close(), web?.close()]);
  });

  test("openssl s_client -servername reaches the pod's own certificate; another name gets Portico's; so does no name", async () => {
    const s = (...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => run('openssl', ['s_client', '-connect', `${HOST}:${p.httpsPort}`, '-showcerts', ...args]);
    const passed = await s('-servername', 'pass.l4.test');
    assert.equal(leafOf(passed.stdout)?.fingerprint256, fp(podCert), passed.stderr);
    assert.equal(pod.names.at(-1), 'pass.l4.test', 'the pod saw the SNI name itself');
    const terminated = await s('-servername', 'web.l4.test');
    assert.equal(leafOf(terminated.stdout)?.fingerprint256, fp(webCert), terminated.stderr);
    const other = await s('-servername', 'other.l4.test');
    const otherLeaf = leafOf(other.stdout);
    assert.ok(otherLeaf !== null && otherLeaf.fingerprint256 !== fp(podCert), "an unknown name gets Portico's default certificate");
    const none = await s('-noservername');
    const noneLeaf = leafOf(none.stdout);
    assert.equal(noneLeaf?.fingerprint256, otherLeaf.fingerprint256, "no name: Portico's default certificate");
    // case-blind, as DNS names are
    assert.equal(leafOf((await s('-servername', 'PASS.L4.test')).stdout)?.fingerprint256, fp(podCert));
  });

  test('the spliced connection carries bytes both ways; a wildcard host takes one label', async () => {
    const r = await session(p.httpsPort, 'pass.l4.test', { send: 'ping' });
    assert.equal(r.fingerprint, fp(podCert));
    assert.equal(r.line, 'pod pass sni=pass.l4.test');
    assert.equal(r.echoed, 'ping');
    const w = await session(p.httpsPort, 'a.wild.l4.test', { send: 'w' });
    assert.equal(w.line, 'pod pass sni=a.wild.l4.test');
    const deep = await session(p.httpsPort, 'a.b.wild.l4.test');
    assert.notEqual(deep.fingerprint, fp(podCert), 'two labels are not covered by *.wild.l4.test');
  });

  test("other names are served by Portico's own TLS: HTTP/1.1 and HTTP/2", async () => {
    const h1 = await httpsGet(p.httpsPort, 'web.l4.test', 'web.l4.test', '/h1', HOST);
    assert.equal(h1.status, 200);
    assert.match(h1.body, /"pod":"web"/);
    const h2 = await new Promise<{ status: number; body: string; alpn: string | false | undefined }>((resolve, reject) => {
      const session = h2connect(`https://web.l4.test:${p.httpsPort}`, { host: HOST, servername: 'web.l4.test', rejectUnauthorized: false } as never);
      session.on('error', reject);
      const req = session.request({ ':path': '/h2', ':authority': 'web.l4.test' });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        const alpn = session.alpnProtocol;
        session.close();
        resolve({ status, body, alpn });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(h2.alpn, 'h2');
    assert.equal(h2.status, 200);
    assert.match(h2.body, /"pod":"web"/);
  });

  test('a passthrough host with access control is not passed through: Portico terminates TLS and enforces it (403)', async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: HOST, port: p.httpsPort, servername: 'guarded.l4.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => s.write('GET / HTTP/1.1\r\nHost: guarded.l4.test\r\nConnection: close\r\n\r\n'));
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 403/);
    const routes = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(routes.diagnostics.some((d) => /host guarded\.l4\.test is not passed through: its access control \(source ranges\)/.test(d)), routes.diagnostics.join('\n'));
  });

  test('a ClientHello split across TCP segments and TLS records is read whole, then spliced with every byte', async () => {
    for (const [chunk, reframeAt] of [[16, undefined], [7, 40], [100, 3]] as const) {
      const relay = await startSplitRelay('127.0.212.2', { host: HOST, port: p.httpsPort }, { chunk, delayMs: 2, ...(reframeAt !== undefined ? { reframeAt } : {}) });
      try {
        const r = await session(relay.port, 'pass.l4.test', { host: '127.0.212.2', send: `split ${chunk}` });
        assert.equal(r.fingerprint, fp(podCert), `chunks of ${chunk}`);
        assert.equal(r.echoed, `split ${chunk}`);
        // and a terminated name, split the same way, completes with Portico
        const t = await session(relay.port, 'web.l4.test', { host: '127.0.212.2' });
        assert.equal(t.fingerprint, fp(webCert));
      } finally {
        await relay.close();
      }
    }
  });

  test('a malformed ClientHello corpus: every one closed at once, nothing reaches the pod, Portico goes on', async () => {
    const real = await captureClientHello('127.0.212.3', 'pass.l4.test');
    assert.equal(real[0], 0x16);
    const sniAt = real.indexOf(Buffer.from('pass.l4.test'));
    assert.ok(sniAt > 0);
    const corrupt = (at: number, value: number): Buffer => {
      const b = Buffer.from(real);
      b[at] = value;
      return b;
    };
    const huge = Buffer.alloc(5 + 16_384);
    huge.set([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x01, 0x11, 0x70]); // a ClientHello of 70,000 bytes
    const corpus: [string, Buffer][] = [
      ['plain HTTP on the TLS port', Buffer.from('GET / HTTP/1.1\r\nHost: pass.l4.test\r\n\r\n')],
      ['an alert record first', Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])],
      ['a ServerHello', Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00])],
      ['a record of length 0', Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00])],
      ['a record over 2^14', Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01])],
      ['a record version that is not 3.x', Buffer.concat([Buffer.from([0x16, 0x02]), real.subarray(2)])],
      ['a ClientHello of 70,000 bytes', huge],
      ['the server_name length off by one', corrupt(sniAt - 1, (real[sniAt - 1] as number) + 1)],
      ['a host_name with a NUL', corrupt(sniAt + 2, 0)],
      ['the extensions length too short', (() => {
        // the ClientHello body: type(1) len(3) version(2) random(32) sid; then suites, compression, extensions length
        const b = Buffer.from(real);
        let q = 5 + 4 + 2 + 32;
        q += 1 + (b[q] as number);
        q += 2 + b.readUInt16BE(q);
        q += 1 + (b[q] as number);
        b.writeUInt16BE(b.readUInt16BE(q) - 1, q);
        return b;
      })()],
      ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 73 + 11) & 0xff).map((x, i) => (i === 0 ? 0x16 : x)))],
    ];
    const before = pod.names.length;
    for (const [what, bytes] of corpus) {
      const r = await probe(HOST, p.httpsPort, bytes, 3000);
      assert.ok(r.closedAfterMs !== null && r.closedAfterMs < 900, `${what}: closed at once (after ${r.closedAfterMs} ms)`);
      assert.equal(r.received.length, 0, `${what}: nothing answered`);
    }
    assert.equal(pod.names.length, before, 'no connection reached the pod');
    assert.equal((await session(p.httpsPort, 'pass.l4.test')).fingerprint, fp(podCert), 'still serving');
  });

  test('a silent client, and one that stops halfway through its ClientHello, are closed after --ssl-handshake-timeout', async () => {
    const real = await captureClientHello('127.0.212.3', 'pass.l4.test');
    for (const [what, bytes] of [['silent', null], ['half a ClientHello', real.subarray(0, Math.floor(real.length / 2))], ['a record header only', real.subarray(0, 5)]] as const) {
      const r = await probe(HOST, p.httpsPort, bytes, 5000);
      assert.ok(r.closedAfterMs !== null, `${what}: closed`);
      assert.ok(r.closedAfterMs >= 900 && r.closedAfterMs < 3000, `${what}: closed after ${r.closedAfterMs} ms (--ssl-handshake-timeout 1s)`);
    }
  });

  test('metrics: ClientHellos by result, spliced connections by Service on the https listener', async () => {
    await session(p.httpsPort, 'pass.l4.test', { send: 'm' });
    const text = await eventually(async () => {
      const t = (await get(p.adminPort, '/metrics')).body;
      return /portico_tcp_bytes_total\{namespace="default",service="pass",listener="https",direction="sent"\} [1-9]/.test(t) ? t : null;
    }, { what: 'byte counts' });
    for (const result of ['passthrough', 'terminated', 'invalid', 'timeout']) assert.match(text, new RegExp(`portico_tls_client_hellos_total\\{listener="https",result="${result}"\\} [1-9]`), result);
    assert.match(text, /portico_tcp_connections_total\{namespace="default",service="pass",listener="https"\} [1-9]/);
    const view = JSON.parse((await get(p.adminPort, '/debug/backends')).body) as { l4: unknown[] };
    assert.deepEqual(view.l4, [
      { protocol: 'TLS', port: 443, host: '*.wild.l4.test', backend: 'default/pass:443+tcp', source: 'Ingress default/wild' },
      { protocol: 'TLS', port: 443, host: 'pass.l4.test', backend: 'default/pass:443+tcp', source: 'Ingress default/pass' },
    ]);
  });
});

test('without --enable-ssl-passthrough an Ingress asking for it is refused (503), never served terminated to a TLS pod', async () => {
  const podCert = cert(['refused.l4.test']);
  const pod = await startTlsPod('127.0.212.21', 'refused', podCert);
  const objs: Obj[] = [
    ingressObject('refused', [{ host: 'refused.l4.test', paths: [{ path: '/', service: 'pass', port: 443 }] }], {}, PASSTHROUGH),
    serviceWithPorts('pass', 'default', [{ name: 'https', port: 443 }]),
    sliceWithPorts('pass-1', 'pass', [pod.ip], [{ name: 'https', port: pod.port }]),
  ];
  const p = await startPortico({ 'all.yaml': yaml(objs) }, ['--bind-address', HOST.replace(/1$/, '20'), '--admin-bind-address', '127.0.0.1']);
  try {
    const routes = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(routes.diagnostics.some((d) => /UnsupportedAnnotation: .*ssl-passthrough: TLS passthrough needs --enable-ssl-passthrough/.test(d)), JSON.stringify(routes.diagnostics));
    const leaf = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.212.20', port: p.httpsPort, servername: 'refused.l4.test', rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().fingerprint256);
        s.destroy();
      });
      s.on('error', reject);
    });
    assert.notEqual(leaf, new X509Certificate(podCert.certPem).fingerprint256, 'Portico terminates: not spliced without the flag');
    const answer = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.212.20', port: p.httpsPort, servername: 'refused.l4.test', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => s.write('GET / HTTP/1.1\r\nHost: refused.l4.test\r\nConnection: close\r\n\r\n'));
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.match(answer, /^HTTP\/1\.1 503/, 'refused, as an Ingress with an unsupported annotation is');
    assert.equal(pod.names.length, 0, 'the TLS pod was never sent plain HTTP');
  } finally {
    await p.stop();
    await pod.close();
  }
});
