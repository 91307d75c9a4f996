/** What a route compiles to for the data plane: dispatcher settings (SNI, TLS), endpoint slots, policies. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend, Policy, Route, RouteSettings, RouteTable } from '../model/types.js';
import { createEndpointState } from './endpoints.js';
import { createPools } from './pools.js';
import { compileTable, runBackendPolicies, type Target } from './route.js';
import { match } from '../router/match.js';
import { fakeExchange } from '../testing/exchange.js';
import { choose } from './weighted.js';
import { createLimiters } from './limiters.js';

const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
const env = { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 };

function tableWith(settings: RouteSettings, backend: Backend, extra: Partial<Route> = {}): RouteTable {
  return {
    routes: [{ host: 'a.test', path: '/', match: 'Prefix', source: { kind: 'Ingress', namespace: 'ns', name: 'i' }, policies: [], backends: [{ backend: backend.id, weight: 1 }], settings, ...extra }],
    hostFallbacks: new Map(),
    defaultBackend: null,
    backends: new Map([[backend.id, backend]]),
    certs: new Map(),
  };
}
const tlsBackend = (externalName?: string): Backend => ({ id: 'ns/s:443+https', namespace: 'ns', service: 's', port: '443', protocol: 'HTTPS', endpoints: [], ...(externalName ? { externalName } : {}) });
const target = (t: RouteTable) => compileTable(t, { pools, endpoints: createEndpointState(), env }).targets[0]!;

describe('the TLS server name a route sends (proxy-ssl-server-name)', () => {
  const sni = (settings: RouteSettings, externalName?: string): string | undefined => /sni=(\S+)/.exec(target(tableWith(settings, tlsBackend(externalName))).backends[0]!.dispatch.key)?.[1];
  test('none unless switched on, whatever else is set', () => {
    assert.equal(sni({ sslName: 'x.internal', upstreamVhost: 'y.internal' }, 'z.internal'), undefined);
  });
  test('on: proxy-ssl-name, else the upstream-vhost host without its port, else the ExternalName', () => {
    assert.equal(sni({ sslServerName: true, sslName: 'x.internal', upstreamVhost: 'y.internal' }, 'z.internal'), 'x.internal');
    assert.equal(sni({ sslServerName: true, upstreamVhost: 'y.internal:8443' }, 'z.internal'), 'y.internal');
    assert.equal(sni({ sslServerName: true }, 'z.internal'), 'z.internal');
    assert.equal(sni({ sslServerName: true }), undefined, 'a pod backend with nothing to name');
  });
  test('never an IP address (RFC 6066 names hosts only)', () => {
    assert.equal(sni({ sslServerName: true, upstreamVhost: '10.0.0.1:443' }), undefined);
    assert.equal(sni({ sslServerName: true, upstreamVhost: '[2001:db8::1]:443' }), undefined);
    assert.equal(sni({ sslServerName: true }, '192.0.2.7'), undefined);
  });
});

describe('compiled targets', () => {
  test('routes with the same settings share one dispatcher; upgrades get an HTTP/1.1 one', () => {
    const b = tlsBackend();
    const t = tableWith({ sslVerify: true }, b);
    const two = { ...t, routes: [...t.routes, { ...t.routes[0]!, path: '/x' }] };
    const { targets } = compileTable(two, { pools, endpoints: createEndpointState(), env });
    assert.equal(targets[0]!.backends[0]!.dispatch, targets[1]!.backends[0]!.dispatch);
    assert.match(targets[0]!.backends[0]!.dispatch.key, /^HTTPS verify$/);
    const grpcs: Backend = { ...b, id: 'ns/s:443+grpcs', protocol: 'GRPCS' };
    const g = target(tableWith({}, grpcs)).backends[0]!;
    assert.equal(g.dispatch.protocol, 'GRPCS');
    assert.equal(g.upgrade.protocol, 'HTTPS');
  });
  test('a target reads its backend\'s live slot; the table is never modified', () => {
    const endpoints = createEndpointState();
    const b: Backend = { id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol: 'HTTP', endpoints: [{ ip: '10.0.0.1', port: 80, terminating: false }] };
    const t = tableWith({}, b);
    const { targets } = compileTable(t, { pools, endpoints, env });
    endpoints.apply(t);
    endpoints.patch(new Map([['ns/s:80', [{ ip: '10.0.0.2', port: 80, terminating: false }]]]));
    assert.deepEqual(targets[0]!.backends[0]!.slot.endpoints.map((e) => e.ip), ['10.0.0.2']);
    assert.deepEqual(b.endpoints.map((e) => e.ip), ['10.0.0.1']);
  });
  test('labels: the route\'s object, its first backend\'s Service, host and written path', () => {
    const t = target(tableWith({}, tlsBackend()));
    assert.deepEqual([t.namespace, t.ingress, t.service, t.host, t.path, t.servicePort], ['ns', 'i', 's', 'a.test', '/', '443']);
    const fallback = target(tableWith({}, tlsBackend(), { host: '', path: '', source: { kind: 'DefaultBackend', namespace: 'ns', name: 'def' } }));
    assert.deepEqual([fallback.namespace, fallback.ingress, fallback.service, fallback.host, fallback.path], ['ns', '', 's', '', '']);
    const missing = target({ ...tableWith({}, tlsBackend()), backends: new Map() });
    assert.deepEqual([missing.service, missing.servicePort], ['', '']);
  });
  test('labels are read from the route and its first backend, not kept per target (48 bytes each at 50,000 routes)', () => {
    const t = target(tableWith({}, tlsBackend()));
    for (const name of ['namespace', 'ingress', 'service', 'host', 'path', 'servicePort']) assert.equal(Object.hasOwn(t, name), false, name);
  });
});

describe('a target\'s rare parts (response policies, error pages, canary, mirror, affinity, pacing)', () => {
  const b: Backend = { id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol: 'HTTP', endpoints: [] };
  const RARE = ['response', 'outer', 'errors', 'canary', 'mirror', 'sticky', 'pace'] as const;
  test('are kept out of line: none of them is an own field, and each reads what the route gave', () => {
    const base = tableWith({}, b);
    const rewrites: readonly Policy[] = [{ kind: 'responseRewrite', redirect: { from: 'http://pod/', to: '/' } }];
    const routes: Route[] = [
      base.routes[0]!,
      { ...base.routes[0]!, path: '/h', policies: rewrites },
      { ...base.routes[0]!, path: '/h2', policies: rewrites },
      { ...base.routes[0]!, path: '/paced', settings: { limitRate: 1024 } },
      { ...base.routes[0]!, path: '/canary', canary: { backend: b.id, source: { kind: 'Ingress', namespace: 'ns', name: 'c' }, weight: 10, total: 100 } },
    ];
    const { targets } = compileTable({ ...base, routes }, { pools, endpoints: createEndpointState(), env });
    for (const t of targets) for (const name of RARE) assert.equal(Object.hasOwn(t, name), false, name);
    const [plain, h, h2, paced, canary] = targets as [Target, Target, Target, Target, Target];
    assert.deepEqual(RARE.map((n) => plain[n]), [null, null, null, null, null, false, null]);
    assert.notEqual(h.response, null, 'proxy_redirect is a response policy');
    assert.equal(h.response, h2.response, 'routes with the same policy list (an Ingress\'s paths) share their compiled response policies');
    assert.equal(Reflect.get(h, 'rare'), Reflect.get(h2, 'rare'), 'and their rare parts');
    assert.notEqual(Reflect.get(paced, 'rare'), Reflect.get(plain, 'rare'), 'a route with pacing has parts of its own');
    assert.equal(typeof paced.pace, 'function');
    assert.equal(paced.response, null);
    assert.notEqual(canary.canary, null);
    assert.equal(canary.canary?.target.backend.id, b.id);
  });
});

describe('the router\'s candidates', () => {
  const b: Backend = { id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol: 'HTTP', endpoints: [] };
  test('a route without conditions is its own target (no candidate object of its own); one with conditions has one', () => {
    const plain = tableWith({}, b);
    const withHeader = { ...plain, routes: [...plain.routes, { ...plain.routes[0]!, path: '/h', conditions: { headers: [{ type: 'Exact' as const, name: 'x-v', value: '2' }] } }] };
    const { matchers, targets } = compileTable(withHeader, { pools, endpoints: createEndpointState(), env });
    const m = matchers.get(80)!;
    const hit = match(m, 'a.test', '/x');
    assert.equal(hit, targets[0]);
    assert.equal(hit?.action, targets[0]);
    assert.equal(hit?.cond, null);
    assert.equal(hit?.route, plain.routes[0]);
    const cond = match(m, 'a.test', '/h', { method: 'GET', header: (n: string) => (n === 'x-v' ? '2' : undefined), query: () => undefined, captures: null });
    assert.equal(cond?.action, targets[1]);
    assert.notEqual(cond, targets[1]);
    assert.ok(cond?.cond !== null && cond?.cond.headers !== null);
  });
});

describe('weighted backends: each compiled target has its own sequence (weighted.test.ts tests the choice)', () => {
  const weighted = (...weights: number[]) => {
    const ids = weights.map((_, i) => `ns/s${i}:80`);
    const backends = new Map(ids.map((id, i): [string, Backend] => [id, { id, namespace: 'ns', service: `s${i}`, port: '80', protocol: 'HTTP', endpoints: [] }]));
    const table: RouteTable = { ...tableWith({}, backends.get(ids[0]!)!), backends };
    (table.routes as Route[])[0] = { ...table.routes[0]!, backends: ids.map((backend, i) => ({ backend, weight: weights[i]! })) };
    return target(table);
  };
  const picks = (t: ReturnType<typeof weighted>, n: number): string[] => Array.from({ length: n }, () => choose(t)?.backend.service ?? 'none');
  const count = (list: readonly string[], s: string): number => list.filter((x) => x === s).length;
  test('a compiled 70/30/0 route splits 500 requests to within two of the weights; the weight of 0 gets nothing', () => {
    for (let run = 0; run < 20; run++) {
      const got = picks(weighted(70, 30, 0), 500);
      assert.ok(Math.abs(count(got, 's0') - 350) <= 2 && Math.abs(count(got, 's1') - 150) <= 2 && count(got, 's2') === 0, `${count(got, 's0')}/${count(got, 's1')}/${count(got, 's2')}`);
    }
  });
  test('each compiled target starts at a random phase: with a table swap every few requests the light backend still gets its share', () => {
    let light = 0;
    for (let swap = 0; swap < 1000; swap++) light += count(picks(weighted(90, 10), 3), 's1');
    // 10% of 3,000 picks is 300; a sequence restarted at one point every swap would give 0 or 1,000
    assert.ok(light > 200 && light < 400, `light backend got ${light} of 3000`);
  });
  test('all weights 0: no backend (the route answers 500, as the spec requires)', () => {
    assert.deepEqual(picks(weighted(0, 0), 3), ['none', 'none', 'none']);
  });
});

describe('backendRef filters (Gateway API): compiled per backend, run only for the backend chosen', () => {
  const ids = ['ns/v1:80', 'ns/v2:80'];
  const backends = new Map(ids.map((id, i): [string, Backend] => [id, { id, namespace: 'ns', service: `v${i + 1}`, port: '80', protocol: 'HTTP', endpoints: [] }]));
  const setBackend = (name: string): Policy[] => [{ kind: 'headers', phase: 'request', set: [['backend', name]], add: [], remove: [] }];
  const tableOf = (entries: Route['backends']): RouteTable => {
    const table: RouteTable = { ...tableWith({}, backends.get(ids[0]!)!), backends };
    (table.routes as Route[])[0] = { ...table.routes[0]!, backends: entries };
    return table;
  };
  test('each backend gets its own compiled list; a backend without filters has none', () => {
    const t = target(tableOf([{ backend: ids[0]!, weight: 1, policies: setBackend('v1') }, { backend: ids[1]!, weight: 1 }]));
    assert.equal(t.backends[1]!.policies, null);
    const p = t.backends[0]!.policies;
    assert.ok(p !== null);
    const ex = fakeExchange();
    assert.equal(runBackendPolicies(p, ex), true);
    assert.deepEqual(ex.upstream, ['backend', 'v1']);
  });
  test('in the fixed order whatever order they are written in: redirect before rewrite before request header edits', () => {
    const list: Policy[] = [...setBackend('v1'), { kind: 'rewrite', path: { type: 'full', value: '/rewritten' } }];
    const t = target(tableOf([{ backend: ids[0]!, weight: 1, policies: list }]));
    const ex = fakeExchange({ target: '/original?q=1' });
    assert.equal(runBackendPolicies(t.backends[0]!.policies!, ex), true);
    assert.equal(ex.forwardPath, '/rewritten?q=1');
    assert.deepEqual(ex.upstream, ['backend', 'v1']);
    const redirect: Policy[] = [...setBackend('v1'), { kind: 'redirect', status: 302, path: { type: 'full', value: '/redirected' } }];
    const r = target(tableOf([{ backend: ids[0]!, weight: 1, policies: redirect }]));
    const ex2 = fakeExchange({ target: '/original' });
    assert.equal(runBackendPolicies(r.backends[0]!.policies!, ex2), false, 'a redirect answers: the request goes no further');
    assert.equal(ex2.answered?.status, 302);
    assert.deepEqual(ex2.answered?.headers, ['location', 'http://a.test/redirected']);
    assert.deepEqual(ex2.upstream, [], 'nothing after the redirect ran');
  });
  test('routes sharing a backend share its target only when their filters are the same list', () => {
    const shared = setBackend('v1');
    const base = tableOf([{ backend: ids[0]!, weight: 1, policies: shared }]);
    const r0 = base.routes[0]!;
    const table: RouteTable = { ...base, routes: [r0, { ...r0, path: '/same' }, { ...r0, path: '/other', backends: [{ backend: ids[0]!, weight: 1, policies: setBackend('v1') }] }, { ...r0, path: '/none', backends: [{ backend: ids[0]!, weight: 1 }] }] };
    const { targets } = compileTable(table, { pools, endpoints: createEndpointState(), env });
    const [a, b, c, d] = targets.map((t) => t.backends[0]!);
    assert.equal(a, b);
    assert.notEqual(a!.policies, c!.policies);
    assert.equal(d!.policies, null);
    assert.notEqual(a, d);
  });
});

describe('a BackendTLSPolicy backend (Gateway API)', () => {
  const withPolicy = (tls: NonNullable<Backend['tls']>): Backend => ({ ...tlsBackend(), id: 'ns/s:443+https+btls:p', tls });
  test('its dispatcher always verifies, with the policy hostname as SNI and its CAs, whatever the route settings say', () => {
    const b = target(tableWith({ sslVerify: false, sslServerName: false }, withPolicy({ policy: 'ns/p', hostname: 'abc.example.com', caPem: 'PEM', caId: 'c1', caFrom: 'ConfigMap ns/ca' }))).backends[0]!;
    assert.equal(b.dispatch.key, 'HTTPS sni=abc.example.com verify tls=btls-c1');
    assert.equal(b.upgrade.key, 'HTTPS sni=abc.example.com verify tls=btls-c1', 'upgrades (wss) too');
  });
  test('System CAs: no material (the default trust store); subjectAltNames are part of the key', () => {
    const b = target(tableWith({}, withPolicy({ policy: 'ns/p', hostname: 'abc.example.com', caId: 'System', caFrom: 'System', subjectAltNames: [{ type: 'URI', value: 'spiffe://x/y' }] }))).backends[0]!;
    assert.equal(b.dispatch.key, 'HTTPS sni=abc.example.com verify san=URI:spiffe://x/y');
  });
});
