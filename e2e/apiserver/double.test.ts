/**
 * The API-server double honours the protocol details Portico relies on, checked with raw HTTPS
 * requests so a bug in the double cannot hide behind a bug in Portico.
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, test } from 'node:test';
import { startApiDouble, type ApiDouble } from './double.js';

let api: ApiDouble;

function call(method: string, path: string, opts: { token?: string | null; body?: unknown } = {}): Promise<{ status: number; body: any }> {
  const url = new URL(api.url + path);
  const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: api.caPem, headers: { ...(opts.token === null ? {} : { authorization: `Bearer ${opts.token ?? 'admin-token'}` }), ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Opens a watch and collects event lines until `count` arrive (or the stream ends). */
function watchEvents(path: string, count: number): Promise<{ type: string; object: any }[]> {
  return new Promise((resolve, reject) => {
    const events: { type: string; object: any }[] = [];
    const req = request(new URL(api.url + path), { ca: api.caPem, headers: { authorization: 'Bearer admin-token' } }, (res) => {
      let buf = '';
      res.on('data', (d) => {
        buf += d;
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)));
          buf = buf.slice(i + 1);
          if (events.length >= count) {
            req.destroy();
            resolve(events);
          }
        }
      });
      res.on('end', () => resolve(events));
    });
    req.on('error', (e) => (events.length >= count ? undefined : reject(e)));
    req.end();
  });
}

describe('API-server double', () => {
  before(async () => {
    api = await startApiDouble();
    for (let i = 0; i < 5; i++) api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: `s${i}`, namespace: i < 3 ? 'a' : 'b', labels: { tier: i % 2 ? 'odd' : 'even' } } });
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls', namespace: 'a' }, type: 'kubernetes.io/tls' });
    api.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'opaque', namespace: 'a' }, type: 'Opaque' });
  });
  after(() => api.close());

  test('401 without a token', async () => assert.equal((await call('GET', '/api/v1/services', { token: null })).status, 401));

  test('LIST pages with limit/continue and carries a resourceVersion', async () => {
    const first = await call('GET', '/api/v1/services?limit=2');
    assert.equal(first.body.kind, 'ServiceList');
    assert.equal(first.body.items.length, 2);
    assert.ok(first.body.metadata.continue);
    const second = await call('GET', `/api/v1/services?limit=2&continue=${encodeURIComponent(first.body.metadata.continue)}`);
    const third = await call('GET', `/api/v1/services?limit=2&continue=${encodeURIComponent(second.body.metadata.continue)}`);
    assert.equal(third.body.metadata.continue, undefined);
    assert.equal([...first.body.items, ...second.body.items, ...third.body.items].length, 5);
    assert.match(first.body.metadata.resourceVersion, /^\d+$/);
  });

  test('namespaced LIST, field and label selectors', async () => {
    assert.equal((await call('GET', '/api/v1/namespaces/b/services')).body.items.length, 2);
    assert.deepEqual((await call('GET', '/api/v1/secrets?fieldSelector=type%3Dkubernetes.io%2Ftls')).body.items.map((s: any) => s.metadata.name), ['tls']);
    assert.equal((await call('GET', '/api/v1/services?labelSelector=tier%3Dodd')).body.items.length, 2);
  });

  test('WATCH replays from a resourceVersion, streams live events, and sends 410 for an expired one', async () => {
    const rv = (await call('GET', '/api/v1/services')).body.metadata.resourceVersion;
    const pending = watchEvents(`/api/v1/services?watch=true&resourceVersion=${rv}`, 2);
    await new Promise((r) => setTimeout(r, 50));
    api.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'live', namespace: 'a' } });
    api.remove('Service', 'a', 'live');
    const events = await pending;
    assert.deepEqual(events.map((e) => [e.type, e.object.metadata.name, e.object.kind]), [['ADDED', 'live', 'Service'], ['DELETED', 'live', 'Service']]);
    api.expire();
    const gone = await watchEvents(`/api/v1/services?watch=true&resourceVersion=${rv}`, 1);
    assert.equal(gone[0]?.type, 'ERROR');
    assert.equal(gone[0]?.object.code, 410);
  });

  test('Leases: create once (409 after), update with optimistic concurrency (409 on a stale resourceVersion)', async () => {
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'l' }, spec: { holderIdentity: 'a' } };
    const created = await call('POST', '/apis/coordination.k8s.io/v1/namespaces/x/leases', { body: lease });
    assert.equal(created.status, 201);
    assert.equal((await call('POST', '/apis/coordination.k8s.io/v1/namespaces/x/leases', { body: lease })).status, 409);
    const updated = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/x/leases/l', { body: { ...created.body, spec: { holderIdentity: 'b' } } });
    assert.equal(updated.status, 200);
    const stale = await call('PUT', '/apis/coordination.k8s.io/v1/namespaces/x/leases/l', { body: { ...created.body, spec: { holderIdentity: 'c' } } });
    assert.equal(stale.status, 409);
    assert.equal((await call('GET', '/apis/coordination.k8s.io/v1/namespaces/x/leases/l')).body.spec.holderIdentity, 'b');
  });

  test('the status subresource changes only status', async () => {
    const ing = api.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'i', namespace: 'a' }, spec: { ingressClassName: 'x' } });
    const r = await call('PUT', '/apis/networking.k8s.io/v1/namespaces/a/ingresses/i/status', { body: { ...ing, spec: { ingressClassName: 'changed' }, status: { loadBalancer: { ingress: [{ ip: '1.2.3.4' }] } } } });
    assert.equal(r.status, 200);
    assert.equal(r.body.spec.ingressClassName, 'x');
    assert.deepEqual(r.body.status.loadBalancer.ingress, [{ ip: '1.2.3.4' }]);
  });

  test('403 for a resource the token may not read, 500 while failing', async () => {
    api.addToken('limited', { name: 'limited', rules: [{ apiGroups: [''], resources: ['services'], verbs: ['list'] }] });
    assert.equal((await call('GET', '/api/v1/services', { token: 'limited' })).status, 200);
    const denied = await call('GET', '/api/v1/secrets', { token: 'limited' });
    assert.equal(denied.status, 403);
    assert.equal(denied.body.reason, 'Forbidden');
    api.failFor(200);
    assert.equal((await call('GET', '/api/v1/services')).status, 500);
    await new Promise((r) => setTimeout(r, 250));
    assert.equal((await call('GET', '/api/v1/services')).status, 200);
  });

  test('a CRD kind answers 404 until the CRDs are installed, then lists; another version of a kind is 404', async () => {
    const bare = await startApiDouble({ crds: false });
    try {
      const path = '/apis/gateway.networking.k8s.io/v1/httproutes';
      const get = async (p: string): Promise<number> => {
        const saved = api;
        api = bare;
        try {
          return (await call('GET', p)).status;
        } finally {
          api = saved;
        }
      };
      assert.equal(await get(path), 404);
      bare.installCrds();
      assert.equal(await get(path), 200);
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1beta1/referencegrants'), 200);
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1/referencegrants'), 404);
      assert.equal(await get('/apis/networking.k8s.io/v1beta1/ingresses'), 404);
    } finally {
      await bare.close();
    }
  });

  test('the experimental kinds (TLSRoute at v1, TCPRoute at v1alpha2) answer 404 until the experimental CRDs are installed', async () => {
    const standard = await startApiDouble({ experimentalCrds: false });
    try {
      const get = async (p: string): Promise<number> => {
        const saved = api;
        api = standard;
        try {
          return (await call('GET', p)).status;
        } finally {
          api = saved;
        }
      };
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1/httproutes'), 200);
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1/tlsroutes'), 404);
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1alpha2/tcproutes'), 404);
      standard.installCrds('experimental');
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1/tlsroutes'), 200);
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1alpha2/tcproutes'), 200);
      assert.equal(await get('/apis/gateway.networking.k8s.io/v1/tcproutes'), 404);
    } finally {
      await standard.close();
    }
  });

  test('resourceNames rules allow list and watch with a matching metadata.name field selector only', async () => {
    api.addToken('one-map', { name: 'one-map', rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['list', 'watch'], resourceNames: ['tcp'], namespace: 'x' }] });
    assert.equal((await call('GET', '/api/v1/namespaces/x/configmaps?fieldSelector=metadata.name%3Dtcp', { token: 'one-map' })).status, 200);
    assert.equal((await call('GET', '/api/v1/namespaces/x/configmaps?fieldSelector=metadata.name%3Dother', { token: 'one-map' })).status, 403);
    assert.equal((await call('GET', '/api/v1/namespaces/x/configmaps', { token: 'one-map' })).status, 403);
    assert.equal((await call('GET', '/api/v1/namespaces/y/configmaps?fieldSelector=metadata.name%3Dtcp', { token: 'one-map' })).status, 403);
  });
});
