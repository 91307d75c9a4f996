/** Finishing a pending auth check: a throw is a 500, never a pass, and never escapes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fakeExchange } from '../../testing/exchange.js';
import { settle } from './settle.js';

describe('settle', () => {
  test('what finishes the check runs; nothing more is answered', () => {
    const ex = fakeExchange();
    settle(ex, 'failed\n', () => ex.resume());
    assert.equal(ex.resumed, 1);
    assert.deepEqual(ex.answers, []);
  });

  test('a throw answers 500 auth_error with the body given, and does not resume the request', () => {
    const ex = fakeExchange();
    settle(ex, 'failed\n', () => {
      throw new Error('boom');
    });
    assert.equal(ex.resumed, 0);
    assert.deepEqual(ex.answers, [{ status: 500, body: 'failed\n', type: 'text/plain; charset=utf-8', cause: 'auth_error', headers: [] }]);
  });

  test('an answer that throws too (the client is gone) is dropped, not thrown into the caller', () => {
    const ex = fakeExchange();
    ex.answer = () => {
      throw new Error('gone');
    };
    assert.doesNotThrow(() =>
      settle(ex, 'failed\n', () => {
        throw new Error('boom');
      }),
    );
  });
});
