/** sameTable decides whether a rebuild is swapped in: it must see every difference that routes differently. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameTable } from './print.js';
import type { Backend, Route, RouteSettings, RouteTable } from './types.js';

const backend = (endpoints: Backend['endpoints'], protocol: Backend['protocol'] = 'HTTP'): Backend => ({ id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol, endpoints });
const source = { kind: 'Ingress', namespace: 'ns', name: 'i' } as const;
/** Every setting set, so that a change to any of them is visible. */
const settings: Required<RouteSettings> = { bodySize: 1, connectTimeout: 2, readTimeout: 3, sendTimeout: 4, requestTimeout: 5, upstreamVhost: 'v.test', sslServerName: true, sslName: 'n.test', sslVerify: true, sslSecret: 'ns/s', sslVerifyDepth: 2, sslCiphers: 'HIGH:!aNULL', limitRate: 10240, limitRateAfter: 2048, sslProtocols: ['TLSv1.2', 'TLSv1.3'], nextUpstream: ['error', 'http_502'], nextUpstreamTries: 5, nextUpstreamTimeout: 6, accessLog: false, retryAttempts: 2, retryCodes: [500, 503], retryBackoff: 7 };
const route = (): Route => ({
  host: 'a.test',
  path: '/',
  match: 'Prefix',
  conditions: { method: 'GET', headers: [{ type: 'Exact', name: 'x-a', value: '1' }], query: [{ type: 'RegularExpression', name: 'q', value: 'a.*' }] },
  source,
  policies: [{ kind: 'httpsRedirect' }],
  backends: [{ backend: 'ns/s:80', weight: 1 }],
  settings: { ...settings },
});
const base = (): RouteTable => ({
  routes: [route()],
  hostFallbacks: new Map([['a.test', { ...route(), path: '' }]]),
  defaultBackend: null,
  backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.1', port: 80, terminating: false }])]]),
  certs: new Map([['a.test', { host: 'a.test', secret: 'ns/c', id: 'x1', certPem: '', keyPem: '', notAfter: 1, source }]]),
});

test('equal tables are the same', () => assert.ok(sameTable(base(), base())));

/** Every leaf of a plain value, as a path of keys. */
function leaves(v: unknown, path: (string | number)[] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return [path];
  return Object.entries(v).flatMap(([k, x]) => leaves(x, [...path, Array.isArray(v) ? Number(k) : k]));
}
/** A copy of `v` with the leaf at `path` changed (or, for an optional field, removed). */
function changed(v: unknown, path: (string | number)[], remove: boolean): unknown {
  if (path.length === 0) return typeof v === 'string' ? `${v}x` : typeof v === 'number' ? v + 1 : !v;
  const [k, ...rest] = path as [string | number, ...(string | number)[]];
  const copy = (Array.isArray(v) ? [...v] : { ...(v as object) }) as Record<string | number, unknown>;
  if (remove && rest.length === 0 && !Array.isArray(v)) delete copy[k];
  else copy[k] = changed(copy[k], rest, remove);
  return copy;
}

test('a change to any field of a route, a fallback or the default backend makes tables differ', () => {
  const paths = leaves(route());
  assert.ok(paths.length >= 20, `every setting, condition, policy and backend field is covered (${paths.length})`);
  for (const p of paths) {
    for (const remove of [false, true]) {
      const r = changed(route(), p, remove) as Route;
      assert.equal(sameTable(base(), { ...base(), routes: [r] }), false, `route ${p.join('.')} ${remove ? 'removed' : 'changed'}`);
      assert.equal(sameTable(base(), { ...base(), hostFallbacks: new Map([['a.test', { ...r, path: '' }]]) }), r.path !== route().path ? true : false, `fallback ${p.join('.')}`);
      assert.equal(sameTable({ ...base(), defaultBackend: route() }, { ...base(), defaultBackend: r }), false, `default ${p.join('.')}`);
    }
  }
});

const btls = { policy: 'ns/p', hostname: 'a.test', caPem: 'A', caId: 'a', caFrom: 'ConfigMap ns/ca' };
const changes: [string, (t: RouteTable) => RouteTable][] = [
  ['an added route', (t) => ({ ...t, routes: [...t.routes, { ...t.routes[0]!, host: 'b.test' }] })],
  ['an endpoint address', (t) => ({ ...t, backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.2', port: 80, terminating: false }])]]) })],
  ['an endpoint becoming terminating', (t) => ({ ...t, backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.1', port: 80, terminating: true }])]]) })],
  ['a backend protocol', (t) => ({ ...t, backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.1', port: 80, terminating: false }], 'GRPC')]]) })],
  ['a host fallback', (t) => ({ ...t, hostFallbacks: new Map() })],
  ['the default backend', (t) => ({ ...t, defaultBackend: route() })],
  ['a BackendTLSPolicy applied', (t) => ({ ...t, backends: new Map([['ns/s:80', { ...backend([{ ip: '10.0.0.1', port: 80, terminating: false }]), tls: btls }]]) })],
  ['a rotated BackendTLSPolicy CA', (t) => ({ ...t, backends: new Map([['ns/s:80', { ...backend([{ ip: '10.0.0.1', port: 80, terminating: false }]), tls: { ...btls, caPem: 'B', caId: 'b' } }]]) })],
  ['a rotated certificate', (t) => ({ ...t, certs: new Map([['a.test', { ...t.certs.get('a.test')!, id: 'x2' }]]) })],
  ['a removed certificate', (t) => ({ ...t, certs: new Map() })],
];
test('a BackendTLSPolicy on both sides, unchanged: the same', () => {
  const withTls = (t: RouteTable): RouteTable => ({ ...t, backends: new Map([['ns/s:80', { ...backend([{ ip: '10.0.0.1', port: 80, terminating: false }]), tls: { ...btls } }]]) });
  assert.ok(sameTable(withTls(base()), withTls(base())));
});
for (const [what, change] of changes) test(`${what} makes tables differ`, () => assert.equal(sameTable(base(), change(base())), false));

test('the running table is compared with its live endpoints, patched since the swap', () => {
  const patched = [{ ip: '10.0.0.7', port: 80, terminating: false }];
  const next = { ...base(), backends: new Map([['ns/s:80', backend(patched)]]) };
  assert.equal(sameTable(next, base()), false, 'against the table as swapped in');
  assert.equal(sameTable(next, base(), () => patched), true, 'against its live lists');
});
