/**
 * Gateway frontend client certificate validation (spec.tls.frontend; the conformance suite's
 * GatewayFrontendClientCertificateValidation, ...InsecureFallback and the invalid-reference
 * cases) against the real binary, over HTTP/1.1 and HTTP/2: three Gateways share Portico's HTTPS
 * port by hostname. AllowValidOnly: a certificate from the ConfigMap's CA is served (the pod sees
 * ssl-client-verify SUCCESS), none or another CA's fails the handshake; AllowInsecureFallback
 * lets every client through and tells the pod; an unusable CA ref refuses (503), never serves
 * open; SNI of another host with this Host is 421; a rotated CA ConfigMap is picked up.
 * Standalone mode. Pods on 127.0.207.x.
 */
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { ca, cert, client, type Issued } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { yaml } from './lib/manifests.js';
import { configMap, gateway, gatewayClass, httpRoute, namespace, serviceWithSlices, tlsSecret, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

interface Reply {
  readonly status: number;
  readonly body: string;
}

interface Ask {
  /** The Host header (and SNI unless `servername`). */
  readonly host: string;
  readonly servername?: string;
  readonly cert?: Issued;
}

/** One request on a new HTTP/1.1 TLS connection; rejects when the connection fails. */
function ask1(port: number, a: Ask): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({ host: '127.0.0.1', port, path: '/', headers: { host: a.host }, servername: a.servername ?? a.host, rejectUnauthorized: false, agent: false, timeout: 5000, ...(a.cert ? { cert: a.cert.certPem, key: a.cert.keyPem } : {}) }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** One request on a new HTTP/2 connection; rejects when the connection fails. */
function ask2(port: number, a: Ask): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const session = h2connect(`https://127.0.0.1:${port}`, { servername: a.servername ?? a.host, rejectUnauthorized: false, ...(a.cert ? { cert: a.cert.certPem, key: a.cert.keyPem } : {}) });
    const timer = setTimeout(() => session.destroy(new Error('timeout')), 5000);
    const fail = (err: Error): void => {
      clearTimeout(timer);
      session.destroy();
      reject(err);
    };
    session.on('error', fail);
    session.on('close', () => fail(new Error('session closed')));
    const req = session.request({ ':path': '/', ':authority': a.host });
    let status = 0;
    let body = '';
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      // a stream closed with the session, before any response, is a refused connection
      if (status === 0) return fail(new Error('no response'));
      clearTimeout(timer);
      session.close();
      resolve({ status, body });
    });
    req.on('error', fail);
  });
}

const VERSIONS = [
  ['HTTP/1.1', ask1],
  ['HTTP/2', ask2],
] as const;

/** The ssl-client-verify header the pod got. */
const verifyOf = (r: Reply): string => String((JSON.parse(r.body) as { headers: Record<string, string> }).headers['ssl-client-verify']);

/** Resolves with the reason the request failed; fails the test when it got an answer. */
async function refused(p: Promise<Reply>): Promise<string> {
  try {
    const r = await p;
    assert.fail(`expected the connection to be refused, got ${r.status}`);
  } catch (err) {
    if (err instanceof assert.AssertionError) throw err;
    return (err as Error).message;
  }
}

describe('Gateway frontend client certificate validation', () => {
  let p: Portico;
  let pod: Pod;
  let caA: Issued;
  let caB: Issued;
  let clientA: Issued;
  let clientB: Issued;
  const validation = (name: string, mode?: string): Record<string, unknown> => ({ frontend: { default: { validation: { ...(mode !== undefined ? { mode } : {}), caCertificateRefs: [{ group: '', kind: 'ConfigMap', name }] } } } });
  const listener = (hostname: string): Record<string, unknown> => ({ name: 'https', port: 443, protocol: 'HTTPS', hostname, tls: { certificateRefs: [{ name: 'server' }] } });
  const withTls = (g: Obj, tls: Record<string, unknown>): Obj => ({ ...g, spec: { ...(g.spec as Record<string, unknown>), tls } });

  before(async () => {
    caA = ca('frontend test CA');
    caB = ca('another CA');
    clientA = client([['CN', 'client a']], caA);
    clientB = client([['CN', 'client b']], caB);
    pod = await startPod('127.0.207.1');
    server = cert(['strict.example.org', 'open.example.org', 'broken.example.org', 'perport.example.org']);
    p = await startPortico({ 'base.yaml': yaml(objects(caA.certPem)) });
  });

  let server: ReturnType<typeof cert>;
  /** Everything, with `client-ca` holding `caPem` (and `missing-ca` existing when given). */
  const objects = (caPem: string, missingCa?: string): Obj[] => [
      gatewayClass(),
      namespace('infra', { 'kubernetes.io/metadata.name': 'infra' }),
      tlsSecret('server', 'infra', server),
      configMap('client-ca', 'infra', { 'ca.crt': caPem }),
      ...(missingCa !== undefined ? [configMap('missing-ca', 'infra', { 'ca.crt': missingCa })] : []),
      ...serviceWithSlices('web', [{ ip: pod.ip, port: pod.port }], 'infra'),
      withTls(gateway('strict', 'infra', [listener('strict.example.org')]), validation('client-ca')),
      withTls(gateway('fallback', 'infra', [listener('open.example.org')]), validation('client-ca', 'AllowInsecureFallback')),
      withTls(gateway('broken', 'infra', [listener('broken.example.org')]), validation('missing-ca')),
      // perPort 443 (Portico's HTTPS port) beats default, whose CA ref is not even valid
      withTls(gateway('perport', 'infra', [listener('perport.example.org')]), { frontend: { default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'missing-ca' }] } }, perPort: [{ port: 443, tls: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'client-ca' }] } } }] } }),
      ...['strict', 'fallback', 'broken', 'perport'].map((g) => httpRoute(g, 'infra', { parentRefs: [{ name: g }], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] })),
    ];

  after(async () => {
    await p?.stop();
    await pod?.close();
  });

  for (const [version, ask] of VERSIONS) {
    test(`AllowValidOnly over ${version}: a certificate from the CA is served, none or another CA's fails the handshake`, async () => {
      const ok = await eventually(async () => {
        const r = await ask(p.httpsPort, { host: 'strict.example.org', cert: clientA }).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      }, { what: 'served with a valid certificate' });
      assert.equal(verifyOf(ok), 'SUCCESS');
      const seen = pod.seen.length;
      await refused(ask(p.httpsPort, { host: 'strict.example.org' }));
      await refused(ask(p.httpsPort, { host: 'strict.example.org', cert: clientB }));
      // a self-signed certificate with the CA's name is not the CA's
      await refused(ask(p.httpsPort, { host: 'strict.example.org', cert: client([['CN', 'impostor']], undefined) }));
      assert.equal(pod.seen.length, seen, 'no refused request reached the pod');
    });

    test(`AllowInsecureFallback over ${version}: every client is let through, the pod is told what the handshake found`, async () => {
      const none = await eventually(async () => {
        const r = await ask(p.httpsPort, { host: 'open.example.org' }).catch(() => undefined);
        return r?.status === 200 ? r : undefined;
      });
      assert.equal(verifyOf(none), 'NONE');
      assert.equal(verifyOf(await ask(p.httpsPort, { host: 'open.example.org', cert: clientA })), 'SUCCESS');
      const other = await ask(p.httpsPort, { host: 'open.example.org', cert: clientB });
      assert.equal(other.status, 200);
      assert.match(verifyOf(other), /^FAILED:/);
    });

    test(`an unusable CA ref over ${version}: refused (503) with or without a certificate, never served open`, async () => {
      await eventually(async () => (await ask(p.httpsPort, { host: 'broken.example.org' }).catch(() => undefined))?.status === 503, { what: '503' });
      const seen = pod.seen.length;
      assert.equal((await ask(p.httpsPort, { host: 'broken.example.org', cert: clientA })).status, 503);
      assert.equal(pod.seen.length, seen);
    });

    test(`perPort over ${version}: the entry for the listener's port beats default`, async () => {
      await eventually(async () => (await ask(p.httpsPort, { host: 'perport.example.org', cert: clientA }).catch(() => undefined))?.status === 200, { what: 'served with the perPort CA' });
      await refused(ask(p.httpsPort, { host: 'perport.example.org', cert: clientB }));
      await refused(ask(p.httpsPort, { host: 'perport.example.org' }));
    });

    test(`over ${version}, a connection set up for another host cannot reach the verified host: 421`, async () => {
      const r = await eventually(async () => (await ask(p.httpsPort, { host: 'strict.example.org', servername: 'open.example.org' }).catch(() => undefined)) ?? undefined);
      assert.equal(r.status, 421);
    });
  }

  test('a rotated CA ConfigMap is picked up; the missing one written, the refused listener verifies', async () => {
    p.write('base.yaml', yaml(objects(caB.certPem, caA.certPem)));
    await eventually(async () => (await ask1(p.httpsPort, { host: 'strict.example.org', cert: clientB }).catch(() => undefined))?.status === 200, { what: 'the new CA verifies' });
    await refused(ask1(p.httpsPort, { host: 'strict.example.org', cert: clientA }));
    await refused(ask2(p.httpsPort, { host: 'strict.example.org', cert: clientA }));
    assert.equal((await ask2(p.httpsPort, { host: 'strict.example.org', cert: clientB })).status, 200);
    await eventually(async () => (await ask1(p.httpsPort, { host: 'broken.example.org', cert: clientA }).catch(() => undefined))?.status === 200, { what: 'the fixed listener verifies' });
    await refused(ask1(p.httpsPort, { host: 'broken.example.org' }));
    await refused(ask2(p.httpsPort, { host: 'broken.example.org', cert: clientB }));
  });
});
