import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Canary } from '../model/types.js';
import type { Picker, StickyRequest } from './balance.js';
import { compileCanary, type Side } from './canary.js';
import { cookieValue } from './sticky.js';

const req = (headers: Record<string, string> = {}): StickyRequest =>
  ({ header: (n: string) => headers[n], cookie: (n: string) => cookieValue(headers.cookie, n), setAffinityCookie: () => undefined }) as unknown as StickyRequest;
const side = (endpoints = 1, affinitized = false): Side => ({ slot: { endpoints: Array.from({ length: endpoints }) }, pick: { pick: () => undefined, affinitized: () => affinitized } as Picker });
const base: Canary = { backend: 'ns/canary:80', source: { kind: 'Ingress', namespace: 'ns', name: 'c' }, weight: 0, total: 100 };
const decide = (c: Partial<Canary>, headers: Record<string, string> = {}, main = side(), canary = side(), random = () => 0.5): boolean => compileCanary({ ...base, ...c }, random)(req(headers), main, canary);

// the cases of ingress-nginx's test/e2e/annotations/canary.go, by number in the research notes
test('by header: always / never / anything else falls through (C4)', () => {
  const h = { header: 'canarybyheader' };
  assert.equal(decide(h, { canarybyheader: 'always' }), true);
  assert.equal(decide(h, { canarybyheader: 'never' }), false);
  assert.equal(decide(h, { canarybyheader: 'badheadervalue' }), false);
  assert.equal(decide({ ...h, weight: 100 }, { canarybyheader: 'badheadervalue' }), true, 'fell through to the weight');
  assert.equal(decide({ ...h, weight: 100 }, { canarybyheader: 'never' }), false, 'never beats the weight');
});

test('by header value: only the exact value; always/never mean nothing then (C5, C9)', () => {
  const h = { header: 'x', headerValue: 'DoCanary' };
  assert.equal(decide(h, { x: 'DoCanary' }), true);
  for (const v of ['always', 'never', 'otherheadervalue', 'docanary']) assert.equal(decide(h, { x: v }), false, v);
  assert.equal(decide({ ...h, cookie: 'c' }, { x: 'otherheadervalue', cookie: 'c=always' }), true, 'falls through to the cookie');
});

test('by header pattern: RE2, searched anywhere in the value; an invalid pattern sends to the main backend and stops there (C6, C8)', () => {
  const h = { header: 'x', headerPattern: '^Do[A-Z][a-z]+y$' };
  assert.equal(decide(h, { x: 'DoCanary' }), true);
  assert.equal(decide(h, { x: 'Docanary' }), false);
  assert.equal(decide({ header: 'x', headerPattern: 'anary' }, { x: 'DoCanary' }), true, 'unanchored, as ngx.re.match');
  assert.equal(decide({ header: 'x', headerPatternInvalid: true, cookie: 'c', weight: 100 }, { x: 'DoCanary', cookie: 'c=always' }), false);
  assert.equal(decide({ header: 'x', headerPatternInvalid: true, weight: 100 }, {}), true, 'without the header the weight still applies');
});

test('by cookie: always / never / anything else falls through (C10)', () => {
  const c = { cookie: 'Canary-By-Cookie' };
  assert.equal(decide(c, { cookie: 'Canary-By-Cookie=always' }), true);
  assert.equal(decide(c, { cookie: 'Canary-By-Cookie=never' }), false);
  assert.equal(decide(c, { cookie: 'Canary-By-Cookie=badcookievalue' }), false);
  assert.equal(decide({ ...c, weight: 100 }, { cookie: 'Canary-By-Cookie=never' }), false);
});

test('header beats cookie beats weight', () => {
  const all = { header: 'x', cookie: 'c', weight: 100 };
  assert.equal(decide(all, { x: 'never', cookie: 'c=always' }), false);
  assert.equal(decide(all, { x: 'always', cookie: 'c=never' }), true);
  assert.equal(decide(all, { cookie: 'c=never' }), false);
});

test('weight: 0 never, total always, weight/total of the draws otherwise; any total (C11-C14)', () => {
  assert.equal(decide({ weight: 0 }, {}, side(), side(), () => 0), false);
  assert.equal(decide({ weight: 100 }, {}, side(), side(), () => 0.9999), true);
  assert.equal(decide({ weight: 1000, total: 1000 }, {}, side(), side(), () => 0.9999), true);
  assert.equal(decide({ weight: 10 }, {}, side(), side(), () => 0.099), true);
  assert.equal(decide({ weight: 10 }, {}, side(), side(), () => 0.1), false);
  assert.equal(decide({ weight: 25, total: 50 }, {}, side(), side(), () => 0.49), true);
  assert.equal(decide({ weight: 25, total: 50 }, {}, side(), side(), () => 0.5), false);
  let n = 0;
  const rule = compileCanary({ ...base, weight: 100, total: 200 });
  for (let i = 0; i < 10_000; i++) if (rule(req(), side(), side())) n++;
  assert.ok(n > 4500 && n < 5500, `${n} of 10000`);
});

test('affinity first: a session of the main backend stays, one of the canary stays; a canary without endpoints takes nothing (C18, C19)', () => {
  assert.equal(decide({ weight: 100 }, {}, side(1, true), side()), false);
  assert.equal(decide({ header: 'x' }, { x: 'always' }, side(1, true), side()), false, 'the main session beats the header');
  assert.equal(decide({ header: 'x' }, { x: 'never' }, side(), side(1, true)), true, "the canary's session beats the header");
  assert.equal(decide({ weight: 100 }, {}, side(), side(0)), false);
  assert.equal(decide({ weight: 100 }, {}, side(0), side()), false, 'the main backend has no endpoints: it answers 503, as ingress-nginx');
});
