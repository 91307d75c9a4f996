/** sameTable decides whether a rebuild is swapped in: it must see every difference that routes differently. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sameTable } from './print.js';
import type { Backend, RouteTable } from './types.js';

const backend = (endpoints: Backend['endpoints'], protocol: Backend['protocol'] = 'HTTP'): Backend => ({ id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol, endpoints });
const base = (): RouteTable => ({
  routes: [{ host: 'a.test', path: '/', match: 'Prefix', backend: 'ns/s:80', source: { namespace: 'ns', ingress: 'i' }, redirect: false, limits: {} }],
  hostFallbacks: new Map([['a.test', { backend: 'ns/s:80', source: { namespace: 'ns', ingress: 'i' } }]]),
  defaultBackend: null,
  backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.1', port: 80, terminating: false }])]]),
  certs: new Map([['a.test', { host: 'a.test', secret: 'ns/c', id: 'x1', certPem: '', keyPem: '', notAfter: 1, source: { namespace: 'ns', ingress: 'i' } }]]),
});

test('equal tables are the same', () => assert.ok(sameTable(base(), base())));

const changes: [string, (t: RouteTable) => RouteTable][] = [
  ['a route path', (t) => ({ ...t, routes: [{ ...t.routes[0]!, path: '/x' }] })],
  ['a route type', (t) => ({ ...t, routes: [{ ...t.routes[0]!, match: 'Exact' }] })],
  ['a redirect', (t) => ({ ...t, routes: [{ ...t.routes[0]!, redirect: true }] })],
  ['a route source', (t) => ({ ...t, routes: [{ ...t.routes[0]!, source: { namespace: 'ns', ingress: 'j' } }] })],
  ['a per-Ingress timeout', (t) => ({ ...t, routes: [{ ...t.routes[0]!, limits: { readTimeout: 5000 } }] })],
  ['a per-Ingress body size', (t) => ({ ...t, routes: [{ ...t.routes[0]!, limits: { bodySize: 1 } }] })],
  ['an upstream vhost', (t) => ({ ...t, routes: [{ ...t.routes[0]!, limits: { upstreamVhost: 'api.example.com' } }] })],
  ['SNI switched on', (t) => ({ ...t, routes: [{ ...t.routes[0]!, limits: { sslServerName: true } }] })],
  ['an SNI name', (t) => ({ ...t, routes: [{ ...t.routes[0]!, limits: { sslName: 'a.internal' } }] })],
  ['certificate verification', (t) => ({ ...t, routes: [{ ...t.routes[0]!, limits: { sslVerify: true } }] })],
  ['an added route', (t) => ({ ...t, routes: [...t.routes, { ...t.routes[0]!, host: 'b.test' }] })],
  ['an endpoint address', (t) => ({ ...t, backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.2', port: 80, terminating: false }])]]) })],
  ['an endpoint becoming terminating', (t) => ({ ...t, backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.1', port: 80, terminating: true }])]]) })],
  ['a backend protocol', (t) => ({ ...t, backends: new Map([['ns/s:80', backend([{ ip: '10.0.0.1', port: 80, terminating: false }], 'GRPC')]]) })],
  ['a host fallback', (t) => ({ ...t, hostFallbacks: new Map() })],
  ['the default backend', (t) => ({ ...t, defaultBackend: { backend: 'ns/s:80', source: { namespace: 'ns', ingress: 'i' } } })],
  ['a rotated certificate', (t) => ({ ...t, certs: new Map([['a.test', { ...t.certs.get('a.test')!, id: 'x2' }]]) })],
  ['a removed certificate', (t) => ({ ...t, certs: new Map() })],
];
for (const [what, change] of changes) test(`${what} makes tables differ`, () => assert.equal(sameTable(base(), change(base())), false));
