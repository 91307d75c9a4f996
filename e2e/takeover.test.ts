/**
 * Taking over from ingress-nginx, in Kubernetes mode against the API-server double: the `nginx`
 * IngressClass of controller `k8s.io/ingress-nginx` and Ingresses naming it (spec.ingressClassName
 * and the legacy kubernetes.io/ingress.class annotation), with ingress-nginx's status already on
 * them. Side by side, Portico on its own class leaves them (and their status) alone; with
 * `--ingress-class nginx --controller-class k8s.io/ingress-nginx` it serves them, annotations
 * included, and writes status as ingress-nginx does; ingress-nginx's leader Lease is never
 * touched; and when ingress-nginx's chart is uninstalled (its IngressClass deleted) nothing stops.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApiDouble, type ApiDouble } from './apiserver/double.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressObject, service, slice, type Obj } from './lib/objects.js';
import { podOf, startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-takeover-'));
const TAKEOVER = ['--ingress-class', 'nginx', '--controller-class', 'k8s.io/ingress-nginx'];
/** ingress-nginx's address on the Ingresses it serves (its own LoadBalancer). */
const NGINX_LB = [{ ip: '198.51.100.50' }];
/** Portico's Service: its load balancer has a hostname and an IP, listed hostname first. */
const PORTICO_LB = [{ hostname: 'portico-lb.example.net' }, { ip: '203.0.113.10' }];
/** ...and written as ingress-nginx orders them: entries without a hostname first. */
const WRITTEN = [{ ip: '203.0.113.10' }, { hostname: 'portico-lb.example.net' }];

type WithStatus = Obj & { status?: { loadBalancer?: { ingress?: unknown[] } } };

/** An Ingress as ingress-nginx users write them: the class by name, by the legacy annotation, or none. */
function nginxIngress(name: string, cls: { byName?: string; legacy?: string }, annotations: Record<string, string> = {}, lb?: unknown[]): Obj {
  const o = ingressObject(name, [{ host: `${name}.test`, paths: [{ path: '/', service: 'web' }] }], {}, { ...annotations, ...(cls.legacy ? { 'kubernetes.io/ingress.class': cls.legacy } : {}) });
  const spec = o.spec as Record<string, unknown>;
  if (cls.byName) spec.ingressClassName = cls.byName;
  else delete spec.ingressClassName;
  return lb ? { ...o, status: { loadBalancer: { ingress: lb } } } : o;
}

function kubePortico(api: ApiDouble, name: string, extra: string[]): Promise<Portico> {
  const kc = api.kubeconfig(join(dir, `${name}.kubeconfig`), undefined, 'portico');
  return startPortico(null, ['--kubeconfig', kc, '--publish-service', 'portico/portico-controller', ...extra], { env: { POD_NAME: name, POD_NAMESPACE: 'portico' } });
}

const statusOf = (api: ApiDouble, name: string): unknown => (api.get('Ingress', 'default', name) as WithStatus | undefined)?.status?.loadBalancer?.ingress;
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

describe('taking over the nginx class from ingress-nginx', () => {
  let api: ApiDouble;
  let pod: Pod;
  let lease: unknown;

  before(async () => {
    api = await startApiDouble();
    pod = await startPod('127.0.171.1', 'web');
    // what an ingress-nginx installation leaves in the cluster
    api.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: 'nginx' }, spec: { controller: 'k8s.io/ingress-nginx' } });
    api.apply({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'ingress-nginx-leader', namespace: 'ingress-nginx' }, spec: { holderIdentity: 'ingress-nginx-controller-7d9f', leaseDurationSeconds: 30, renewTime: new Date().toISOString() } });
    lease = structuredClone(api.get('Lease', 'ingress-nginx', 'ingress-nginx-leader'));
    api.apply(service('web'));
    api.apply(slice('web-1', 'web', [pod]));
    api.apply(nginxIngress('by-name', { byName: 'nginx' }, {}, NGINX_LB));
    api.apply(nginxIngress('legacy', { legacy: 'nginx' }, { 'nginx.ingress.kubernetes.io/enable-cors': 'true', 'nginx.ingress.kubernetes.io/cors-allow-origin': 'https://app.example.org' }, NGINX_LB));
    api.apply(nginxIngress('other', { byName: 'traefik' }, {}, [{ ip: '192.0.2.1' }]));
    api.apply(nginxIngress('classless', {}));
    api.apply(nginxIngress('mine', { byName: 'portico' }));
    // Portico's own controller Service, in its namespace, with its load balancer ready
    api.apply({ ...service('portico-controller', 'portico'), spec: { type: 'LoadBalancer', ports: [{ port: 80, targetPort: 8080 }], clusterIP: '10.96.0.20' }, status: { loadBalancer: { ingress: PORTICO_LB } } });
  });

  after(async () => {
    await api?.close();
    await pod?.close();
  });

  test('side by side on its own class: the nginx Ingresses and their status are left alone', async () => {
    const p = await kubePortico(api, 'portico-side', []);
    try {
      assert.equal((await get(p.httpPort, '/', { host: 'mine.test' })).status, 200);
      for (const host of ['by-name.test', 'legacy.test', 'other.test', 'classless.test']) assert.equal((await get(p.httpPort, '/', { host })).status, 404, host);
      await eventually(() => same(statusOf(api, 'mine'), WRITTEN), { ms: 10_000, what: 'status of its own Ingress' });
      await sleep(500);
      assert.deepEqual(statusOf(api, 'by-name'), NGINX_LB);
      assert.deepEqual(statusOf(api, 'legacy'), NGINX_LB);
      assert.deepEqual(statusOf(api, 'other'), [{ ip: '192.0.2.1' }]);
    } finally {
      await p.stop();
    }
  });

  test('with --ingress-class nginx --controller-class k8s.io/ingress-nginx: it serves them, with their annotations, and writes status as ingress-nginx does', async () => {
    const p = await kubePortico(api, 'portico-takeover', TAKEOVER);
    try {
      const byName = await get(p.httpPort, '/', { host: 'by-name.test' });
      assert.equal(byName.status, 200);
      assert.equal(podOf(byName.body), 'web');
      const legacy = await get(p.httpPort, '/', { host: 'legacy.test', headers: { origin: 'https://app.example.org' } });
      assert.equal(legacy.status, 200, 'the legacy kubernetes.io/ingress.class annotation');
      assert.equal(legacy.headers['access-control-allow-origin'], 'https://app.example.org', 'its nginx.ingress.kubernetes.io/ annotations are honoured');
      assert.equal((await get(p.httpPort, '/', { host: 'other.test' })).status, 404, 'another class');
      assert.equal((await get(p.httpPort, '/', { host: 'classless.test' })).status, 404, 'no class (as ingress-nginx without --watch-ingress-without-class)');
      assert.equal((await get(p.httpPort, '/', { host: 'mine.test' })).status, 404, 'the portico class is not served any more');

      await eventually(() => same(statusOf(api, 'by-name'), WRITTEN) && same(statusOf(api, 'legacy'), WRITTEN), { ms: 10_000, what: 'status written in ingress-nginx order' });
      assert.deepEqual(statusOf(api, 'other'), [{ ip: '192.0.2.1' }], "another controller's Ingress keeps its status");
      assert.equal(statusOf(api, 'classless'), undefined);
      await eventually(() => same(statusOf(api, 'mine'), []), { ms: 10_000, what: 'its address removed from the Ingress it no longer serves' });
      assert.deepEqual(api.get('Lease', 'ingress-nginx', 'ingress-nginx-leader'), lease, "ingress-nginx's leader Lease is untouched");
      assert.equal((api.get('Lease', 'portico', 'portico-leader') as { spec: { holderIdentity: string } }).spec.holderIdentity, 'portico-takeover');

      // ingress-nginx's chart uninstalled: its IngressClass goes; --ingress-class keeps the class served
      api.remove('IngressClass', '', 'nginx');
      api.apply(nginxIngress('after-uninstall', { byName: 'nginx' }));
      await eventually(async () => (await get(p.httpPort, '/', { host: 'after-uninstall.test' })).status === 200, { ms: 10_000, what: 'a new nginx Ingress served without the IngressClass object' });
      assert.equal((await get(p.httpPort, '/', { host: 'by-name.test' })).status, 200);
      assert.equal((await get(p.httpPort, '/', { host: 'legacy.test' })).status, 200);
    } finally {
      await p.stop();
    }
  });
});
