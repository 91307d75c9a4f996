import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEndpointStats, mergeViews } from './stats.js';

test('recent errors count only the last minute; totals and consecutive errors are kept', () => {
  let now = 1_000_000;
  const s = createEndpointStats({ maxFails: 0, failTimeout: 0 }, () => now);
  s.failure('10.0.0.1:80', 'reset');
  s.failure('10.0.0.1:80', 'reset');
  s.success('10.0.0.1:80');
  s.failure('10.0.0.1:80', 'connect_refused');
  assert.deepEqual({ ...s.view('10.0.0.1:80'), lastErrorAt: null }, { requests: 4, errors: 3, recentErrors: 3, consecutiveErrors: 1, lastError: 'connect_refused', lastErrorAt: null, ejected: false, ejectedUntil: null });
  now += 61_000;
  assert.equal(s.view('10.0.0.1:80').recentErrors, 0);
  assert.equal(s.view('10.0.0.1:80').errors, 3);
  s.retain(new Set());
  assert.equal(s.view('10.0.0.1:80').requests, 0);
});

test('maxFails consecutive failures eject an endpoint for failTimeout; a success resets the count', () => {
  let now = 1_000_000;
  const s = createEndpointStats({ maxFails: 3, failTimeout: 10_000 }, () => now);
  assert.equal(s.failure('a', 'reset'), false);
  assert.equal(s.failure('a', 'reset'), false);
  s.success('a');
  assert.equal(s.failure('a', 'reset'), false);
  assert.equal(s.failure('a', 'reset'), false);
  assert.equal(s.failure('a', 'connect_refused'), true);
  assert.equal(s.ejected('a'), true);
  assert.equal(s.view('a').ejected, true);
  now += 10_001;
  assert.equal(s.ejected('a'), false);
  assert.equal(s.failure('a', 'reset'), false, 'one failure after the timeout does not re-eject at once');
});

test('views from several workers merge: counts add up, the latest error wins, ejected in any worker is ejected', () => {
  let now = 1_000_000;
  const clock = (): number => now;
  const w1 = createEndpointStats({ maxFails: 2, failTimeout: 10_000 }, clock);
  const w2 = createEndpointStats({ maxFails: 2, failTimeout: 10_000 }, clock);
  const k = '10.0.0.1:80';
  w1.success(k);
  w1.failure(k, 'reset');
  now += 1000;
  w2.success(k);
  w2.failure(k, 'connect_refused');
  w2.failure(k, 'connect_refused'); // ejects in w2 only
  const m = mergeViews([w1.view(k), w2.view(k)]);
  assert.equal(m.requests, 5);
  assert.equal(m.errors, 3);
  assert.equal(m.recentErrors, 3);
  assert.equal(m.consecutiveErrors, 1, 'the largest streak of any worker (w2 reset its own on ejecting)');
  assert.equal(m.lastError, 'connect_refused');
  assert.equal(m.lastErrorAt, new Date(now).toISOString());
  assert.equal(m.ejected, true);
  assert.equal(m.ejectedUntil, new Date(now + 10_000).toISOString());
  assert.deepEqual(mergeViews([]), createEndpointStats().view(k), 'no worker has seen it: a never-used view');
  assert.deepEqual(mergeViews([w1.view(k)]), w1.view(k), 'one view merges to itself');
});

test('asking whether an endpoint that was never ejected is ejected reads no clock (the balancer asks per request)', () => {
  let reads = 0;
  const s = createEndpointStats({ maxFails: 1, failTimeout: 1000 }, () => (reads++, 5_000));
  s.success('a');
  assert.equal(s.ejected('a'), false);
  assert.equal(s.ejected('b'), false);
  assert.equal(reads, 0);
  assert.equal(s.failure('a', 'reset'), true);
  assert.equal(s.ejected('a'), true);
});
