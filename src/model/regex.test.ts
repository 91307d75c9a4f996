/** Users' patterns on RE2: anchors, case, captures (one engine run) and what RE2 refuses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePattern, patternProblem } from './regex.js';

test('anchored at the start, or on the whole input', () => {
  assert.equal(compilePattern('/id/[0-9]+', 'start').test('/id/123a'), true);
  assert.equal(compilePattern('/id/[0-9]+', 'start').test('/x/id/1'), false);
  assert.equal(compilePattern('[0-9]+', 'full').test('123a'), false);
  assert.equal(compilePattern('[0-9]+', 'full').test('123'), true);
});

test('ignore case is per pattern', () => {
  assert.equal(compilePattern('/api', 'start', true).test('/API'), true);
  assert.equal(compilePattern('/api', 'start').test('/API'), false);
});

test('captures: $0 first, a group that did not take part is empty, offsets are UTF-16 units', () => {
  assert.deepEqual(compilePattern('/something(/|$)(.*)', 'start', true).exec('/SomeThing/new/x'), ['/SomeThing/new/x', '/', 'new/x']);
  assert.deepEqual(compilePattern('/something(/|$)(.*)', 'start').exec('/something'), ['/something', '', '']);
  assert.deepEqual(compilePattern('/(a)|/(b)', 'start').exec('/b'), ['/b', '', 'b']);
  assert.deepEqual(compilePattern('/é/(.*)', 'start').exec('/é/日本/🙂'), ['/é/日本/🙂', '日本/🙂']);
  assert.equal(compilePattern('/x(.*)', 'start').exec('/y'), null);
});

test('leftmost-first alternation, as PCRE (not POSIX longest)', () => {
  assert.deepEqual(compilePattern('/(a|ab)(.*)', 'start').exec('/abc'), ['/abc', 'a', 'bc']);
});

test('what RE2 cannot express is refused with its message, never run elsewhere', () => {
  for (const p of ['/(?!admin)', '/(a)\\1', '/(?<=x)y', '/(', '/a++']) assert.notEqual(patternProblem(p), null, p);
  assert.equal(patternProblem('/something(/|$)(.*)'), null);
});

test('search finds the pattern anywhere (canary-by-header-pattern, auth-tls-match-cn), with captures', () => {
  const p = compilePattern('v([0-9]+)', 'search');
  assert.deepEqual(p.exec('beta-v12-rc'), ['v12', '12']);
  assert.equal(p.test('no version'), false);
  assert.equal(compilePattern('^CN=alice', 'search').test('O=x,CN=alice'), false);
  assert.equal(compilePattern('CN=alice', 'search').test('O=x,CN=alice'), true);
  // the start anchor does not search
  assert.equal(compilePattern('v([0-9]+)', 'start').test('beta-v12'), false);
});
