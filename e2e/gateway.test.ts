/**
 * The Gateway API end to end, standalone mode: Gateways, HTTPRoutes, GRPCRoutes and
 * ReferenceGrants in the manifests directory, served by the real binary. The cases follow the
 * Gateway API conformance suite's (kubernetes-sigs/gateway-api conformance/tests): the same
 * namespaces, Gateways and backends, the same request tables. Each test writes its routes into
 * a file of its own, waits for the table to converge, checks status in /debug/gateways, and
 * removes the file: every test also exercises a live change.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join as joinPath } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { converge, type Case } from './lib/cases.js';
import { cert } from './lib/certs.js';
import { eventually } from './lib/eventually.js';
import type { Cond, DebugGateways } from './lib/gateway-status.js';
import { grpcEcho } from './lib/grpc-echo.js';
import { get } from './lib/http.js';
import { yaml } from './lib/manifests.js';
import { gateway, gatewayClass, httpRoute, namespace, referenceGrant, serviceWithSlices, tlsSecret, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const backend = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name, port: 80, ...extra });
const rule = (to: string | null, matches?: unknown[], filters?: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...(matches ? { matches } : {}),
  ...(filters ? { filters } : {}),
  ...(to === null ? {} : { backendRefs: [backend(to)] }),
  ...extra,
});
const prefix = (value: string): { path: { type: string; value: string } } => ({ path: { type: 'PathPrefix', value } });
const exact = (value: string): { path: { type: string; value: string } } => ({ path: { type: 'Exact', value } });
const header = (name: string, value: string): { name: string; value: string } => ({ name, value });
const toSameNamespace = { parentRefs: [{ name: 'same-namespace' }] };

/** A free loopback port for a Gateway listener of its own. */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const certificate = cert(['example.org', 'second-example.org', '*.wildcard.org', 'grpc.example.org'], { keyType: 'ec' });

describe('Gateway API (standalone mode, the conformance cases)', () => {
  let p: Portico;
  const pods: Pod[] = [];
  let v1: Pod, v2: Pod, v3: Pod, web: Pod, appV1: Pod, appV2: Pod;
  const files: string[] = [];

  const status = async (): Promise<DebugGateways> => JSON.parse((await get(p.adminPort, '/debug/gateways')).body) as DebugGateways;
  const routeStatus = async (ns: string, name: string): Promise<DebugGateways['routes'][number] | undefined> => (await status()).routes.find((r) => r.namespace === ns && r.name === name);
  const cond = (list: readonly Cond[] | undefined, type: string): string => {
    const c = list?.find((x) => x.type === type);
    return c === undefined ? '(none)' : `${c.status}/${c.reason}`;
  };
  /** Writes a test's objects into a file of their own; removed after the test. */
  const apply = (name: string, objs: readonly Obj[]): void => {
    files.push(name);
    p.write(name, yaml(objs));
  };
  const http = (cases: readonly Case[]): Promise<void> => converge({ port: p.httpPort }, cases);

  before(async () => {
    const start = (ip: string, name: string): Promise<Pod> => startPod(ip, name).then((pod) => (pods.push(pod), pod));
    [v1, v2, v3, web, appV1, appV2] = await Promise.all([
      start('127.0.200.1', 'infra-backend-v1'),
      start('127.0.200.2', 'infra-backend-v2'),
      start('127.0.200.3', 'infra-backend-v3'),
      start('127.0.200.4', 'web-backend'),
      start('127.0.200.5', 'app-backend-v1'),
      start('127.0.200.6', 'app-backend-v2'),
    ]);
    const base: Obj[] = [
      gatewayClass(),
      namespace('infra', { 'gateway-conformance': 'infra' }),
      namespace('web', { 'gateway-conformance': 'backend' }),
      namespace('app', { 'gateway-conformance': 'backend' }),
      gateway('same-namespace', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }]),
      gateway('all-namespaces', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'All' } } }]),
      gateway('backend-namespaces', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { 'gateway-conformance': 'backend' } } } } }]),
      gateway('same-namespace-with-https-listener', 'infra', [
        { name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ group: '', kind: 'Secret', name: 'tls-validity-checks-certificate', namespace: 'infra' }] } },
        { name: 'https-with-hostname', port: 443, protocol: 'HTTPS', hostname: 'second-example.org', tls: { certificateRefs: [{ name: 'tls-validity-checks-certificate' }] } },
      ]),
      tlsSecret('tls-validity-checks-certificate', 'infra', certificate),
      ...serviceWithSlices('infra-backend-v1', [v1], 'infra'),
      ...serviceWithSlices('infra-backend-v2', [v2], 'infra'),
      ...serviceWithSlices('infra-backend-v3', [v3], 'infra'),
      ...serviceWithSlices('web-backend', [web], 'web'),
      ...serviceWithSlices('app-backend-v1', [appV1], 'app'),
      ...serviceWithSlices('app-backend-v2', [appV2], 'app'),
    ];
    p = await startPortico({ 'base.yaml': yaml(base) });
  });

  afterEach(() => {
    for (const f of files.splice(0)) rmSync(joinPath(p.dir, f), { force: true });
  });

  after(async () => {
    await p?.stop();
    await Promise.all(pods.map((x) => x.close()));
  });

  test('the GatewayClass is accepted with its supported features sorted; the Gateways are accepted and programmed', async () => {
    const s = await eventually(async () => {
      const st = await status();
      return st.gateways.length === 4 ? st : null;
    });
    const cls = s.gatewayClasses.find((c) => c.name === 'portico');
    assert.equal(cond(cls?.conditions, 'Accepted'), 'True/Accepted');
    assert.deepEqual(cls?.supportedFeatures, [...(cls?.supportedFeatures ?? [])].sort());
    for (const f of ['Gateway', 'HTTPRoute', 'GRPCRoute', 'ReferenceGrant', 'HTTPRouteQueryParamMatching', 'HTTPRouteMethodMatching']) assert.ok(cls?.supportedFeatures.includes(f), f);
    for (const g of s.gateways) {
      assert.equal(cond(g.conditions, 'Accepted'), 'True/Accepted', g.name);
      assert.equal(cond(g.conditions, 'Programmed'), 'True/Programmed', g.name);
      for (const l of g.listeners) {
        assert.equal(cond(l.conditions, 'ResolvedRefs'), 'True/ResolvedRefs', `${g.name}/${l.name}`);
        assert.deepEqual(l.supportedKinds.map((k) => k.kind).sort(), ['GRPCRoute', 'HTTPRoute']);
      }
    }
  });

  test('HTTPRouteSimpleSameNamespace and HTTPRouteCrossNamespace (a listener selecting namespaces by label)', async () => {
    apply('simple.yaml', [
      httpRoute('gateway-conformance-infra-test', 'infra', { ...toSameNamespace, rules: [rule('infra-backend-v1')] }),
      httpRoute('cross-namespace', 'web', { parentRefs: [{ name: 'backend-namespaces', namespace: 'infra' }], hostnames: ['cross.example'], rules: [rule('web-backend')] }),
    ]);
    await http([
      { path: '/', backend: 'infra-backend-v1' },
      { path: '/', host: 'cross.example', backend: 'web-backend' },
    ]);
    const r = await routeStatus('web', 'cross-namespace');
    assert.equal(r?.parents[0]?.parentRef.namespace, 'infra');
    assert.equal(cond(r?.parents[0]?.conditions, 'Accepted'), 'True/Accepted');
    assert.equal(cond(r?.parents[0]?.conditions, 'ResolvedRefs'), 'True/ResolvedRefs');
  });

  test('HTTPRouteExactPathMatching', async () => {
    apply('exact.yaml', [httpRoute('exact-matching', 'infra', { ...toSameNamespace, rules: [rule('infra-backend-v1', [exact('/one')]), rule('infra-backend-v2', [exact('/two')])] })]);
    await http([
      { path: '/one', backend: 'infra-backend-v1' },
      { path: '/two', backend: 'infra-backend-v2' },
      { path: '/', status: 404 },
      { path: '/one/example', status: 404 },
      { path: '/two/', status: 404 },
      { path: '/Two', status: 404 },
    ]);
  });

  test('HTTPRouteHeaderMatching: names case-insensitive, more header matches win, then the first rule', async () => {
    const h = (...hs: [string, string][]): unknown[] => [{ headers: hs.map(([n, v]) => header(n, v)) }];
    apply('headers.yaml', [
      httpRoute('header-matching', 'infra', {
        ...toSameNamespace,
        rules: [
          rule('infra-backend-v1', h(['version', 'one'])),
          rule('infra-backend-v2', h(['version', 'two'])),
          rule('infra-backend-v1', h(['version', 'two'], ['color', 'orange'])),
          rule('infra-backend-v1', [...h(['color', 'blue']), ...h(['color', 'green'])]),
          rule('infra-backend-v2', [...h(['color', 'red']), ...h(['color', 'yellow'])]),
        ],
      }),
    ]);
    await http([
      { path: '/', headers: { Version: 'one' }, backend: 'infra-backend-v1' },
      { path: '/', headers: { Version: 'two' }, backend: 'infra-backend-v2' },
      { path: '/', headers: { Version: 'two', Color: 'orange' }, backend: 'infra-backend-v1' },
      { path: '/', headers: { Version: 'two', Color: 'blue' }, backend: 'infra-backend-v2' },
      { path: '/', headers: { Color: 'orange' }, status: 404 },
      { path: '/', headers: { 'Some-Other-Header': 'one' }, status: 404 },
      { path: '/', headers: { Color: 'blue' }, backend: 'infra-backend-v1' },
      { path: '/', headers: { Color: 'green' }, backend: 'infra-backend-v1' },
      { path: '/', headers: { Color: 'red' }, backend: 'infra-backend-v2' },
      { path: '/', headers: { Color: 'yellow' }, backend: 'infra-backend-v2' },
      { path: '/', headers: { Color: 'purple' }, status: 404 },
    ]);
  });

  test('HTTPRouteHostnameIntersection: listener and route hostnames intersect; a route with none in common is not accepted', async () => {
    const parent = { parentRefs: [{ name: 'httproute-hostname-intersection' }] };
    apply('intersection.yaml', [
      gateway('httproute-hostname-intersection', 'infra', [
        { name: 'listener-1', port: 80, protocol: 'HTTP', hostname: 'very.specific.com' },
        { name: 'listener-2', port: 80, protocol: 'HTTP', hostname: '*.wildcard.io' },
        { name: 'listener-3', port: 80, protocol: 'HTTP', hostname: '*.anotherwildcard.io' },
      ]),
      httpRoute('specific-host-matches-listener-specific-host', 'infra', { ...parent, hostnames: ['non.matching.com', '*.nonmatchingwildcard.io', 'very.specific.com'], rules: [rule('infra-backend-v1', [prefix('/s1')])] }),
      httpRoute('specific-host-matches-listener-wildcard-host', 'infra', { ...parent, hostnames: ['non.matching.com', 'wildcard.io', 'foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'], rules: [rule('infra-backend-v2', [prefix('/s2')])] }),
      httpRoute('wildcard-host-matches-listener-specific-host', 'infra', { ...parent, hostnames: ['non.matching.com', '*.specific.com'], rules: [rule('infra-backend-v3', [prefix('/s3')])] }),
      httpRoute('wildcard-host-matches-listener-wildcard-host', 'infra', { ...parent, hostnames: ['*.anotherwildcard.io'], rules: [rule('infra-backend-v1', [prefix('/s4')])] }),
      httpRoute('no-intersecting-hosts', 'infra', { ...parent, hostnames: ['specific.but.wrong.com', 'wildcard.io'], rules: [rule('infra-backend-v2', [prefix('/s5')])] }),
    ]);
    const at = (host: string, path: string, to: string | null): Case => (to === null ? { host, path, status: 404 } : { host, path, backend: to });
    await http([
      at('very.specific.com', '/s1', 'infra-backend-v1'),
      at('very.specific.com:1234', '/s1', 'infra-backend-v1'),
      at('non.matching.com', '/s1', null),
      at('foo.nonmatchingwildcard.io', '/s1', null),
      at('foo.wildcard.io', '/s1', null),
      at('very.specific.com', '/non-matching-prefix', null),
      ...['foo.wildcard.io', 'bar.wildcard.io', 'foo.bar.wildcard.io'].map((h) => at(h, '/s2', 'infra-backend-v2')),
      ...['non.matching.com', 'wildcard.io', 'very.specific.com'].map((h) => at(h, '/s2', null)),
      at('very.specific.com', '/s3', 'infra-backend-v3'),
      ...['non.matching.com', 'foo.specific.com', 'foo.wildcard.io'].map((h) => at(h, '/s3', null)),
      ...['foo.anotherwildcard.io', 'bar.anotherwildcard.io', 'foo.bar.anotherwildcard.io'].map((h) => at(h, '/s4', 'infra-backend-v1')),
      ...['anotherwildcard.io', 'foo.wildcard.io', 'very.specific.com'].map((h) => at(h, '/s4', null)),
      at('specific.but.wrong.com', '/s5', null),
      at('wildcard.io', '/s5', null),
    ]);
    const s = await status();
    const gw = s.gateways.find((g) => g.name === 'httproute-hostname-intersection');
    assert.deepEqual(gw?.listeners.map((l) => [l.name, l.attachedRoutes]), [['listener-1', 2], ['listener-2', 1], ['listener-3', 1]]);
    const none = s.routes.find((r) => r.name === 'no-intersecting-hosts');
    assert.equal(cond(none?.parents[0]?.conditions, 'Accepted'), 'False/NoMatchingListenerHostname');
  });

  test('HTTPRouteListenerHostnameMatching: sectionName picks the listener; *.foo.com does not match foo.com', async () => {
    const gw = 'httproute-listener-hostname-matching';
    apply('listener-hostnames.yaml', [
      gateway(gw, 'infra', [
        { name: 'listener-1', port: 80, protocol: 'HTTP', hostname: 'bar.com' },
        { name: 'listener-2', port: 80, protocol: 'HTTP', hostname: 'foo.bar.com' },
        { name: 'listener-3', port: 80, protocol: 'HTTP', hostname: '*.bar.com' },
        { name: 'listener-4', port: 80, protocol: 'HTTP', hostname: '*.foo.com' },
      ]),
      httpRoute('backend-v1', 'infra', { parentRefs: [{ name: gw, sectionName: 'listener-1' }], rules: [rule('infra-backend-v1')] }),
      httpRoute('backend-v2', 'infra', { parentRefs: [{ name: gw, sectionName: 'listener-2' }], rules: [rule('infra-backend-v2')] }),
      httpRoute('backend-v3', 'infra', { parentRefs: [{ name: gw, sectionName: 'listener-3' }, { name: gw, sectionName: 'listener-4' }], rules: [rule('infra-backend-v3')] }),
    ]);
    await http([
      { host: 'bar.com', path: '/', backend: 'infra-backend-v1' },
      { host: 'foo.bar.com', path: '/', backend: 'infra-backend-v2' },
      ...['baz.bar.com', 'boo.bar.com', 'multiple.prefixes.bar.com', 'multiple.prefixes.foo.com'].map((host): Case => ({ host, path: '/', backend: 'infra-backend-v3' })),
      { host: 'foo.com', path: '/', status: 404 },
      { host: 'no.matching.host', path: '/', status: 404 },
    ]);
    const r = await routeStatus('infra', 'backend-v3');
    assert.deepEqual(r?.parents.map((x) => [x.parentRef.sectionName, cond(x.conditions, 'Accepted')]), [['listener-3', 'True/Accepted'], ['listener-4', 'True/Accepted']]);
  });

  test('HTTPRouteMatching and HTTPRouteMatchingAcrossRoutes: segment-wise prefixes, a header match beats none', async () => {
    const either = (path: string, version: string): unknown[] => [prefix(path), { headers: [header('version', version)] }];
    apply('matching.yaml', [
      httpRoute('matching', 'infra', { ...toSameNamespace, hostnames: ['matching.example'], rules: [rule('infra-backend-v1', either('/', 'one')), rule('infra-backend-v2', either('/v2', 'two'))] }),
      httpRoute('matching-part1', 'infra', { ...toSameNamespace, hostnames: ['example.com', 'example.net'], rules: [rule('infra-backend-v1', either('/', 'one'))] }),
      httpRoute('matching-part2', 'infra', { ...toSameNamespace, hostnames: ['example.com'], rules: [rule('infra-backend-v2', either('/v2', 'two'))] }),
    ]);
    const m = (path: string, to: string, headers?: Record<string, string>, host = 'matching.example'): Case => ({ host, path, backend: to, ...(headers ? { headers } : {}) });
    await http([
      m('/', 'infra-backend-v1'),
      m('/example', 'infra-backend-v1'),
      m('/', 'infra-backend-v1', { Version: 'one' }),
      m('/v2', 'infra-backend-v2'),
      m('/v2/example', 'infra-backend-v2'),
      m('/', 'infra-backend-v2', { Version: 'two' }),
      m('/v2/', 'infra-backend-v2'),
      m('/v2example', 'infra-backend-v1'),
      m('/foo/v2/example', 'infra-backend-v1'),
      m('/', 'infra-backend-v1', undefined, 'example.com'),
      m('/example', 'infra-backend-v1', undefined, 'example.net'),
      m('/example', 'infra-backend-v1', { Version: 'one' }, 'example.com'),
      m('/v2', 'infra-backend-v2', undefined, 'example.com'),
      m('/v2', 'infra-backend-v1', undefined, 'example.net'),
      m('/v2/example', 'infra-backend-v2', undefined, 'example.com'),
      m('/', 'infra-backend-v2', { Version: 'two' }, 'example.com'),
    ]);
  });

  test('HTTPRouteMethodMatching: path beats method, method beats headers', async () => {
    const m = (method: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ method, ...extra });
    apply('methods.yaml', [
      httpRoute('method-matching', 'infra', {
        ...toSameNamespace,
        rules: [
          rule('infra-backend-v1', [m('POST')]),
          rule('infra-backend-v2', [m('GET')]),
          rule('infra-backend-v1', [m('GET', prefix('/path1'))]),
          rule('infra-backend-v2', [m('PUT', { headers: [header('version', 'one')] })]),
          rule('infra-backend-v3', [m('POST', { ...prefix('/path2'), headers: [header('version', 'two')] })]),
          rule('infra-backend-v1', [m('PATCH', prefix('/path3')), m('DELETE', { ...prefix('/path4'), headers: [header('version', 'three')] })]),
          rule('infra-backend-v1', [prefix('/path5')]),
          rule('infra-backend-v2', [m('PATCH')]),
          rule('infra-backend-v3', [{ headers: [header('version', 'four')] }]),
        ],
      }),
    ]);
    const c = (method: string, path: string, to: string | null, headers?: Record<string, string>): Case => ({ method, path, ...(to === null ? { status: 404 } : { backend: to }), ...(headers ? { headers } : {}) });
    await http([
      c('POST', '/', 'infra-backend-v1'),
      c('GET', '/', 'infra-backend-v2'),
      c('HEAD', '/', null),
      c('GET', '/path1', 'infra-backend-v1'),
      c('PUT', '/', 'infra-backend-v2', { version: 'one' }),
      c('POST', '/path2', 'infra-backend-v3', { version: 'two' }),
      c('PATCH', '/path3', 'infra-backend-v1'),
      c('DELETE', '/path4', 'infra-backend-v1', { version: 'three' }),
      c('PUT', '/', null),
      c('DELETE', '/path4', null),
      c('PATCH', '/path5', 'infra-backend-v1'),
      c('PATCH', '/', 'infra-backend-v2', { version: 'four' }),
    ]);
  });

  test('HTTPRouteQueryParamMatching: names and values exact, more parameters win, headers beat parameters', async () => {
    const q = (...ps: [string, string][]): Record<string, unknown> => ({ queryParams: ps.map(([name, value]) => ({ name, value })) });
    apply('query.yaml', [
      httpRoute('query-param-matching', 'infra', {
        ...toSameNamespace,
        rules: [
          rule('infra-backend-v1', [q(['animal', 'whale'])]),
          rule('infra-backend-v2', [q(['animal', 'dolphin'])]),
          rule('infra-backend-v3', [q(['animal', 'dolphin'], ['color', 'blue']), q(['ANIMAL', 'Whale'])]),
          rule('infra-backend-v1', [{ ...prefix('/path1'), ...q(['animal', 'whale']) }]),
          rule('infra-backend-v2', [{ headers: [header('version', 'one')], ...q(['animal', 'whale']) }]),
          rule('infra-backend-v3', [{ ...prefix('/path2'), headers: [header('version', 'two')], ...q(['animal', 'whale']) }]),
          rule('infra-backend-v1', [{ ...prefix('/path3'), ...q(['animal', 'shark']) }, { ...prefix('/path4'), headers: [header('version', 'three')], ...q(['animal', 'kraken']) }]),
          rule('infra-backend-v1', [prefix('/path5')]),
          rule('infra-backend-v2', [q(['animal', 'hydra'])]),
          rule('infra-backend-v3', [{ headers: [header('version', 'four')] }]),
        ],
      }),
    ]);
    const c = (path: string, to: string | null, headers?: Record<string, string>): Case => ({ path, ...(to === null ? { status: 404 } : { backend: to }), ...(headers ? { headers } : {}) });
    await http([
      c('/?animal=whale', 'infra-backend-v1'),
      c('/?animal=dolphin', 'infra-backend-v2'),
      c('/?animal=dolphin&color=blue', 'infra-backend-v3'),
      c('/?ANIMAL=Whale', 'infra-backend-v3'),
      c('/?animal=whale&otherparam=irrelevant', 'infra-backend-v1'),
      c('/?animal=dolphin&color=yellow', 'infra-backend-v2'),
      c('/?color=blue', null),
      c('/?animal=dog', null),
      c('/?animal=whaledolphin', null),
      c('/', null),
      c('/path1?animal=whale', 'infra-backend-v1'),
      c('/?animal=whale', 'infra-backend-v2', { version: 'one' }),
      c('/path2?animal=whale', 'infra-backend-v3', { version: 'two' }),
      c('/path3?animal=shark', 'infra-backend-v1'),
      c('/path4?animal=kraken', 'infra-backend-v1', { version: 'three' }),
      c('/?animal=shark', null),
      c('/path4?animal=kraken', null),
      c('/path5?animal=hydra', 'infra-backend-v1'),
      c('/?animal=hydra', 'infra-backend-v3', { version: 'four' }),
    ]);
  });

  test('HTTPRoutePathMatchOrder: Exact first, then the longest prefix (a trailing slash counts for nothing)', async () => {
    apply('order.yaml', [
      httpRoute('path-match-order', 'infra', {
        ...toSameNamespace,
        rules: [
          rule('infra-backend-v1', [exact('/match')]),
          rule('infra-backend-v2', [exact('/match/exact')]),
          rule('infra-backend-v3', [exact('/match/exact/one')]),
          rule('infra-backend-v3', [prefix('/match/')]),
          rule('infra-backend-v1', [prefix('/match/prefix/')]),
          rule('infra-backend-v2', [prefix('/match/prefix/one')]),
        ],
      }),
    ]);
    await http([
      { path: '/match/exact/one', backend: 'infra-backend-v3' },
      { path: '/match/exact', backend: 'infra-backend-v2' },
      { path: '/match', backend: 'infra-backend-v1' },
      { path: '/match/prefix/one/any', backend: 'infra-backend-v2' },
      { path: '/match/prefix/any', backend: 'infra-backend-v1' },
      { path: '/match/any', backend: 'infra-backend-v3' },
    ]);
  });

  test('invalid backends answer 500 with the reason in ResolvedRefs; a ReferenceGrant allows a cross-namespace backend and deleting it revokes', async () => {
    apply('invalid.yaml', [
      httpRoute('no-backend-refs', 'infra', { ...toSameNamespace, hostnames: ['nobackends.example'], rules: [rule(null, [exact('/omitted-no-forward')]), { matches: [exact('/empty-no-forward')], backendRefs: [] }, rule('infra-backend-v1', [prefix('/')])] }),
      httpRoute('unknown-kind', 'infra', { ...toSameNamespace, hostnames: ['unknownkind.example'], rules: [{ backendRefs: [{ group: 'unknownkind.example.com', kind: 'NonExistent', name: 'infra-backend-v1', port: 80 }] }] }),
      httpRoute('nonexistent', 'infra', { ...toSameNamespace, hostnames: ['nonexistent.example'], rules: [{ backendRefs: [{ name: 'nonexistent', namespace: 'infra', port: 80 }] }] }),
      httpRoute('reference-grant', 'infra', { ...toSameNamespace, hostnames: ['grant.example'], rules: [{ backendRefs: [{ name: 'web-backend', namespace: 'web', port: 80 }] }] }),
      httpRoute('invalid-reference-grant', 'infra', { ...toSameNamespace, hostnames: ['partial.example'], rules: [{ matches: [prefix('/v2')], backendRefs: [{ name: 'app-backend-v2', namespace: 'app', port: 80 }] }, { backendRefs: [{ name: 'app-backend-v1', namespace: 'app', port: 80 }] }] }),
      // grants that do not match: wrong namespace, wrong from kind, wrong to kind
      referenceGrant('wrong-namespace', 'infra', { kind: 'HTTPRoute', namespace: 'infra' }, { kind: 'Service' }),
      referenceGrant('from-gateway', 'web', { kind: 'Gateway', namespace: 'infra' }, { kind: 'Service' }),
      referenceGrant('to-secret', 'web', { kind: 'HTTPRoute', namespace: 'infra' }, { kind: 'Secret', name: 'web-backend' }),
      referenceGrant('app-v1-only', 'app', { kind: 'HTTPRoute', namespace: 'infra' }, { kind: 'Service', name: 'app-backend-v1' }),
    ]);
    await http([
      { host: 'nobackends.example', path: '/forward', backend: 'infra-backend-v1' },
      { host: 'nobackends.example', path: '/omitted-no-forward', status: 500 },
      { host: 'nobackends.example', path: '/empty-no-forward', status: 500 },
      { host: 'unknownkind.example', path: '/v2', status: 500 },
      { host: 'nonexistent.example', path: '/', status: 500 },
      { host: 'grant.example', path: '/', status: 500 },
      { host: 'partial.example', path: '/v2', status: 500 },
      { host: 'partial.example', path: '/', backend: 'app-backend-v1' },
    ]);
    const reasons = async (name: string): Promise<[string, string]> => {
      const r = await routeStatus('infra', name);
      return [cond(r?.parents[0]?.conditions, 'Accepted'), cond(r?.parents[0]?.conditions, 'ResolvedRefs')];
    };
    assert.deepEqual(await reasons('no-backend-refs'), ['True/Accepted', 'True/ResolvedRefs']);
    assert.deepEqual(await reasons('unknown-kind'), ['True/Accepted', 'False/InvalidKind']);
    assert.deepEqual(await reasons('nonexistent'), ['True/Accepted', 'False/BackendNotFound']);
    assert.deepEqual(await reasons('reference-grant'), ['True/Accepted', 'False/RefNotPermitted']);
    assert.deepEqual(await reasons('invalid-reference-grant'), ['True/Accepted', 'False/RefNotPermitted']);

    apply('grant.yaml', [referenceGrant('reference-grant', 'web', { kind: 'HTTPRoute', namespace: 'infra' }, { kind: 'Service', name: 'web-backend' })]);
    await http([{ host: 'grant.example', path: '/', backend: 'web-backend' }]);
    assert.deepEqual(await reasons('reference-grant'), ['True/Accepted', 'True/ResolvedRefs']);
    rmSync(joinPath(p.dir, 'grant.yaml'));
    await http([{ host: 'grant.example', path: '/', status: 500 }]);
  });

  test('parentRefs that attach nowhere: another namespace on a Same listener, a sectionName or port that matches no listener', async () => {
    apply('parents.yaml', [
      httpRoute('invalid-cross-namespace-parent-ref', 'web', { parentRefs: [{ name: 'same-namespace', namespace: 'infra' }], hostnames: ['crossparent.example'], rules: [rule('web-backend')] }),
      httpRoute('not-matching-section-name', 'infra', { parentRefs: [{ name: 'same-namespace', port: 80, sectionName: 'http1' }], hostnames: ['section.example'], rules: [rule('infra-backend-v1')] }),
      httpRoute('not-matching-port', 'infra', { parentRefs: [{ name: 'same-namespace', port: 81 }], hostnames: ['port.example'], rules: [rule('infra-backend-v1')] }),
    ]);
    const s = await eventually(async () => {
      const st = await status();
      // the earlier tests' routes are gone (their file removals settle) and these three are in
      const ready = st.routes.filter((r) => ['invalid-cross-namespace-parent-ref', 'not-matching-section-name', 'not-matching-port'].includes(r.name)).length === 3;
      return ready && st.gateways.find((g) => g.name === 'same-namespace')?.listeners[0]?.attachedRoutes === 0 ? st : null;
    }, { what: 'the three routes in status, none attached' });
    const accepted = (name: string): string => cond(s.routes.find((r) => r.name === name)?.parents[0]?.conditions, 'Accepted');
    assert.equal(accepted('invalid-cross-namespace-parent-ref'), 'False/NotAllowedByListeners');
    assert.equal(cond(s.routes.find((r) => r.name === 'invalid-cross-namespace-parent-ref')?.parents[0]?.conditions, 'ResolvedRefs'), 'True/ResolvedRefs');
    assert.equal(accepted('not-matching-section-name'), 'False/NoMatchingParent');
    assert.equal(accepted('not-matching-port'), 'False/NoMatchingParent');
    assert.equal(s.gateways.find((g) => g.name === 'same-namespace')?.listeners[0]?.attachedRoutes, 0);
    await http(['crossparent.example', 'section.example', 'port.example'].map((host): Case => ({ host, path: '/', status: 404 })));
  });

  test('RequestRedirect: hostname, status, path (full and prefix), port and scheme, with the spec\'s port rules', async () => {
    const redirect = (path: string, r: Record<string, unknown>): Record<string, unknown> => rule(null, [prefix(path)], [{ type: 'RequestRedirect', requestRedirect: r }]);
    apply('redirects.yaml', [
      httpRoute('redirects', 'infra', {
        ...toSameNamespace,
        hostnames: ['redirect.example'],
        rules: [
          redirect('/hostname-redirect', { hostname: 'example.org' }),
          redirect('/host-and-status', { hostname: 'example.org', statusCode: 301 }),
          redirect('/original-prefix', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } }),
          redirect('/full', { path: { type: 'ReplaceFullPath', replaceFullPath: '/full-path-replacement' } }),
          redirect('/path-and-host', { hostname: 'example.org', path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } }),
          redirect('/path-and-status', { statusCode: 301, path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/replacement-prefix' } }),
          redirect('/port', { port: 8083 }),
          redirect('/port-and-host', { hostname: 'example.org', port: 8083 }),
          redirect('/scheme', { scheme: 'https' }),
          redirect('/scheme-and-host', { scheme: 'https', hostname: 'example.org', statusCode: 301 }),
          redirect('/scheme-https-and-port-8443', { scheme: 'https', port: 8443 }),
          redirect('/scheme-nil-and-port-80', { port: 80 }),
          redirect('/see-other', { statusCode: 303 }),
          redirect('/temporary', { statusCode: 307 }),
          redirect('/permanent', { statusCode: 308 }),
        ],
      }),
    ]);
    const r = (path: string, status: number, location: string, method = 'GET'): Case => ({ host: 'redirect.example', path, status, location, method, backend: null });
    await http([
      r('/hostname-redirect', 302, 'http://example.org/hostname-redirect'),
      r('/host-and-status', 301, 'http://example.org/host-and-status'),
      r('/original-prefix/lemon', 302, 'http://redirect.example/replacement-prefix/lemon'),
      r('/full/path/original', 302, 'http://redirect.example/full-path-replacement'),
      r('/path-and-host', 302, 'http://example.org/replacement-prefix'),
      r('/path-and-status', 301, 'http://redirect.example/replacement-prefix'),
      r('/port', 302, 'http://redirect.example:8083/port'),
      r('/port-and-host', 302, 'http://example.org:8083/port-and-host'),
      r('/scheme', 302, 'https://redirect.example/scheme'),
      r('/scheme-and-host', 301, 'https://example.org/scheme-and-host'),
      r('/scheme-https-and-port-8443', 302, 'https://redirect.example:8443/scheme-https-and-port-8443'),
      r('/scheme-nil-and-port-80', 302, 'http://redirect.example/scheme-nil-and-port-80'),
      r('/see-other', 303, 'http://redirect.example/see-other', 'POST'),
      r('/temporary', 307, 'http://redirect.example/temporary'),
      r('/permanent?keep=query', 308, 'http://redirect.example/permanent?keep=query'),
    ]);
  });

  test('URLRewrite: hostname and path (full and prefix), with request header modifiers', async () => {
    const mods = { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [header('X-Header-Set', 'set-overwrites-values')], add: [header('X-Header-Add', 'header-val-1'), header('X-Header-Add-Append', 'header-val-2')], remove: ['X-Header-Remove'] } };
    const rewrite = (path: string, r: Record<string, unknown>, extra: unknown[] = []): Record<string, unknown> => rule('infra-backend-v1', [prefix(path)], [{ type: 'URLRewrite', urlRewrite: r }, ...extra]);
    apply('rewrites.yaml', [
      httpRoute('rewrite-path', 'infra', {
        ...toSameNamespace,
        hostnames: ['rewrite.example'],
        rules: [
          rewrite('/prefix/one', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/one' } }),
          rewrite('/strip-prefix', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/' } }),
          rewrite('/full/one', { path: { type: 'ReplaceFullPath', replaceFullPath: '/one' } }),
          rewrite('/full/rewrite-path-and-modify-headers', { path: { type: 'ReplaceFullPath', replaceFullPath: '/test' } }, [mods]),
          rewrite('/prefix/rewrite-path-and-modify-headers', { path: { type: 'ReplacePrefixMatch', replacePrefixMatch: '/prefix' } }, [mods]),
          rewrite('/one', { hostname: 'one.example.org' }),
          rewrite('/rewrite-host-and-modify-headers', { hostname: 'test.example.org' }, [mods]),
        ],
      }),
    ]);
    const modsSeen = { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values', 'X-Header-Remove': null };
    const modsSent = { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' };
    const c = (path: string, seenPath: string, extra: Partial<Case> = {}): Case => ({ host: 'rewrite.example', path, seenPath, backend: 'infra-backend-v1', ...extra });
    await http([
      c('/prefix/one/two', '/one/two'),
      c('/strip-prefix/three', '/three'),
      c('/strip-prefix', '/'),
      c('/full/one/two', '/one'),
      c('/full/one/two?q=kept', '/one?q=kept'),
      c('/full/rewrite-path-and-modify-headers/test', '/test', { headers: modsSent, seenHeaders: modsSeen }),
      c('/prefix/rewrite-path-and-modify-headers/one', '/prefix/one', { headers: modsSent, seenHeaders: modsSeen }),
      c('/one', '/one', { seenHost: 'one.example.org' }),
      c('/rewrite-host-and-modify-headers', '/rewrite-host-and-modify-headers', { seenHost: 'test.example.org', headers: modsSent, seenHeaders: modsSeen }),
    ]);
  });

  test('RequestHeaderModifier and ResponseHeaderModifier: set replaces, add appends, remove drops, names case-insensitive', async () => {
    const req = (path: string, m: Record<string, unknown>): Record<string, unknown> => rule('infra-backend-v1', [prefix(path)], [{ type: 'RequestHeaderModifier', requestHeaderModifier: m }]);
    const res = (path: string, m: Record<string, unknown>): Record<string, unknown> => rule('infra-backend-v1', [prefix(path)], [{ type: 'ResponseHeaderModifier', responseHeaderModifier: m }]);
    apply('header-mods.yaml', [
      httpRoute('request-header-modifier', 'infra', {
        ...toSameNamespace,
        hostnames: ['reqmod.example'],
        rules: [
          req('/set', { set: [header('X-Header-Set', 'set-overwrites-values')] }),
          req('/add', { add: [header('X-Header-Add', 'add-appends-values')] }),
          req('/remove', { remove: ['X-Header-Remove'] }),
          req('/multiple', { set: [header('X-Header-Set-1', 'header-set-1'), header('X-Header-Set-2', 'header-set-2')], add: [header('X-Header-Add-1', 'header-add-1'), header('X-Header-Add-2', 'header-add-2'), header('X-Header-Add-3', 'header-add-3')], remove: ['X-Header-Remove-1', 'X-Header-Remove-2'] }),
          req('/case-insensitivity', { set: [header('X-Header-Set', 'header-set')], add: [header('X-Header-Add', 'header-add')], remove: ['X-Header-Remove'] }),
        ],
      }),
      httpRoute('response-header-modifier', 'infra', {
        ...toSameNamespace,
        hostnames: ['resmod.example'],
        rules: [
          res('/set', { set: [header('X-Header-Set', 'set-overwrites-values')] }),
          res('/add', { add: [header('X-Header-Add', 'add-appends-values')] }),
          res('/remove', { remove: ['X-Header-Remove'] }),
          res('/case-insensitivity', { set: [header('X-Header-Set', 'header-set')], add: [header('X-Header-Add', 'header-add'), header('x-lowercase-add', 'lowercase-add'), header('X-UPPERCASE-ADD', 'uppercase-add')], remove: ['X-Header-Remove'] }),
        ],
      }),
    ]);
    const q = (path: string, headers: Record<string, string>, seenHeaders: Record<string, string | null>): Case => ({ host: 'reqmod.example', path, headers, seenHeaders, backend: 'infra-backend-v1' });
    const s = (path: string, echo: string, responseHeaders: Record<string, string | null>): Case => ({ host: 'resmod.example', path, headers: { 'X-Echo-Set-Header': echo }, responseHeaders, backend: 'infra-backend-v1' });
    await http([
      q('/set', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
      q('/set', { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' }, { 'X-Header-Set': 'set-overwrites-values' }),
      q('/add', { 'Some-Other-Header': 'val' }, { 'X-Header-Add': 'add-appends-values' }),
      q('/add', { 'X-Header-Add': 'some-other-value' }, { 'X-Header-Add': 'some-other-value,add-appends-values' }),
      q('/remove', { 'X-Header-Remove': 'val' }, { 'X-Header-Remove': null }),
      q(
        '/multiple',
        { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' },
        { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val', 'X-Header-Remove-1': null, 'X-Header-Remove-2': null },
      ),
      q('/case-insensitivity', { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' }, { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'X-Header-Remove': null, 'Another-Header': 'another-header-val' }),
      s('/set', 'Some-Other-Header:val', { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
      s('/set', 'Some-Other-Header:val,X-Header-Set:some-other-value', { 'X-Header-Set': 'set-overwrites-values' }),
      s('/add', 'Some-Other-Header:val', { 'X-Header-Add': 'add-appends-values' }),
      s('/add', 'X-Header-Add:some-other-value', { 'X-Header-Add': 'some-other-value,add-appends-values' }),
      s('/remove', 'X-Header-Remove:val', { 'X-Header-Remove': null }),
      s('/case-insensitivity', 'x-header-set:original-val-set,x-header-add:original-val-add,x-header-remove:original-val-remove', { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'X-Lowercase-Add': 'lowercase-add', 'X-Uppercase-Add': 'uppercase-add', 'X-Header-Remove': null }),
    ]);
  });

  test('timeouts.request and timeouts.backendRequest answer 504 when exceeded; "0s" disables them', async () => {
    const timed = (path: string, timeouts: Record<string, string>): Record<string, unknown> => rule('infra-backend-v1', [prefix(path)], undefined, { timeouts });
    apply('timeouts.yaml', [
      httpRoute('timeouts', 'infra', {
        ...toSameNamespace,
        hostnames: ['timeouts.example'],
        rules: [timed('/request-timeout', { request: '500ms' }), timed('/disable-request-timeout', { request: '0s' }), timed('/backend-timeout', { request: '5s', backendRequest: '500ms' }), timed('/disable-backend-timeout', { backendRequest: '0s' })],
      }),
    ]);
    const c = (path: string, status = 200): Case => ({ host: 'timeouts.example', path, status, ...(status === 200 ? { backend: 'infra-backend-v1' } : {}) });
    await http([
      c('/request-timeout'),
      c('/request-timeout?delay=1000', 504),
      c('/disable-request-timeout?delay=1000'),
      c('/backend-timeout'),
      c('/backend-timeout?delay=1000', 504),
      c('/disable-backend-timeout?delay=1000'),
    ]);
  });

  test('HTTPRouteWeight: 70/30/0 over 500 requests, within 5 percent, and a weight of 0 gets nothing', async () => {
    apply('weight.yaml', [httpRoute('weighted-backends', 'infra', { ...toSameNamespace, hostnames: ['weight.example'], rules: [{ backendRefs: [backend('infra-backend-v1', { weight: 70 }), backend('infra-backend-v2', { weight: 30 }), backend('infra-backend-v3', { weight: 0 })] }] })]);
    await http([{ host: 'weight.example', path: '/' }]);
    const counts = new Map<string, number>();
    for (let i = 0; i < 50; i++) {
      const replies = await Promise.all(Array.from({ length: 10 }, () => get(p.httpPort, '/', { host: 'weight.example' })));
      for (const r of replies) {
        assert.equal(r.status, 200);
        const pod = String(r.headers['x-pod']);
        counts.set(pod, (counts.get(pod) ?? 0) + 1);
      }
    }
    const share = (pod: string): number => (counts.get(pod) ?? 0) / 500;
    assert.ok(Math.abs(share('infra-backend-v1') - 0.7) <= 0.05, `v1 ${share('infra-backend-v1')}`);
    assert.ok(Math.abs(share('infra-backend-v2') - 0.3) <= 0.05, `v2 ${share('infra-backend-v2')}`);
    assert.equal(counts.get('infra-backend-v3') ?? 0, 0);
  });

  test('HTTPRouteListenerPortMatching: listeners on ports of their own, parentRef port and sectionName; the port opens and closes with the Gateway', async () => {
    const [a, b] = [await freePort(), await freePort()];
    const gw = 'httproute-listener-port-matching';
    apply('ports.yaml', [
      gateway(gw, 'infra', [
        { name: 'listener-1', port: 80, protocol: 'HTTP', hostname: 'foo.com' },
        { name: 'listener-2', port: a, protocol: 'HTTP', hostname: 'foo.com' },
        { name: 'listener-3', port: a, protocol: 'HTTP', hostname: 'bar.com' },
        { name: 'listener-4', port: b, protocol: 'HTTP', hostname: 'foo.com' },
        { name: 'listener-5', port: b, protocol: 'HTTP', hostname: 'bar.com' },
      ]),
      httpRoute('backend-v1', 'infra', { parentRefs: [{ name: gw, port: 80 }], rules: [rule('infra-backend-v1')] }),
      httpRoute('backend-v2', 'infra', { parentRefs: [{ name: gw, port: a }], rules: [rule('infra-backend-v2')] }),
      httpRoute('backend-v3', 'infra', { parentRefs: [{ name: gw, port: b, sectionName: 'listener-4' }], rules: [rule('infra-backend-v3')] }),
    ]);
    await converge({ port: p.httpPort }, [{ host: 'foo.com', path: '/', backend: 'infra-backend-v1' }]);
    await converge({ port: a }, [
      { host: `foo.com:${a}`, path: '/', backend: 'infra-backend-v2' },
      { host: `bar.com:${a}`, path: '/', backend: 'infra-backend-v2' },
    ]);
    await converge({ port: b }, [
      { host: `foo.com:${b}`, path: '/', backend: 'infra-backend-v3' },
      { host: `bar.com:${b}`, path: '/', status: 404 },
    ]);
    // the routes on the extra ports are not on the HTTP port
    await converge({ port: p.httpPort }, [{ host: 'bar.com', path: '/', status: 404 }]);
    rmSync(joinPath(p.dir, 'ports.yaml'));
    await eventually(async () => get(a, '/', { host: 'foo.com', agent: false }).then(() => false, () => true), { what: `port ${a} closed` });
  });

  test('HTTPRouteHTTPSListener: the certificate from certificateRefs, routes by listener hostname over TLS', async () => {
    apply('https.yaml', [
      httpRoute('httproute-https-test', 'infra', { parentRefs: [{ name: 'same-namespace-with-https-listener' }], hostnames: ['example.org'], rules: [rule('infra-backend-v1')] }),
      httpRoute('httproute-https-test-no-hostname', 'infra', { parentRefs: [{ name: 'same-namespace-with-https-listener', sectionName: 'https-with-hostname' }], rules: [rule('infra-backend-v2')] }),
    ]);
    await converge({ port: p.httpsPort, tls: true }, [
      { host: 'example.org', path: '/', backend: 'infra-backend-v1' },
      { host: 'unknown-example.org', path: '/', status: 404 },
      { host: 'second-example.org', path: '/', backend: 'infra-backend-v2' },
    ]);
    // not on the plain HTTP port: those listeners are HTTPS only
    await http([{ host: 'example.org', path: '/', status: 404 }]);
  });

  test('an HTTPRoute and an Ingress on the same host and path: the older object is served', async () => {
    apply('conflict.yaml', [httpRoute('conflicting', 'infra', { ...toSameNamespace, hostnames: ['both.example'], rules: [rule('infra-backend-v1', [prefix('/')])] })]);
    await http([{ host: 'both.example', path: '/', backend: 'infra-backend-v1' }]);
    apply('conflict-ingress.yaml', [
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'younger', namespace: 'infra' },
        spec: { ingressClassName: 'portico', rules: [{ host: 'both.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'infra-backend-v2', port: { number: 80 } } } }] } }, { host: 'only-ingress.example', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'infra-backend-v2', port: { number: 80 } } } }] } }] },
      },
    ]);
    await http([
      { host: 'only-ingress.example', path: '/', backend: 'infra-backend-v2' },
      { host: 'both.example', path: '/', backend: 'infra-backend-v1' },
    ]);
  });
});

const grpcService = { Echo: grpcEcho('Echo'), EchoTwo: grpcEcho('EchoTwo'), EchoThree: grpcEcho('EchoThree') } satisfies grpc.ServiceDefinition;
type GrpcClient = Record<'Echo' | 'EchoTwo' | 'EchoThree', (req: Buffer, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void> & { close(): void };

describe('GRPCRoute (standalone mode, over HTTPS and over h2c on the HTTP listener)', () => {
  let p: Portico;
  const servers: grpc.Server[] = [];
  let client: GrpcClient;

  before(async () => {
    const backends: Obj[] = [];
    for (const [i, name] of ['grpc-infra-backend-v1', 'grpc-infra-backend-v2', 'grpc-infra-backend-v3'].entries()) {
      const server = new grpc.Server();
      const answer = (method: string) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(JSON.stringify({ pod: name, method, authority: call.getPath(), version: call.metadata.get('version')[0] ?? null })));
      // EchoThree is unimplemented, as in the conformance echo server
      server.addService({ Echo: grpcService.Echo, EchoTwo: grpcService.EchoTwo }, { Echo: answer('Echo'), EchoTwo: answer('EchoTwo') });
      const port = await new Promise<number>((r, j) => server.bindAsync(`127.0.201.${i + 1}:0`, grpc.ServerCredentials.createInsecure(), (e, x) => (e ? j(e) : r(x))));
      servers.push(server);
      backends.push(...serviceWithSlices(name, [{ ip: `127.0.201.${i + 1}`, port }], 'infra'));
    }
    const svc = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
    const objs: Obj[] = [
      gatewayClass(),
      gateway('grpc', 'infra', [
        { name: 'https', port: 443, protocol: 'HTTPS', hostname: 'grpc.example.org', tls: { certificateRefs: [{ name: 'grpc-cert' }] } },
        { name: 'http', port: 80, protocol: 'HTTP', hostname: 'grpc.example.org' },
      ]),
      tlsSecret('grpc-cert', 'infra', certificate),
      ...backends,
      httpRoute('exact-matching', 'infra', {
        parentRefs: [{ name: 'grpc' }],
        rules: [
          { matches: [{ method: { service: svc, method: 'Echo' }, headers: [header('version', 'two')] }], backendRefs: [backend('grpc-infra-backend-v2')] },
          { matches: [{ method: { service: svc, method: 'Echo' } }], backendRefs: [backend('grpc-infra-backend-v1')] },
          { matches: [{ method: { service: svc, method: 'EchoTwo' } }], backendRefs: [backend('grpc-infra-backend-v2')] },
          { matches: [{ method: { service: svc, method: 'EchoThree' } }], backendRefs: [backend('grpc-infra-backend-v3')] },
        ],
      }, 'GRPCRoute'),
    ];
    p = await startPortico({ 'grpc.yaml': yaml(objs) });
    const Client = grpc.makeGenericClientConstructor(grpcService, 'GrpcEcho');
    client = new Client(`127.0.0.1:${p.httpsPort}`, grpc.credentials.createSsl(Buffer.from(certificate.certPem)), { 'grpc.ssl_target_name_override': 'grpc.example.org', 'grpc.default_authority': 'grpc.example.org' }) as unknown as GrpcClient;
  });

  after(async () => {
    client?.close();
    await p?.stop();
    for (const s of servers) s.forceShutdown();
  });

  const call = (method: 'Echo' | 'EchoTwo' | 'EchoThree', md: Record<string, string> = {}): Promise<{ pod?: string; code?: number }> =>
    new Promise((resolve) => {
      const m = new grpc.Metadata();
      for (const [k, v] of Object.entries(md)) m.set(k, v);
      client[method](Buffer.from('hi'), m, (e, r) => resolve(e ? { code: e.code } : { pod: (JSON.parse(r!.toString()) as { pod: string }).pod }));
    });

  test('GRPCExactMethodMatching and GRPCRouteHeaderMatching: service/method become routes to h2c backends', async () => {
    await eventually(async () => (await call('Echo')).pod === 'grpc-infra-backend-v1', { what: 'the GRPCRoute served' });
    assert.deepEqual(await call('Echo'), { pod: 'grpc-infra-backend-v1' });
    assert.deepEqual(await call('EchoTwo'), { pod: 'grpc-infra-backend-v2' });
    assert.deepEqual(await call('Echo', { version: 'two' }), { pod: 'grpc-infra-backend-v2' });
    // a method the backend does not implement: the backend's own status comes back
    assert.deepEqual(await call('EchoThree'), { code: grpc.status.UNIMPLEMENTED });
    // the same over the plain HTTP listener: HTTP/2 with prior knowledge (h2c), as the conformance suite's gRPC client speaks
    const Client = grpc.makeGenericClientConstructor(grpcService, 'GrpcEcho');
    const plain = new Client(`127.0.0.1:${p.httpPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.org' }) as unknown as GrpcClient;
    try {
      const r = await new Promise<string>((resolve, reject) => plain.EchoTwo(Buffer.from('hi'), new grpc.Metadata(), (e, x) => (e ? reject(e) : resolve((JSON.parse(x!.toString()) as { pod: string }).pod))));
      assert.equal(r, 'grpc-infra-backend-v2');
    } finally {
      plain.close();
    }
    const st = JSON.parse((await get(p.adminPort, '/debug/gateways')).body) as DebugGateways;
    const r = st.routes.find((x) => x.kind === 'GRPCRoute' && x.name === 'exact-matching');
    assert.equal(r?.parents[0]?.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
  });
});
