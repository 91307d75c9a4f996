/** Splitting a request target into its path and query: the one place every policy and the exchange go through. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { queryOf, queryStart, targetPath, targetQuery } from './request-target.js';

/** [target, path, query with its `?`, query alone]. */
const CASES: readonly (readonly [string, string, string, string])[] = [
  ['/a/b', '/a/b', '', ''], // no query
  ['/a?x=1&y=2', '/a', '?x=1&y=2', 'x=1&y=2'],
  ['/a?', '/a', '?', ''], // `?` as the last character: an empty query, whose mark a rewrite keeps
  ['/?', '/', '?', ''],
  ['/a?x=?&y=a?b', '/a', '?x=?&y=a?b', 'x=?&y=a?b'], // several: the first one splits, the rest are query
  ['/a??', '/a', '??', '?'],
  ['/a#f', '/a#f', '', ''], // no fragment on the wire: `#` is an ordinary byte
  ['/a#f?x', '/a#f', '?x', 'x'],
  ['/a?x#f', '/a', '?x#f', 'x#f'],
  ['', '', '', ''],
];

describe('queryStart and its slices', () => {
  for (const [target, path, query, args] of CASES) {
    test(`${JSON.stringify(target)}: path ${JSON.stringify(path)}, query ${JSON.stringify(query)}`, () => {
      assert.equal(queryStart(target), path.length);
      assert.equal(targetPath(target), path);
      assert.equal(targetQuery(target), query);
      assert.equal(queryOf(target), args);
    });
  }

  test('any string: the path and the query with its mark are the target again, the path has no `?`, the query starts with one or is empty', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('/', '?', '#', '&', '=', 'a', '%') }), (t) => {
        const path = targetPath(t);
        const query = targetQuery(t);
        assert.equal(path + query, t);
        assert.ok(!path.includes('?'));
        assert.ok(query === '' || query.startsWith('?'));
        assert.equal(queryOf(t), query.slice(1));
      }),
      { numRuns: 500 },
    );
  });
});
