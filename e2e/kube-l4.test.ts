/**
 * Layer 4 in Kubernetes mode: the real binary against the API-server double. The TCP and UDP
 * services ConfigMaps live outside the watched namespace (--watch-namespace), so each is watched by
 * name (with a token that may read only those two there, as the chart's Role then allows), and a
 * change opens and closes listeners without a restart; TLSRoute and TCPRoute
 * answer 404 until the experimental-channel CRDs are installed, are then served (TCPRoute read at
 * v1alpha2, the only version the double serves for it) and get their status at that version.
 * Addresses: 127.0.214.0/24.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { RESOURCES, startApiDouble, type ApiDouble, type Rule } from './apiserver/double.js';
import { cert } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { freePort, rejected, startTcpEcho, startTlsPod, startUdpEcho, tcpExchange, udpClient, type TcpPod, type TlsPod, type UdpPod } from './lib/l4.js';
import { configMap, gateway, gatewayClass, serviceWithPorts, sliceWithPorts, tcpRoute, tlsRoute, udpRoute } from './lib/objects.js';
import { startPortico, type Portico } from './lib/portico.js';

const NS = 'ingress-system';
const HOST = '127.0.214.1';
const dir = mkdtempSync(join(tmpdir(), 'portico-kube-l4-'));

interface Cond {
  type: string;
  status: string;
  reason: string;
}
const cond = (list: Cond[] | undefined, type: string): Cond | undefined => list?.find((c) => c.type === type);

/** Every resource the double serves, ConfigMaps in the watched namespace only; in the release namespace those two only, by name (list and watch need a metadata.name field selector). */
function rules(): Rule[] {
  const byGroup = new Map<string, string[]>();
  for (const [plural, r] of Object.entries(RESOURCES)) {
    if (plural === 'configmaps') continue;
    byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), plural, `${plural}/status`]);
  }
  return [
    ...[...byGroup].map(([group, resources]) => ({ apiGroups: [group], resources, verbs: ['*'] })),
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'], namespace: 'default' },
    { apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'], resourceNames: ['tcp-services', 'udp-services'], namespace: NS },
  ];
}

describe('Layer 4 in Kubernetes mode against the API-server double', () => {
  let api: ApiDouble;
  let p: Portico;
  let echo: TcpPod;
  let dns: UdpPod;
  let tls: TlsPod;
  const podCert = cert(['pass.kube.test']);

  before(async () => {
    api = await startApiDouble({ experimentalCrds: false });
    api.addToken('l4', { name: 'system:serviceaccount:ingress-system:portico', rules: rules() });
    [echo, dns, tls] = await Promise.all([startTcpEcho('127.0.214.11', 'echo'), startUdpEcho('127.0.214.12', 'dns'), startTlsPod('127.0.214.13', 'pass', podCert)]);
    api.apply(serviceWithPorts('echo', 'default', [{ name: 'echo', port: 7000 }]));
    api.apply(sliceWithPorts('echo-1', 'echo', [echo.ip], [{ name: 'echo', port: echo.port }]));
    api.apply(serviceWithPorts('dns', 'default', [{ name: 'dns', port: 53, protocol: 'UDP' }]));
    api.apply(sliceWithPorts('dns-1', 'dns', [dns.ip], [{ name: 'dns', port: dns.port, protocol: 'UDP' }]));
    api.apply(serviceWithPorts('pass', 'default', [{ name: 'https', port: 443 }]));
    api.apply(sliceWithPorts('pass-1', 'pass', [tls.ip], [{ name: 'https', port: tls.port }]));
    // a ConfigMap Portico must never read
    api.apply(configMap('other', NS, { '1': 'default/echo:7000' }));
    const kc = api.kubeconfig(join(dir, 'portico.kubeconfig'), 'l4', NS);
    p = await startPortico(null, ['--kubeconfig', kc, '--watch-namespace', 'default', '--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--tcp-services-configmap', `${NS}/tcp-services`, '--udp-services-configmap', `${NS}/udp-services`, '--crd-recheck-interval', '300ms', '--shutdown-timeout', '1s'], { env: { POD_NAME: 'portico-0', POD_NAMESPACE: NS } });
  });

  after(async () => {
    await p?.stop();
    await api?.close();
    await Promise.all([echo?.close(), tls?.close()]);
    dns?.close();
  });

  test('the services ConfigMaps are watched by name: created, changed and deleted without a restart; no other ConfigMap is read', async () => {
    const diagnostics = async (): Promise<string> => ((JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] }).diagnostics ?? []).join('\n');
    assert.match(await diagnostics(), /ConfigMapNotFound: --tcp-services-configmap ingress-system\/tcp-services not found/);
    const [t1, t2, u1] = await Promise.all([freePort(HOST), freePort(HOST), freePort(HOST)]);
    api.apply(configMap('tcp-services', NS, { [t1]: 'default/echo:7000' }));
    api.apply(configMap('udp-services', NS, { [u1]: 'default/dns:53' }));
    await eventually(async () => (await rejected(HOST, t1)) !== 'refused', { what: 'the TCP listener opened' });
    assert.equal((await tcpExchange(HOST, t1, 'kube')).data.toString(), 'kube');
    const c = await udpClient('127.0.214.250');
    try {
      await eventually(async () => (await c.ask(u1, HOST, 'q', 300)) === 'dns:q', { what: 'the UDP listener answers' });
    } finally {
      c.close();
    }
    // a change: one more entry, then the first one gone
    api.apply(configMap('tcp-services', NS, { [t1]: 'default/echo:7000', [t2]: 'default/echo:echo' }));
    await eventually(async () => (await rejected(HOST, t2)) !== 'refused', { what: 'the added entry listens' });
    assert.equal((await tcpExchange(HOST, t2, 'two')).data.toString(), 'two');
    api.apply(configMap('tcp-services', NS, { [t2]: 'default/echo:echo' }));
    await eventually(async () => (await rejected(HOST, t1)) === 'refused', { what: 'the removed entry closed' });
    // deleted: its listeners close
    api.remove('ConfigMap', NS, 'tcp-services');
    await eventually(async () => (await rejected(HOST, t2)) === 'refused', { what: 'listeners of a deleted ConfigMap closed' });
    assert.match(await diagnostics(), /ConfigMapNotFound/);
    const cm = api.requests.filter((r) => r.path.includes(`/namespaces/${NS}/configmaps`));
    assert.ok(cm.length >= 4, 'both ConfigMaps listed and watched');
    assert.deepEqual(cm.filter((r) => r.status !== 200), [], 'every ConfigMap request allowed by a resourceNames rule');
    assert.ok(cm.every((r) => /fieldSelector=metadata\.name(%3D|=)(tcp|udp)-services/.test(r.path)), 'always by name');
  });

  test('TLSRoute and TCPRoute: absent until the experimental CRDs are installed, then served, with status written at the version read; UDPRoute (standard channel) beside them', async () => {
    const line = await p.waitForLog((l) => l.kind === 'TLSRoute' && /not installed/.test(String(l.msg)));
    assert.equal(line.level, 'info');
    assert.equal((await get(p.adminPort, '/readyz')).status, 200, 'ready without them');
    api.installCrds('experimental');
    const tcpPort = await freePort(HOST);
    const udpPort = await freePort(HOST);
    api.apply(gatewayClass());
    api.apply(gateway('edge', 'default', [{ name: 'tls', port: 443, protocol: 'TLS', tls: { mode: 'Passthrough' } }, { name: 'tcp', port: tcpPort, protocol: 'TCP' }, { name: 'udp', port: udpPort, protocol: 'UDP' }]));
    api.apply(udpRoute('dns', 'default', { parentRefs: [{ name: 'edge', sectionName: 'udp' }], rules: [{ backendRefs: [{ name: 'dns', port: 53 }] }] }));
    api.apply(tlsRoute('pass', 'default', { parentRefs: [{ name: 'edge', sectionName: 'tls' }], hostnames: ['pass.kube.test'], rules: [{ backendRefs: [{ name: 'pass', port: 443 }] }] }, 'v1'));
    api.apply(tcpRoute('echo', 'default', { parentRefs: [{ name: 'edge', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'echo', port: 7000 }] }] }, 'v1alpha2'));

    await eventually(async () => (await rejected(HOST, tcpPort)) !== 'refused', { ms: 10_000, what: 'the TCPRoute listener opened' });
    assert.equal((await tcpExchange(HOST, tcpPort, 'routed')).data.toString(), 'routed');
    const udp = await udpClient('127.0.214.250');
    try {
      assert.equal(await eventually(async () => udp.ask(udpPort, HOST, 'routed', 500), { what: 'the UDPRoute listener answers' }), 'dns:routed');
    } finally {
      udp.close();
    }
    const fingerprint = await eventually(
      () =>
        new Promise<string | null>((resolve) => {
          const s = tlsConnect({ host: HOST, port: p.httpsPort, servername: 'pass.kube.test', rejectUnauthorized: false }, () => {
            resolve(s.getPeerCertificate().fingerprint256);
            s.destroy();
          });
          s.on('error', () => resolve(null));
        }).then((f) => (f === new X509Certificate(podCert.certPem).fingerprint256 ? f : null)),
      { what: "the pod's own certificate through the TLSRoute" },
    );
    assert.ok(fingerprint);

    type Parents = { parents?: { controllerName: string; conditions: Cond[] }[] };
    const parentsOf = (kind: string, name: string): Parents['parents'] => ((api.get(kind, 'default', name) as { status?: Parents } | undefined)?.status?.parents);
    await eventually(() => cond(parentsOf('TLSRoute', 'pass')?.[0]?.conditions, 'Accepted')?.status === 'True', { what: 'TLSRoute accepted' });
    await eventually(() => cond(parentsOf('TCPRoute', 'echo')?.[0]?.conditions, 'Accepted')?.status === 'True', { what: 'TCPRoute accepted' });
    assert.equal(cond(parentsOf('TCPRoute', 'echo')?.[0]?.conditions, 'ResolvedRefs')?.status, 'True');
    await eventually(() => cond(parentsOf('UDPRoute', 'dns')?.[0]?.conditions, 'Accepted')?.status === 'True', { what: 'UDPRoute accepted' });
    const puts = api.requests.filter((r) => r.method === 'PUT' && /\/(tls|tcp|udp)routes\/[a-z]+\/status$/.test(r.path));
    assert.ok(puts.some((r) => r.path.startsWith('/apis/gateway.networking.k8s.io/v1/namespaces/default/udproutes/dns/status') && r.status === 200), 'UDPRoute status at v1');
    assert.ok(puts.some((r) => r.path.startsWith('/apis/gateway.networking.k8s.io/v1alpha2/namespaces/default/tcproutes/echo/status') && r.status === 200), 'TCPRoute status at v1alpha2');
    assert.ok(puts.some((r) => r.path.startsWith('/apis/gateway.networking.k8s.io/v1/namespaces/default/tlsroutes/pass/status') && r.status === 200), 'TLSRoute status at v1');
    await eventually(() => {
      const listeners = (api.get('Gateway', 'default', 'edge') as { status?: { listeners?: { name: string; attachedRoutes: number; supportedKinds: { kind: string }[] }[] } }).status?.listeners;
      return JSON.stringify(listeners?.map((l) => [l.name, l.attachedRoutes, l.supportedKinds.map((k) => k.kind)])) === JSON.stringify([['tls', 1, ['TLSRoute']], ['tcp', 1, ['TCPRoute']], ['udp', 1, ['UDPRoute']]]);
    }, { what: 'listener status: attached routes and kinds' });
    const features = ((api.get('GatewayClass', '', 'portico') as { status?: { supportedFeatures?: { name: string }[] } }).status?.supportedFeatures ?? []).map((f) => f.name);
    assert.ok(features.includes('TLSRoute') && features.includes('TCPRoute') && features.includes('UDPRoute'), features.join(','));

    // the route removed: its listener closes (nothing is routed to the port any more)
    api.remove('TCPRoute', 'default', 'echo');
    await eventually(async () => (await rejected(HOST, tcpPort)) === 'refused', { what: 'the TCP listener closed with its last route' });
  });
});
