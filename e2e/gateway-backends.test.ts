/**
 * The Gateway API's backend features end to end, standalone mode, with the conformance suite's
 * routes and request tables (kubernetes-sigs/gateway-api conformance/tests:
 * HTTPRouteRequestHeaderModifierBackendWeights, HTTPRouteBackendRequestHeaderModifier,
 * HTTPRouteBackendURLRewrite, HTTPRouteBackendRequestRedirect, HTTPRouteNamedRule,
 * GRPCRouteNamedRule, HTTPRouteBackendProtocolH2C, HTTPRouteBackendProtocolWebSocket,
 * HTTPRouteInvalidParentRefNotMatchingListenerPort), and what the suite does not check: a
 * backend's filters never touch the requests another backend of the rule gets. Pods on
 * 127.0.205.x.
 */
import assert from 'node:assert/strict';
import { createServer as createH2Server, connect as h2connect, type Http2Server } from 'node:http2';
import { connect as netConnect, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import { join as joinPath } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { converge, type Case } from './lib/cases.js';
import { eventually } from './lib/eventually.js';
import type { DebugGateways } from './lib/gateway-status.js';
import { grpcEcho } from './lib/grpc-echo.js';
import { get } from './lib/http.js';
import { listen, type Listening } from './lib/listen.js';
import { yaml } from './lib/manifests.js';
import { gateway, gatewayClass, httpRoute, namespace, serviceWithSlices, type Obj } from './lib/objects.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';
import { startWsPod, type WsPod } from './lib/ws.js';

const prefix = (value: string): { path: { type: string; value: string } } => ({ path: { type: 'PathPrefix', value } });
const header = (name: string, value: string): { name: string; value: string } => ({ name, value });
const toSameNamespace = { parentRefs: [{ name: 'same-namespace' }] };
const v1Ref = (filters: readonly Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> => ({ name: 'infra-backend-v1', port: 80, filters, ...extra });
const modifier = (m: Record<string, unknown>): Record<string, unknown> => ({ type: 'RequestHeaderModifier', requestHeaderModifier: m });

/** An h2c pod: HTTP/2 with prior knowledge only (an HTTP/1.1 request fails), answering what it saw as the echo pods do. */
async function startH2cPod(ip: string, name: string): Promise<{ port: number; seen: string[]; close: () => Promise<void> }> {
  const seen: string[] = [];
  const server: Http2Server = createH2Server((req, res) => {
    seen.push(req.httpVersion);
    const out = JSON.stringify({ pod: name, method: req.method, url: req.url, headers: req.headers, httpVersion: req.httpVersion });
    res.writeHead(200, { 'content-type': 'application/json', 'x-pod': name });
    res.end(out);
  });
  const l: Listening = await listen(server as unknown as Parameters<typeof listen>[0], ip);
  return { port: l.port, seen, close: l.close };
}

/** A Service with named ports, each served by its own EndpointSlice (its own pod): the conformance suite's infra-backend-v1 shape. */
function multiPortService(name: string, ports: readonly { name: string; port: number; appProtocol?: string; ip: string; target: number }[]): Obj[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'infra' }, spec: { clusterIP: '10.96.0.20', ports: ports.map((p) => ({ name: p.name, port: p.port, targetPort: p.target, ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) })) } },
    ...ports.map(
      (p): Obj => ({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-${p.name}`, namespace: 'infra', labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports: [{ name: p.name, port: p.target, protocol: 'TCP', ...(p.appProtocol === undefined ? {} : { appProtocol: p.appProtocol }) }],
        endpoints: [{ addresses: [p.ip], conditions: { ready: true } }],
      }),
    ),
  ];
}

const grpcService = { Echo: grpcEcho('Echo'), EchoTwo: grpcEcho('EchoTwo') } satisfies grpc.ServiceDefinition;
type GrpcClient = Record<'Echo' | 'EchoTwo', (req: Buffer, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Buffer) => void) => void> & { close(): void };

/** A gRPC echo pod: answers which pod and method it is, and the `x-backend` metadata it got. */
async function startGrpcPod(ip: string, name: string): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server();
  const answer = (method: string) => (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => cb(null, Buffer.from(JSON.stringify({ pod: name, method, backend: call.metadata.get('x-backend')[0] ?? null })));
  server.addService(grpcService, { Echo: answer('Echo'), EchoTwo: answer('EchoTwo') });
  const port = await new Promise<number>((r, j) => server.bindAsync(`${ip}:0`, grpc.ServerCredentials.createInsecure(), (e, x) => (e ? j(e) : r(x))));
  return { port, server };
}

/** A client WebSocket frame (masked, as RFC 6455 requires of clients). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  const mask = Buffer.from([0x11, 0x22, 0x33, 0x44]);
  const body = Buffer.from(payload.map((b, i) => b ^ (mask[i % 4] as number)));
  return Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | payload.length]), mask, body]);
}

/** Reads from `socket` until `pred` holds on what arrived (5 s at most). */
function readUntil(socket: Socket, buf: { b: Buffer }, pred: (b: Buffer) => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(buf.b.toString('latin1'))}`)), 5000);
    const check = (): void => {
      if (!pred(buf.b)) return;
      clearTimeout(timer);
      socket.off('data', onData);
      resolve();
    };
    const onData = (d: Buffer): void => {
      buf.b = Buffer.concat([buf.b, d]);
      check();
    };
    socket.on('data', onData);
    check();
  });
}

describe('Gateway API backend filters, named rules and backend protocols (standalone mode, the conformance cases)', () => {
  let p: Portico;
  const pods: Pod[] = [];
  let v1: Pod, v2: Pod;
  let h2c: Awaited<ReturnType<typeof startH2cPod>>;
  let ws: WsPod;
  const grpcPods: grpc.Server[] = [];
  const files: string[] = [];

  const status = async (): Promise<DebugGateways> => JSON.parse((await get(p.adminPort, '/debug/gateways')).body) as DebugGateways;
  const conditions = async (name: string): Promise<string[]> => ((await status()).routes.find((x) => x.namespace === 'infra' && x.name === name)?.parents[0]?.conditions ?? []).map((c) => `${c.type}=${c.status}/${c.reason}`);
  const apply = (name: string, objs: readonly Obj[]): void => {
    files.push(name);
    p.write(name, yaml(objs));
  };
  const http = (cases: readonly Case[]): Promise<void> => converge({ port: p.httpPort }, cases);

  before(async () => {
    [v1, v2] = await Promise.all([startPod('127.0.205.1', 'infra-backend-v1'), startPod('127.0.205.2', 'infra-backend-v2')]);
    pods.push(v1, v2);
    h2c = await startH2cPod('127.0.205.3', 'infra-backend-v1');
    ws = await startWsPod('127.0.205.4');
    const [g1, g2] = await Promise.all([startGrpcPod('127.0.205.5', 'grpc-infra-backend-v1'), startGrpcPod('127.0.205.6', 'grpc-infra-backend-v2')]);
    grpcPods.push(g1.server, g2.server);
    const base: Obj[] = [
      gatewayClass(),
      namespace('infra', { 'gateway-conformance': 'infra' }),
      gateway('same-namespace', 'infra', [{ name: 'http', port: 80, protocol: 'HTTP', allowedRoutes: { namespaces: { from: 'Same' } } }]),
      ...serviceWithSlices('infra-backend-v1', [v1], 'infra'),
      ...serviceWithSlices('infra-backend-v2', [v2], 'infra'),
      ...serviceWithSlices('grpc-infra-backend-v1', [{ ip: '127.0.205.5', port: g1.port }], 'infra'),
      ...serviceWithSlices('grpc-infra-backend-v2', [{ ip: '127.0.205.6', port: g2.port }], 'infra'),
      // the conformance suite's second-port (h2c) and third-port (ws) of infra-backend-v1
      ...multiPortService('infra-backend-protocols', [
        { name: 'first-port', port: 8080, ip: '127.0.205.1', target: v1.port },
        { name: 'second-port', port: 8081, appProtocol: 'kubernetes.io/h2c', ip: '127.0.205.3', target: h2c.port },
        { name: 'third-port', port: 8082, appProtocol: 'kubernetes.io/ws', ip: '127.0.205.4', target: ws.port },
      ]),
    ];
    p = await startPortico({ 'base.yaml': yaml(base) });
  });

  afterEach(() => {
    for (const f of files.splice(0)) rmSync(joinPath(p.dir, f), { force: true });
  });

  after(async () => {
    await p?.stop();
    await Promise.all([...pods.map((x) => x.close()), h2c?.close(), ws?.close()]);
    for (const g of grpcPods) g.forceShutdown();
  });

  test('the GatewayClass advertises the backend filter, named rule, backend protocol and destination port features', async () => {
    const s = await eventually(async () => (await status()).gatewayClasses.find((c) => c.name === 'portico'));
    for (const f of ['GatewayHTTPListenerIsolation', 'HTTPRouteBackendRequestHeaderModification', 'HTTPRouteBackendURLRewrite', 'HTTPRouteBackendRequestRedirect', 'HTTPRouteNamedRouteRule', 'GRPCRouteNamedRouteRule', 'HTTPRouteBackendProtocolH2C', 'HTTPRouteBackendProtocolWebSocket', 'HTTPRouteDestinationPortMatching']) assert.ok(s.supportedFeatures.includes(f), f);
    assert.deepEqual(s.supportedFeatures, [...s.supportedFeatures].sort());
  });

  test('HTTPRouteRequestHeaderModifierBackendWeights: each backend sets its own name, and only on the requests it gets', async () => {
    const named = (n: string): Record<string, unknown> => v1Ref([modifier({ set: [header('Backend', n)] })], { name: n, weight: 10 });
    apply('weights.yaml', [httpRoute('request-header-modifier-backend-weights', 'infra', { ...toSameNamespace, rules: [{ backendRefs: [named('infra-backend-v1'), named('infra-backend-v2')] }] })]);
    await http([{ path: '/' }]);
    const by = new Map<string, number>();
    for (let i = 0; i < 100; i++) {
      const r = await get(p.httpPort, '/');
      assert.equal(r.status, 200);
      const seen = JSON.parse(r.body) as { pod: string; headers: Record<string, string | string[]> };
      assert.equal(seen.headers.backend, seen.pod, 'one Backend header, naming the pod that got the request');
      by.set(seen.pod, (by.get(seen.pod) ?? 0) + 1);
    }
    // the weighted choice keeps any run of requests within two of the weights
    for (const pod of ['infra-backend-v1', 'infra-backend-v2']) assert.ok(Math.abs((by.get(pod) ?? 0) - 50) <= 2, `${pod}: ${by.get(pod)} of 100`);
    assert.deepEqual(await conditions('request-header-modifier-backend-weights'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  test('HTTPRouteBackendRequestHeaderModifier: set, add, remove on the backendRef, names case-insensitive', async () => {
    const rule = (path: string, m: Record<string, unknown>): Record<string, unknown> => ({ matches: [prefix(path)], backendRefs: [v1Ref([modifier(m)])] });
    apply('modifier.yaml', [
      httpRoute('request-header-modifier', 'infra', {
        ...toSameNamespace,
        rules: [
          rule('/set', { set: [header('X-Header-Set', 'set-overwrites-values')] }),
          rule('/add', { add: [header('X-Header-Add', 'add-appends-values')] }),
          rule('/remove', { remove: ['X-Header-Remove'] }),
          rule('/multiple', { set: [header('X-Header-Set-1', 'header-set-1'), header('X-Header-Set-2', 'header-set-2')], add: [header('X-Header-Add-1', 'header-add-1'), header('X-Header-Add-2', 'header-add-2'), header('X-Header-Add-3', 'header-add-3')], remove: ['X-Header-Remove-1', 'X-Header-Remove-2'] }),
          rule('/case-insensitivity', { set: [header('X-Header-Set', 'header-set')], add: [header('X-Header-Add', 'header-add')], remove: ['X-Header-Remove'] }),
        ],
      }),
    ]);
    const v = 'infra-backend-v1';
    await http([
      { path: '/set', headers: { 'Some-Other-Header': 'val' }, backend: v, seenHeaders: { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' } },
      { path: '/set', headers: { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' }, backend: v, seenHeaders: { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' } },
      { path: '/add', headers: { 'Some-Other-Header': 'val' }, backend: v, seenHeaders: { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' } },
      { path: '/add', headers: { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' }, backend: v, seenHeaders: { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value,add-appends-values' } },
      { path: '/remove', headers: { 'X-Header-Remove': 'val' }, backend: v, seenHeaders: { 'X-Header-Remove': null } },
      {
        path: '/multiple',
        headers: { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' },
        backend: v,
        seenHeaders: { 'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1', 'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val', 'X-Header-Remove-1': null, 'X-Header-Remove-2': null },
      },
      {
        path: '/case-insensitivity',
        headers: { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' },
        backend: v,
        seenHeaders: { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'Another-Header': 'another-header-val', 'X-Header-Remove': null },
      },
    ]);
  });

  test('HTTPRouteBackendURLRewrite and HTTPRouteBackendRequestRedirect: full path and prefix, on the backendRef', async () => {
    const rewrite = (path: Record<string, unknown>): Record<string, unknown> => ({ type: 'URLRewrite', urlRewrite: { path } });
    const redirect = (path: Record<string, unknown>): Record<string, unknown> => ({ type: 'RequestRedirect', requestRedirect: { path } });
    apply('rewrite.yaml', [
      httpRoute('backend-url-rewrite', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/full')], backendRefs: [v1Ref([rewrite({ type: 'ReplaceFullPath', replaceFullPath: '/rewritten-full' })])] },
          { matches: [prefix('/prefix')], backendRefs: [v1Ref([rewrite({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/rewritten-prefix' })])] },
        ],
      }),
      httpRoute('backend-request-redirect', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/redirect-full')], backendRefs: [v1Ref([redirect({ type: 'ReplaceFullPath', replaceFullPath: '/redirected-full' })])] },
          { matches: [prefix('/redirect-prefix')], backendRefs: [v1Ref([redirect({ type: 'ReplacePrefixMatch', replacePrefixMatch: '/redirected-prefix' })])] },
        ],
      }),
    ]);
    await http([
      { path: '/full/original', backend: 'infra-backend-v1', seenPath: '/rewritten-full' },
      { path: '/prefix/original', backend: 'infra-backend-v1', seenPath: '/rewritten-prefix/original' },
      { path: '/redirect-full/original', status: 302, backend: null, location: "http://127.0.0.1/redirected-full" },
      { path: '/redirect-prefix/original', status: 302, backend: null, location: "http://127.0.0.1/redirected-prefix/original" },
    ]);
    const seenBefore = v1.seen.length;
    for (const path of ['/redirect-full/original', '/redirect-prefix/original']) assert.equal((await get(p.httpPort, path)).status, 302);
    assert.equal(v1.seen.length, seenBefore, 'a redirected request never reaches the pod');
  });

  test('a backend\'s filters act only on its own share: a redirect on one of two backends, a response header on the other', async () => {
    apply('half.yaml', [
      httpRoute('half-redirected', 'infra', {
        ...toSameNamespace,
        rules: [
          {
            matches: [prefix('/half')],
            backendRefs: [
              v1Ref([{ type: 'RequestRedirect', requestRedirect: { hostname: 'elsewhere.example', statusCode: 301 } }]),
              { name: 'infra-backend-v2', port: 80, filters: [{ type: 'ResponseHeaderModifier', responseHeaderModifier: { set: [header('X-Backend', 'v2')] } }, modifier({ add: [header('X-Only-V2', 'yes')] })] },
            ],
          },
        ],
      }),
    ]);
    await eventually(async () => ((await get(p.httpPort, '/half')).status === 301 ? true : undefined), { what: 'the route' });
    const seenBefore = v1.seen.length;
    const statuses = new Map<string, number>();
    for (let i = 0; i < 20; i++) {
      const r = await get(p.httpPort, '/half/x?q=1');
      if (r.status === 301) {
        assert.equal(r.headers.location, "http://elsewhere.example/half/x?q=1");
        assert.equal(r.headers['x-backend'], undefined);
      } else {
        assert.equal(r.status, 200);
        const seen = JSON.parse(r.body) as { pod: string; headers: Record<string, string> };
        assert.equal(seen.pod, 'infra-backend-v2');
        assert.equal(seen.headers['x-only-v2'], 'yes');
        assert.equal(r.headers['x-backend'], 'v2');
      }
      statuses.set(String(r.status), (statuses.get(String(r.status)) ?? 0) + 1);
    }
    // both backends take their share (the weighted choice keeps any run within two of the weights)
    for (const status of ['301', '200']) assert.ok(Math.abs((statuses.get(status) ?? 0) - 10) <= 2, `${status}: ${statuses.get(status)} of 20`);
    assert.equal(v1.seen.length, seenBefore, 'the redirecting backend never gets a request');
  });

  test('a filter Portico cannot run on a backendRef drops its rule (PartiallyInvalid), never serves it without the filter', async () => {
    apply('unsupported.yaml', [
      httpRoute('backend-mirror', 'infra', {
        ...toSameNamespace,
        rules: [
          { matches: [prefix('/served')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/mirrored')], backendRefs: [v1Ref([{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'infra-backend-v2', port: 80 } } }])] },
        ],
      }),
    ]);
    await http([
      { path: '/served', backend: 'infra-backend-v1' },
      { path: '/mirrored', status: 404, backend: null },
    ]);
    const c = await conditions('backend-mirror');
    assert.ok(c.includes('PartiallyInvalid=True/UnsupportedValue'), c.join(' '));
  });

  test('HTTPRouteNamedRule: a named and an unnamed rule are both served', async () => {
    apply('named.yaml', [
      httpRoute('http-named-rules', 'infra', {
        ...toSameNamespace,
        rules: [
          { name: 'named-rule', matches: [prefix('/named')], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] },
          { matches: [prefix('/unnamed')], backendRefs: [{ name: 'infra-backend-v2', port: 80 }] },
        ],
      }),
    ]);
    await http([
      { path: '/named', backend: 'infra-backend-v1' },
      { path: '/unnamed', backend: 'infra-backend-v2' },
    ]);
    assert.deepEqual(await conditions('http-named-rules'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  test('GRPCRouteNamedRouteRule, with a gRPC client: a named and an unnamed rule are both served; a backendRef header modifier reaches its pod', async () => {
    const svc = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';
    apply('grpc-named.yaml', [
      httpRoute(
        'grpc-named-rules',
        'infra',
        {
          ...toSameNamespace,
          rules: [
            { name: 'named-rule', matches: [{ method: { service: svc, method: 'Echo' } }], backendRefs: [{ name: 'grpc-infra-backend-v1', port: 80, filters: [modifier({ set: [header('X-Backend', 'v1-by-filter')] })] }] },
            { matches: [{ method: { service: svc, method: 'EchoTwo' } }], backendRefs: [{ name: 'grpc-infra-backend-v2', port: 80 }] },
          ],
        },
        'GRPCRoute',
      ),
    ]);
    const Client = grpc.makeGenericClientConstructor(grpcService, 'GrpcEcho');
    const client = new Client(`127.0.0.1:${p.httpPort}`, grpc.credentials.createInsecure()) as unknown as GrpcClient;
    const call = (method: 'Echo' | 'EchoTwo'): Promise<{ pod?: string; backend?: string | null; code?: number }> =>
      new Promise((resolve) => client[method](Buffer.from('hi'), new grpc.Metadata(), (e, r) => resolve(e ? { code: e.code } : (JSON.parse(r!.toString()) as { pod: string; backend: string | null }))));
    try {
      await eventually(async () => ((await call('EchoTwo')).pod === 'grpc-infra-backend-v2' ? true : undefined), { what: 'the GRPCRoute served' });
      assert.deepEqual(await call('Echo'), { pod: 'grpc-infra-backend-v1', method: 'Echo', backend: 'v1-by-filter' });
      assert.deepEqual(await call('EchoTwo'), { pod: 'grpc-infra-backend-v2', method: 'EchoTwo', backend: null });
    } finally {
      client.close();
    }
    assert.deepEqual(await conditions('grpc-named-rules'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  test('HTTPRouteBackendProtocolH2C: appProtocol kubernetes.io/h2c is spoken to with HTTP/2 prior knowledge, whatever the client speaks', async () => {
    apply('h2c.yaml', [httpRoute('backend-protocol-h2c', 'infra', { ...toSameNamespace, rules: [{ backendRefs: [{ name: 'infra-backend-protocols', port: 8081 }] }] })]);
    // the conformance request: h2c prior knowledge to the Gateway
    const viaH2c = (): Promise<{ status: number; pod: string; httpVersion: string }> =>
      new Promise((resolve, reject) => {
        const session = h2connect(`http://127.0.0.1:${p.httpPort}`);
        session.on('error', reject);
        const req = session.request({ ':path': '/', ':method': 'GET' });
        let status = 0;
        let body = '';
        req.on('response', (h) => (status = Number(h[':status'])));
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          session.close();
          try {
            const seen = status === 200 ? (JSON.parse(body) as { pod: string; httpVersion: string }) : { pod: '', httpVersion: '' };
            resolve({ status, pod: seen.pod, httpVersion: seen.httpVersion });
          } catch (err) {
            reject(err as Error);
          }
        });
        req.on('error', reject);
        req.end();
      });
    const r = await eventually(async () => {
      const x = await viaH2c();
      return x.status === 200 ? x : undefined;
    }, { what: 'an h2c answer from the h2c pod' });
    assert.deepEqual([r.pod, r.httpVersion], ['infra-backend-v1', '2.0']);
    // an HTTP/1.1 client gets there too: the hop to the pod is HTTP/2 either way
    const r1 = await get(p.httpPort, '/over-http1?x=1');
    assert.equal(r1.status, 200);
    const seen = JSON.parse(r1.body) as { pod: string; url: string; httpVersion: string; headers: Record<string, string> };
    assert.deepEqual([seen.pod, seen.url, seen.httpVersion], ['infra-backend-v1', '/over-http1?x=1', '2.0']);
    assert.equal(seen.headers[':authority'] ?? seen.headers.host, `127.0.0.1:${p.httpPort}`, 'the request keeps its authority');
    assert.ok(h2c.seen.every((v) => v === '2.0'));
    assert.deepEqual(await conditions('backend-protocol-h2c'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs']);
  });

  test('HTTPRouteBackendProtocolWebSocket: appProtocol kubernetes.io/ws tunnels an upgrade; a text and a binary message come back', async () => {
    apply('ws.yaml', [httpRoute('backend-protocol-ws', 'infra', { ...toSameNamespace, rules: [{ backendRefs: [{ name: 'infra-backend-protocols', port: 8082 }] }] })]);
    // a plain request reaches the ws pod (426 from it), once the route is served
    await eventually(async () => ((await get(p.httpPort, '/ws')).status === 426 ? true : undefined), { what: 'the ws route' });
    const socket = netConnect({ host: '127.0.0.1', port: p.httpPort });
    try {
      await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
      socket.write(`GET /ws HTTP/1.1\r\nHost: gateway\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: cG9ydGljby13cy1rZXkxMg==\r\nSec-WebSocket-Version: 13\r\nOrigin: ws://gateway/test\r\n\r\n`);
      const buf = { b: Buffer.alloc(0) };
      await readUntil(socket, buf, (b) => b.includes('\r\n\r\n'));
      const end = buf.b.indexOf('\r\n\r\n');
      assert.match(buf.b.subarray(0, end).toString(), /^HTTP\/1\.1 101 /);
      buf.b = buf.b.subarray(end + 4);
      const text = Buffer.from('Websocket Support!');
      socket.write(clientFrame(1, text));
      await readUntil(socket, buf, (b) => b.length >= 2 + text.length);
      assert.deepEqual([buf.b[0], buf.b[1]], [0x81, text.length]);
      assert.equal(buf.b.subarray(2, 2 + text.length).toString(), 'Websocket Support!');
      buf.b = buf.b.subarray(2 + text.length);
      const binary = Buffer.from([1, 2, 3, 4, 5, 6, 7]);
      socket.write(clientFrame(2, binary));
      await readUntil(socket, buf, (b) => b.length >= 2 + binary.length);
      assert.deepEqual([buf.b[0], buf.b[1]], [0x82, binary.length]);
      assert.deepEqual([...buf.b.subarray(2, 2 + binary.length)], [...binary]);
    } finally {
      socket.destroy();
    }
    assert.equal(ws.upgrades.at(-1)?.upgrade, 'websocket');
  });

  test('GatewayHTTPListenerIsolation: a request is routed only by the routes of the most specific listener its host matches', async () => {
    const gw = 'http-listener-isolation';
    const listeners = [['empty-hostname', undefined], ['wildcard-example-com', '*.example.com'], ['wildcard-foo-example-com', '*.foo.example.com'], ['abc-foo-example-com', 'abc.foo.example.com']] as const;
    apply('isolation.yaml', [
      gateway(gw, 'infra', listeners.map(([name, hostname]) => ({ name, port: 80, protocol: 'HTTP', ...(hostname !== undefined ? { hostname } : {}), allowedRoutes: { namespaces: { from: 'All' } } }))),
      ...listeners.map(([name]) => httpRoute(`attaches-to-${name}`, 'infra', { parentRefs: [{ name: gw, namespace: 'infra', sectionName: name }], rules: [{ matches: [prefix(`/${name}`)], backendRefs: [{ name: 'infra-backend-v1', port: 80 }] }] })),
    ]);
    // each host reaches its own listener's route and none of the others', as the suite's table says
    const served: Record<string, string> = { 'bar.com': 'empty-hostname', 'bar.example.com': 'wildcard-example-com', 'bar.foo.example.com': 'wildcard-foo-example-com', 'abc.foo.example.com': 'abc-foo-example-com' };
    await http(Object.entries(served).flatMap(([host, own]) => listeners.map(([name]): Case => (name === own ? { host, path: `/${name}`, backend: 'infra-backend-v1' } : { host, path: `/${name}`, status: 404 }))));
  });

  test('HTTPRouteInvalidParentRefNotMatchingListenerPort: a parentRef port no listener has is NoMatchingParent, and nothing is attached', async () => {
    apply('port.yaml', [httpRoute('httproute-listener-not-matching-route-port', 'infra', { parentRefs: [{ name: 'same-namespace', namespace: 'infra', port: 81 }], rules: [{ matches: [prefix('/port-81')], backendRefs: [{ name: 'infra-backend-v1', kind: 'Service', port: 80 }] }] })]);
    const c = await eventually(async () => {
      const x = await conditions('httproute-listener-not-matching-route-port');
      return x.length > 0 ? x : undefined;
    });
    assert.deepEqual(c, ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']);
    // the other tests' routes are gone once their files' removal is read: then none is attached
    await eventually(async () => ((await status()).gateways.find((g) => g.name === 'same-namespace')?.listeners[0]?.attachedRoutes === 0 ? true : undefined), { what: 'no attached route' });
    assert.deepEqual(await conditions('httproute-listener-not-matching-route-port'), ['Accepted=False/NoMatchingParent', 'ResolvedRefs=True/ResolvedRefs']);
    assert.equal((await get(p.httpPort, '/port-81')).status, 404);
  });
});

