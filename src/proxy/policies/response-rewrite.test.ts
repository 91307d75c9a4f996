/** proxy_redirect, proxy_cookie_domain and proxy_cookie_path on the pod's answer head, as nginx applies them. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ResponseRewritePolicy } from '../../model/types.js';
import { chainResponse, responseRewrite } from './response-rewrite.js';
import { fakeExchange } from '../../testing/exchange.js';

/** What the variables read: the request's Host and scheme. */
const ex = fakeExchange({ host: 'shop.example.com', scheme: 'https' });

function edit(p: Omit<ResponseRewritePolicy, 'kind'>, head: string[], proxied = true): string[] {
  const h = [...head];
  responseRewrite({ kind: 'responseRewrite', ...p }).edit(302, h, ex, proxied);
  return h;
}

describe('proxy_redirect (proxy-redirect-from / -to)', () => {
  const redirect = { from: 'http://internal:8080/', to: '$scheme://$host/' };
  test('a Location that starts with the text gets the replacement, variables expanded', () => {
    assert.deepEqual(edit({ redirect }, ['Location', 'http://internal:8080/login?next=/a']), ['Location', 'https://shop.example.com/login?next=/a']);
  });
  test('the comparison is case-sensitive and anchored at the start, as nginx\'s', () => {
    assert.deepEqual(edit({ redirect }, ['location', 'HTTP://INTERNAL:8080/x']), ['location', 'HTTP://INTERNAL:8080/x']);
    assert.deepEqual(edit({ redirect }, ['location', '/go?to=http://internal:8080/']), ['location', '/go?to=http://internal:8080/']);
  });
  test('ingress-nginx\'s own e2e values: hello.com only matches a Location that starts with it', () => {
    const p = { redirect: { from: 'hello.com', to: 'goodbye.com' } };
    assert.deepEqual(edit(p, ['Location', 'hello.com/x']), ['Location', 'goodbye.com/x']);
    assert.deepEqual(edit(p, ['Location', 'http://hello.com/x']), ['Location', 'http://hello.com/x']);
  });
  test('the URL of a Refresh header, after url= in any case', () => {
    assert.deepEqual(edit({ redirect }, ['Refresh', '5; URL=http://internal:8080/done']), ['Refresh', '5; URL=https://shop.example.com/done']);
    assert.deepEqual(edit({ redirect }, ['Refresh', '5']), ['Refresh', '5']);
  });
  test('Portico\'s own answers are left alone (nginx rewrites proxied answers only)', () => {
    assert.deepEqual(edit({ redirect }, ['location', 'http://internal:8080/'], false), ['location', 'http://internal:8080/']);
  });
});

describe('proxy_cookie_domain and proxy_cookie_path', () => {
  const both = { cookieDomain: { from: 'localhost', to: 'example.org' }, cookiePath: { from: '/one/', to: '/' } };
  test('ingress-nginx\'s own e2e values: Domain and Path of every Set-Cookie, the cookie itself untouched', () => {
    const out = edit(both, ['Set-Cookie', 'sid=/one/x; Domain=localhost; Path=/one/app; HttpOnly', 'set-cookie', 'b=2; path=/one/; domain=.LOCALHOST']);
    assert.deepEqual(out, ['Set-Cookie', 'sid=/one/x; Domain=example.org; Path=/app; HttpOnly', 'set-cookie', 'b=2; path=/; domain=example.org']);
  });
  test('the domain must be equal (a leading dot and case ignored), the path a case-sensitive prefix', () => {
    const out = edit(both, ['set-cookie', 'a=1; Domain=sub.localhost; Path=/ONE/x', 'set-cookie', 'c=3']);
    assert.deepEqual(out, ['set-cookie', 'a=1; Domain=sub.localhost; Path=/ONE/x', 'set-cookie', 'c=3']);
  });
  test('other headers are never touched', () => {
    assert.deepEqual(edit(both, ['x-path', 'Path=/one/', 'content-type', 'text/html']), ['x-path', 'Path=/one/', 'content-type', 'text/html']);
  });
});

test('chained with another editor: both run, the rewrite first', () => {
  const order: string[] = [];
  const a = { edit: () => void order.push('a') };
  const b = { edit: () => void order.push('b') };
  chainResponse(a, b)?.edit(200, [], ex, true);
  assert.deepEqual(order, ['a', 'b']);
  assert.equal(chainResponse(null, b), b);
  assert.equal(chainResponse(a, null), a);
  assert.equal(chainResponse(null, null), null);
});
