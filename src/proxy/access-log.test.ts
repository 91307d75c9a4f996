/** Access-log lines are valid JSON (or well-quoted text) whatever the request carries. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import type { RouteLabels } from '../metrics/metrics.js';
import { createAccessLog, type Outcome } from './access-log.js';

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
