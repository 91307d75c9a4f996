/**
 * The Gateway API's request mirroring, CORS filter, retries and session persistence end to end,
 * standalone mode, with the conformance suite's routes and request tables
 * (kubernetes-sigs/gateway-api conformance/tests: HTTPRouteRequestMirror,
 * HTTPRouteRequestMultipleMirrors, HTTPRouteRequestPercentageMirror, HTTPRouteCORS,
 * HTTPRouteRetry, HTTPRouteRetryConnectionError, HTTPRouteRetryWithTimeouts), a GRPCRoute mirror
 * over h2c, and what the suite does not check: a mirror never holds a request back, the copy
 * carries the body, an unresolved mirror is reported and its rule still served, sessions stay on
 * their backend. Pods on 127.0.236.x.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { converge, type Case } from './lib/cases.js';
import { eventually } from './lib/eventually.js';
import type { DebugGateways } from './lib/gateway-status.js';
import { grpcEcho } from './lib/grpc-echo.js';
import { get } from './lib/http.js';
import { yaml } from './lib/manifests.js';
import { gateway, gatewayClass, httpRoute, namespace, referenceGrant, serviceWithSlices, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const prefix = (value: string): { path: { type: string; value: string } } => ({ path: { type: 'PathPrefix', value } });
const header = (name: string, value: string): { name: string; value: string } => ({ name, value });
const toSameNamespace = { parentRefs: [{ name: 'same-namespace' }] };
const mirror = (name: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({ type: 'RequestMirror', requestMirror: { backendRef: { name, namespace: 'infra', port: 80 }, ...extra } });
const MODS = { type: 'RequestHeaderModifier', requestHeaderModifier: { set: [header('X-Header-Set', 'set-overwrites-values')], add: [header('X-Header-Add', 'header-val-1'), header('X-Header-Add-Append', 'header-val-2')], remove: ['X-Header-Remove'] } };
const MODS_SENT = { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' };
const MODS_SEEN = { 'x-header-add': 'header-val-1', 'x-header-add-append': 'append-val-1,header-val-2', 'x-header-set': 'set-overwrites-values', 'x-header-remove': undefined };

/** Counts a Prometheus series (summed over label sets matching `labels`). */
function metric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

describe('Gateway API mirrors, CORS, retries and sessions (standalone mode, the conformance cases)', () => {
  let p: Portico;
  const pods: Pod[] = [];
  let v1: Pod, v2: Pod, v3: Pod, hang: Pod;
  const files: string[] = [];

  const status = async (): Promise<DebugGateways> => JSON.parse((await get(p.adminPort, '/debug/gateways')).body) as DebugGateways;
  const cond = async (name: string, type: string): Promise<string> => {
    const r = (await status()).routes.find((x) => x.namespace === 'infra' && x.name === name);
    const c = r?.parents[0]?.conditions.find((x) => x.type === type);
    return c === undefined ? '(none)' : `${c.status}/${c.reason}`;
  };
  const apply = (name: string, objs: readonly Obj[]): void => {
    files.push(name);
    p.write(name, yaml(objs));
  };
  const http = (cases: readonly Case[]): Promise<void> => converge({ port: p.httpPort }, cases);
  /** The requests a pod saw for exactly this target. */
  const saw = (pod: Pod, target: string): Pod['seen'] => pod.seen.filter((s) => s.url === target);

  before(async () => {
    const start = (ip: string, name: string): Promise<Pod> => startPod(ip, name).then((pod) => (pods.push(pod), pod));
    [v1, v2, v3, hang] = await Promise.all([start('127.0.236.1', 'infra-backend-v1'), start('127.0.236.2', 'infra-backend-v2'), start('127.0.236.3', 'infra-backend-v3'), start('127.0.236.4', 'hanging-mirror')]);
    hang.behaviour = 'hang';
    const base: Obj[] = [
      gatewayClass(),
      namespace('infra', { 'gateway-conformance': 'infra' }),
      namespace('web', { 'gateway-conformance': 'backend' }),
      gateway('same-namespace', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }]),
      ...serviceWithSlices('infra-backend-v1', [v1], 'infra'),
      ...serviceWithSlices('infra-backend-v2', [v2], 'infra'),
      ...serviceWithSlices('infra-backend-v3', [v3], 'infra'),
      ...serviceWithSlices('hanging-mirror', [hang], 'infra'),
      ...serviceWithSlices('web-backend', [v3], 'web'),
    ];
    p = await startPortico({ 'base.yaml': yaml(base) }, ['--mirror-max-in-flight', '20', '--mirror-timeout', '2s', '--mirror-body-buffer', '1m']);
  });

  afterEach(() => {
    for (const f of files.splice(0)) rmSync(joinPath(p.dir, f), { force: true });
  });

  after(async () => {
    await p?.stop();
    await Promise.all(pods.map((x) => x.close()));
  });

  test('the GatewayClass advertises the mirror, CORS and retry features', async () => {
    const s = await eventually(async () => (await status()).gatewayClasses.find((c) => c.name === 'portico'));
    for (const f of ['HTTPRouteCORS', 'HTTPRouteRequestMirror', 'HTTPRouteRequestMultipleMirrors', 'HTTPRouteRequestPercentageMirror', 'HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout', 'HTTPRouteRetryConnectionError']) assert.ok(s.supportedFeatures.includes(f), f);
    assert.deepEqual(s.supportedFeatures, [...s.supportedFeatures].sort());
  });

  test('HTTPRouteRequestMirror: the backend answers, the mirror gets the same path and query (and the modified headers, and the body)', async () => {
    apply('mirror.yaml', [
      httpRoute('request-mirror', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/mirror')], filters: [mirror('infra-backend-v2')], backendRefs: [{ name: 'infra-backend-v1', port: 80, namespace: 'infra' }] },
          { matches: [prefix('/mirror-and-modify-headers')], filters: [MODS, mirror('infra-backend-v2')], backendRefs: [{ name: 'infra-backend-v1', port: 80, namespace: 'infra' }] },
        ],
      }),
    ]);
    await http([{ path: '/mirror', backend: 'infra-backend-v1' }]);
    for (const path of ['/mirror', '/mirror-and-modify-headers']) {
      const target = `${path}?gateway-api-conformance-request-id=${randomUUID()}`;
      const modified = path.endsWith('headers');
      const r = await get(p.httpPort, target, { headers: modified ? MODS_SENT : {} });
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body) as { pod: string; url: string; headers: Record<string, string> };
      assert.equal(seen.pod, 'infra-backend-v1');
      assert.equal(seen.url, target);
      const copy = await eventually(() => saw(v2, target)[0], { what: `the mirror of ${target}` });
      if (modified) {
        for (const [k, v] of Object.entries(MODS_SEEN)) {
          assert.equal(seen.headers[k], v, `backend ${k}`);
          assert.equal(copy.headers[k], v, `mirror ${k}`);
        }
      }
      assert.equal(saw(v1, target).length, 1, 'the backend saw the request once');
    }
    // a body goes to both, whole
    const body = Buffer.alloc(200_000, 'b');
    const target = `/mirror?post=${randomUUID()}`;
    const r = await get(p.httpPort, target, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(r.status, 200);
    assert.equal((JSON.parse(r.body) as { bodyLength: number }).bodyLength, body.length);
    const copy = await eventually(() => saw(v2, target)[0], { what: 'the mirrored POST' });
    assert.equal(copy.method, 'POST');
    assert.ok(copy.body.equals(body));
    assert.equal(await cond('request-mirror', 'ResolvedRefs'), 'True/ResolvedRefs');
  });

  test('HTTPRouteRequestMultipleMirrors: every mirror gets the request', async () => {
    apply('multi.yaml', [
      httpRoute('request-multiple-mirrors', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/multi-mirror')], filters: [mirror('infra-backend-v2'), mirror('infra-backend-v3')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/multi-mirror-and-modify-request-headers')], filters: [MODS, mirror('infra-backend-v2'), mirror('infra-backend-v3')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
        ],
      }),
    ]);
    await http([{ path: '/multi-mirror', backend: 'infra-backend-v1' }]);
    for (const path of ['/multi-mirror', '/multi-mirror-and-modify-request-headers']) {
      const target = `${path}?gateway-api-conformance-request-id=${randomUUID()}`;
      const r = await get(p.httpPort, target, { headers: MODS_SENT });
      assert.equal(r.status, 200);
      await eventually(() => saw(v2, target).length === 1 && saw(v3, target).length === 1, { what: `both mirrors of ${target}` });
    }
  });

  test('HTTPRouteRequestPercentageMirror: 20 %, a fraction of 25/50, 35 % with header edits, within the suite\'s bounds over 500 requests', async () => {
    apply('percent.yaml', [
      httpRoute('request-percentage-mirror', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/percent-mirror')], filters: [mirror('infra-backend-v2', { percent: 20 })], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/percent-mirror-fraction')], filters: [mirror('infra-backend-v2', { fraction: { numerator: 25, denominator: 50 } })], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/percent-mirror-and-modify-headers')], filters: [MODS, mirror('infra-backend-v2', { percent: 35 })], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
        ],
      }),
    ]);
    await http([{ path: '/percent-mirror-fraction', backend: 'infra-backend-v1' }]);
    for (const [path, share] of [['/percent-mirror', 0.2], ['/percent-mirror-fraction', 0.5], ['/percent-mirror-and-modify-headers', 0.35]] as const) {
      const run = randomUUID();
      const targets: string[] = [];
      for (let i = 0; i < 50; i++) {
        const batch = Array.from({ length: 10 }, (_, j) => `${path}?run=${run}&n=${i * 10 + j}`);
        targets.push(...batch);
        for (const r of await Promise.all(batch.map((t) => get(p.httpPort, t, { headers: MODS_SENT })))) assert.equal(r.status, 200);
      }
      const mirrored = (): number => v2.seen.filter((s) => s.url.includes(`run=${run}`)).length;
      // the share is exact over each run of its denominator (evenly spaced, not drawn at random);
      // copies still in flight when the last answer came are let land
      const want = 500 * share;
      await eventually(() => mirrored() >= want - 1, { ms: 10_000, what: `${want} copies of ${path}` });
      await new Promise((r) => setTimeout(r, 200));
      const n = mirrored();
      const dropped = metric((await get(p.adminPort, '/metrics')).body, 'portico_mirror_dropped_total', { destination: 'infra/infra-backend-v2:80' });
      assert.equal(dropped, 0, 'no copy dropped');
      assert.ok(Math.abs(n - want) <= 1, `${path}: ${n} of 500 mirrored, want ${want} ± 1`);
      assert.equal(v1.seen.filter((s) => s.url.includes(`run=${run}`)).length, 500);
    }
  });

  test('a mirror that never answers never holds a request back: copies past --mirror-max-in-flight are dropped, each aborted at --mirror-timeout, all counted', async () => {
    apply('hang.yaml', [
      httpRoute('hanging', 'infra', {
        ...toSameNamespace,
        hostnames: ['hang.example'],
        rules: [
          { matches: [prefix('/ready')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/mirrored')], filters: [mirror('hanging-mirror')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
        ],
      }),
    ]);
    await http([{ host: 'hang.example', path: '/ready', backend: 'infra-backend-v1' }]);
    const dest = 'infra/hanging-mirror:80';
    const before = hang.seen.length;
    // 50 requests at once: 20 copies go (--mirror-max-in-flight 20), 30 are dropped; none waits for the mirror (--mirror-timeout 2s)
    const replies = await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const t0 = Date.now();
        const r = await get(p.httpPort, `/mirrored/${i}`, { host: 'hang.example' });
        return { status: r.status, ms: Date.now() - t0 };
      }),
    );
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.ok(r.ms < 1500, `a request took ${r.ms} ms with a mirror that never answers`);
    }
    await eventually(() => hang.seen.length - before === 20, { what: '20 copies in flight' });
    const text = (await get(p.adminPort, '/metrics')).body;
    assert.equal(metric(text, 'portico_mirror_dropped_total', { destination: dest, reason: 'in_flight' }), 30);
    await eventually(async () => metric((await get(p.adminPort, '/metrics')).body, 'portico_mirror_requests_total', { destination: dest, result: 'timeout' }) === 20, { what: 'the 20 copies timed out' });
    assert.equal(hang.seen.length - before, 20, 'no copy beyond the bound was ever sent');
    // the slots are free again: a new copy is sent
    assert.equal((await get(p.httpPort, '/mirrored/again', { host: 'hang.example' })).status, 200);
    await eventually(() => hang.seen.length - before === 21, { what: 'a copy after the timeouts' });
  });

  test('a mirror whose backendRef cannot be resolved is reported in ResolvedRefs, its rule still served; a ReferenceGrant allows a cross-namespace mirror', async () => {
    apply('unresolved.yaml', [
      httpRoute('unresolved-mirror', 'infra', {
        ...toSameNamespace,
        hostnames: ['unresolved.example'],
        rules: [
          { matches: [prefix('/missing')], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'no-such-service', port: 80 } } }], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/cross')], filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'web-backend', namespace: 'web', port: 80 } } }], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
        ],
      }),
    ]);
    await http([{ host: 'unresolved.example', path: '/missing', backend: 'infra-backend-v1' }, { host: 'unresolved.example', path: '/cross', backend: 'infra-backend-v1' }]);
    assert.equal(await cond('unresolved-mirror', 'ResolvedRefs'), 'False/BackendNotFound');
    const target = `/cross?id=${randomUUID()}`;
    assert.equal((await get(p.httpPort, target, { host: 'unresolved.example' })).status, 200);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(saw(v3, target).length, 0, 'no grant: no copy');
    apply('grant.yaml', [referenceGrant('infra-to-web', 'web', { kind: 'HTTPRoute', namespace: 'infra' }, { kind: 'Service', name: 'web-backend' })]);
    await eventually(async () => {
      const t = `/cross?id=${randomUUID()}`;
      await get(p.httpPort, t, { host: 'unresolved.example' });
      await new Promise((r) => setTimeout(r, 50));
      return saw(v3, t).length === 1;
    }, { what: 'the granted mirror' });
  });

  test('HTTPRouteCORS: the conformance suite\'s rows', async () => {
    apply('cors.yaml', [
      httpRoute('cors-multiple-origins-methods-headers', 'infra', { ...toSameNamespace, rules: [{ filters: [{ type: 'CORS', cors: { allowOrigins: ['https://www.foo.com', 'https://*.bar.com'], allowMethods: ['GET', 'OPTIONS'], allowHeaders: ['x-header-1', 'x-header-2'], exposeHeaders: ['x-header-3', 'x-header-4'], allowCredentials: true, maxAge: 3600 } }], matches: [prefix('/cors-1')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] }] }),
      httpRoute('cors-wildcard-methods', 'infra', { ...toSameNamespace, rules: [{ filters: [{ type: 'CORS', cors: { allowOrigins: ['https://www.foo.com'], allowMethods: ['*'] } }], matches: [prefix('/cors-2')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] }] }),
      httpRoute('cors-wildcard-origin', 'infra', { ...toSameNamespace, rules: [{ filters: [{ type: 'CORS', cors: { allowOrigins: ['*'], allowMethods: ['PUT'], allowCredentials: false } }], matches: [prefix('/cors-wildcard-origin')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] }] }),
      httpRoute('cors-wildcard-methods-headers', 'infra', {
        ...toSameNamespace,
        rules: [
          { filters: [{ type: 'CORS', cors: { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], allowCredentials: true } }], matches: [prefix('/cors-wildcard-methods-headers')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { filters: [{ type: 'CORS', cors: { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], allowCredentials: false } }], matches: [prefix('/cors-wildcard-methods-headers-unauth')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
        ],
      }),
    ]);
    const pre = (path: string, origin: string, method: string, headers: string | undefined, responseHeaders: Record<string, string | null>): Case => ({
      path,
      method: 'OPTIONS',
      headers: { Origin: origin, 'access-control-request-method': method, ...(headers === undefined ? {} : { 'access-control-request-headers': headers }) },
      status: 204,
      backend: null,
      responseHeaders,
    });
    const full = (origin: string): Record<string, string> => ({ 'access-control-allow-origin': origin, 'access-control-allow-methods': 'GET,OPTIONS', 'access-control-allow-headers': 'x-header-1,x-header-2', 'access-control-expose-headers': 'x-header-3,x-header-4', 'access-control-max-age': '3600', 'access-control-allow-credentials': 'true' });
    const simple = (path: string, method: string, origin: string, responseHeaders: Record<string, string | null>): Case => ({ path, method, headers: { Origin: origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'x-header-1, x-header-2' }, backend: 'infra-backend-v1', responseHeaders });
    await http([
      pre('/cors-1', 'https://www.foo.com', 'GET', 'x-header-1, x-header-2', full('https://www.foo.com')),
      pre('/cors-1', 'https://www.bar.com', 'GET', 'x-header-1, x-header-2', full('https://www.bar.com')),
      pre('/cors-1', 'https://xpto.www.bar.com', 'GET', 'x-header-1, x-header-2', full('https://xpto.www.bar.com')),
      pre('/cors-1', 'https://foobar.com', 'GET', undefined, { 'access-control-allow-origin': null }),
      simple('/cors-1', 'GET', 'https://www.foo.com', { 'access-control-allow-origin': 'https://www.foo.com' }),
      simple('/cors-1', 'GET', 'https://www.bar.com', { 'access-control-allow-origin': 'https://www.bar.com' }),
      simple('/cors-1', 'GET', 'https://foobar.com', { 'access-control-allow-origin': null }),
      pre('/cors-2', 'https://www.foo.com', 'POST', undefined, { 'access-control-allow-methods': '*', 'access-control-allow-origin': 'https://www.foo.com', 'access-control-allow-credentials': null }),
      pre('/cors-wildcard-origin', 'https://foobar.com', 'PUT', undefined, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'PUT', 'access-control-allow-credentials': null }),
      pre('/cors-wildcard-origin', 'https://foobar.com:12345', 'PUT', undefined, { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'PUT', 'access-control-allow-credentials': null }),
      simple('/cors-wildcard-origin', 'PUT', 'https://foobar.com:12345', { 'access-control-allow-origin': '*' }),
      simple('/cors-wildcard-origin', 'PUT', 'https://foobar.com', { 'access-control-allow-origin': '*', 'access-control-allow-credentials': null }),
      pre('/cors-wildcard-methods-headers', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2', { 'access-control-allow-origin': 'https://other.foo.com', 'access-control-allow-methods': 'PUT', 'access-control-allow-headers': 'x-header-1,x-header-2', 'access-control-allow-credentials': 'true' }),
      pre('/cors-wildcard-methods-headers-unauth', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2', { 'access-control-allow-origin': '*', 'access-control-allow-methods': '*', 'access-control-allow-headers': '*', 'access-control-allow-credentials': null }),
      simple('/cors-wildcard-methods-headers', 'GET', 'https://other.foo.com', { 'access-control-allow-origin': 'https://other.foo.com', 'access-control-allow-credentials': 'true' }),
      simple('/cors-wildcard-methods-headers-unauth', 'GET', 'https://other.foo.com', { 'access-control-allow-origin': '*', 'access-control-allow-credentials': null }),
    ]);
    for (const name of ['cors-multiple-origins-methods-headers', 'cors-wildcard-methods', 'cors-wildcard-origin', 'cors-wildcard-methods-headers']) {
      assert.equal(await cond(name, 'Accepted'), 'True/Accepted', name);
      assert.equal(await cond(name, 'ResolvedRefs'), 'True/ResolvedRefs', name);
    }
  });

  /** A retry row: a fresh uuid per request (the pod counts attempts per uuid), the same answer three times in a row, as the suite's assertConsistentRetryBehaviour. */
  const retryRows = async (rows: readonly (readonly [path: string, query: Record<string, string>, statuses: readonly number[]])[]): Promise<void> => {
    for (const [path, query, statuses] of rows) {
      for (let i = 0; i < 3; i++) {
        const q = new URLSearchParams({ ...query, uuid: randomUUID() });
        const r = await get(p.httpPort, `${path}?${q}`, { agent: false });
        assert.ok(statuses.includes(r.status), `${path}?${q}: ${r.status}, want ${statuses.join(' or ')} (${r.body.slice(0, 100)})`);
        if (r.status === 200) assert.equal(r.headers['x-pod'], 'infra-backend-v3');
      }
    }
  };

  test('HTTPRouteRetry, HTTPRouteRetryConnectionError, HTTPRouteRetryWithTimeouts: the conformance suite\'s rows', async () => {
    const to = [{ name: 'infra-backend-v3', port: 80 }];
    apply('retries.yaml', [
      httpRoute('retries', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/retry/code-500-attempts-3')], retry: { codes: [500], attempts: 3 }, backendRefs: to },
          { matches: [prefix('/retry/code-all-attempts-2')], retry: { codes: [500, 502, 503, 504], attempts: 2 }, backendRefs: to },
          { matches: [prefix('/retry/no-status-code-attempts-3')], retry: { attempts: 3 }, backendRefs: to },
          { matches: [prefix('/retry/backend-request-timeout-200ms')], retry: { attempts: 2 }, timeouts: { backendRequest: '200ms' }, backendRefs: to },
          { matches: [prefix('/retry/request-timeout-200ms')], retry: { codes: [500], attempts: 5 }, timeouts: { backendRequest: '200ms', request: '400ms' }, backendRefs: to },
          { matches: [prefix('/retry/backoff')], retry: { codes: [500], attempts: 2, backoff: '300ms' }, backendRefs: to },
        ],
      }),
    ]);
    await http([{ path: '/retry/code-500-attempts-3', backend: 'infra-backend-v3' }]);
    await retryRows([
      ['/retry/code-500-attempts-3', { responseCode: '500', succeedAfter: '2' }, [200]],
      ['/retry/code-500-attempts-3', { responseCode: '500', succeedAfter: '4' }, [500]],
      ['/retry/code-500-attempts-3', { responseCode: '503', succeedAfter: '2' }, [503]],
      ...(['500', '502', '503', '504'] as const).flatMap((c) => [
        ['/retry/code-all-attempts-2', { responseCode: c, succeedAfter: '1' }, [200]] as const,
        ['/retry/code-all-attempts-2', { responseCode: c, succeedAfter: '3' }, [Number(c)]] as const,
      ]),
      // connection errors (the pod resets the connection)
      ['/retry/no-status-code-attempts-3', { succeedAfter: '2' }, [200]],
      ['/retry/no-status-code-attempts-3', { succeedAfter: '4' }, [500, 503]],
      // with timeouts
      ['/retry/backend-request-timeout-200ms', { responseCode: '500', succeedAfter: '2', delayRetry: '300ms' }, [200]],
      ['/retry/backend-request-timeout-200ms', { responseCode: '500', succeedAfter: '3', delayRetry: '300ms' }, [504]],
      ['/retry/request-timeout-200ms', { responseCode: '500', succeedAfter: '1' }, [200]],
      ['/retry/request-timeout-200ms', { responseCode: '500', succeedAfter: '4', delayRetry: '100ms' }, [504]],
    ]);
    // backoff: the retries wait at least 300 ms each
    const t0 = Date.now();
    await retryRows([['/retry/backoff', { responseCode: '500', succeedAfter: '2' }, [200]]]);
    assert.ok(Date.now() - t0 >= 3 * 600, `three requests with two retries 300 ms apart took ${Date.now() - t0} ms`);
    assert.equal(await cond('retries', 'Accepted'), 'True/Accepted');
  });

  test('sessionPersistence: a session cookie keeps a client on one backend of several', async () => {
    apply('session.yaml', [
      httpRoute('sessions', 'infra', {
        ...toSameNamespace,
        hostnames: ['session.example'],
        rules: [{ sessionPersistence: { sessionName: 'gw-session' }, backendRefs: [{ name: 'infra-backend-v1', port: 80 }, { name: 'infra-backend-v2', port: 80 }] }],
      }),
    ]);
    await http([{ host: 'session.example', path: '/' }]);
    const pods = new Set<string>();
    for (let client = 0; client < 6; client++) {
      const first = await get(p.httpPort, '/', { host: 'session.example' });
      const cookie = String(first.headers['set-cookie'] ?? '').split(';')[0] as string;
      assert.match(cookie, /^gw-session=/);
      assert.match(String(first.headers['set-cookie']), /; Path=\//);
      const pod = String(first.headers['x-pod']);
      pods.add(pod);
      for (let i = 0; i < 20; i++) {
        const r = await get(p.httpPort, '/', { host: 'session.example', headers: { cookie } });
        assert.equal(r.headers['x-pod'], pod, `request ${i} with ${cookie}`);
        assert.equal(r.headers['set-cookie'], undefined);
      }
    }
    // six fresh sessions over two backends: all on one has a chance of 1/32
    assert.equal(pods.size, 2, 'fresh sessions are spread over both backends');
  });
});

const echoMethod = grpcEcho('Echo');

describe('GRPCRoute RequestMirror (h2c)', () => {
  test('the call is answered by the backend and mirrored to another gRPC backend', async () => {
    const calls = new Map<string, string[]>();
    const servers: grpc.Server[] = [];
    const objs: Obj[] = [gatewayClass(), namespace('infra'), gateway('grpc', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP', hostname: 'grpc.example.org' }])];
    for (const [i, name] of ['grpc-v1', 'grpc-v2'].entries()) {
      const server = new grpc.Server();
      calls.set(name, []);
      server.addService({ Echo: echoMethod }, { Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => (calls.get(name)?.push(call.request.toString()), cb(null, Buffer.from(name))) });
      const ip = `127.0.236.${10 + i}`;
      const port = await new Promise<number>((r, j) => server.bindAsync(`${ip}:0`, grpc.ServerCredentials.createInsecure(), (e, x) => (e ? j(e) : r(x))));
      servers.push(server);
      objs.push(...serviceWithSlices(name, [{ ip, port }], 'infra'));
    }
    objs.push(httpRoute('grpc-mirror', 'infra', { parentRefs: [{ name: 'grpc' }], rules: [{ filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'grpc-v2', port: 80 } } }], backendRefs: [{ name: 'grpc-v1', port: 80 }] }] }, 'GRPCRoute'));
    const p = await startPortico({ 'grpc.yaml': yaml(objs) });
    const Client = grpc.makeGenericClientConstructor({ Echo: echoMethod }, 'GrpcEcho');
    const client = new Client(`127.0.0.1:${p.httpPort}`, grpc.credentials.createInsecure(), { 'grpc.default_authority': 'grpc.example.org' }) as unknown as { Echo: (req: Buffer, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void; close(): void };
    try {
      const echo = (msg: string): Promise<string> => new Promise((resolve, reject) => client.Echo(Buffer.from(msg), (e, r) => (e ? reject(e) : resolve(r!.toString()))));
      await eventually(async () => (await echo('probe').catch(() => '')) === 'grpc-v1', { what: 'the GRPCRoute served' });
      assert.equal(await echo('hello mirror'), 'grpc-v1');
      await eventually(() => calls.get('grpc-v2')?.includes('hello mirror'), { what: 'the mirrored call' });
      assert.equal(calls.get('grpc-v1')?.filter((m) => m === 'hello mirror').length, 1);
    } finally {
      client.close();
      await p.stop();
      for (const s of servers) s.forceShutdown();
    }
  });
});
