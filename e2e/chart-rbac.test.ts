/**
 * The chart's RBAC is sufficient and minimal: the rendered ClusterRole and Role are enforced by
 * the API-server double for Portico's token, and Portico runs with the rendered container args.
 * With every rule, everything works (the Gateway API included, with the chart's GatewayClass, and
 * the TCP/UDP services of the chart's `tcp:` and `udp:` values); without any single rule, something
 * visible breaks.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { startApiDouble, type Rule } from './apiserver/double.js';
import { cert } from './lib/certs.js';
import { container, find, render, runnableArgs, type Doc } from './lib/chart.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { freePort, startTcpEcho, startUdpEcho, tcpExchange, udpClient, type TcpPod, type UdpPod } from './lib/l4.js';
import { gateway, httpRoute, ingress, namespace, service, serviceWithPorts, slice, sliceWithPorts, tcpRoute } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const NS = 'ingress-system';
const dir = mkdtempSync(join(tmpdir(), 'chart-rbac-'));
const appCert = cert(['app.test']);

interface Outcome {
  routed: boolean;
  classless: boolean;
  tls: boolean;
  status: boolean;
  leader: boolean;
  event: boolean;
  /** An Ingress's custom-headers ConfigMap is read (without it, the Ingress answers 503). */
  headers: boolean;
  /** An HTTPRoute on a Gateway of the chart's GatewayClass is served. */
  gateway: boolean;
  /** ... through a listener that selects its namespace by label (Namespaces watched). */
  selected: boolean;
  /** Gateway and HTTPRoute status written. */
  gatewayStatus: boolean;
  /** The GatewayClass accepted in its status. */
  classStatus: boolean;
  /** A TCP service of the chart's tcp ConfigMap, and a UDP one of its udp ConfigMap, are served. */
  tcp: boolean;
  udp: boolean;
  /** A TCPRoute on a TCP listener is served, and its status written. */
  tcpRoute: boolean;
  tcpRouteStatus: boolean;
}

/** The Layer 4 pods (addresses 127.0.215.0/24). */
interface L4Pods {
  readonly echo: TcpPod;
  readonly dns: UdpPod;
}

const sni = (port: number, name: string): Promise<string> =>
  new Promise((resolve) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: name, rejectUnauthorized: false }, () => {
      resolve(s.getPeerCertificate().subjectaltname ?? '');
      s.destroy();
    });
    s.on('error', () => resolve(''));
  });

/** Runs Portico with the chart's args against a fresh double that enforces `rules`; reports what worked. */
async function runWith(docs: Doc[], rules: Rule[], pod: Pod, l4: L4Pods, id: string): Promise<Outcome> {
  const api = await startApiDouble();
  api.addToken('chart-sa', { name: `system:serviceaccount:${NS}:portico`, rules });
  const ic = find(docs, 'IngressClass')!;
  api.apply({ ...ic, metadata: { ...ic.metadata, annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } });
  // the chart's Service (type LoadBalancer), its load balancer ready
  const ctl = service('portico-controller', NS);
  api.apply({ ...ctl, spec: { ...(ctl.spec as object), type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '203.0.113.7' }] } } });
  api.apply(service('web'));
  api.apply(slice('web-1', 'web', [pod]));
  api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-tls', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': Buffer.from(appCert.certPem).toString('base64'), 'tls.key': Buffer.from(appCert.keyPem).toString('base64') } });
  api.apply(ingress('app', 'app.test', 'web', { tls: [{ hosts: ['app.test'], secretName: 'app-tls' }] }));
  const classless = ingress('classless', 'classless.test', 'web');
  delete (classless.spec as { ingressClassName?: string }).ingressClassName;
  api.apply(classless);
  api.apply(ingress('broken', 'broken.test', 'missing'));
  // the Gateway API: the chart's GatewayClass, a Gateway, a route in the same namespace and one selected by namespace label
  api.apply(find(docs, 'GatewayClass')!);
  api.apply(gateway('edge', 'default', [{ name: 'http', port: 80, protocol: 'HTTP' }, { name: 'team', port: 80, protocol: 'HTTP', hostname: 'team.test', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'a' } } } } }]));
  api.apply(httpRoute('gw', 'default', { parentRefs: [{ name: 'edge', sectionName: 'http' }], hostnames: ['gw.test'], rules: [{ backendRefs: [{ name: 'web', port: 80 }] }] }));
  api.apply(namespace('apps', { team: 'a' }));
  api.apply(service('team', 'apps'));
  api.apply(slice('team-1', 'team', [pod], 'apps'));
  api.apply(httpRoute('team', 'apps', { parentRefs: [{ name: 'edge', namespace: 'default', sectionName: 'team' }], rules: [{ backendRefs: [{ name: 'team', port: 80 }] }] }));
  // Layer 4: the chart's ConfigMaps (on ports free now), and a TCPRoute on a TCP listener
  const [tcpPort, udpPort, routePort] = await Promise.all([freePort('127.0.0.1'), freePort('127.0.0.1'), freePort('127.0.0.1')]);
  api.apply(serviceWithPorts('echo', 'default', [{ name: 'echo', port: 7000 }]));
  api.apply(sliceWithPorts('echo-1', 'echo', [l4.echo.ip], [{ name: 'echo', port: l4.echo.port }]));
  api.apply(serviceWithPorts('dns', 'default', [{ name: 'dns', port: 53, protocol: 'UDP' }]));
  api.apply(sliceWithPorts('dns-1', 'dns', [l4.dns.ip], [{ name: 'dns', port: l4.dns.port, protocol: 'UDP' }]));
  const tcpMap = find(docs, 'ConfigMap', 'portico-tcp')!;
  const udpMap = find(docs, 'ConfigMap', 'portico-udp')!;
  api.apply({ ...tcpMap, data: { [tcpPort]: 'default/echo:7000' } });
  api.apply({ ...udpMap, data: { [udpPort]: 'default/dns:53' } });
  api.apply(gateway('l4', 'default', [{ name: 'tcp', port: routePort, protocol: 'TCP' }]));
  api.apply(tcpRoute('echo', 'default', { parentRefs: [{ name: 'l4', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'echo', port: 7000 }] }] }));
  const udp = await udpClient('127.0.215.250');

  api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'custom-headers', namespace: 'default' }, data: { 'X-Custom': 'from-configmap' } });
  const custom = ingress('custom', 'custom.test', 'web');
  (custom.metadata as Record<string, unknown>).annotations = { 'nginx.ingress.kubernetes.io/custom-headers': 'custom-headers' };
  api.apply(custom);

  const args = runnableArgs(container(docs).args as string[]).filter((a) => !/^--(http|https|admin)-port=/.test(a));
  let p: Portico;
  try {
    p = await startPortico(null, [...args, '--kubeconfig', api.kubeconfig(join(dir, `${id}.kubeconfig`), 'chart-sa', NS), '--shutdown-grace-period=0s'], { env: { POD_NAME: `portico-${id}`, POD_NAMESPACE: NS } });
  } catch (err) {
    udp.close();
    await api.close();
    throw err;
  }
  const o: Outcome = { routed: false, classless: false, tls: false, status: false, leader: false, event: false, gateway: false, selected: false, gatewayStatus: false, classStatus: false, headers: false, tcp: false, udp: false, tcpRoute: false, tcpRouteStatus: false };
  const echoes = (port: number): Promise<boolean> =>
    tcpExchange('127.0.0.1', port, 'l4', 500).then(
      (r) => r.data.toString() === 'l4',
      () => false,
    );
  const statusOf = (kind: string, ns: string, name: string): any => (api.get(kind, ns, name) as { status?: unknown } | undefined)?.status;
  try {
    const deadline = Date.now() + 4000;
    while (Date.now() < deadline && !Object.values(o).every(Boolean)) {
      o.routed ||= (await get(p.httpPort, '/', { host: 'app.test' })).status === 308 && (await get(p.httpPort, '/.well-known/acme-challenge/x', { host: 'app.test' })).status === 200;
      o.classless ||= (await get(p.httpPort, '/', { host: 'classless.test' })).status === 200;
      o.tls ||= (await sni(p.httpsPort, 'app.test')) === 'DNS:app.test';
      o.status ||= JSON.stringify((api.get('Ingress', 'default', 'app') as { status?: { loadBalancer?: { ingress?: unknown } } }).status?.loadBalancer?.ingress) === '[{"ip":"203.0.113.7"}]';
      o.leader ||= (api.get('Lease', NS, 'portico-leader') as { spec?: { holderIdentity?: string } } | undefined)?.spec?.holderIdentity === `portico-${id}`;
      o.event ||= api.list('Event').some((e) => (e as { regarding?: { name?: string } }).regarding?.name === 'broken');
      o.gateway ||= (await get(p.httpPort, '/', { host: 'gw.test' })).status === 200;
      o.selected ||= (await get(p.httpPort, '/', { host: 'team.test' })).status === 200;
      o.gatewayStatus ||= statusOf('HTTPRoute', 'default', 'gw')?.parents?.length === 1 && statusOf('Gateway', 'default', 'edge')?.listeners?.length === 2;
      o.classStatus ||= statusOf('GatewayClass', '', 'portico')?.conditions?.some((c: { type: string; status: string }) => c.type === 'Accepted' && c.status === 'True') === true;
      o.headers ||= (await get(p.httpPort, '/', { host: 'custom.test' })).headers['x-custom'] === 'from-configmap';
      o.tcp ||= await echoes(tcpPort);
      o.udp ||= (await udp.ask(udpPort, '127.0.0.1', 'q', 200)) === 'dns:q';
      o.tcpRoute ||= await echoes(routePort);
      o.tcpRouteStatus ||= statusOf('TCPRoute', 'default', 'echo')?.parents?.length === 1;
      await sleep(100);
    }
    return o;
  } finally {
    udp.close();
    await p.stop();
    await api.close();
  }
}

describe("the chart's RBAC against the API-server double", () => {
  let pod: Pod;
  let l4: L4Pods;
  let docs: Doc[];
  let all: Rule[];
  before(async () => {
    pod = await startPod('127.0.95.1', 'web');
    l4 = { echo: await startTcpEcho('127.0.215.11', 'echo'), dns: await startUdpEcho('127.0.215.12', 'dns') };
    // the ports in the values only name the ConfigMaps' entries; each run writes free ones
    docs = render({ controller: { ingressClassResource: { default: true } }, tcp: { '9000': 'default/echo:7000' }, udp: { '9053': 'default/dns:53' } }, { apiVersions: ['gateway.networking.k8s.io/v1/GatewayClass'] });
    const cluster = (find(docs, 'ClusterRole')!.rules as Rule[]).map((r) => ({ ...r }));
    const role = (find(docs, 'Role', 'portico')!.rules as Rule[]).map((r) => ({ ...r, namespace: NS }));
    all = [...cluster, ...role];
  });
  after(async () => {
    await pod.close();
    await l4.echo.close();
    l4.dns.close();
  });

  test('with every rule, routing, classes, TLS, status, leadership, Events, ConfigMaps and Layer 4 all work', async () => {
    const o = await runWith(docs, all, pod, l4, 'full');
    assert.deepEqual(o, { routed: true, classless: true, tls: true, status: true, leader: true, event: true, gateway: true, selected: true, gatewayStatus: true, classStatus: true, headers: true, tcp: true, udp: true, tcpRoute: true, tcpRouteStatus: true });
  });

  test('without any single rule, something visible breaks', async (t) => {
    const results: string[] = [];
    for (let i = 0; i < all.length; i += 3) {
      const batch = all.slice(i, i + 3).map(async (rule, j) => {
        const without = all.filter((r) => r !== rule);
        const o = await runWith(docs, without, pod, l4, `minus-${i + j}`);
        const broken = Object.entries(o).filter(([, ok]) => !ok).map(([k]) => k);
        results.push(`${rule.resources.join(',')} ${rule.verbs.join(',')}${rule.resourceNames ? ` ${rule.resourceNames.join(',')}` : ''}: ${broken.join(', ') || 'NOTHING BROKE'}`);
      });
      await Promise.all(batch);
    }
    for (const r of results.sort()) t.diagnostic(r);
    const unneeded = results.filter((r) => r.endsWith('NOTHING BROKE'));
    assert.deepEqual(unneeded, [], `rules nothing needs:\n${results.join('\n')}`);
    assert.equal(results.length, all.length);
  });
});
