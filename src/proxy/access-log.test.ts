/** Access-log lines are valid JSON (or well-quoted text) whatever the request carries. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import type { Arbitrary } from 'fast-check';
import type { RouteLabels } from '../metrics/metrics.js';
import { createAccessLog, type AccessLog, type ByteSink, type Outcome } from './access-log.js';
import { clientAddress, requestHost } from './headers.js';

const req = {
  method: 'GET',
  url: '/a"b\\c?x=</script>',
  httpVersion: '1.1',
  httpVersionMajor: 1,
  headers: { host: 'h.test', 'user-agent': 'ua "quoted" \\ \u2028', referer: 'https://r.test/' },
  socket: { remoteAddress: '::ffff:10.1.2.3' },
} as unknown as IncomingMessage;
const target: RouteLabels = { namespace: 'ns', ingress: 'ing', service: 'svc', host: 'h.test', path: '/' };
const outcome: Outcome = { time: Date.parse('2026-11-26T05:42:07.123Z'), status: 200, bytes: 42, requestLength: 0, durationMs: 1.23456, upstream: '10.0.0.1:8080', upstreamStatus: 200, upstreamMs: 1.1, requestId: 'rid', cause: '', remote: '' };

test('JSON lines parse back to the request, route and outcome', () => {
  const lines: string[] = [];
  createAccessLog('json', { write: (l) => lines.push(l) })(req, target, outcome);
  assert.equal(lines.length, 1);
  assert.ok(lines[0]!.endsWith('\n'));
  const o = JSON.parse(lines[0]!) as Record<string, unknown>;
  assert.deepEqual(
    { ...o, pid: 0 },
    { level: 'info', time: '2026-11-26T05:42:07.123Z', pid: 0, msg: 'request', remote: '10.1.2.3', host: 'h.test', method: 'GET', path: '/a"b\\c?x=</script>', status: 200, bytes: 42, duration_ms: 1.235, upstream: '10.0.0.1:8080', upstream_status: 200, request_id: 'rid', namespace: 'ns', ingress: 'ing', service: 'svc', user_agent: 'ua "quoted" \\ \u2028' },
  );
  const local: string[] = [];
  createAccessLog('json', { write: (l) => local.push(l) })(req, null, { ...outcome, status: 404, upstream: '', upstreamStatus: 0, cause: 'no_route', remote: '203.0.113.9' });
  const l = JSON.parse(local[0]!) as Record<string, unknown>;
  assert.equal(l.cause, 'no_route');
  assert.equal(l.remote, '203.0.113.9');
  assert.equal(l.ingress, '');
});

test('text lines follow ingress-nginx log-format-upstream with quotes escaped', () => {
  const lines: string[] = [];
  createAccessLog('text', { write: (l) => lines.push(l) })(req, target, outcome);
  assert.equal(lines[0], '10.1.2.3 - - [26/Nov/2026:05:42:07 +0000] "GET /a\\"b\\\\c?x=</script> HTTP/1.1" 200 42 "https://r.test/" "ua \\"quoted\\" \\\\ \u2028" 0 0.001 [ns-svc] [] 10.0.0.1:8080 42 0.001 200 rid\n');
});

test('JSON lines parse back to what the request carried, whatever characters it holds', async () => {
  const fc = (await import('fast-check')).default;
  fc.assert(
    fc.property(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (ua, path) => {
      const lines: string[] = [];
      const r = { ...req, url: path, headers: { ...req.headers, 'user-agent': ua } } as unknown as IncomingMessage;
      createAccessLog('json', { write: (l) => lines.push(l) })(r, target, outcome);
      const o = JSON.parse(lines[0]!) as Record<string, unknown>;
      assert.equal(o.user_agent, JSON.parse(JSON.stringify(ua)));
      assert.equal(o.path, path);
    }),
    { numRuns: 2000, seed: 20261206 },
  );
});

test("a canary's request: the main route's upstream, the canary as the alternative (text); canary: true (JSON)", () => {
  const lines: string[] = [];
  const canary: RouteLabels = { ...target, service: 'svc-canary', canaryOf: 'svc' };
  createAccessLog('text', { write: (l) => lines.push(l) })(req, canary, outcome);
  assert.match(lines[0]!, / \[ns-svc\] \[ns-svc-canary\] 10\.0\.0\.1:8080 /);
  createAccessLog('json', { write: (l) => lines.push(l) })(req, canary, outcome);
  const o = JSON.parse(lines[1]!) as Record<string, unknown>;
  assert.equal(o.service, 'svc-canary');
  assert.equal(o.canary, true);
});

// --- the bytes written against the string formatting they replaced -----------------------------

/** The formatter before lines were written as bytes (commit dffa15e), kept as the reference. */
function referenceAccessLog(format: 'json' | 'text', sink: { write(line: string): unknown }): AccessLog {
  const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));
  const clfTime = (ms: number): string => {
    const d = new Date(ms);
    return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
  };
  const q = (s: string): string => (s === '' ? '-' : s.replace(/["\\]/g, (c) => `\\${c}`));
  const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
  const j = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);
  const iso = (ms: number): string => new Date(ms).toISOString();
  const PID = process.pid;
  if (format === 'text') {
    return (req, t, o) => {
      const canaryOf = t?.canaryOf;
      const upstreamName = t === null || t.service === '' ? '' : `${t.namespace}-${canaryOf ?? t.service}`;
      const alternative = t !== null && canaryOf !== undefined ? `${t.namespace}-${t.service}` : '';
      sink.write(
        `${o.remote || clientAddress(req)} - - [${clfTime(o.time)}] "${q(req.method ?? '')} ${q(req.url ?? '')} HTTP/${req.httpVersion}" ${o.status} ${o.bytes} "${q(req.headers.referer ?? '')}" "${q(req.headers['user-agent'] ?? '')}" ${o.requestLength} ${(o.durationMs / 1000).toFixed(3)} [${upstreamName}] [${alternative}] ${o.upstream || '-'} ${o.bytes} ${o.upstream ? (o.upstreamMs / 1000).toFixed(3) : '-'} ${o.upstreamStatus || '-'} ${o.requestId}\n`,
      );
    };
  }
  return (req, t, o) => {
    sink.write(
      `{"level":"info","time":"${iso(o.time)}","pid":${PID},"msg":"request","remote":${j(o.remote || clientAddress(req))},"host":${j(requestHost(req) ?? '')},"method":${j(req.method ?? '')},"path":${j(req.url ?? '')},"status":${o.status},"bytes":${o.bytes},"duration_ms":${Math.round(o.durationMs * 1000) / 1000},"upstream":${j(o.upstream)},"upstream_status":${o.upstreamStatus},"request_id":${j(o.requestId)},"namespace":${j(t?.namespace ?? '')},"ingress":${j(t?.ingress ?? '')},"service":${j(t?.service ?? '')},${t?.canaryOf === undefined ? '' : '"canary":true,'}"user_agent":${j(req.headers['user-agent'] ?? '')}${o.cause === '' ? '' : `,"cause":${j(o.cause)}`}}\n`,
    );
  };
}

/** A byte sink that keeps every line's bytes, with a small buffer so lines often start a new one. */
class Bytes implements ByteSink {
  private buf = Buffer.alloc(512);
  filled = 0;
  readonly lines: Buffer[] = [];
  room(max: number): Buffer {
    if (this.filled + max > this.buf.length) {
      this.buf = Buffer.alloc(Math.max(512, max));
      this.filled = 0;
    }
    // what is not written must not matter: fill the room with garbage
    this.buf.fill(0xee, this.filled);
    return this.buf;
  }
  commit(end: number): void {
    this.lines.push(Buffer.from(this.buf.subarray(this.filled, end)));
    this.filled = end;
  }
}

test('lines are byte for byte what the string formatting wrote as UTF-8, whatever the request, route and outcome hold', async () => {
  const fc = (await import('fast-check')).default;
  // characters that need care: quotes, backslashes, control characters, DEL, non-ASCII, U+2028, emoji, lone surrogates
  const unit = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom('a', 'Z', '0', '/', ' ', '-', '.', ':', '?', '=', '%') },
    { weight: 3, arbitrary: fc.constantFrom('"', '\\', '\n', '\r', '\t', '\u0000', '\u001f', '\u007f', '\u0080', 'é', '\u2028', 'ü', '中', '😀', '\ud83d', '\ude00', '\udfff', '\ud800') },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)) },
  );
  const str = (max: number): Arbitrary<string> => fc.array(unit, { maxLength: max }).map((a) => a.join(''));
  const maybe = (a: Arbitrary<string>): Arbitrary<string | undefined> => fc.option(a, { nil: undefined });
  const name = fc.oneof(fc.constantFrom('', 'ns', 'default', 'svc-canary'), str(12));
  const route = fc.oneof(
    fc.constant(null),
    fc.record({ namespace: name, ingress: name, service: name, host: fc.constant('h'), path: fc.constant('/') }),
    fc.record({ namespace: name, ingress: name, service: name, host: fc.constant('h'), path: fc.constant('/'), canaryOf: name }),
  );
  const number = fc.oneof(
    fc.constantFrom(0, -0, 1, 9, 10, 99, 100, 200, 404, 502, 999, 1000, 1e6, 2 ** 31, 2 ** 32, 2 ** 53, NaN, Infinity, -1),
    fc.nat(),
    fc.double({ noNaN: false }),
  );
  const duration = fc.oneof(
    fc.double({ min: 0, max: 1e7, noNaN: true }),
    // ties and near ties of the rounding to the microsecond (JSON) and of toFixed(3) (text)
    fc.tuple(fc.nat(100000), fc.constantFrom(0.5, 0.4999999, 0.5000001, 0.0005, 0.9995, 0)).map(([n, f]) => (n + f) / 1000),
    fc.tuple(fc.nat(100000), fc.constantFrom(0.5, 0.4999999, 0.5000001)).map(([n, f]) => n + f),
    fc.constantFrom(0, -0, 1e-7, 1.23456, 2 ** 40, 2 ** 45, 1e21, -1, NaN),
  );
  const outcome = fc.record({
    time: fc.oneof(fc.constant(Date.parse('2026-11-26T05:42:07.123Z')), fc.integer({ min: 0, max: 4e12 }), fc.constantFrom(-1, -1500, -0.5, -1000.5, 1.5, 1764135727123.999, 253402300799999), fc.double({ min: -1e12, max: 4e12, noNaN: true })),
    status: number,
    bytes: number,
    requestLength: number,
    durationMs: duration,
    upstream: fc.oneof(fc.constantFrom('', '10.0.0.1:8080', '[fd00::1]:80'), str(20)),
    upstreamStatus: number,
    upstreamMs: duration,
    requestId: fc.oneof(fc.constantFrom('', 'd2f8a0c3e1b4f5a6d7c8b9a0e1f2a3b4'), str(40)),
    cause: fc.oneof(fc.constantFrom('', 'no_route', 'upstream_timeout'), str(10)),
    remote: fc.oneof(fc.constantFrom('', '203.0.113.9', '::1'), str(20)),
  });
  const request = fc.record({
    method: maybe(fc.oneof(fc.constantFrom('GET', 'POST', 'M-SEARCH'), str(8))),
    url: maybe(fc.oneof(fc.constantFrom('/', '/a?b=c', '*'), str(60))),
    httpVersion: fc.constantFrom('1.0', '1.1', '2.0'),
    host: maybe(str(20)),
    authority: maybe(str(20)),
    ua: maybe(fc.oneof(fc.constantFrom('wrk', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)'), str(80))),
    referer: maybe(str(40)),
    peer: fc.constantFrom('::ffff:10.1.2.3', '127.0.0.1', '::1', ''),
  });
  const formats = ['json', 'text'] as const;
  fc.assert(
    fc.property(fc.constantFrom(...formats), fc.array(fc.tuple(request, route, outcome), { minLength: 1, maxLength: 8 }), (format, cases) => {
      const want: string[] = [];
      const got = new Bytes();
      const reference = referenceAccessLog(format, { write: (l) => want.push(l) });
      const log = createAccessLog(format, got);
      for (const [r, t, o] of cases) {
        const headers: Record<string, string> = {};
        if (r.host !== undefined) headers.host = r.host;
        if (r.authority !== undefined) headers[':authority'] = r.authority;
        if (r.ua !== undefined) headers['user-agent'] = r.ua;
        if (r.referer !== undefined) headers.referer = r.referer;
        const message = { method: r.method, url: r.url, httpVersion: r.httpVersion, headers, socket: { remoteAddress: r.peer } } as unknown as IncomingMessage;
        reference(message, t, o);
        log(message, t, o);
      }
      assert.equal(got.lines.length, want.length);
      for (let i = 0; i < want.length; i++) assert.deepEqual(got.lines[i], Buffer.from(want[i]!, 'utf8'), `line ${i}: ${want[i]}`);
    }),
    { numRuns: 3000, seed: 20261207 },
  );
});

test("a route's labels are encoded once, on its first logged request", () => {
  const got = new Bytes();
  const log = createAccessLog('json', got);
  const t: RouteLabels = { namespace: 'ns', ingress: 'ing', service: 'svc', host: 'h', path: '/' };
  log(req, t, outcome);
  // the labels object is not copied or changed (the metrics key on it), and a later edit of a
  // compiled route's labels (never done: routes are recompiled) would not be seen
  (t as { namespace: string }).namespace = 'other';
  log(req, t, outcome);
  assert.match(got.lines[1]!.toString(), /"namespace":"ns"/);
  assert.deepEqual(Object.keys(t), ['namespace', 'ingress', 'service', 'host', 'path']);
});
