/**
 * TLS at the edge with real clients and handshakes: SNI selection, wildcard and default
 * certificates, rotation under load, redirects and HSTS, HTTP/2 (Node and curl), protocol
 * versions and ciphers (openssl s_client), WebSockets across table swaps, and gRPC.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type PeerCertificate } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { WebSocket } from 'undici';
import { run } from './lib/command.js';
import { cert, secretYaml } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { get, httpsGet } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';
import { startWsPod, type WsPod } from './lib/ws.js';

/** Handshakes with `servername` (or none) and returns the served leaf certificate. */
function peer(port: number, servername: string | undefined, extra: Record<string, unknown> = {}): Promise<PeerCertificate & { protocol: string | null }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...(servername ? { servername } : {}), ...extra }, () => {
      const c = s.getPeerCertificate();
      const protocol = s.getProtocol();
      s.destroy();
      resolve(Object.assign(c, { protocol }));
    });
    s.on('error', reject);
  });
}

const echoSvc = {
  Stream: { path: '/test.Echo/Stream', requestStream: false, responseStream: true, requestSerialize: (v: Buffer) => v, requestDeserialize: (v: Buffer) => v, responseSerialize: (v: Buffer) => v, responseDeserialize: (v: Buffer) => v },
  Unary: { path: '/test.Echo/Unary', requestStream: false, responseStream: false, requestSerialize: (v: Buffer) => v, requestDeserialize: (v: Buffer) => v, responseSerialize: (v: Buffer) => v, responseDeserialize: (v: Buffer) => v },
} satisfies grpc.ServiceDefinition;

describe('TLS, HTTP/2, WebSocket and gRPC', () => {
  let p: Portico;
  let web: Pod;
  let ws: WsPod;
  let grpcServer: grpc.Server;
  const secure = cert(['secure.test']);
  const wild = cert(['*.wild.test'], { keyType: 'rsa' });
  const grpcCert = cert(['grpc.test']);
  const other = cert(['broken.test']);
  const files: Record<string, string> = {};

  before(async () => {
    web = await startPod('127.0.70.1', 'web');
    ws = await startWsPod('127.0.70.2');
    grpcServer = new grpc.Server();
    grpcServer.addService(echoSvc, {
      Unary: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
        const md = new grpc.Metadata();
        md.set('x-trailer', 'unary-done');
        cb(null, Buffer.from(`echo:${call.request.toString()}`), md);
      },
      Stream: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const n = Number(call.request.toString());
        for (let i = 0; i < n; i++) call.write(Buffer.from(`item-${i}`));
        const md = new grpc.Metadata();
        md.set('x-trailer', 'stream-done');
        call.end(md);
      },
    });
    const grpcPort = await new Promise<number>((r, j) => grpcServer.bindAsync('127.0.70.3:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? j(e) : r(port))));
    const mismatched = { certPem: other.certPem, keyPem: cert(['broken.test']).keyPem };
    files['secrets.yaml'] = join(secretYaml('secure-cert', secure), secretYaml('wild-cert', wild), secretYaml('grpc-cert', grpcCert), secretYaml('broken-cert', mismatched));
    files['apps.yaml'] = join(
      ingressYaml('secure', [{ host: 'secure.test', paths: [{ path: '/', service: 'web' }] }], { tls: [{ hosts: ['secure.test'], secretName: 'secure-cert' }] }),
      ingressYaml('wild', [{ host: '*.wild.test', paths: [{ path: '/', service: 'web' }] }], { tls: [{ hosts: ['*.wild.test'], secretName: 'wild-cert' }] }),
      ingressYaml('plain', [{ host: 'plain.test', paths: [{ path: '/', service: 'web' }] }], { tls: [{ hosts: ['plain.test'] }] }, { 'nginx.ingress.kubernetes.io/ssl-redirect': 'false' }),
      ingressYaml('broken', [{ host: 'broken.test', paths: [{ path: '/', service: 'web' }] }], { tls: [{ hosts: ['broken.test'], secretName: 'broken-cert' }] }),
      ingressYaml('ws', [{ paths: [{ path: '/ws', service: 'ws' }] }]),
      ingressYaml('ws-vhost', [{ host: 'ws-vhost.test', paths: [{ path: '/ws', service: 'ws' }] }], {}, { 'nginx.ingress.kubernetes.io/upstream-vhost': 'chat.internal' }),
      ingressYaml('grpc', [{ host: 'grpc.test', paths: [{ path: '/', service: 'grpc' }] }], { tls: [{ hosts: ['grpc.test'], secretName: 'grpc-cert' }] }, { 'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC' }),
      serviceYaml('web', [web]),
      serviceYaml('ws', [ws]),
      serviceYaml('grpc', [{ ip: '127.0.70.3', port: grpcPort }]),
    );
    p = await startPortico(files);
  });

  after(async () => {
    await p.stop();
    await Promise.all([web.close(), ws.close(), new Promise<void>((r) => grpcServer.tryShutdown(() => r()))]);
  });

  test('SNI picks the exact host certificate', async () => {
    const c = await peer(p.httpsPort, 'secure.test');
    assert.equal(c.subjectaltname, 'DNS:secure.test');
  });

  test('a wildcard certificate covers one label, not two', async () => {
    assert.equal((await peer(p.httpsPort, 'a.wild.test')).subjectaltname, 'DNS:*.wild.test');
    assert.equal((await peer(p.httpsPort, 'a.b.wild.test')).subject.CN, 'Portico Default Certificate');
  });

  test('unknown SNI names and clients without SNI get the default certificate, whose first SAN is a DNS name', async () => {
    const c = await peer(p.httpsPort, 'unknown.test');
    assert.equal(c.subject.CN, 'Portico Default Certificate');
    assert.match(c.subjectaltname ?? '', /^DNS:portico\.local/);
    assert.equal((await peer(p.httpsPort, undefined)).subject.CN, 'Portico Default Certificate');
  });

  test('a Secret whose key does not match falls back to the default certificate and is reported', async () => {
    assert.equal((await peer(p.httpsPort, 'broken.test')).subject.CN, 'Portico Default Certificate');
    const line = await p.waitForLog((l) => String(l.diagnostic).includes('CertificateKeyMismatch'));
    assert.match(String(line.diagnostic), /Ingress default\/broken: CertificateKeyMismatch/);
    assert.equal((await httpsGet(p.httpsPort, 'broken.test', 'broken.test')).status, 200, 'the host is still served');
  });

  test('SNI picks the certificate, the Host header picks the route', async () => {
    const r = await httpsGet(p.httpsPort, 'secure.test', 'plain.test', '/which');
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).headers.host, 'plain.test');
    assert.equal(JSON.parse(r.body).headers['x-forwarded-proto'], 'https');
  });

  test('plain HTTP to a TLS host is redirected with 308; ssl-redirect "false" and ACME challenges are not', async () => {
    const r = await get(p.httpPort, '/a/b?c=d', { host: 'secure.test' });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'https://secure.test/a/b?c=d');
    assert.equal((await get(p.httpPort, '/', { host: 'plain.test' })).status, 200);
    assert.equal((await get(p.httpPort, '/.well-known/acme-challenge/token', { host: 'secure.test' })).status, 200);
    assert.equal((await get(p.httpPort, '/', { host: 'plain.test' })).headers['strict-transport-security'], undefined, 'no HSTS over plain HTTP');
  });

  test('HTTPS responses carry HSTS max-age=31536000; includeSubDomains', async () => {
    const r = await httpsGet(p.httpsPort, 'secure.test', 'secure.test');
    assert.equal(r.headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
  });

  test('HTTP/2 over ALPN: :authority becomes Host, and the pod gets HTTP/1.1', async () => {
    const session = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: 'secure.test', rejectUnauthorized: false });
    try {
      const req = session.request({ ':method': 'POST', ':path': '/h2?x=1', ':authority': 'secure.test', 'content-type': 'text/plain' });
      req.end('h2 body');
      const [headers, body] = await new Promise<[Record<string, unknown>, string]>((resolve, reject) => {
        let h: Record<string, unknown> = {};
        let b = '';
        req.on('response', (x) => (h = x));
        req.on('data', (d) => (b += d));
        req.on('end', () => resolve([h, b]));
        req.on('error', reject);
      });
      assert.equal(headers[':status'], 200);
      assert.equal(headers['strict-transport-security'], 'max-age=31536000; includeSubDomains');
      const seen = web.seen.at(-1)!;
      assert.equal(seen.httpVersion, '1.1');
      assert.equal(seen.headers.host, 'secure.test');
      assert.equal(seen.method, 'POST');
      assert.equal(seen.url, '/h2?x=1');
      assert.equal(seen.body.toString(), 'h2 body');
      assert.equal(JSON.parse(body).pod, 'web');
    } finally {
      session.close();
    }
  });

  // Async child processes: the pods live in this process, so a blocking spawn would starve them.
  test('curl --http2 negotiates h2', async () => {
    const r = await run('curl', ['-sk', '--http2', '-o', '/dev/null', '-w', '%{http_version} %{http_code}', '--resolve', `secure.test:${p.httpsPort}:127.0.0.1`, `https://secure.test:${p.httpsPort}/`]);
    assert.equal(r.stdout, '2 200', r.stderr);
  });

  test('TLS 1.2 and 1.3 are accepted; 1.0, 1.1 and a non-ECDHE cipher are refused (openssl s_client)', async () => {
    const s = (...args: string[]) => run('openssl', ['s_client', '-connect', `127.0.0.1:${p.httpsPort}`, '-servername', 'secure.test', ...args]);
    assert.match((await s('-tls1_3')).stdout, /Protocol\s*:\s*TLSv1\.3|New, TLSv1\.3/);
    assert.match((await s('-tls1_2')).stdout, /Protocol\s*:\s*TLSv1\.2|New, TLSv1\.2/);
    for (const old of ['-tls1_1', '-tls1']) assert.notEqual((await s(old, '-cipher', 'DEFAULT@SECLEVEL=0')).code, 0, `${old} must fail`);
    assert.notEqual((await s('-tls1_2', '-cipher', 'AES128-SHA')).code, 0, 'RSA key exchange must fail');
  });

  test('a rotated Secret is served to new handshakes, with no failed handshake under load', async () => {
    const before = (await peer(p.httpsPort, 'secure.test')).fingerprint256;
    let failures = 0;
    let handshakes = 0;
    let stop = false;
    const loop = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await httpsGet(p.httpsPort, 'secure.test', 'secure.test');
          if (r.status !== 200) failures++;
          handshakes++;
        } catch {
          failures++;
        }
      }
    };
    const loops = [loop(), loop(), loop(), loop()];
    await sleep(200);
    const rotated = cert(['secure.test']);
    p.write('secrets.yaml', files['secrets.yaml']!.replace(secretYaml('secure-cert', secure), secretYaml('secure-cert', rotated)));
    const want = new X509Certificate(rotated.certPem).fingerprint256;
    try {
      await eventually(async () => (await peer(p.httpsPort, 'secure.test')).fingerprint256 === want, { ms: 5000, what: 'the rotated certificate served' });
      // keep handshaking across the swap until enough have run (a loaded machine makes each slow)
      const enough = handshakes + 20;
      await eventually(async () => handshakes > enough, { ms: 15_000, what: '20 more handshakes after the rotation' });
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    assert.notEqual(before, want);
    assert.equal(failures, 0);
    assert.ok(handshakes > 20, `only ${handshakes} handshakes`);
  });

  test('a WebSocket echo keeps working across ten table swaps, on the same connection', async () => {
    const sock = new WebSocket(`ws://127.0.0.1:${p.httpPort}/ws/chat`);
    const inbox: string[] = [];
    let closed = false;
    sock.addEventListener('message', (e) => inbox.push(String(e.data)));
    sock.addEventListener('close', () => (closed = true));
    await new Promise<void>((r, j) => {
      sock.addEventListener('open', () => r());
      sock.addEventListener('error', () => j(new Error('websocket failed to open')));
    });
    const echo = async (msg: string): Promise<void> => {
      sock.send(msg);
      const deadline = Date.now() + 3000;
      while (!inbox.includes(msg) && Date.now() < deadline) await sleep(5);
      assert.ok(inbox.includes(msg), `no echo for ${msg}`);
    };
    await echo('hello');
    const swapsBefore = p.logs.filter((l) => l.msg === 'routing table swapped').length;
    for (let i = 0; i < 10; i++) {
      p.write('churn.yaml', ingressYaml(`churn-${i}`, [{ host: `churn-${i}.test`, paths: [{ path: '/', service: 'web' }] }]));
      await p.waitForLog(() => p.logs.filter((l) => l.msg === 'routing table swapped').length >= swapsBefore + i + 1);
      await echo(`after swap ${i}`);
    }
    assert.equal(closed, false);
    sock.close();
    const up = ws.upgrades.at(-1)!;
    assert.equal(up.upgrade, 'websocket');
    assert.equal(up['x-forwarded-for'], '127.0.0.1');
    assert.match(String(up['x-request-id']), /^[0-9a-f]{32}$/);
  });

  test('an upgrade request carries upstream-vhost as its Host; X-Forwarded-Host keeps the client host', async () => {
    const s = netConnect(p.httpPort, '127.0.0.1');
    s.write('GET /ws HTTP/1.1\r\nHost: ws-vhost.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    const head = await new Promise<string>((resolve, reject) => {
      let got = '';
      s.on('data', (d: Buffer) => {
        got += d.toString('latin1');
        if (got.includes('\r\n\r\n')) resolve(got);
      });
      s.on('error', reject);
    });
    s.destroy();
    assert.match(head, /^HTTP\/1\.1 101 /);
    const up = ws.upgrades.at(-1)!;
    assert.equal(up.host, 'chat.internal');
    assert.equal(up['x-forwarded-host'], 'ws-vhost.test');
  });

  test('gRPC unary and server-streaming calls through the HTTPS listener, with trailers', async () => {
    const Client = grpc.makeGenericClientConstructor(echoSvc, 'Echo');
    const client = new Client(`127.0.0.1:${p.httpsPort}`, grpc.credentials.createSsl(Buffer.from(grpcCert.certPem)), {
      'grpc.ssl_target_name_override': 'grpc.test',
      'grpc.default_authority': 'grpc.test',
    }) as unknown as {
      Unary(req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): grpc.ClientUnaryCall;
      Stream(req: Buffer): grpc.ClientReadableStream<Buffer>;
      close(): void;
    };
    try {
      let unaryTrailer = '';
      const reply = await new Promise<Buffer>((resolve, reject) => {
        const call = client.Unary(Buffer.from('ping'), (e, r) => (e ? reject(e) : resolve(r!)));
        call.on('status', (s: grpc.StatusObject) => (unaryTrailer = String(s.metadata.get('x-trailer')[0] ?? '')));
      });
      assert.equal(reply.toString(), 'echo:ping');
      await sleep(20);
      assert.equal(unaryTrailer, 'unary-done');
      const items: string[] = [];
      const status = await new Promise<grpc.StatusObject>((resolve, reject) => {
        const call = client.Stream(Buffer.from('5'));
        call.on('data', (d: Buffer) => items.push(d.toString()));
        call.on('status', resolve);
        call.on('error', reject);
      });
      assert.deepEqual(items, ['item-0', 'item-1', 'item-2', 'item-3', 'item-4']);
      assert.equal(status.code, grpc.status.OK);
      assert.equal(status.metadata.get('x-trailer')[0], 'stream-done');
    } finally {
      client.close();
    }
  });

  test('TLS metrics: handshakes by protocol and certificate expiry per secret and host', async () => {
    const text = (await get(p.adminPort, '/metrics')).body;
    assert.match(text, /portico_ssl_handshakes_total\{listener="https",protocol="TLSv1\.3"\} \d+/);
    const expiry = Math.floor(Date.parse(new X509Certificate(wild.certPem).validTo) / 1000);
    assert.match(text, new RegExp(`portico_ssl_certificate_expiry_timestamp_seconds\\{namespace="default",secret="wild-cert",host="\\*\\.wild\\.test"\\} ${expiry}`));
  });
});

describe('--default-ssl-certificate', () => {
  test('a Secret named by the flag is served for unknown SNI names; a missing one is reported and the generated one used', async () => {
    const d = cert(['fallback.test'], { keyType: 'rsa' });
    const p = await startPortico({ 's.yaml': secretYaml('edge-default', d, 'infra') }, ['--default-ssl-certificate', 'infra/edge-default']);
    try {
      assert.equal((await peer(p.httpsPort, 'whatever.test')).subjectaltname, 'DNS:fallback.test');
      assert.equal((await peer(p.httpsPort, undefined)).subjectaltname, 'DNS:fallback.test', 'clients without SNI get it too (it is RSA)');
    } finally {
      await p.stop();
    }
    const q = await startPortico({ 'empty.yaml': '' }, ['--default-ssl-certificate', 'infra/nope']);
    try {
      const line = await q.waitForLog((l) => String(l.diagnostic).includes('SecretNotFound'));
      assert.match(String(line.diagnostic), /^Secret infra\/nope: SecretNotFound: --default-ssl-certificate infra\/nope not found/);
      assert.equal((await peer(q.httpsPort, 'whatever.test')).subject.CN, 'Portico Default Certificate');
    } finally {
      await q.stop();
    }
  });
});
