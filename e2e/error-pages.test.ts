/**
 * Error pages, retries and the upstream choice against the real binary, with pods on loopback
 * (127.0.190.x-127.0.191.x): custom-http-errors with a default-backend annotation or
 * --default-backend-service (the error backend sees ingress-nginx's headers, the client its
 * answer), default-backend when the route has no endpoints, disable-proxy-intercept-errors,
 * proxy-next-upstream on http_502 (and not for a POST without non_idempotent), service-upstream.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { refusedPort } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';
import { echoOf, startStatusPod, type StatusPod } from './lib/status-pod.js';

const N = 'nginx.ingress.kubernetes.io/';
const route = (name: string, host: string, service: string, annotations: Record<string, string>): string => ingressYaml(name, [{ host, paths: [{ path: '/', service }] }], {}, annotations);

describe('custom-http-errors, default-backend, disable-proxy-intercept-errors', () => {
  let app: StatusPod;
  let errors: StatusPod;
  let global: StatusPod;
  let p: Portico;
  before(async () => {
    app = await startStatusPod('127.0.190.1', 'app');
    errors = await startStatusPod('127.0.190.2', 'error-pages');
    global = await startStatusPod('127.0.190.3', 'global-errors', 'x-code');
    const dead = await refusedPort('127.0.190.4');
    p = await startPortico(
      {
        'a.yaml': join(
          route('shop', 'shop.test', 'app', { [`${N}custom-http-errors`]: '404,503', [`${N}default-backend`]: 'error-pages' }),
          route('pie', 'pie.test', 'app', { [`${N}custom-http-errors`]: '404', [`${N}disable-proxy-intercept-errors`]: 'true', [`${N}default-backend`]: 'error-pages' }),
          route('global', 'global.test', 'app', { [`${N}custom-http-errors`]: '502' }),
          route('empty', 'empty.test', 'invalid', { [`${N}default-backend`]: 'error-pages' }),
          route('down', 'down.test', 'down', { [`${N}custom-http-errors`]: '502', [`${N}default-backend`]: 'error-pages' }),
          route('plain', 'plain.test', 'app', {}),
          serviceYaml('app', [app]),
          serviceYaml('error-pages', [errors]),
          serviceYaml('global-errors', [global]),
          serviceYaml('down', [{ ip: '127.0.190.4', port: dead }]),
        ),
      },
      ['--default-backend-service', 'default/global-errors:80'],
    );
  });
  after(async () => {
    await p.stop();
    await Promise.all([app.close(), errors.close(), global.close()]);
  });

  test('a listed status from the pod is replaced by the error backend\'s answer to GET /, with ingress-nginx\'s headers', async () => {
    const r = await get(p.httpPort, '/status/404?x=1&y=2', { host: 'shop.test', headers: { 'x-request-id': 'something-unique', accept: 'text/html' } });
    assert.equal(r.status, 200, 'the client sees the error backend\'s status');
    const e = echoOf(r.body);
    assert.equal(e.pod, 'error-pages');
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/?x=1&y=2', 'the path is /, the query kept (nginx: rewrite (.*) / break)');
    const h = e.headers;
    assert.deepEqual(
      [h['x-code'], h['x-format'], h['x-original-uri'], h['x-namespace'], h['x-ingress-name'], h['x-service-name'], h['x-service-port'], h['x-request-id'], h.host],
      ['404', 'text/html', '/status/404?x=1&y=2', 'default', 'shop', 'app', '80', 'something-unique', 'shop.test'],
    );
    assert.equal(app.seen.at(-1)?.url, '/status/404?x=1&y=2', 'the pod got the request first');
  });

  test('statuses not listed, and routes without the annotation, pass unchanged', async () => {
    const r = await get(p.httpPort, '/status/500', { host: 'shop.test' });
    assert.equal(r.status, 500);
    assert.equal(JSON.parse(r.body).pod, 'app');
    assert.equal((await get(p.httpPort, '/status/404', { host: 'plain.test' })).status, 404);
    assert.equal((await get(p.httpPort, '/x', { host: 'shop.test' })).status, 200);
  });

  test('a HEAD request is sent to the error backend as HEAD', async () => {
    const before = errors.seen.length;
    const r = await get(p.httpPort, '/status/503', { host: 'shop.test', method: 'HEAD' });
    assert.equal(r.status, 200);
    assert.equal(errors.seen.at(-1)?.method, 'HEAD');
    assert.equal(errors.seen.length, before + 1);
  });

  test('disable-proxy-intercept-errors: the pod\'s 404 reaches the client as it is', async () => {
    const r = await get(p.httpPort, '/status/404', { host: 'pie.test', headers: { 'x-request-id': 'proxy_intercept_errors' } });
    assert.equal(r.status, 404);
    assert.equal(JSON.parse(r.body).pod, 'app');
  });

  test('without a default-backend annotation, --default-backend-service answers, and its status is the client\'s', async () => {
    const r = await get(p.httpPort, '/status/502', { host: 'global.test' });
    assert.equal(r.status, 502, 'the global error backend answers with the X-Code it was given (as custom-error-pages does)');
    const e = echoOf(r.body);
    assert.equal(e.pod, 'global-errors');
    assert.deepEqual([e.headers['x-code'], e.headers['x-ingress-name'], e.headers['x-service-name']], ['502', 'global', 'app']);
  });

  test('default-backend serves the request itself when the route\'s backend has no endpoints: X-Code 503, no X-Original-URI', async () => {
    const r = await get(p.httpPort, '/alma/armud?q=1', { host: 'empty.test', headers: { 'x-request-id': 'something-unique' } });
    assert.equal(r.status, 200);
    const e = echoOf(r.body);
    assert.equal(e.pod, 'error-pages');
    assert.equal(e.url, '/alma/armud?q=1', 'the original request, URI unchanged');
    assert.deepEqual([e.headers['x-code'], e.headers['x-ingress-name'], e.headers['x-service-name'], e.headers['x-service-port'], e.headers['x-request-id'], e.headers['x-original-uri']], ['503', 'empty', 'invalid', '80', 'something-unique', undefined]);
    const post = echoOf((await get(p.httpPort, '/form', { host: 'empty.test', method: 'POST', body: 'a=1&b=2' })).body);
    assert.deepEqual([post.method, post.bodyLength], ['POST', 7], 'method and body go with it');
  });

  test('Portico\'s own 502 (the pod refuses connections) is an error page too', async () => {
    const r = await get(p.httpPort, '/', { host: 'down.test' });
    assert.equal(r.status, 200);
    assert.equal(echoOf(r.body).headers['x-code'], '502');
  });

  test('an intercepted answer is read to its end, so its connection is reused; a large one is cut', async () => {
    const agent = { agent: false as const };
    const base = app.connections;
    for (let i = 0; i < 5; i++) assert.equal((await get(p.httpPort, '/status/404', { host: 'shop.test', ...agent })).status, 200);
    assert.ok(app.connections - base <= 1, `${app.connections - base} new connections to the pod for 5 intercepted 404s`);
    const big = await get(p.httpPort, '/big/404', { host: 'shop.test' });
    assert.equal(big.status, 200);
    assert.equal(echoOf(big.body).headers['x-code'], '404');
    assert.equal((await get(p.httpPort, '/status/404', { host: 'shop.test' })).status, 200, 'and the next request is served');
  });

  test('/debug/routes shows the error pages of each route', async () => {
    const view = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { rows: { host: string; policies: string[] }[] };
    const shop = view.rows.find((r) => r.host === 'shop.test');
    assert.deepEqual(shop?.policies, ['error pages 404,503 -> default/error-pages:80 then default/global-errors:80; no endpoints -> default/error-pages:80']);
  });
});

describe('proxy-next-upstream', () => {
  let bad: StatusPod;
  let good: StatusPod;
  let p: Portico;
  before(async () => {
    bad = await startStatusPod('127.0.190.11', 'bad', 502);
    good = await startStatusPod('127.0.190.12', 'good');
    const dead = await refusedPort('127.0.190.13');
    p = await startPortico({
      'a.yaml': join(
        route('retry', 'retry.test', 'flaky', { [`${N}proxy-next-upstream`]: 'error timeout http_502' }),
        route('posts', 'posts.test', 'flaky', { [`${N}proxy-next-upstream`]: 'error timeout http_502 non_idempotent' }),
        route('once', 'once.test', 'flaky', { [`${N}proxy-next-upstream`]: 'http_502', [`${N}proxy-next-upstream-tries`]: '1' }),
        route('off', 'off.test', 'half-dead', { [`${N}proxy-next-upstream`]: 'off' }),
        route('default', 'default.test', 'half-dead', {}),
        serviceYaml('flaky', [bad, good]),
        serviceYaml('half-dead', [{ ip: '127.0.190.13', port: dead }, good]),
      ),
    });
  });
  after(async () => {
    await p.stop();
    await Promise.all([bad.close(), good.close()]);
  });

  test('http_502: a 502 from one pod is discarded and the request goes to another', async () => {
    const before = bad.seen.length;
    for (let i = 0; i < 10; i++) {
      const r = await get(p.httpPort, `/get/${i}`, { host: 'retry.test' });
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(echoOf(r.body).pod, 'good');
    }
    assert.ok(bad.seen.length - before >= 4, `the 502 pod was tried (${bad.seen.length - before} times)`);
    assert.match((await get(p.adminPort, '/metrics')).body, /portico_upstream_retries_total\{namespace="default",service="flaky"\} [1-9]/);
  });

  test('a POST is not sent again without non_idempotent: the 502 reaches the client', async () => {
    const statuses = await Promise.all(Array.from({ length: 8 }, (_, i) => get(p.httpPort, '/post', { host: 'retry.test', method: 'POST', body: `n=${i}` }).then((r) => r.status)));
    assert.ok(statuses.includes(502), statuses.join(','));
  });

  test('with non_idempotent, a POST is sent again with its whole body (kept for the replay)', async () => {
    for (let i = 0; i < 8; i++) {
      const body = `payload-${i}-${'z'.repeat(1000)}`;
      const r = await get(p.httpPort, '/post', { host: 'posts.test', method: 'POST', body, headers: { 'content-type': 'text/plain' } });
      assert.equal(r.status, 200, `POST ${i}`);
      const e = echoOf(r.body);
      assert.deepEqual([e.pod, e.method, e.bodyLength], ['good', 'POST', body.length]);
    }
  });

  test('proxy-next-upstream-tries: 1 means one attempt', async () => {
    const statuses = await Promise.all(Array.from({ length: 6 }, () => get(p.httpPort, '/', { host: 'once.test' }).then((r) => r.status)));
    assert.ok(statuses.includes(502) && statuses.includes(200), statuses.join(','));
  });

  test('off: not even a refused connection is retried; the default ("error timeout") retries it', async () => {
    const off = await Promise.all(Array.from({ length: 6 }, () => get(p.httpPort, '/', { host: 'off.test' }).then((r) => r.status)));
    assert.ok(off.includes(502), off.join(','));
    for (let i = 0; i < 6; i++) assert.equal((await get(p.httpPort, '/', { host: 'default.test' })).status, 200);
  });
});

describe('service-upstream', () => {
  test('the Service\'s ClusterIP and port are the one endpoint; without the annotation, the pods', async () => {
    const clusterIp = await startStatusPod('127.0.191.10', 'via-cluster-ip');
    const pod = await startStatusPod('127.0.191.11', 'pod');
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web', namespace: 'default' },
      spec: { clusterIP: '127.0.191.10', ports: [{ name: 'http', port: clusterIp.port, targetPort: 8080 }] },
    };
    const slice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'web-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: pod.port }],
      endpoints: [{ addresses: [pod.ip] }],
    };
    const p = await startPortico({
      'a.yaml': join(
        ingressYaml('su', [{ host: 'su.test', paths: [{ path: '/', service: 'web', port: clusterIp.port }] }], {}, { [`${N}service-upstream`]: 'true' }),
        ingressYaml('pods', [{ host: 'pods.test', paths: [{ path: '/', service: 'web', port: clusterIp.port }] }], {}, { [`${N}service-upstream`]: 'false' }),
        stringify(svc),
        stringify(slice),
      ),
    });
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal(echoOf((await get(p.httpPort, '/', { host: 'su.test' })).body).pod, 'via-cluster-ip');
        assert.equal(echoOf((await get(p.httpPort, '/', { host: 'pods.test' })).body).pod, 'pod');
      }
      const backends = (await get(p.adminPort, '/debug/backends')).body;
      assert.ok(backends.includes(`127.0.191.10:${clusterIp.port}`), backends);
    } finally {
      await p.stop();
      await Promise.all([clusterIp.close(), pod.close()]);
    }
  });
});
