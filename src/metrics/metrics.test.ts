/** Label derivation and bounded cardinality of the request metrics. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Ingress } from '../model/k8s.js';
import { translate } from '../model/translate.js';
import { compile } from '../router/compile.js';
import { hostOf, match, pathOf } from '../router/match.js';
import { snapshotOf } from '../control/store.js';
import { createMetrics, methodLabel, routeLabels, type RouteLabels } from './metrics.js';

const ing: Ingress = {
  kind: 'Ingress',
  metadata: { name: 'shop', namespace: 'prod' },
  spec: {
    ingressClassName: 'portico',
    rules: [{ host: 'shop.example.com', http: { paths: [{ path: '/api', pathType: 'Prefix', backend: { service: { name: 'api', port: { number: 80 } } } }] } }],
  },
};
const table = translate(snapshotOf([ing]), { controllerClass: 'x', ingressClass: 'portico', watchWithoutClass: false }).table;
const matcher = compile(table, (route) => routeLabels(route, table));
/** The labels of the route a request matches (null: nothing matched). */
const labelsFor = (host: string, path: string): RouteLabels | null => match(matcher, host, path)?.action ?? null;
const sample = { method: 'GET', status: 200, durationSec: 0.01, upstreamSec: 0.005, requestBytes: 0, responseBytes: 100 };

async function series(m: ReturnType<typeof createMetrics>, name: string) {
  const all = await m.registry.getMetricsAsJSON();
  return (all.find((x) => x.name === name)?.values ?? []) as { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

const opts = { version: '1.2.3', nginxCompat: false, controllerClass: 'portico.dev/ingress-controller', controllerNamespace: 'ingress', controllerPod: 'portico-0' };

describe('request metrics', () => {
  test('labels come from the matched route, not from the request', async () => {
    const m = createMetrics(opts);
    const t = labelsFor(hostOf('SHOP.example.com:8443'), pathOf('/api/orders/42?x=1')!);
    assert.ok(t);
    m.request(t, sample);
    const s = await series(m, 'portico_requests_total');
    assert.deepEqual(s, [{ labels: { namespace: 'prod', ingress: 'shop', service: 'api', host: 'shop.example.com', method: 'GET', status: '200' }, value: 1 }]);
  });

  test('an unmatched request is counted under empty route labels', async () => {
    const m = createMetrics(opts);
    m.request(null, { ...sample, status: 404 });
    const s = await series(m, 'portico_requests_total');
    assert.deepEqual(s[0]?.labels, { namespace: '', ingress: '', service: '', host: '', method: 'GET', status: '404' });
  });

  test('methods outside the standard set are counted as OTHER', () => {
    assert.equal(methodLabel('GET'), 'GET');
    assert.equal(methodLabel('PROPFIND'), 'OTHER');
    assert.equal(methodLabel('get'), 'OTHER');
  });

  test('each method (the standard ones, OTHER for the rest) and status counts in a series of its own', async () => {
    const m = createMetrics({ ...opts, nginxCompat: true });
    const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'PROPFIND', 'get'];
    const statuses = [200, 201, 404, 499, 502];
    for (const method of methods) for (const status of statuses) for (let i = 0; i < status % 7; i++) m.request(null, { ...sample, method, status });
    for (const name of ['portico_requests_total', 'nginx_ingress_controller_requests']) {
      const got = new Map((await series(m, name)).map((x) => [`${x.labels.method} ${x.labels.status}`, x.value]));
      const want = new Map<string, number>();
      for (const method of methods) for (const status of statuses) {
        const k = `${methodLabel(method)} ${status}`;
        if (status % 7 > 0) want.set(k, (want.get(k) ?? 0) + (status % 7));
      }
      assert.deepEqual(got, want, name);
    }
  });

  test('1,000 random Host headers and paths add no series', async () => {
    const m = createMetrics({ ...opts, nginxCompat: true });
    const send = (host: string, url: string): void => m.request(labelsFor(hostOf(host), pathOf(url) ?? '/'), sample);
    send('shop.example.com', '/api/first');
    send('unknown.example.com', '/first');
    const before = (await m.registry.getMetricsAsJSON()).reduce((n, x) => n + x.values.length, 0);
    for (let i = 0; i < 1000; i++) {
      const rnd = Math.random().toString(36).slice(2);
      send(`${rnd}.example.com`, `/${rnd}/${i}`);
      send('shop.example.com', `/api/${rnd}?q=${i}`);
    }
    const after = await m.registry.getMetricsAsJSON();
    const count = (name: string) => after.find((x) => x.name === name)?.values.length;
    assert.equal(count('portico_requests_total'), 2);
    assert.equal(count('nginx_ingress_controller_requests'), 2);
    // process metrics move by themselves; compare only request-labelled families
    const requestFamilies = after.filter((x) => x.name.startsWith('portico_request') || x.name.startsWith('nginx_ingress'));
    const total = requestFamilies.reduce((n, x) => n + x.values.length, 0);
    assert.ok(total <= before, `${total} series after vs ${before} before`);
  });

  test('ingress-nginx compatible series carry its label names, with the rule path', async () => {
    const m = createMetrics({ ...opts, nginxCompat: true });
    m.request(labelsFor('shop.example.com', '/api/x'), sample);
    const s = await series(m, 'nginx_ingress_controller_requests');
    assert.deepEqual(s[0]?.labels, {
      controller_namespace: 'ingress',
      controller_class: 'portico.dev/ingress-controller',
      controller_pod: 'portico-0',
      namespace: 'prod',
      ingress: 'shop',
      service: 'api',
      canary: 'false',
      host: 'shop.example.com',
      path: '/api',
      method: 'GET',
      status: '200',
    });
    const names = (await m.registry.getMetricsAsJSON()).map((x) => x.name);
    for (const n of ['nginx_ingress_controller_request_duration_seconds', 'nginx_ingress_controller_response_duration_seconds', 'nginx_ingress_controller_request_size', 'nginx_ingress_controller_response_size']) {
      assert.ok(names.includes(n), `missing ${n}`);
    }
  });

  test('canary traffic: canary="true" with the main route\'s service in the ingress-nginx series, the canary\'s own service in Portico\'s', async () => {
    const m = createMetrics({ ...opts, nginxCompat: true });
    const main = labelsFor('shop.example.com', '/api/x') as RouteLabels;
    m.request(main, sample);
    m.request({ ...main, service: 'api-canary', canaryOf: main.service }, sample);
    const s = await series(m, 'nginx_ingress_controller_requests');
    assert.deepEqual(s.map((x) => [x.labels.service, x.labels.canary]).sort(), [['api', 'false'], ['api', 'true']]);
    const p = await series(m, 'portico_requests_total');
    assert.deepEqual(p.map((x) => x.labels.service).sort(), ['api', 'api-canary']);
  });

  test('without compat there are no nginx_ series', async () => {
    const m = createMetrics(opts);
    m.request(null, sample);
    assert.ok(!(await m.registry.getMetricsAsJSON()).some((x) => x.name.startsWith('nginx_')));
  });

  test('diagnostics gauge is replaced on each rebuild, not accumulated', async () => {
    const m = createMetrics(opts);
    m.table({ routes: 1, backends: 1, endpoints: 1, diagnostics: new Map([['ServiceNotFound', 2]]) });
    m.table({ routes: 1, backends: 1, endpoints: 1, diagnostics: new Map([['NoEndpoints', 1]]) });
    const s = await series(m, 'portico_diagnostics');
    assert.deepEqual(s.map((x) => [x.labels.reason, x.value]), [['NoEndpoints', 1]]);
  });
});

describe('hot-path histograms', () => {
  test('expose cumulative buckets, +Inf, sum and count in the Prometheus text format', async () => {
    const m = createMetrics(opts);
    const t = labelsFor('shop.example.com', '/api');
    for (const d of [0.0005, 0.003, 0.003, 0.2, 30]) m.request(t, { ...sample, durationSec: d });
    const text = await m.registry.getSingleMetricAsString('portico_request_duration_seconds');
    const l = 'namespace="prod",ingress="shop",service="api",host="shop.example.com"';
    assert.match(text, new RegExp(`portico_request_duration_seconds_bucket\\{${l},le="0.001"\\} 1\\n`));
    assert.match(text, new RegExp(`portico_request_duration_seconds_bucket\\{${l},le="0.005"\\} 3\\n`));
    assert.match(text, new RegExp(`portico_request_duration_seconds_bucket\\{${l},le="0.25"\\} 4\\n`));
    assert.match(text, new RegExp(`portico_request_duration_seconds_bucket\\{${l},le="10"\\} 4\\n`));
    assert.match(text, new RegExp(`portico_request_duration_seconds_bucket\\{${l},le="\\+Inf"\\} 5\\n`));
    assert.match(text, new RegExp(`portico_request_duration_seconds_sum\\{${l}\\} 30.2065\\n`));
    assert.match(text, new RegExp(`portico_request_duration_seconds_count\\{${l}\\} 5`));
    assert.match(text, /# TYPE portico_request_duration_seconds histogram/);
  });
});
