/**
 * Request framing, fuzzed against the real process: generated requests (origin- and
 * absolute-form targets with encoded and raw control bytes, upgrade heads, Content-Length and
 * Transfer-Encoding combinations, mutations of valid requests) on their own connections, with a
 * pod that records raw bytes. Properties: every request that reaches the pod is one well-formed
 * request line per request the client sent, and Portico keeps serving. Bounded in runs and time.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { raw, startRawPod, type RawPod } from './lib/raw.js';
import { startPortico, type Portico } from './lib/portico.js';

let p: Portico;
let pod: RawPod;
before(async () => {
  pod = await startRawPod('127.0.125.1');
  p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'f.test', paths: [{ path: '/', service: 'pod' }] }]), serviceYaml('pod', [pod])) }, ['--access-log=false']);
});
after(async () => {
  await p.stop();
  await pod.close();
});

/** What a safe upstream request line looks like: a token method, an origin-form target of visible bytes. */
const SAFE_LINE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+ \/[\x21-\x7e\x80-\xff]* HTTP\/1\.1$/;

const nasty = fc.constantFrom('%0d%0a', '%0a', '%0d', '%00', '%20', '%3F', '%23', '%2e%2e/', '../', '//', '\r\n', '\n', '\r', '\0', ' ', '\t', '?', '#', 'é', '%');
const segment = fc.oneof(fc.stringMatching(/^[a-z0-9._~-]{0,8}$/), nasty);
const path = fc.array(segment, { minLength: 0, maxLength: 6 }).map((parts) => `/${parts.join('')}`);
const query = fc.option(fc.array(segment, { maxLength: 4 }).map((q) => `?${q.join('')}`), { nil: '' });
const target = fc.oneof(
  fc.tuple(path, query).map(([a, b]) => a + b),
  fc.tuple(fc.constantFrom('http://f.test', 'HTTP://F.TEST:80', 'https://f.test', 'http://f.test@evil', 'http://[::1]', 'http://'), path, query).map(([a, b, c]) => a + b + c),
  fc.tuple(fc.constantFrom('http://f.test'), query).map(([a, b]) => a + b),
);
const headerSets = fc.constantFrom(
  '',
  'Connection: Upgrade\r\nUpgrade: websocket\r\n',
  'Connection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n',
  'Content-Length: 3\r\n',
  'Transfer-Encoding: chunked\r\n',
  'Content-Length: 3\r\nTransfer-Encoding: chunked\r\n',
  'Host: other.test\r\n',
  'X_Real_IP: 6.6.6.6\r\n',
  'Expect: 100-continue\r\nContent-Length: 3\r\n',
);
const body = fc.constantFrom('', 'abc', '3\r\nabc\r\n0\r\n\r\n', 'GET /smuggled HTTP/1.1\r\nHost: f.test\r\n\r\n');
const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/1.1 ', 'http/1.1');
const method = fc.constantFrom('GET', 'POST', 'HEAD', 'OPTIONS', 'G ET', 'GET\0', 'PRI');

const request = fc.tuple(method, target, version, headerSets, body).map(([m, t, v, h, b]) => `${m} ${t} ${v}\r\nHost: f.test\r\n${h}Connection: close\r\n\r\n${b}`);
/** A valid request with one byte replaced, inserted or removed somewhere. */
const mutated = fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('replace', 'insert', 'delete')).map(([at, byte, op]) => {
  const base = Buffer.from('POST http://f.test/a?b=c HTTP/1.1\r\nHost: f.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nContent-Length: 3\r\n\r\nabc', 'latin1');
  const i = at % base.length;
  const b = Buffer.from([byte]);
  const out = op === 'replace' ? Buffer.concat([base.subarray(0, i), b, base.subarray(i + 1)]) : op === 'insert' ? Buffer.concat([base.subarray(0, i), b, base.subarray(i)]) : Buffer.concat([base.subarray(0, i), base.subarray(i + 1)]);
  return out.toString('latin1');
});

test('fuzzed request framing: the pod only ever sees well-formed request lines, at most one per client request', { timeout: 120_000 }, async () => {
  await fc.assert(
    fc.asyncProperty(fc.oneof(request, mutated), async (bytes) => {
      const before = pod.requests.length;
      await raw(p.httpPort, Buffer.from(bytes, 'latin1'), 1500);
      const got = pod.requests.length - before;
      assert.ok(got <= 1, `the pod received ${got} requests for one client request: ${JSON.stringify(bytes)}`);
      const lines = pod.all().match(/^[^\r\n]* HTTP\/1\.1(?=\r\n)/gm) ?? [];
      assert.equal(lines.length, pod.requests.length, `hidden request lines in what the pod received, after ${JSON.stringify(bytes)}`);
      for (const l of lines) assert.match(l, SAFE_LINE, `after ${JSON.stringify(bytes)}`);
    }),
    { numRuns: 300, seed: Number(process.env.FUZZ_SEED ?? 20261206) },
  );
  // still serving
  assert.equal((await get(p.httpPort, '/ok', { host: 'f.test', agent: false })).status, 200);
});

/** A metric's value from /metrics (the first series matching `series`). */
async function metric(series: RegExp): Promise<number> {
  const text = (await get(p.adminPort, '/metrics', { agent: false })).body;
  const m = new RegExp(`^${series.source}\\s+([0-9.e+-]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('random bytes and mutated requests, many connections at once, for a bounded time: no crash, no hang, no connection or memory left behind', { timeout: 120_000 }, async () => {
  const seconds = Number(process.env.FUZZ_SECONDS ?? 6);
  const valid = [
    'GET /a?b=c HTTP/1.1\r\nHost: f.test\r\nUser-Agent: fuzz\r\n\r\n',
    'POST /p HTTP/1.1\r\nHost: f.test\r\nTransfer-Encoding: chunked\r\n\r\n3;e=1\r\nabc\r\n0\r\nT: 1\r\n\r\n',
    'POST /p HTTP/1.1\r\nHost: f.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello',
    'GET /ws HTTP/1.1\r\nHost: f.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    'GET / HTTP/1.1\r\nHost: f.test\r\n\r\nGET /2 HTTP/1.1\r\nHost: f.test\r\nConnection: close\r\n\r\n',
  ].map((s) => Buffer.from(s, 'latin1'));
  const inputs = fc.sample(
    fc.oneof(
      fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
      fc.tuple(fc.constantFrom(...valid), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 })).map(([b, edits]) => {
        const out = Buffer.from(b);
        for (const [at, byte] of edits) out[at % out.length] = byte;
        return out;
      }),
    ),
    { numRuns: 4000, seed: Number(process.env.FUZZ_SEED ?? 20261206) },
  );
  const heapBefore = await metric(/nodejs_heap_size_used_bytes/);
  const deadline = Date.now() + seconds * 1000;
  let sent = 0;
  // 40 connections at a time, each with one input, until the time is up
  while (Date.now() < deadline) {
    await Promise.all(Array.from({ length: 40 }, () => raw(p.httpPort, inputs[sent++ % inputs.length] as Buffer, 300)));
  }
  assert.ok(sent > 100, `only ${sent} inputs sent`);
  // still serving, promptly
  const t0 = Date.now();
  assert.equal((await get(p.httpPort, '/after-fuzz', { host: 'f.test', agent: false })).status, 200);
  assert.ok(Date.now() - t0 < 2000, 'answered without delay');
  // every fuzz connection closed and forgotten (the metric counts open client connections)
  let open = NaN;
  for (let i = 0; i < 50; i++) {
    open = await metric(/portico_open_connections\{listener="http"\}/);
    if (open <= 1) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(open <= 1, `${open} connections still open`);
  const heapAfter = await metric(/nodejs_heap_size_used_bytes/);
  assert.ok(heapAfter - heapBefore < 32 * 1024 * 1024, `heap grew from ${heapBefore} to ${heapAfter} bytes over ${sent} inputs`);
});
