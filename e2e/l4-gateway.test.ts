/**
 * TLSRoute and TCPRoute end to end in standalone mode (the Gateway API objects as manifests): a TLS
 * passthrough listener on a port of its own (names without a route closed), TLS passthrough and
 * HTTPS sharing one port by SNI (HTTP/1.1 and HTTP/2 on the HTTPS side), a TCPRoute whose invalid
 * backendRef keeps its share of connections (rejected), and route changes without a restart.
 * Addresses: 127.0.213.0/24.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { cert } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { get, httpsGet } from './lib/http.js';
import { freePort, probe, startTcpEcho, startTlsPod, tcpExchange, type TcpPod, type TlsPod } from './lib/l4.js';
import { yaml } from './lib/manifests.js';
import { gateway, gatewayClass, httpRoute, serviceWithPorts, serviceWithSlices, sliceWithPorts, tcpRoute, tlsRoute, tlsSecret, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const HOST = '127.0.213.1';

/**
 * The leaf a TLS handshake with `servername` gets on `port`, or the error that ended it. The client
 * then ends its side and waits a moment for the server's end (destroying at once could drop its
 * last handshake message and leave a pod waiting for it).
 */
function leaf(port: number, servername: string, alpn?: string[]): Promise<{ fingerprint: string; alpn: string | false } | { error: string }> {
  return new Promise((resolve) => {
    const s = tlsConnect({ host: HOST, port, servername, rejectUnauthorized: false, ...(alpn ? { ALPNProtocols: alpn } : {}) }, () => {
      const r = { fingerprint: s.getPeerCertificate().fingerprint256, alpn: s.alpnProtocol ?? false };
      s.end();
      s.resume();
      const done = (): void => {
        clearTimeout(t);
        s.destroy();
        resolve(r);
      };
      const t = setTimeout(done, 1000);
      s.once('close', done);
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message }));
    s.setTimeout(5000, () => {
      s.destroy();
      resolve({ error: 'timeout' });
    });
  });
}

describe('TLSRoute and TCPRoute (standalone)', () => {
  let p: Portico;
  let pass: TlsPod;
  let web: Pod;
  let echo: TcpPod;
  let own: number;
  let shared: number;
  let tcp: number;
  const podCert = cert(['pass.gw.test', 'pass2.gw.test']);
  const webCert = cert(['web.gw.test']);
  const fp = (c: { certPem: string }): string => new X509Certificate(c.certPem).fingerprint256;

  const routesFile = (tcpRefs: readonly Record<string, unknown>[]): string =>
    yaml([
      tlsRoute('own', 'default', { parentRefs: [{ name: 'edge', sectionName: 'tls-own' }], hostnames: ['pass.gw.test'], rules: [{ backendRefs: [{ name: 'pass', port: 443 }] }] }),
      tlsRoute('shared', 'default', { parentRefs: [{ name: 'edge', sectionName: 'tls-shared' }], hostnames: ['pass2.gw.test'], rules: [{ backendRefs: [{ name: 'pass', port: 443 }] }] }, 'v1alpha2'),
      httpRoute('web', 'default', { parentRefs: [{ name: 'edge', sectionName: 'https-shared' }], hostnames: ['web.gw.test'], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] }),
      tcpRoute('echo', 'default', { parentRefs: [{ name: 'edge', sectionName: 'tcp' }], rules: [{ backendRefs: tcpRefs }] }),
    ]);

  before(async () => {
    [pass, web, echo] = await Promise.all([startTlsPod('127.0.213.11', 'pass', podCert), startPod('127.0.213.12', 'web'), startTcpEcho('127.0.213.13', 'echo')]);
    [own, shared, tcp] = await Promise.all([freePort(HOST), freePort(HOST), freePort(HOST)]);
    const infra: Obj[] = [
      gatewayClass(),
      gateway('edge', 'default', [
        { name: 'tls-own', port: own, protocol: 'TLS', tls: { mode: 'Passthrough' } },
        { name: 'https-shared', port: shared, protocol: 'HTTPS', hostname: 'web.gw.test', tls: { mode: 'Terminate', certificateRefs: [{ name: 'web-tls' }] } },
        { name: 'tls-shared', port: shared, protocol: 'TLS', hostname: 'pass2.gw.test', tls: { mode: 'Passthrough' } },
        { name: 'tcp', port: tcp, protocol: 'TCP' },
      ]),
      tlsSecret('web-tls', 'default', webCert),
      serviceWithPorts('pass', 'default', [{ name: 'https', port: 443 }]),
      sliceWithPorts('pass-1', 'pass', [pass.ip], [{ name: 'https', port: pass.port }]),
      ...serviceWithSlices('web', [web]),
      serviceWithPorts('echo', 'default', [{ name: 'echo', port: 7000 }]),
      sliceWithPorts('echo-1', 'echo', [echo.ip], [{ name: 'echo', port: echo.port }]),
    ];
    p = await startPortico({ 'infra.yaml': yaml(infra), 'routes.yaml': routesFile([{ name: 'echo', port: 7000 }]) }, ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1']);
    await Promise.all([own, shared, tcp].map((port) => p.waitForLog((l) => l.msg === 'listening' && l.port === port)));
  });

  after(async () => {
    await p?.stop();
    await Promise.all([pass?.close(), web?.close(), echo?.close()]);
  });

  test("a TLS listener of its own: a TLSRoute's name reaches the pod's certificate; any other name is closed, never answered", async () => {
    const r = await leaf(own, 'pass.gw.test');
    assert.ok('fingerprint' in r && r.fingerprint === fp(podCert), JSON.stringify(r));
    const other = await leaf(own, 'other.gw.test');
    assert.ok('error' in other, 'no handshake for a name without a route');
    const closed = await probe(HOST, own, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]), 3000);
    assert.ok(closed.closedAfterMs !== null && closed.received.length === 0);
  });

  test('TLS passthrough and HTTPS on one port, told apart by SNI; HTTP/1.1 and HTTP/2 on the HTTPS side', async () => {
    const passed = await leaf(shared, 'pass2.gw.test');
    assert.ok('fingerprint' in passed && passed.fingerprint === fp(podCert), JSON.stringify(passed));
    await eventually(() => pass.names.includes('pass2.gw.test'), { what: 'the pod saw the name itself' });
    const h2 = await leaf(shared, 'web.gw.test', ['h2', 'http/1.1']);
    assert.ok('fingerprint' in h2 && h2.fingerprint === fp(webCert) && h2.alpn === 'h2', JSON.stringify(h2));
    const h1 = await httpsGet(shared, 'web.gw.test', 'web.gw.test', '/', HOST);
    assert.equal(h1.status, 200);
    assert.match(h1.body, /"pod":"web"/);
  });

  test("a TCPRoute: bytes both ways; an invalid backendRef keeps its share of connections, which are rejected; a change needs no restart", async () => {
    assert.equal((await tcpExchange(HOST, tcp, 'tcproute')).data.toString(), 'tcproute');
    p.write('routes.yaml', routesFile([{ name: 'echo', port: 7000, weight: 1 }, { name: 'missing', port: 7000, weight: 1 }]));
    const outcomes = await eventually(async () => {
      const all = await Promise.all(Array.from({ length: 40 }, () => tcpExchange(HOST, tcp, 'x', 3000).then((r) => (r.data.toString() === 'x' ? 'ok' : 'other'), () => 'rejected')));
      return all.includes('rejected') ? all : null;
    }, { what: 'some connections rejected' });
    assert.ok(outcomes.includes('ok'), 'the valid share is served');
    assert.ok(!outcomes.includes('other'));
    const metrics = (await get(p.adminPort, '/metrics')).body;
    assert.match(metrics, new RegExp(`portico_tcp_errors_total\\{namespace="default",service="",listener="tcp/${tcp}",cause="rejected"\\} [1-9]`));
    p.write('routes.yaml', routesFile([{ name: 'echo', port: 7000 }]));
    await eventually(async () => (await Promise.all(Array.from({ length: 10 }, () => tcpExchange(HOST, tcp, 'y', 3000).then(() => true, () => false)))).every(Boolean), { what: 'every connection served again' });
  });

  test('every spliced connection closed by its client is gone from Portico too', async () => {
    await eventually(async () => /portico_tcp_open_connections\{[^}]*\} [1-9]/.test((await get(p.adminPort, '/metrics')).body) ? null : true, { what: 'no open spliced connection' });
  });

  test('/debug/routes shows the Layer 4 table with each route and where it came from', async () => {
    const routes = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { l4: { listeners: string[]; passthrough: string[] } };
    assert.deepEqual(
      routes.l4.listeners.sort(),
      [`TCP ${tcp} -> default/echo:7000+tcp (TCPRoute default/echo)`, `TLS ${own}: passthrough by SNI only (names without a route are closed)`].sort(),
    );
    assert.deepEqual(routes.l4.passthrough.sort(), [`:${own} pass.gw.test -> default/pass:443+tcp (TLSRoute default/own)`, `:${shared} pass2.gw.test -> default/pass:443+tcp (TLSRoute default/shared)`].sort());
  });
});
