/** proxy-next-upstream rules: which failures and statuses go to another endpoint, and when not. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteSettings } from '../../model/types.js';
import { compileRetry, DEFAULT_RETRY, keepsBody, MAX_TRIES, shouldRetry, type Attempt } from './retry.js';

const rule = (s: RouteSettings = {}) => compileRetry(s, DEFAULT_RETRY);
const attempt = (a: Partial<Attempt> = {}): Attempt => ({ cause: 'connect_refused', sent: false, method: 'GET', attempts: 1, elapsed: 0, replayable: true, endpoints: 2, ...a });

describe('compileRetry', () => {
  test('defaults: ingress-nginx\'s "error timeout", 3 tries, no time limit', () => {
    const r = rule();
    assert.deepEqual([...r.causes].sort(), ['connect_error', 'connect_refused', 'connect_timeout', 'reset', 'send_timeout', 'timeout', 'tls_verify']);
    assert.equal(r.statuses, null);
    assert.equal(r.nonIdempotent, false);
    assert.equal(r.tries, 3);
    assert.equal(r.timeout, 0);
  });
  test('each annotation replaces its flag on its own', () => {
    const r = compileRetry({ nextUpstreamTries: 7 }, { nextUpstream: ['http_503'], tries: 2, timeout: 5000 });
    assert.deepEqual([...r.causes], []);
    assert.deepEqual([...(r.statuses ?? [])], [503]);
    assert.equal(r.tries, 7);
    assert.equal(r.timeout, 5000);
  });
  test('statuses, invalid_header, non_idempotent', () => {
    const r = rule({ nextUpstream: ['invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429', 'non_idempotent'] });
    assert.deepEqual([...r.causes], ['protocol']);
    assert.deepEqual([...(r.statuses ?? [])].sort(), [403, 404, 429, 500, 502, 503, 504]);
    assert.equal(r.nonIdempotent, true);
  });
  test('off: nothing, whatever else is listed', () => {
    const r = rule({ nextUpstream: ['off'] });
    assert.equal(r.causes.size, 0);
    assert.equal(r.statuses, null);
    assert.equal(r.afterSending, false);
    assert.equal(shouldRetry(r, attempt()), false, 'not even a refused connection');
  });
  test('tries: 0 means no limit (capped), as do huge values', () => {
    assert.equal(rule({ nextUpstreamTries: 0 }).tries, MAX_TRIES);
    assert.equal(rule({ nextUpstreamTries: 888888 }).tries, MAX_TRIES);
    assert.equal(rule({ nextUpstreamTries: 1 }).tries, 1);
  });
});

describe('shouldRetry', () => {
  test('a refused connection goes to another endpoint, whatever the method (nothing was sent)', () => {
    for (const method of ['GET', 'POST', 'PATCH', 'LOCK']) assert.equal(shouldRetry(rule(), attempt({ method })), true, method);
  });
  test('a request that reached the pod is retried only for idempotent methods, unless non_idempotent', () => {
    const sent = attempt({ cause: 'reset', sent: true });
    for (const m of ['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']) assert.equal(shouldRetry(rule(), { ...sent, method: m }), true, m);
    for (const m of ['POST', 'PATCH', 'LOCK']) {
      assert.equal(shouldRetry(rule(), { ...sent, method: m }), false, m);
      assert.equal(shouldRetry(rule({ nextUpstream: ['error', 'non_idempotent'] }), { ...sent, method: m }), true, `${m} with non_idempotent`);
    }
  });
  test('statuses: only those listed, to another endpoint, with the same method rule', () => {
    const r = rule({ nextUpstream: ['http_502'] });
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true })), true);
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true, endpoints: 1 })), false, 'one endpoint: no other to try');
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true, method: 'POST' })), false);
    assert.equal(shouldRetry(rule({ nextUpstream: ['http_502', 'non_idempotent'] }), attempt({ cause: 'status', sent: true, method: 'POST' })), true);
  });
  test('a reset may retry the same endpoint (a stale keep-alive connection); a timeout never does', () => {
    assert.equal(shouldRetry(rule(), attempt({ cause: 'reset', sent: true, endpoints: 1 })), true);
    assert.equal(shouldRetry(rule(), attempt({ cause: 'timeout', sent: true, endpoints: 1 })), false);
    assert.equal(shouldRetry(rule(), attempt({ cause: 'timeout', sent: true, endpoints: 2 })), true);
  });
  test('conditions not listed are not retried', () => {
    assert.equal(shouldRetry(rule({ nextUpstream: ['timeout'] }), attempt({ cause: 'connect_refused' })), false);
    assert.equal(shouldRetry(rule({ nextUpstream: ['error'] }), attempt({ cause: 'timeout', sent: true })), false);
    assert.equal(shouldRetry(rule(), attempt({ cause: 'protocol', sent: true })), false, 'invalid_header is not in the default');
    assert.equal(shouldRetry(rule({ nextUpstream: ['invalid_header'] }), attempt({ cause: 'protocol', sent: true })), true);
    assert.equal(shouldRetry(rule(), attempt({ cause: 'client_abort' })), false);
    assert.equal(shouldRetry(rule(), attempt({ cause: 'no_endpoints' })), false);
  });
  test('tries count every attempt; the timeout counts from the request\'s start', () => {
    assert.equal(shouldRetry(rule(), attempt({ attempts: 2 })), true);
    assert.equal(shouldRetry(rule(), attempt({ attempts: 3 })), false);
    assert.equal(shouldRetry(rule({ nextUpstreamTimeout: 1000 }), attempt({ elapsed: 999 })), true);
    assert.equal(shouldRetry(rule({ nextUpstreamTimeout: 1000 }), attempt({ elapsed: 1000 })), false);
  });
  test('a body that cannot be sent again is never retried', () => {
    assert.equal(shouldRetry(rule(), attempt({ cause: 'reset', sent: true, method: 'PUT', replayable: false })), false);
  });
});

describe('keepsBody: which requests keep their body for a replay', () => {
  test('idempotent methods on routes that can retry after sending; others only with non_idempotent; none with off or connect-only conditions', () => {
    assert.equal(keepsBody(rule(), 'PUT'), true);
    assert.equal(keepsBody(rule(), 'POST'), false);
    assert.equal(keepsBody(rule({ nextUpstream: ['error', 'non_idempotent'] }), 'POST'), true);
    assert.equal(keepsBody(rule({ nextUpstream: ['off'] }), 'PUT'), false);
    assert.equal(keepsBody(compileRetry({}, { nextUpstream: ['http_404'], tries: 3, timeout: 0 }), 'GET'), true);
  });
});
