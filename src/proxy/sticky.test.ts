import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../model/types.js';
import { backendKey, cookieTime, cookieValue, cookieWriter, md5hex, persistentKey, sameSiteNoneCompatible, splitValue, upstreamName } from './sticky.js';

const web: Backend = { id: 'shop/web:80', namespace: 'shop', service: 'web', port: '80', protocol: 'HTTP', endpoints: [] };

test("the cookie value is derived as ingress-nginx derives it: any replica with the same table reads it", () => {
  assert.equal(upstreamName(web), 'shop-web-80');
  assert.equal(backendKey(web), md5hex(md5hex('shop-web-80') + 'shop-web-80'));
  assert.equal(persistentKey(web, '10.0.0.7:8080'), md5hex('shop-web-8010.0.0.7:8080'));
  // fixed values: a change of derivation would break every session in flight during an upgrade
  assert.equal(persistentKey(web, '10.0.0.7:8080'), 'f6315404575569fba92b499c4048c81c');
  assert.equal(backendKey(web), 'ad0f3520c2b4ae4ad7cae6da8d3345ed');
  assert.notEqual(persistentKey(web, '10.0.0.7:8080'), persistentKey({ ...web, service: 'web2' }, '10.0.0.7:8080'), 'salted by the backend');
});

test('a cookie value splits into its session and backend keys', () => {
  assert.deepEqual(splitValue('abc|def'), { session: 'abc', backend: 'def' });
  assert.deepEqual(splitValue('abc'), { session: 'abc', backend: undefined });
  assert.deepEqual(splitValue('a|b|c'), { session: 'a', backend: 'b' });
});

test('cookies are read from the Cookie header by exact name, the first one winning', () => {
  assert.equal(cookieValue('a=1; SERVERID=xyz|k; b=2', 'SERVERID'), 'xyz|k');
  assert.equal(cookieValue('SERVERIDX=1; SERVERID=2', 'SERVERID'), '2');
  assert.equal(cookieValue('x=1;y=2', 'y'), '2');
  assert.equal(cookieValue('x="quoted"', 'x'), 'quoted');
  assert.equal(cookieValue('x=1', 'y'), undefined);
  assert.equal(cookieValue(undefined, 'y'), undefined);
  assert.equal(cookieValue('=;;; ;=x; novalue; y=', 'y'), '');
});

test('Set-Cookie carries every attribute in ingress-nginx order; HttpOnly always, Secure on HTTPS or when asked', () => {
  const now = Date.UTC(2026, 0, 5, 10, 0, 0); // a Monday
  const full = cookieWriter({ mode: 'persistent', name: 'SERVERID', path: '/app', domain: 'example.com', maxAge: 60, expires: 172800, sameSite: 'Lax', secure: true }, '/ignored');
  assert.equal(full('k|b', false, undefined, now), 'SERVERID=k|b; Expires=Wed, 07-Jan-26 10:00:00 GMT; Max-Age=60; Domain=example.com; Path=/app; Secure; HttpOnly; SameSite=Lax');
  const plain = cookieWriter({ mode: 'balanced', name: 'INGRESSCOOKIE' }, '/shop');
  assert.equal(plain('k|b', false, undefined, now), 'INGRESSCOOKIE=k|b; Path=/shop; HttpOnly');
  assert.equal(plain('k|b', true, undefined, now), 'INGRESSCOOKIE=k|b; Path=/shop; Secure; HttpOnly');
  assert.equal(cookieWriter({ mode: 'balanced', name: 'C' }, '')('v', false, undefined, now), 'C=v; Path=/; HttpOnly', "a default backend's cookie is for /");
});

test('conditional SameSite=None leaves it out for the user agents that reject it', () => {
  const w = cookieWriter({ mode: 'balanced', name: 'C', sameSite: 'None', conditionalSameSiteNone: true }, '/');
  const old = 'Mozilla/5.0 (iPhone; CPU iPhone OS 12_0 like Mac OS X) AppleWebKit/605.1.15';
  assert.equal(w('v', true, old, 0), 'C=v; Path=/; Secure; HttpOnly');
  assert.equal(w('v', true, 'Mozilla/5.0 Chrome/120.0 Safari/537.36', 0), 'C=v; Path=/; Secure; HttpOnly; SameSite=None');
  assert.equal(sameSiteNoneCompatible('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/12.1.2 Safari/605.1.15'), false);
  assert.equal(sameSiteNoneCompatible('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_14_6) Chrome/90.0 Safari/537.36'), true);
  assert.equal(sameSiteNoneCompatible('Chrome/51.0.2704.103'), false);
  assert.equal(sameSiteNoneCompatible(undefined), true);
});

test("cookie times are nginx's cookie_time", () => {
  assert.equal(cookieTime(Date.UTC(2010, 10, 18, 11, 27, 35)), 'Thu, 18-Nov-10 11:27:35 GMT');
});
