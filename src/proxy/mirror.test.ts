/**
 * Request mirroring on real sockets: copies reach Service endpoints (through the pools) and
 * mirror-target URLs (through the agent) with the request's method, path, headers and body; the
 * request's own body passes through the tee unchanged; sampling; and the bounds: in-flight per
 * destination, the timeout, the body buffer, a body that never completes, no endpoints, a dead
 * destination. Every outcome is counted.
 */
import assert from 'node:assert/strict';
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import type { Backend, MirrorPolicy } from '../model/types.js';
import { createBalancer } from './balance.js';
import { compileMirrors, createMirrorState, sampler, type MirrorLimits, type MirrorMetrics, type MirrorState } from './mirror.js';
import { fakeExchange, type FakeExchange } from '../testing/exchange.js';
import { createPools } from './pools.js';

const IP = '127.0.235.1';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** An HTTP server recording what it receives; `hang` never answers. */
async function pod(behaviour: 'echo' | 'hang' = 'echo'): Promise<{ server: Server; port: number; seen: Seen[]; next: () => Promise<Seen> }> {
  const seen: Seen[] = [];
  const waiters: ((s: Seen) => void)[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const s = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      seen.push(s);
      waiters.shift()?.(s);
      if (behaviour === 'hang') return;
      res.writeHead(503, { 'content-length': '4' });
      res.end('nope');
    });
  });
  await new Promise<void>((r) => server.listen(0, IP, r));
  const next = (): Promise<Seen> => new Promise((r) => waiters.push(r));
  return { server, port: (server.address() as { port: number }).port, seen, next };
}

/** A TCP server that accepts and never reads: a mirror that cannot keep up. */
async function stuck(): Promise<{ server: NetServer; port: number; sockets: Socket[] }> {
  const sockets: Socket[] = [];
  const server = createNetServer((s) => {
    s.pause();
    s.on('error', () => {});
    sockets.push(s);
  });
  await new Promise<void>((r) => server.listen(0, IP, r));
  return { server, port: (server.address() as { port: number }).port, sockets };
}

/** Counts outcomes: `answered`, `failed`, `timeout`, and `dropped:<reason>`. */
function recorder(): MirrorMetrics & { counts: Map<string, number>; total(): number } {
  const counts = new Map<string, number>();
  const add = (k: string): void => void counts.set(k, (counts.get(k) ?? 0) + 1);
  return {
    counts,
    mirrored: (_ns, _d, r) => add(r),
    dropped: (_ns, _d, r) => add(`dropped:${r}`),
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

/** A request as the mirror reads it. */
const exchange = (o: { method?: string; uri?: string } = {}): FakeExchange => fakeExchange({ method: o.method ?? 'POST', target: o.uri ?? '/orig?q=1', host: 'app.test' });
/** Ends a request: runs its onDone hooks. */
const end = (ex: FakeExchange): void => ex.done.splice(0).forEach((f) => f());

const backendOf = (port: number, id = `ns/mirror:${port}`): Backend => ({ id, namespace: 'ns', service: 'mirror', port: String(port), protocol: 'HTTP', endpoints: [{ ip: IP, port, terminating: false }] });

function plan(policies: MirrorPolicy[], backends: Backend[], limits: Partial<MirrorLimits>, metrics: MirrorMetrics): { p: NonNullable<ReturnType<typeof compileMirrors>>; state: MirrorState } {
  const state = createMirrorState(limits, metrics);
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  const byId = new Map(backends.map((b) => [b.id, b]));
  const p = compileMirrors(policies, {
    state,
    pools,
    balancer: createBalancer(),
    namespace: 'ns',
    target: (id) => {
      const backend = byId.get(id) ?? { id, namespace: 'ns', service: 'gone', port: '80', protocol: 'HTTP', endpoints: [] };
      return { backend, slot: { endpoints: backend.endpoints }, dispatch: pools.dispatch('HTTP') };
    },
  });
  assert.ok(p !== null);
  cleanups.push(() => pools.close(), () => state.close());
  return { p, state };
}

const cleanups: (() => unknown)[] = [];
after(async () => {
  for (const c of cleanups.splice(0)) await c();
});

const HEADERS = ['host', 'app.test', 'content-length', '11', 'x-request-id', 'abc', 'x-edited', 'by-policy'];
const mirrorOf = (backend: string, extra: Partial<MirrorPolicy> = {}): MirrorPolicy => ({ kind: 'mirror', backend, body: true, numerator: 1, denominator: 1, ...extra });

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Reads a stream to its end, as the request's own upstream would. */
const drain = async (r: Readable): Promise<Buffer> => {
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe('copies to a Service backend', () => {
  test('carry the method, path, headers and body as the request is sent; the request reads its body unchanged; the answer is discarded', async () => {
    const m = await pod();
    cleanups.push(() => m.server.close());
    const metrics = recorder();
    const { p, state } = plan([mirrorOf(`ns/mirror:${m.port}`)], [backendOf(m.port)], {}, metrics);
    const ex = exchange();
    const body = p.start(ex, '/forwarded?q=1', HEADERS, Readable.from([Buffer.from('hello '), Buffer.from('world')]));
    assert.ok(body !== null);
    const seen = m.next();
    assert.equal((await drain(body)).toString(), 'hello world');
    const s = await seen;
    assert.equal(s.method, 'POST');
    assert.equal(s.url, '/forwarded?q=1');
    assert.equal(s.headers.host, 'app.test');
    assert.equal(s.headers['x-edited'], 'by-policy');
    assert.equal(s.body.toString(), 'hello world');
    await until(() => metrics.counts.get('answered') === 1);
    assert.equal(state.inFlight(), 0);
  });

  test('without a body: no body headers, the request body untouched', async () => {
    const m = await pod();
    cleanups.push(() => m.server.close());
    const metrics = recorder();
    const { p } = plan([mirrorOf(`ns/mirror:${m.port}`, { body: false })], [backendOf(m.port)], {}, metrics);
    const source = Readable.from([Buffer.from('hello world')]);
    const seen = m.next();
    assert.equal(p.start(exchange(), '/x', HEADERS, source), source, 'no copy needs the body: no tee');
    const s = await seen;
    assert.equal(s.headers['content-length'], undefined);
    assert.equal(s.body.length, 0);
  });

  test('several mirrors each get a copy; a share of requests by numerator/denominator', async () => {
    const a = await pod();
    const b = await pod();
    cleanups.push(() => a.server.close(), () => b.server.close());
    const metrics = recorder();
    const { p } = plan([mirrorOf(`ns/mirror:${a.port}`), mirrorOf(`ns/mirror:${b.port}`, { numerator: 1, denominator: 4 })], [backendOf(a.port), backendOf(b.port)], { maxInFlight: 1000 }, metrics);
    for (let i = 0; i < 400; i++) p.start(exchange({ method: 'GET' }), `/r${i}`, HEADERS.slice(0, 2), null);
    await until(() => metrics.total() === a.seen.length + b.seen.length && a.seen.length === 400);
    // 100 expected; 4 standard deviations is about 35
    assert.ok(b.seen.length > 60 && b.seen.length < 140, `${b.seen.length} of 400 mirrored at 1/4`);
  });

  test('a share of 0 sends nothing', async () => {
    const m = await pod();
    cleanups.push(() => m.server.close());
    const metrics = recorder();
    const { p } = plan([mirrorOf(`ns/mirror:${m.port}`, { numerator: 0, denominator: 100 })], [backendOf(m.port)], {}, metrics);
    for (let i = 0; i < 50; i++) p.start(exchange(), '/', HEADERS, null);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(m.seen.length, 0);
    assert.equal(metrics.total(), 0);
  });

  test('a mirror that never answers: at most maxInFlight copies, the rest dropped; each aborted at the timeout, then the slots are free again', async () => {
    const m = await pod('hang');
    cleanups.push(() => m.server.closeAllConnections(), () => m.server.close());
    const metrics = recorder();
    const { p, state } = plan([mirrorOf(`ns/mirror:${m.port}`)], [backendOf(m.port)], { maxInFlight: 2, timeout: 300 }, metrics);
    for (let i = 0; i < 5; i++) p.start(exchange({ method: 'GET' }), '/', HEADERS.slice(0, 2), null);
    assert.equal(state.inFlight(), 2);
    assert.equal(metrics.counts.get('dropped:in_flight'), 3);
    await until(() => metrics.counts.get('timeout') === 2);
    assert.equal(state.inFlight(), 0);
    p.start(exchange({ method: 'GET' }), '/', HEADERS.slice(0, 2), null);
    assert.equal(state.inFlight(), 1);
  });

  test('a mirror that cannot keep up with the body is dropped past the buffer; the request still reads every byte', async () => {
    const s = await stuck();
    cleanups.push(() => s.sockets.forEach((x) => x.destroy()), () => s.server.close());
    const metrics = recorder();
    const { p, state } = plan([mirrorOf(`ns/mirror:${s.port}`)], [backendOf(s.port)], { bodyBuffer: 64 * 1024, timeout: 10_000 }, metrics);
    const chunk = Buffer.alloc(64 * 1024, 7);
    const count = 256; // 16 MiB: more than the kernel buffers of a loopback connection hold
    const source = Readable.from((function* () {
      for (let i = 0; i < count; i++) yield chunk;
    })());
    const body = p.start(exchange(), '/upload', ['host', 'app.test', 'content-length', String(chunk.length * count)], source);
    assert.ok(body !== null);
    assert.equal((await drain(body)).length, chunk.length * count);
    await until(() => metrics.counts.get('dropped:body_buffer') === 1);
    await until(() => state.inFlight() === 0);
  });

  test('a copy whose body never completes (the request ended first) is dropped', async () => {
    const m = await pod();
    cleanups.push(() => m.server.close());
    const metrics = recorder();
    const { p, state } = plan([mirrorOf(`ns/mirror:${m.port}`)], [backendOf(m.port)], {}, metrics);
    const ex = exchange();
    const source = new Readable({ read() {} });
    const body = p.start(ex, '/', ['host', 'app.test', 'content-length', '100'], source);
    assert.ok(body !== null);
    body.resume();
    source.push(Buffer.from('partial'));
    await new Promise((r) => setTimeout(r, 20));
    end(ex);
    await until(() => metrics.counts.get('dropped:body_incomplete') === 1);
    assert.equal(state.inFlight(), 0);
    assert.equal(m.seen.length, 0);
  });

  test('no endpoints, and a destination that refuses: counted, never thrown', async () => {
    const s = await stuck();
    const port = s.port;
    await new Promise<void>((r) => s.server.close(() => r()));
    const metrics = recorder();
    const { p } = plan([mirrorOf('ns/gone:80'), mirrorOf(`ns/mirror:${port}`)], [backendOf(port)], {}, metrics);
    p.start(exchange({ method: 'GET' }), '/', HEADERS.slice(0, 2), null);
    assert.equal(metrics.counts.get('dropped:no_endpoints'), 1);
    await until(() => metrics.counts.get('failed') === 1);
  });
});

describe('copies to a mirror-target URL', () => {
  test('the path template expands ($request_uri is the client\'s), a literal path keeps the query, Host is mirror-host', async () => {
    const m = await pod();
    cleanups.push(() => m.server.close());
    const metrics = recorder();
    const origin = `http://${IP}:${m.port}`;
    const { p } = plan(
      [
        { kind: 'mirror', origin, path: '/copy$request_uri', host: 'test.env.com', body: true, numerator: 1, denominator: 1 },
        { kind: 'mirror', origin, path: '/literal', host: 'literal.test', body: false, numerator: 1, denominator: 1 },
        { kind: 'mirror', origin, path: '', host: 'plain.test', body: false, numerator: 1, denominator: 1 },
      ],
      [],
      {},
      metrics,
    );
    const body = p.start(exchange({ uri: '/orig/path?q=1' }), '/rewritten', HEADERS, Readable.from([Buffer.from('hello world')]));
    assert.ok(body !== null);
    await drain(body);
    await until(() => m.seen.length === 3);
    const by = (host: string): Seen => m.seen.find((s) => s.headers.host === host) as Seen;
    assert.equal(by('test.env.com').url, '/copy/orig/path?q=1');
    assert.equal(by('test.env.com').body.toString(), 'hello world');
    assert.equal(by('test.env.com').headers['x-edited'], 'by-policy');
    assert.equal(by('literal.test').url, '/literal?q=1');
    assert.equal(by('literal.test').body.length, 0);
    assert.equal(by('plain.test').url, '/orig/path?q=1');
    await until(() => metrics.counts.get('answered') === 3);
  });
});

describe('the share of requests a mirror copies (percent, fraction)', () => {
  const run = (take: () => boolean, n: number): boolean[] => Array.from({ length: n }, () => take());
  test('exact over every run of the denominator, evenly spaced', () => {
    assert.deepEqual(run(sampler(20, 100), 10), [false, false, false, false, true, false, false, false, false, true]);
    for (const [num, den] of [[35, 100], [25, 50], [1, 3], [2, 7], [99, 100]] as const) {
      const take = sampler(num, den);
      for (let window = 0; window < 5; window++) assert.equal(run(take, den).filter(Boolean).length, num, `${num}/${den}`);
    }
  });
  test('all, none', () => {
    assert.ok(run(sampler(100, 100), 50).every(Boolean));
    assert.ok(run(sampler(3, 2), 5).every(Boolean));
    assert.ok(!run(sampler(0, 100), 500).some(Boolean));
  });
});
