/** The pure parts of authentication: auth-cache-duration (nginx variables: model/nginx-vars.test.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { cacheDurations } from './auth.js';

describe('auth-cache-duration', () => {
  test('codes then times (summed), several entries; no code means nginx\'s 200 301 302', () => {
    assert.deepEqual(cacheDurations('200 202 401 5m'), [{ statuses: [200, 202, 401], ms: 300_000 }]);
    assert.deepEqual(cacheDurations('200 1h 30m, any 10s'), [{ statuses: [200], ms: 5_400_000 }, { statuses: ['any'], ms: 10_000 }]);
    assert.deepEqual(cacheDurations('5m'), [{ statuses: [200, 301, 302], ms: 300_000 }]);
    assert.deepEqual(cacheDurations(' 401  250ms ,'), [{ statuses: [401], ms: 250 }]);
  });

  test('a code after a time, codes alone, unknown units and words are refused', () => {
    for (const v of ['5m 200', '200', '200 5q', 'soon', '', ',', '200 0s', '2000 5m', '200 -5m']) assert.equal(cacheDurations(v), undefined, v);
  });
});
