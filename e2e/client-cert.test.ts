/**
 * Client certificates (auth-tls-*) against the real binary with real clients: curl --cert,
 * openssl s_client, Node's https and http2 clients. Per host by SNI, on HTTP/1.1 and HTTP/2:
 * verify on/off/optional/optional_no_ca, depth, CRLs, the error page, match-cn, the ssl-client-*
 * headers to the pod (exact, never forgeable), SNI and Host that differ (421), a rotated CA,
 * session resumption, and the fail-closed cases. Loopback addresses 127.0.160.x to 127.0.169.x.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { startApiDouble, type ApiDouble } from './apiserver/double.js';
import { run } from './lib/command.js';
import { ca, caSecretYaml, cert, client, crl, secretYaml, type Issued } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { ingressYaml, join as yamls, serviceYaml } from './lib/manifests.js';
import { ingressObject, serviceWithSlices } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';

interface Reply {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** What the echo pod saw: its request headers. */
const seenBy = (r: Reply): Record<string, string> => (JSON.parse(r.body) as { headers: Record<string, string> }).headers;

interface ClientOptions {
  readonly servername?: string;
  readonly cert?: Issued;
  /** Intermediate CAs sent after the client's certificate. */
  readonly chain?: readonly Issued[];
}

/** One HTTP/1.1 keep-alive connection over TLS, requests one at a time (responses are framed by Content-Length). */
async function connection(port: number, o: ClientOptions): Promise<{ request(host: string, headers?: Record<string, string>, path?: string): Promise<Reply>; socket: TLSSocket }> {
  const socket = await new Promise<TLSSocket>((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['http/1.1'], rejectUnauthorized: false, ...(o.servername !== undefined ? { servername: o.servername } : {}), ...(o.cert ? { cert: [o.cert.certPem, ...(o.chain ?? []).map((c) => c.certPem)].join(''), key: o.cert.keyPem } : {}) }, () => resolve(s));
    s.once('error', reject);
  });
  let buf = Buffer.alloc(0);
  let waiting: (() => void) | null = null;
  socket.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    waiting?.();
  });
  socket.on('end', () => waiting?.());
  socket.on('error', () => waiting?.());
  const response = (): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no response within 5 s')), 5000);
      const tryParse = (): void => {
        const end = buf.indexOf('\r\n\r\n');
        if (end >= 0) {
          const [statusLine = '', ...lines] = buf.subarray(0, end).toString().split('\r\n');
          const headers: Record<string, string> = {};
          for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
          const length = Number(headers['content-length'] ?? 0);
          if (buf.length >= end + 4 + length) {
            const body = buf.subarray(end + 4, end + 4 + length).toString();
            buf = buf.subarray(end + 4 + length);
            waiting = null;
            clearTimeout(timer);
            resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
            return;
          }
        }
        if (socket.destroyed || socket.readableEnded) {
          clearTimeout(timer);
          reject(new Error(`connection closed${buf.length ? `: ${buf.toString().slice(0, 200)}` : ''}`));
        }
      };
      waiting = tryParse;
      tryParse();
    });
  return {
    socket,
    request(host, headers = {}, path = '/') {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
      return response();
    },
  };
}

/** One HTTP/1.1 request on its own connection, SNI = Host unless told otherwise. */
async function h1(port: number, host: string, o: ClientOptions & { headers?: Record<string, string>; path?: string } = {}): Promise<Reply> {
  const c = await connection(port, { servername: host, ...o });
  try {
    return await c.request(host, o.headers, o.path);
  } finally {
    c.socket.destroy();
  }
}

/** One HTTP/2 request on its own connection. */
async function h2(port: number, host: string, o: ClientOptions & { path?: string } = {}): Promise<Reply> {
  const session = h2connect(`https://127.0.0.1:${port}`, { servername: o.servername ?? host, rejectUnauthorized: false, ...(o.cert ? { cert: [o.cert.certPem, ...(o.chain ?? []).map((c) => c.certPem)].join(''), key: o.cert.keyPem } : {}) });
  try {
    return await new Promise<Reply>((resolve, reject) => {
      session.on('error', reject);
      const req = session.request({ ':path': o.path ?? '/', ':authority': host });
      let status = 0;
      const headers: Record<string, string> = {};
      let body = '';
      req.on('response', (h) => {
        status = Number(h[':status']);
        for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) headers[k] = String(v);
      });
      req.on('data', (d) => (body += d));
      req.on('end', () => resolve({ status, headers, body }));
      req.on('error', reject);
      req.end();
    });
  } finally {
    session.close();
  }
}

// --- the PKI of the tests -------------------------------------------------------------------
const rootOne = ca('Client CA One');
const int1 = ca('Intermediate One', rootOne);
const int2 = ca('Intermediate Two', int1);
const rootTwo = ca('Client CA Two');
const alice = client([['C', 'US'], ['O', 'Acme, Inc.'], ['CN', 'alice']], rootOne);
const bob = client([['CN', 'bob']], rootOne);
const viaOne = client([['CN', 'via one']], int1);
const viaTwo = client([['CN', 'via two']], int2);
const mallory = client([['CN', 'mallory']], rootTwo);
const selfMade = client([['CN', 'self made']]);
const expired = client([['CN', 'expired']], rootOne, { notBefore: new Date(Date.now() - 10 * 86_400_000), notAfter: new Date(Date.now() - 86_400_000) });
const revoked = client([['CN', 'revoked']], rootOne);
const ALICE_DN = 'CN=alice,O=Acme\\, Inc.,C=US';
const ROOT_ONE_DN = 'CN=Client CA One,O=Portico Tests';

describe('client certificates, per host by SNI, on HTTP/1.1 and HTTP/2', () => {
  let pod: Pod;
  let p: Portico;
  let dir = '';
  const file = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };
  /** An Ingress for `<name>.mtls.test`, TLS with the wildcard certificate. */
  const host = (name: string, annotations: Record<string, string>, path = '/'): string => ingressYaml(name, [{ host: `${name}.mtls.test`, paths: [{ path, service: 'pod' }] }], { tls: [{ hosts: [`${name}.mtls.test`], secretName: 'site' }] }, annotations);
  const secret = (name: string): Record<string, string> => ({ [`${N}auth-tls-secret`]: name });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-mtls-'));
    pod = await startPod('127.0.160.1', 'pod');
    p = await startPortico({
      'apps.yaml': yamls(
        host('on', { ...secret('default/ca-one'), [`${N}auth-tls-verify-client`]: 'on' }),
        host('optional', { ...secret('ca-one'), [`${N}auth-tls-verify-client`]: 'optional' }),
        host('noca', { ...secret('ca-one'), [`${N}auth-tls-verify-client`]: 'optional_no_ca' }),
        host('off', { ...secret('ca-one'), [`${N}auth-tls-verify-client`]: 'off', [`${N}auth-tls-verify-depth`]: '2' }),
        host('depth2', { ...secret('ca-one'), [`${N}auth-tls-verify-depth`]: '2' }),
        host('errorpage', { ...secret('ca-one'), [`${N}auth-tls-error-page`]: 'https://errors.example.com/client-certificate' }),
        host('pass', { ...secret('ca-one'), [`${N}auth-tls-pass-certificate-to-upstream`]: 'true' }),
        host('cn', { ...secret('ca-one'), [`${N}auth-tls-match-cn`]: 'CN=(alice|carol)' }),
        host('crl', secret('ca-one-crl')),
        host('two', secret('ca-two')),
        host('plain', { ...secret('ca-one'), [`${N}ssl-redirect`]: 'false' }),
        host('open', {}),
        ingressYaml('plainopen', [{ host: 'plainopen.mtls.test', paths: [{ path: '/', service: 'pod' }] }]),
        // fail closed: a missing Secret refuses its host (another Ingress's routes on it too); so does an invalid value
        host('missing', secret('nope'), '/private'),
        ingressYaml('missing-neighbour', [{ host: 'missing.mtls.test', paths: [{ path: '/public', service: 'pod' }] }]),
        host('invalid', { ...secret('ca-one'), [`${N}auth-tls-verify-client`]: 'yes' }),
        serviceYaml('pod', [pod]),
      ),
      'secrets.yaml': yamls(secretYaml('site', cert(['*.mtls.test'])), caSecretYaml('ca-one', rootOne.certPem), caSecretYaml('ca-one-crl', rootOne.certPem, crl(rootOne, [revoked])), caSecretYaml('ca-two', rootTwo.certPem)),
    });
  });
  after(async () => {
    await p.stop();
    await pod.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('auth-tls-verify-client: on (the default)', () => {
    test('no certificate: 400 "No required SSL certificate was sent", on HTTP/1.1 and HTTP/2, nothing reaches the pod', async () => {
      const before = pod.seen.length;
      for (const r of [await h1(p.httpsPort, 'on.mtls.test'), await h2(p.httpsPort, 'on.mtls.test')]) {
        assert.equal(r.status, 400);
        assert.equal(r.body, '400 Bad Request: No required SSL certificate was sent\n');
      }
      assert.equal(pod.seen.length, before);
    });

    test('a certificate from the CA: 200, and the pod gets ssl-client-verify, -subject-dn and -issuer-dn as nginx sets them', async () => {
      for (const r of [await h1(p.httpsPort, 'on.mtls.test', { cert: alice }), await h2(p.httpsPort, 'on.mtls.test', { cert: alice })]) {
        assert.equal(r.status, 200);
        const h = seenBy(r);
        assert.equal(h['ssl-client-verify'], 'SUCCESS');
        assert.equal(h['ssl-client-subject-dn'], ALICE_DN);
        assert.equal(h['ssl-client-issuer-dn'], ROOT_ONE_DN);
        assert.equal(h['ssl-client-cert'], undefined, 'only with auth-tls-pass-certificate-to-upstream');
      }
    });

    test('another CA, self-signed, expired: 400 "The SSL certificate error"', async () => {
      for (const c of [mallory, selfMade, expired]) {
        for (const r of [await h1(p.httpsPort, 'on.mtls.test', { cert: c }), await h2(p.httpsPort, 'on.mtls.test', { cert: c })]) {
          assert.equal(r.status, 400, c.subject.join());
          assert.equal(r.body, '400 Bad Request: The SSL certificate error\n');
        }
      }
    });

    test("Node's https client with cert and key: 200; without: 400", async () => {
      const call = (c?: Issued): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = httpsRequest({ host: '127.0.0.1', port: p.httpsPort, servername: 'on.mtls.test', headers: { host: 'on.mtls.test' }, rejectUnauthorized: false, agent: false, ...(c ? { cert: c.certPem, key: c.keyPem } : {}) }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          });
          req.on('error', reject);
          req.end();
        });
      assert.equal(await call(alice), 200);
      assert.equal(await call(), 400);
      assert.equal(await call(mallory), 400);
    });

    test('curl --cert: 200 with it, 400 without (HTTP/1.1 and --http2)', async () => {
      const certFile = file('alice.crt', alice.certPem);
      const keyFile = file('alice.key', alice.keyPem);
      const url = `https://on.mtls.test:${p.httpsPort}/`;
      const resolve = ['--resolve', `on.mtls.test:${p.httpsPort}:127.0.0.1`];
      for (const v of ['--http1.1', '--http2']) {
        const ok = await run('curl', ['-sk', v, ...resolve, '--cert', certFile, '--key', keyFile, '-w', '\n%{http_code} %{http_version}', url]);
        assert.match(ok.stdout, /"ssl-client-verify":"SUCCESS"/);
        assert.match(ok.stdout, new RegExp(`\\n200 ${v === '--http2' ? '2' : '1\\.1'}$`));
        const no = await run('curl', ['-sk', v, ...resolve, '-w', '\n%{http_code}', url]);
        assert.equal(no.stdout, '400 Bad Request: No required SSL certificate was sent\n\n400');
      }
    });

    test('openssl s_client: the host asks for a certificate naming its CA; a host without auth-tls asks for none', async () => {
      const ask = (name: string): Promise<string> => run('openssl', ['s_client', '-connect', `127.0.0.1:${p.httpsPort}`, '-servername', name], `GET / HTTP/1.1\r\nHost: ${name}\r\nConnection: close\r\n\r\n`).then((r) => r.stdout);
      assert.match(await ask('on.mtls.test'), /Acceptable client certificate CA names\n\/?O ?= ?Portico Tests, CN ?= ?Client CA One/);
      assert.match(await ask('open.mtls.test'), /No client certificate CA names sent/);
    });
  });

  test('optional: no certificate passes with ssl-client-verify NONE and no DN headers; a bad one is 400', async () => {
    for (const r of [await h1(p.httpsPort, 'optional.mtls.test'), await h2(p.httpsPort, 'optional.mtls.test')]) {
      assert.equal(r.status, 200);
      const h = seenBy(r);
      assert.equal(h['ssl-client-verify'], 'NONE');
      assert.equal(h['ssl-client-subject-dn'], undefined);
      assert.equal(h['ssl-client-issuer-dn'], undefined);
    }
    assert.equal(seenBy(await h1(p.httpsPort, 'optional.mtls.test', { cert: alice }))['ssl-client-verify'], 'SUCCESS');
    assert.equal((await h1(p.httpsPort, 'optional.mtls.test', { cert: mallory })).status, 400);
  });

  test("optional_no_ca: an issuer nobody vouches for passes as FAILED:<OpenSSL's reason>; an expired certificate does not", async () => {
    const m = seenBy(await h1(p.httpsPort, 'noca.mtls.test', { cert: mallory }));
    assert.equal(m['ssl-client-verify'], 'FAILED:unable to verify the first certificate');
    assert.equal(m['ssl-client-subject-dn'], 'CN=mallory');
    assert.equal(m['ssl-client-issuer-dn'], 'CN=Client CA Two,O=Portico Tests');
    assert.equal(seenBy(await h2(p.httpsPort, 'noca.mtls.test', { cert: selfMade }))['ssl-client-verify'], 'FAILED:self-signed certificate');
    assert.equal(seenBy(await h1(p.httpsPort, 'noca.mtls.test'))['ssl-client-verify'], 'NONE');
    assert.equal(seenBy(await h1(p.httpsPort, 'noca.mtls.test', { cert: alice }))['ssl-client-verify'], 'SUCCESS');
    assert.equal((await h1(p.httpsPort, 'noca.mtls.test', { cert: expired })).status, 400);
  });

  test('off: no certificate is asked for (one offered is never sent); the pod gets ssl-client-verify NONE', async () => {
    for (const r of [await h1(p.httpsPort, 'off.mtls.test', { cert: alice }), await h2(p.httpsPort, 'off.mtls.test')]) {
      assert.equal(r.status, 200);
      assert.equal(seenBy(r)['ssl-client-verify'], 'NONE');
      assert.equal(seenBy(r)['ssl-client-subject-dn'], undefined);
    }
  });

  test('auth-tls-verify-depth counts intermediate CAs: one passes at the default 1, two need 2', async () => {
    assert.equal((await h1(p.httpsPort, 'on.mtls.test', { cert: viaOne, chain: [int1] })).status, 200);
    assert.equal((await h1(p.httpsPort, 'on.mtls.test', { cert: viaTwo, chain: [int2, int1] })).status, 400);
    assert.equal((await h2(p.httpsPort, 'on.mtls.test', { cert: viaTwo, chain: [int2, int1] })).status, 400);
    const deep = await h2(p.httpsPort, 'depth2.mtls.test', { cert: viaTwo, chain: [int2, int1] });
    assert.equal(deep.status, 200);
    assert.equal(seenBy(deep)['ssl-client-issuer-dn'], 'CN=Intermediate Two,O=Portico Tests');
  });

  test('auth-tls-error-page: a missing or refused certificate is a 302 to it', async () => {
    for (const r of [await h1(p.httpsPort, 'errorpage.mtls.test'), await h2(p.httpsPort, 'errorpage.mtls.test', { cert: mallory })]) {
      assert.equal(r.status, 302);
      assert.equal(r.headers.location, 'https://errors.example.com/client-certificate');
    }
    assert.equal((await h1(p.httpsPort, 'errorpage.mtls.test', { cert: alice })).status, 200);
  });

  test('auth-tls-pass-certificate-to-upstream: ssl-client-cert is the PEM, URL-encoded exactly as nginx\'s $ssl_client_escaped_cert', async () => {
    for (const r of [await h1(p.httpsPort, 'pass.mtls.test', { cert: alice }), await h2(p.httpsPort, 'pass.mtls.test', { cert: alice })]) {
      const h = seenBy(r);
      assert.equal(h['ssl-client-cert'], encodeURIComponent(alice.certPem));
      assert.ok(h['ssl-client-cert']?.startsWith('-----BEGIN%20CERTIFICATE-----%0A'));
      assert.ok(h['ssl-client-cert']?.endsWith('%0A-----END%20CERTIFICATE-----%0A'));
      assert.equal(decodeURIComponent(h['ssl-client-cert'] ?? ''), alice.certPem);
    }
  });

  test('auth-tls-match-cn: a subject the pattern finds passes, another is 403 "client certificate unauthorized"', async () => {
    assert.equal((await h1(p.httpsPort, 'cn.mtls.test', { cert: alice })).status, 200);
    for (const r of [await h1(p.httpsPort, 'cn.mtls.test', { cert: bob }), await h2(p.httpsPort, 'cn.mtls.test', { cert: bob })]) {
      assert.equal(r.status, 403);
      assert.equal(r.body, '403 Forbidden: client certificate unauthorized\n');
    }
  });

  test('ca.crl: a revoked certificate is refused; others from the CA pass', async () => {
    assert.equal((await h1(p.httpsPort, 'crl.mtls.test', { cert: alice })).status, 200);
    assert.equal((await h1(p.httpsPort, 'crl.mtls.test', { cert: revoked })).status, 400);
    assert.equal((await h2(p.httpsPort, 'crl.mtls.test', { cert: revoked })).status, 400);
  });

  test('each host verifies against its own CA', async () => {
    assert.equal((await h1(p.httpsPort, 'two.mtls.test', { cert: mallory })).status, 200);
    assert.equal((await h1(p.httpsPort, 'two.mtls.test', { cert: alice })).status, 400);
  });

  describe('the ssl-client-* headers can never be forged', () => {
    const forged = { 'ssl-client-verify': 'SUCCESS', 'ssl-client-subject-dn': 'CN=admin', 'ssl-client-issuer-dn': 'CN=Client CA One', 'ssl-client-cert': 'forged', ssl_client_verify: 'SUCCESS' };

    test('on a host with auth-tls, the pod sees only what Portico verified, once', async () => {
      const r = await h1(p.httpsPort, 'optional.mtls.test', { headers: forged });
      assert.equal(r.status, 200);
      const seen = pod.seen.at(-1)!;
      const names = seen.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      assert.deepEqual(names.filter((n) => n.startsWith('ssl')), ['ssl-client-verify']);
      assert.equal(seen.headers['ssl-client-verify'], 'NONE');
    });

    test('on a host without auth-tls, client-sent ones are dropped (ingress-nginx passes them on)', async () => {
      for (const r of [await h1(p.httpsPort, 'open.mtls.test', { headers: forged }), await get(p.httpPort, '/', { host: 'plainopen.mtls.test', headers: forged })]) {
        assert.equal(r.status, 200);
        const names = pod.seen.at(-1)!.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        assert.deepEqual(names.filter((n) => n.startsWith('ssl')), []);
      }
    });
  });

  describe('SNI and Host that differ never reach a host that asks for a certificate without one: 421', () => {
    test('HTTP/1.1: a connection to a host without auth-tls, Host of one with it', async () => {
      const r = await h1(p.httpsPort, 'on.mtls.test', { servername: 'open.mtls.test', cert: alice });
      assert.equal(r.status, 421);
      assert.match(r.body, /^421 Misdirected Request: this TLS connection was set up for open\.mtls\.test, not for on\.mtls\.test/);
      assert.equal(r.headers.connection, 'close');
    });

    test('HTTP/2: the same, and a connection verified against another CA', async () => {
      assert.equal((await h2(p.httpsPort, 'on.mtls.test', { servername: 'open.mtls.test', cert: alice })).status, 421);
      assert.equal((await h2(p.httpsPort, 'on.mtls.test', { servername: 'two.mtls.test', cert: mallory })).status, 421);
      assert.equal((await h2(p.httpsPort, 'optional.mtls.test', { servername: 'off.mtls.test' })).status, 421, 'off asked for nothing: optional must not take it as NONE');
    });

    test('a connection verified against the same CA may serve another host of that CA (as a coalescing browser expects)', async () => {
      const r = await h2(p.httpsPort, 'on.mtls.test', { servername: 'optional.mtls.test', cert: alice });
      assert.equal(r.status, 200);
      assert.equal(seenBy(r)['ssl-client-verify'], 'SUCCESS');
    });

    test('a verified connection may go on to a host without auth-tls, which gets no ssl-client-* headers', async () => {
      const r = await h1(p.httpsPort, 'open.mtls.test', { servername: 'on.mtls.test', cert: alice });
      assert.equal(r.status, 200);
      assert.equal(seenBy(r)['ssl-client-verify'], undefined);
    });

    test('no SNI at all: 421', async () => {
      const c = await connection(p.httpsPort, {});
      try {
        assert.equal((await c.request('on.mtls.test')).status, 421);
      } finally {
        c.socket.destroy();
      }
    });
  });

  test('plain HTTP: the TLS redirect first; without it, no certificate is 400', async () => {
    assert.equal((await get(p.httpPort, '/', { host: 'on.mtls.test' })).status, 308);
    const r = await get(p.httpPort, '/', { host: 'plain.mtls.test' });
    assert.equal(r.status, 400);
    assert.equal(r.body, '400 Bad Request: No required SSL certificate was sent\n');
  });

  describe('fail closed', () => {
    test('a missing auth-tls-secret refuses the whole host (every Ingress on it), over HTTPS and HTTP; other hosts are served', async () => {
      for (const path of ['/private', '/public']) {
        for (const r of [await h1(p.httpsPort, 'missing.mtls.test', { cert: alice, path }), await get(p.httpPort, path, { host: 'missing.mtls.test' })]) {
          assert.equal(r.status, 503);
          assert.match(r.body, /not served: host missing\.mtls\.test asks for client certificates, and Ingress default\/missing names an auth-tls-secret that cannot be used/);
        }
      }
      assert.equal((await h2(p.httpsPort, 'missing.mtls.test', { cert: alice, path: '/public' })).status, 503);
      assert.equal((await h1(p.httpsPort, 'on.mtls.test', { cert: alice })).status, 200);
    });

    test('an invalid value refuses the Ingress: 503 naming the annotation, nothing reaches the pod', async () => {
      const before = pod.seen.length;
      for (const r of [await h1(p.httpsPort, 'invalid.mtls.test', { cert: alice }), await h2(p.httpsPort, 'invalid.mtls.test', { cert: alice })]) {
        assert.equal(r.status, 503);
        assert.match(r.body, /its Ingress's nginx\.ingress\.kubernetes\.io\/auth-tls-verify-client cannot be honoured as written/);
      }
      assert.equal(pod.seen.length, before);
    });

    test('diagnostics say why, in /debug/routes and the log', async () => {
      const d = (JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] }).diagnostics.join('\n');
      assert.match(d, /Ingress default\/missing: SecretNotFound: auth-tls-secret default\/nope not found; client certificates cannot be verified, so host missing\.mtls\.test is not served/);
      assert.match(d, /Ingress default\/missing-neighbour: SecretNotFound: host missing\.mtls\.test is not served/);
      assert.match(d, /Ingress default\/invalid: InvalidAnnotation: nginx\.ingress\.kubernetes\.io\/auth-tls-verify-client: expected one of on, off, optional, optional_no_ca, got "yes"/);
      await p.waitForLog((l) => String(l.diagnostic).includes('default/missing: SecretNotFound'));
    });
  });
});

describe('a rotated CA, a removed Secret, and session resumption', () => {
  let pod: Pod;
  let p: Portico;
  let dir = '';
  const apps = (annotations: Record<string, string>): string =>
    yamls(
      ingressYaml('rot', [{ host: 'rot.mtls.test', paths: [{ path: '/', service: 'pod' }] }], { tls: [{ hosts: ['rot.mtls.test'], secretName: 'site' }] }, annotations),
      ingressYaml('open', [{ host: 'open.mtls.test', paths: [{ path: '/', service: 'pod' }] }], { tls: [{ hosts: ['open.mtls.test'], secretName: 'site' }] }),
      serviceYaml('pod', [pod]),
    );
  const mtls = { [`${N}auth-tls-secret`]: 'rot-ca' };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-mtls-sess-'));
    pod = await startPod('127.0.161.1', 'pod');
    p = await startPortico({ 'apps.yaml': apps({}), 'secrets.yaml': yamls(secretYaml('site', cert(['*.mtls.test'])), caSecretYaml('rot-ca', rootOne.certPem)) });
  });
  after(async () => {
    await p.stop();
    await pod.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** openssl s_client with a session file: "New" or "Reused", and the HTTP status. */
  async function sClient(servername: string, sess: { out?: string; in?: string }, cert?: Issued): Promise<{ handshake: string; status: number; stdout: string }> {
    const files = cert ? ['-cert', join(dir, 'c.crt'), '-key', join(dir, 'c.key')] : [];
    if (cert) {
      writeFileSync(join(dir, 'c.crt'), cert.certPem);
      writeFileSync(join(dir, 'c.key'), cert.keyPem);
    }
    const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${p.httpsPort}`, '-servername', servername, ...(sess.out ? ['-sess_out', sess.out] : []), ...(sess.in ? ['-sess_in', sess.in] : []), ...files, '-ign_eof'], `GET / HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
    return { handshake: /^(New|Reused),/m.exec(r.stdout)?.[1] ?? '?', status: Number(/^HTTP\/1\.1 (\d{3})/m.exec(r.stdout)?.[1] ?? 0), stdout: r.stdout };
  }

  test('session resumption: on while no host verifies clients; off once one does, so no session skips the certificate', async () => {
    const sess = join(dir, 'open.sess');
    assert.equal((await sClient('open.mtls.test', { out: sess })).handshake, 'New');
    const again = await sClient('open.mtls.test', { in: sess });
    assert.equal(again.handshake, 'Reused', 'without client certificates anywhere, sessions resume (this test can see a resumption)');

    p.write('apps.yaml', apps(mtls));
    await eventually(async () => (await h1(p.httpsPort, 'rot.mtls.test')).status === 400, { what: 'rot.mtls.test asks for certificates' });

    // a session of a host without auth-tls, offered to the host with it: a full handshake, and no certificate is 400
    const cross = await sClient('rot.mtls.test', { in: sess });
    assert.equal(cross.handshake, 'New');
    assert.equal(cross.status, 400);
    // sessions of the mTLS host itself are not resumed either: every connection verifies its certificate
    const own = join(dir, 'rot.sess');
    const first = await sClient('rot.mtls.test', { out: own }, alice);
    assert.equal(first.status, 200);
    const second = await sClient('rot.mtls.test', { in: own });
    assert.equal(second.handshake, 'New');
    assert.equal(second.status, 400, 'resuming without sending the certificate again gets nothing');
    const third = await sClient('open.mtls.test', { in: sess });
    assert.equal(third.handshake, 'New', 'old tickets died with the listener context they were issued by');
  });

  test('a rotated CA takes effect for new handshakes; a connection verified against the old one gets 421', async () => {
    p.write('apps.yaml', apps(mtls));
    p.write('secrets.yaml', yamls(secretYaml('site', cert(['*.mtls.test'])), caSecretYaml('rot-ca', rootOne.certPem)));
    await eventually(async () => (await h1(p.httpsPort, 'rot.mtls.test', { cert: alice })).status === 200, { what: 'CA one trusted' });
    const kept = await connection(p.httpsPort, { servername: 'rot.mtls.test', cert: alice });
    try {
      assert.equal((await kept.request('rot.mtls.test')).status, 200);
      p.write('secrets.yaml', yamls(secretYaml('site', cert(['*.mtls.test'])), caSecretYaml('rot-ca', rootTwo.certPem)));
      await eventually(async () => (await h1(p.httpsPort, 'rot.mtls.test', { cert: mallory })).status === 200, { what: 'CA two trusted' });
      assert.equal((await h1(p.httpsPort, 'rot.mtls.test', { cert: alice })).status, 400, 'CA one no longer');
      assert.equal((await h2(p.httpsPort, 'rot.mtls.test', { cert: mallory })).status, 200);
      const stale = await kept.request('rot.mtls.test');
      assert.equal(stale.status, 421, 'the old verification is not taken for the new CA');
    } finally {
      kept.socket.destroy();
    }
  });

  test('a Secret that disappears refuses the host at once; it never opens it', async () => {
    p.write('secrets.yaml', secretYaml('site', cert(['*.mtls.test'])));
    await eventually(async () => (await h1(p.httpsPort, 'rot.mtls.test', { cert: mallory })).status === 503, { what: 'rot.mtls.test refused' });
    assert.equal((await get(p.httpPort, '/', { host: 'rot.mtls.test' })).status, 503);
    assert.equal((await h1(p.httpsPort, 'open.mtls.test')).status, 200);
  });
});

describe('Kubernetes mode', () => {
  let api: ApiDouble;
  let pod: Pod;
  let p: Portico;
  let dir = '';
  const b64 = (t: string): string => Buffer.from(t).toString('base64');

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-mtls-kube-'));
    api = await startApiDouble();
    pod = await startPod('127.0.162.1', 'pod');
    for (const o of serviceWithSlices('pod', [pod])) api.apply(o);
    const site = cert(['*.mtls.test']);
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'site', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(site.certPem), 'tls.key': b64(site.keyPem) } });
    // kubectl create secret generic client-ca --from-file=ca.crt: an Opaque Secret
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'client-ca', namespace: 'default' }, type: 'Opaque', data: { 'ca.crt': b64(rootOne.certPem) } });
    // a Helm release Secret is never read, even if an Ingress names it
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'release', namespace: 'default' }, type: 'helm.sh/release.v1', data: { 'ca.crt': b64(rootOne.certPem) } });
    const tls = (h: string): Record<string, unknown> => ({ tls: [{ hosts: [h], secretName: 'site' }] });
    api.apply(ingressObject('kube', [{ host: 'kube.mtls.test', paths: [{ path: '/', service: 'pod' }] }], tls('kube.mtls.test'), { [`${N}auth-tls-secret`]: 'client-ca' }));
    api.apply(ingressObject('helm', [{ host: 'helm.mtls.test', paths: [{ path: '/', service: 'pod' }] }], tls('helm.mtls.test'), { [`${N}auth-tls-secret`]: 'release' }));
    p = await startPortico(null, ['--kubeconfig', api.kubeconfig(join(dir, 'kubeconfig'), undefined, 'ingress-system')], { env: { POD_NAME: 'portico-mtls', POD_NAMESPACE: 'ingress-system' } });
  });
  after(async () => {
    await p?.stop();
    await api?.close();
    await pod?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('an Opaque CA Secret from the API verifies clients; a Helm release Secret is not read (the host is refused)', async () => {
    await eventually(async () => (await h1(p.httpsPort, 'kube.mtls.test', { cert: alice })).status === 200, { what: 'kube.mtls.test verifies alice' });
    assert.equal((await h1(p.httpsPort, 'kube.mtls.test')).status, 400);
    assert.equal((await h2(p.httpsPort, 'kube.mtls.test', { cert: mallory })).status, 400);
    assert.equal((await h1(p.httpsPort, 'helm.mtls.test', { cert: alice })).status, 503);
  });

  test('a CA Secret deleted through the API refuses its host at once', async () => {
    api.remove('Secret', 'default', 'client-ca');
    await eventually(async () => (await h1(p.httpsPort, 'kube.mtls.test', { cert: alice })).status === 503, { what: 'kube.mtls.test refused' });
  });
});
