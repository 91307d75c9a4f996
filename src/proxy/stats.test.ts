import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEndpointStats } from './stats.js';

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
