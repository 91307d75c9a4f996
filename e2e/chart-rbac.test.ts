/**
 * The chart's RBAC is sufficient and minimal: the rendered ClusterRole and Role are enforced by
 * the API-server double for Portico's token, and Portico runs with the rendered container args.
 * With every rule, everything works (the Gateway API included, with the chart's GatewayClass);
 * without any single rule, something visible breaks.
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
import { gateway, httpRoute, ingress, namespace, service, slice } from './lib/objects.js';
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
async function runWith(docs: Doc[], rules: Rule[], pod: Pod, id: string): Promise<Outcome> {
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

  api.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'custom-headers', namespace: 'default' }, data: { 'X-Custom': 'from-configmap' } });
  const custom = ingress('custom', 'custom.test', 'web');
  (custom.metadata as Record<string, unknown>).annotations = { 'nginx.ingress.kubernetes.io/custom-headers': 'custom-headers' };
  api.apply(custom);

  const args = runnableArgs(container(docs).args as string[]).filter((a) => !/^--(http|https|admin)-port=/.test(a));
  let p: Portico;
  try {
    p = await startPortico(null, [...args, '--kubeconfig', api.kubeconfig(join(dir, `${id}.kubeconfig`), 'chart-sa', NS), '--shutdown-grace-period=0s'], { env: { POD_NAME: `portico-${id}`, POD_NAMESPACE: NS } });
  } catch (err) {
    await api.close();
    throw err;
  }
  const o: Outcome = { routed: false, classless: false, tls: false, status: false, leader: false, event: false, gateway: false, selected: false, gatewayStatus: false, classStatus: false, headers: false };
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
      await sleep(100);
    }
    return o;
  } finally {
    await p.stop();
    await api.close();
  }
}

describe("the chart's RBAC against the API-server double", () => {
  let pod: Pod;
  let docs: Doc[];
  let all: Rule[];
  before(async () => {
    pod = await startPod('127.0.95.1', 'web');
    docs = render({ controller: { ingressClassResource: { default: true } } }, { apiVersions: ['gateway.networking.k8s.io/v1/GatewayClass'] });
    const cluster = (find(docs, 'ClusterRole')!.rules as Rule[]).map((r) => ({ ...r }));
    const role = (find(docs, 'Role', 'portico')!.rules as Rule[]).map((r) => ({ ...r, namespace: NS }));
    all = [...cluster, ...role];
  });
  after(() => pod.close());

  test('with every rule, routing, classes, TLS, status, leadership, Events and ConfigMaps all work', async () => {
    const o = await runWith(docs, all, pod, 'full');
    assert.deepEqual(o, { routed: true, classless: true, tls: true, status: true, leader: true, event: true, gateway: true, selected: true, gatewayStatus: true, classStatus: true, headers: true });
  });

  test('without any single rule, something visible breaks', async (t) => {
    const results: string[] = [];
    for (let i = 0; i < all.length; i += 3) {
      const batch = all.slice(i, i + 3).map(async (rule, j) => {
        const without = all.filter((r) => r !== rule);
        const o = await runWith(docs, without, pod, `minus-${i + j}`);
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
