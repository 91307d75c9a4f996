/** proxy-next-upstream rules (and the Gateway API's retry): which failures and statuses go to another endpoint, and when not. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { RouteSettings } from '../../model/types.js';
import { classify } from '../errors.js';
import { afterRetries, compileRetry, DEFAULT_RETRY, keepsBody, MAX_TRIES, shouldRetry, type Attempt } from './retry.js';

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

describe('a Gateway API retry stanza (HTTPRouteRetry)', () => {
  const gw = (s: RouteSettings) => compileRetry({ retryAttempts: 3, ...s }, { nextUpstream: ['off'], tries: 1, timeout: 0 });
  test('replaces proxy-next-upstream and its flags: connection failures and timeouts, its codes, attempts after the first', () => {
    const r = gw({ retryCodes: [500, 429] });
    assert.deepEqual([...r.causes].sort(), ['connect_error', 'connect_refused', 'connect_timeout', 'protocol', 'reset', 'send_timeout', 'timeout', 'tls_verify']);
    assert.deepEqual([...(r.statuses ?? [])].sort(), [429, 500]);
    assert.equal(r.tries, 4, 'attempts: 3 retries after the first try');
    assert.equal(r.timeout, 0);
    assert.equal(r.backoff, 0);
    assert.equal(gw({ retryBackoff: 250 }).backoff, 250);
    assert.equal(gw({}).statuses, null, 'no codes: connection failures only');
    assert.equal(gw({ retryAttempts: 10_000 }).tries, MAX_TRIES);
  });
  test('the same endpoint is tried again when it is the only one, for a status or a timeout; whatever the method', () => {
    const r = gw({ retryCodes: [500] });
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true, endpoints: 1 })), true);
    assert.equal(shouldRetry(r, attempt({ cause: 'timeout', sent: true, endpoints: 1 })), true);
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true, method: 'POST', endpoints: 1 })), true);
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true, method: 'POST', replayable: false })), false, 'a body not kept whole is not sent again');
    assert.equal(shouldRetry(r, attempt({ cause: 'status', sent: true, attempts: 4 })), false, 'attempts exhausted');
    assert.equal(keepsBody(r, 'POST'), true);
  });
  test('a connection failure it retried and could not recover from answers 503; timeouts stay 504; other routes 502', () => {
    const reset = classify({ code: 'ECONNRESET' });
    assert.equal(afterRetries(gw({}), reset).status, 503);
    assert.equal(afterRetries(gw({}), classify({ code: 'PORTICO_HEADERS_TIMEOUT' })).status, 504);
    assert.equal(afterRetries(rule(), reset).status, 502);
  });
});
