/**
 * Gateway API BackendTLSPolicy end to end (the conformance suite's BackendTLSPolicy,
 * BackendTLSPolicyInvalidCACertificateRef and BackendTLSPolicyConflictResolution cases, and what
 * they leave out): pods that speak TLS and plaintext on one port and say which they got, and with
 * what SNI, presenting a certificate from a test CA. A policy with the right CA and hostname is
 * served verified; the wrong CA, a hostname the certificate does not cover, or a subjectAltName it
 * lacks is a 502 and the pod never gets the request; an unusable CA ref is a 500; the policy
 * removed, the route speaks plaintext again as the Service says; a rotated ConfigMap is picked up.
 * Standalone mode, then Kubernetes mode for the policy's status. Pods on 127.0.206.x.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startApiDouble, type ApiDouble } from './apiserver/double.js';
import { ca, cert, type Issued } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { yaml } from './lib/manifests.js';
import { configMap, gateway, gatewayClass, httpRoute, namespace, type Obj } from './lib/objects.js';
import { startPortico, type Portico } from './lib/portico.js';

interface DualPod {
  readonly ip: string;
  readonly port: number;
  /** Requests it answered: over TLS (with the SNI it got) or plaintext. */
  readonly seen: { tls: boolean; sni: string | null; path: string }[];
  close(): Promise<void>;
}

/**
 * A pod that answers HTTP/1.1 over TLS (its certificate: `dnsNames`, issued by `issuer`) and in
 * plaintext on one port, telling the two apart by the first byte (a TLS record starts 0x16).
 */
async function startDualPod(ip: string, issuer: Issued, dnsNames: string[]): Promise<DualPod> {
  const seen: DualPod['seen'] = [];
  const leaf = cert(dnsNames, { issuer });
  const answer = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket as Partial<TLSSocket>;
    const tls = socket.encrypted === true;
    const sni = tls && typeof socket.servername === 'string' ? socket.servername : null;
    seen.push({ tls, sni, path: req.url ?? '' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ pod: ip, tls, sni, path: req.url }));
  };
  const http = createHttpServer(answer);
  const tlsServer = createTlsServer({ cert: leaf.certPem, key: leaf.keyPem }, (s) => http.emit('connection', s));
  tlsServer.on('tlsClientError', () => {});
  const server: Server = createNetServer((socket: Socket) => {
    socket.once('data', (first: Buffer) => {
      socket.pause();
      socket.unshift(first);
      (first[0] === 0x16 ? tlsServer : http).emit('connection', socket);
      process.nextTick(() => socket.resume());
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, ip, resolve));
  const port = (server.address() as { port: number }).port;
  return {
    ip,
    port,
    seen,
    close: () =>
      new Promise<void>((resolve) => {
        http.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A Service whose one port (`https`, 443) reaches the pod. */
function service(name: string, pod: DualPod): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'infra' }, spec: { ports: [{ name: 'https', port: 443, targetPort: pod.port }] } },
    { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: 'infra', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', ports: [{ name: 'https', port: pod.port, protocol: 'TCP' }], endpoints: [{ addresses: [pod.ip], conditions: { ready: true } }] },
  ];
}

function policy(name: string, target: string, validation: Record<string, unknown>, created = '2026-01-01T00:00:00Z'): Obj {
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'BackendTLSPolicy', metadata: { name, namespace: 'infra', creationTimestamp: created }, spec: { targetRefs: [{ group: '', kind: 'Service', name: target }], validation } };
}
const caRef = (name: string): Record<string, unknown> => ({ caCertificateRefs: [{ group: '', kind: 'ConfigMap', name }] });

interface Cond {
  type: string;
  status: string;
  reason: string;
}
type PolicyView = { namespace: string; name: string; ancestors: { namespace: string; name: string }[]; conditions: Cond[] };

describe('BackendTLSPolicy (standalone mode)', () => {
  let p: Portico;
  let goodCa: Issued;
  let otherCa: Issued;
  const pods: DualPod[] = [];
  let pod: DualPod;

  const route = (path: string, svc: string): Record<string, unknown> => ({ matches: [{ path: { type: 'PathPrefix', value: path } }], backendRefs: [{ name: svc, port: 443 }] });
  const ask = (path: string): Promise<{ status: number; body: string }> => get(p.httpPort, path, { host: 'abc.example.com' });
  /** The policies every test keeps (the `removed` one goes, the `rotated` one comes later). */
  const steady = (): Obj[] => [
    policy('verified', 'verified', { ...caRef('good-ca'), hostname: 'abc.example.com' }),
    policy('wrong-ca', 'wrong-ca', { ...caRef('other-ca'), hostname: 'abc.example.com' }),
    policy('host-mismatch', 'host-mismatch', { ...caRef('good-ca'), hostname: 'mismatch.example.com' }),
    // subjectAltNames replace the hostname as the name checked (the SNI stays the hostname)
    policy('san', 'san', { ...caRef('good-ca'), hostname: 'not-in-the-cert.example.com', subjectAltNames: [{ type: 'Hostname', hostname: 'alias.example.com' }] }),
    policy('san-mismatch', 'san-mismatch', { ...caRef('good-ca'), hostname: 'abc.example.com', subjectAltNames: [{ type: 'Hostname', hostname: 'other.example.com' }, { type: 'URI', uri: 'spiffe://cluster.local/ns/infra/sa/x' }] }),
    policy('missing-ca', 'missing-ca', { ...caRef('nonexistent'), hostname: 'abc.example.com' }),
  ];
  const policies = async (): Promise<PolicyView[]> => ((JSON.parse((await get(p.adminPort, '/debug/gateways')).body) as { policies?: PolicyView[] }).policies ?? []);

  before(async () => {
    goodCa = ca('backend tls test CA');
    otherCa = ca('some other CA');
    pod = await startDualPod('127.0.206.1', goodCa, ['abc.example.com', 'alias.example.com']);
    pods.push(pod);
    const base: Obj[] = [
      gatewayClass(),
      namespace('infra', { 'kubernetes.io/metadata.name': 'infra' }),
      gateway('same-namespace', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP' }]),
      configMap('good-ca', 'infra', { 'ca.crt': goodCa.certPem }),
      configMap('other-ca', 'infra', { 'ca.crt': otherCa.certPem }),
      // one pod behind a Service per case: a policy targets a Service
      ...['verified', 'wrong-ca', 'host-mismatch', 'san', 'san-mismatch', 'missing-ca', 'removed', 'rotated'].flatMap((s) => service(s, pod)),
      httpRoute('backendtlspolicy', 'infra', {
        parentRefs: [{ name: 'same-namespace' }],
        hostnames: ['abc.example.com'],
        rules: ['verified', 'wrong-ca', 'host-mismatch', 'san', 'san-mismatch', 'missing-ca', 'removed', 'rotated'].map((s) => route(`/${s}`, s)),
      }),
    ];
    p = await startPortico({ 'base.yaml': yaml(base) });
    p.write(
      'policies.yaml',
      yaml([...steady(), policy('removed', 'removed', { ...caRef('good-ca'), hostname: 'abc.example.com' })]),
    );
  });

  after(async () => {
    await p?.stop();
    await Promise.all(pods.map((x) => x.close()));
  });

  test('a valid policy: the route speaks TLS to the pod with SNI = hostname and its certificate verified', async () => {
    const r = await eventually(async () => {
      const x = await ask('/verified');
      return x.status === 200 && (JSON.parse(x.body) as { tls: boolean }).tls ? x : undefined;
    }, { what: 'served over TLS' });
    assert.deepEqual(JSON.parse(r.body), { pod: pod.ip, tls: true, sni: 'abc.example.com', path: '/verified' });
    const s = await eventually(async () => (await policies()).find((x) => x.name === 'verified'));
    assert.deepEqual(s.ancestors, [{ namespace: 'infra', name: 'same-namespace' }]);
    assert.deepEqual(s.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  test('the wrong CA, a hostname or subjectAltNames the certificate does not have: 502, and the pod never gets the request', async () => {
    await eventually(async () => (await ask('/verified')).status === 200);
    const before = pod.seen.length;
    for (const path of ['/wrong-ca', '/host-mismatch', '/san-mismatch']) assert.equal((await ask(path)).status, 502, path);
    assert.equal(pod.seen.length, before, 'no request reached the pod unverified');
    // subjectAltNames: the name checked is the SAN, the SNI the hostname
    const r = await ask('/san');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { pod: pod.ip, tls: true, sni: 'not-in-the-cert.example.com', path: '/san' });
  });

  test('a CA ref that cannot be resolved: 500 (never plaintext), Accepted=False NoValidCACertificate, ResolvedRefs=False InvalidCACertificateRef', async () => {
    await eventually(async () => (await ask('/missing-ca')).status === 500, { what: '500' });
    assert.ok(!pod.seen.some((x) => x.path === '/missing-ca'), 'the pod never got it');
    const s = await eventually(async () => (await policies()).find((x) => x.name === 'missing-ca'));
    assert.deepEqual(s.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=False/NoValidCACertificate', 'ResolvedRefs=False/InvalidCACertificateRef']);
  });

  test('two policies on one Service: the older wins, the newer is Conflicted and traffic stays verified with the winner', async () => {
    p.write('conflict.yaml', yaml([policy('verified-newer', 'verified', { wellKnownCACertificates: 'System', hostname: 'system.example.com' }, '2026-06-01T00:00:00Z')]));
    const s = await eventually(async () => (await policies()).find((x) => x.name === 'verified-newer'));
    assert.deepEqual(s.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)[0], 'Accepted=False/Conflicted');
    const r = await ask('/verified');
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { sni: string }).sni, 'abc.example.com');
    rmSync(join(p.dir, 'conflict.yaml'));
  });

  test('the policy removed: the route speaks plaintext again, as the Service says', async () => {
    await eventually(async () => (await ask('/removed')).status === 200);
    assert.equal((JSON.parse((await ask('/removed')).body) as { tls: boolean }).tls, true);
    p.write(
      'policies.yaml',
      yaml([...steady(), policy('rotated', 'rotated', { ...caRef('rotating-ca'), hostname: 'abc.example.com' })]),
    );
    const r = await eventually(async () => {
      const x = await ask('/removed');
      return x.status === 200 && !(JSON.parse(x.body) as { tls: boolean }).tls ? x : undefined;
    }, { what: 'plaintext again' });
    assert.deepEqual(JSON.parse(r.body), { pod: pod.ip, tls: false, sni: null, path: '/removed' });
  });

  test("a rotated CA ConfigMap is picked up: the wrong CA's 502 becomes a verified 200", async () => {
    p.write('rotating.yaml', yaml([configMap('rotating-ca', 'infra', { 'ca.crt': otherCa.certPem })]));
    await eventually(async () => (await ask('/rotated')).status === 502, { what: 'the wrong CA: 502' });
    p.write('rotating.yaml', yaml([configMap('rotating-ca', 'infra', { 'ca.crt': `${otherCa.certPem}\n${goodCa.certPem}` })]));
    const r = await eventually(async () => {
      const x = await ask('/rotated');
      return x.status === 200 ? x : undefined;
    }, { what: 'verified with the rotated CA bundle' });
    assert.deepEqual(JSON.parse(r.body), { pod: pod.ip, tls: true, sni: 'abc.example.com', path: '/rotated' });
  });

  test('the GatewayClass advertises BackendTLSPolicy and BackendTLSPolicySANValidation', async () => {
    const cls = (JSON.parse((await get(p.adminPort, '/debug/gateways')).body) as { gatewayClasses: { supportedFeatures: string[] }[] }).gatewayClasses[0];
    assert.ok(cls?.supportedFeatures.includes('BackendTLSPolicy'));
    assert.ok(cls?.supportedFeatures.includes('BackendTLSPolicySANValidation'));
  });
});

describe('BackendTLSPolicy in Kubernetes mode against the API-server double', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portico-btls-'));
  let api: ApiDouble;
  let p: Portico;
  let pod: DualPod;
  let goodCa: Issued;
  type WithStatus = { metadata: { generation?: number }; status?: { ancestors?: { ancestorRef: Record<string, unknown>; controllerName: string; conditions: (Cond & { observedGeneration: number })[] }[] } };

  before(async () => {
    goodCa = ca('backend tls kube CA');
    pod = await startDualPod('127.0.206.2', goodCa, ['abc.example.com']);
    api = await startApiDouble({ crds: true });
    api.apply(namespace('infra', { 'kubernetes.io/metadata.name': 'infra' }));
    for (const o of [gatewayClass(), gateway('same-namespace', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP' }]), configMap('good-ca', 'infra', { 'ca.crt': goodCa.certPem }), ...service('tls', pod)]) api.apply(o);
    api.apply(httpRoute('r', 'infra', { parentRefs: [{ name: 'same-namespace' }], hostnames: ['abc.example.com'], rules: [{ backendRefs: [{ name: 'tls', port: 443 }] }] }));
    // with another controller's ancestor entry, which Portico must keep
    const other = { ancestorRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'theirs' }, controllerName: 'example.com/other', conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted', message: '', observedGeneration: 1, lastTransitionTime: '2026-01-01T00:00:00Z' }] };
    api.apply({ ...policy('p', 'tls', { ...caRef('good-ca'), hostname: 'abc.example.com' }), status: { ancestors: [other] } });
    const kc = api.kubeconfig(join(dir, 'portico.kubeconfig'), undefined, 'ingress-system');
    p = await startPortico(null, ['--kubeconfig', kc], { env: { POD_NAME: 'portico-0', POD_NAMESPACE: 'ingress-system' } });
  });

  after(async () => {
    await p?.stop();
    await api?.close();
    await pod?.close();
  });

  test('the leader writes the policy ancestors (the Gateway, Portico controller name, observedGeneration); traffic is verified TLS', async () => {
    const r = await eventually(async () => {
      const x = await get(p.httpPort, '/', { host: 'abc.example.com' });
      return x.status === 200 ? x : undefined;
    }, { what: 'served' });
    assert.equal((JSON.parse(r.body) as { sni: string }).sni, 'abc.example.com');
    const obj = (): WithStatus => api.get('BackendTLSPolicy', 'infra', 'p') as unknown as WithStatus;
    await eventually(() => obj().status?.ancestors?.length === 2, { what: 'ancestors written' });
    assert.equal(obj().status?.ancestors?.[0]?.controllerName, 'example.com/other', "another controller's entry is kept");
    const a = obj().status?.ancestors?.[1];
    assert.deepEqual(a?.ancestorRef, { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'infra', name: 'same-namespace' });
    assert.equal(a?.controllerName, 'portico.dev/gateway-controller');
    assert.deepEqual(a?.conditions.map((c) => `${c.type}=${c.status}/${c.reason}@${c.observedGeneration}`), [`Accepted=True/Accepted@${obj().metadata.generation}`, `ResolvedRefs=True/ResolvedRefs@${obj().metadata.generation}`]);
    // the ConfigMap removed: ResolvedRefs=False InvalidCACertificateRef, and the backend answers 500
    api.remove('ConfigMap', 'infra', 'good-ca');
    await eventually(async () => (await get(p.httpPort, '/', { host: 'abc.example.com' })).status === 500, { what: '500 without the CA' });
    await eventually(() => obj().status?.ancestors?.[1]?.conditions.find((c) => c.type === 'ResolvedRefs')?.reason === 'InvalidCACertificateRef', { what: 'InvalidCACertificateRef written' });
  });
});
