import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../model/types.js';
import { createBalancer } from './balance.js';

const backend = (n: number): Backend => ({ id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol: 'HTTP', endpoints: Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}`, port: 80, terminating: false })) });
const pickMany = (b: ReturnType<typeof createBalancer>, be: Backend, k: number): string[] => Array.from({ length: k }, () => b.pick(be.id, be.endpoints)!.ip);

test('round-robin visits every endpoint in turn', () => {
  assert.deepEqual(pickMany(createBalancer(), backend(3), 6), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
});

test('ejected endpoints are skipped', () => {
  const b = createBalancer((k) => k === '10.0.0.2:80');
  assert.deepEqual(pickMany(b, backend(3), 4), ['10.0.0.1', '10.0.0.3', '10.0.0.1', '10.0.0.3']);
});

test('when every endpoint is ejected, all are used rather than none', () => {
  const b = createBalancer(() => true);
  assert.deepEqual(new Set(pickMany(b, backend(3), 6)), new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']));
});

test('a retry avoids the endpoint that just failed when another exists', () => {
  const b = createBalancer();
  const be = backend(2);
  const first = b.pick(be.id, be.endpoints)!;
  assert.notEqual(b.pick(be.id, be.endpoints, first)!.ip, first.ip);
  assert.equal(b.pick('ns/s:80', backend(1).endpoints, { ip: '10.0.0.1', port: 80, terminating: false })!.ip, '10.0.0.1', 'with one endpoint, retry it');
});

test('no endpoints: undefined', () => assert.equal(createBalancer().pick('ns/s:80', backend(0).endpoints), undefined));

// --- strategies compiled per route: ewma, hash, subsets, sticky -----------------------------

import { fakeExchange } from '../testing/exchange.js';
import type { Affinity, Balancing, Endpoint } from '../model/types.js';
import { createPicker, type Balancer, type StickyRequest } from './balance.js';
import { createEwma } from './ewma.js';
import { cookieValue, persistentKey } from './sticky.js';

interface FakeRequest extends StickyRequest {
  setCookie: string | null;
}
function request(o: { url?: string; cookie?: string; headers?: Record<string, string>; clientIp?: string; scheme?: 'http' | 'https' } = {}): FakeRequest {
  const headers: Record<string, string> = { ...(o.headers ?? {}), ...(o.cookie !== undefined ? { cookie: o.cookie } : {}) };
  const ex = fakeExchange({ target: o.url ?? '/', headers, host: 'shop.test', clientIp: o.clientIp ?? '192.0.2.1', scheme: o.scheme ?? 'http' });
  return Object.assign(ex, {
    cookie: (n: string) => cookieValue(headers.cookie, n),
    setCookie: null as string | null,
    setAffinityCookie(v: string) {
      this.setCookie = v;
    },
  });
}
const eps = (n: number, from = 1): Endpoint[] => Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + from}`, port: 8080, terminating: false }));
const web = (endpoints: Endpoint[]) => ({ id: 'shop/web:80', namespace: 'shop', service: 'web', port: '80', protocol: 'HTTP' as const, endpoints });
function picker(b: Balancing | undefined, endpoints: Endpoint[], balancer: Balancer = createBalancer(), algorithm: 'round_robin' | 'ewma' = 'round_robin') {
  const slot = { endpoints };
  const p = createPicker(b, { balancer, algorithm, backend: web(endpoints), slot, routePath: '/shop' });
  return { p, slot, balancer };
}

test('a route without balancing under --load-balance=round_robin has no picker: the round-robin path, unchanged', () => {
  assert.equal(picker(undefined, eps(3)).p, null);
  assert.notEqual(picker(undefined, eps(3), createBalancer(), 'ewma').p, null, '--load-balance=ewma');
  assert.equal(picker({ algorithm: 'round_robin' }, eps(3), createBalancer(), 'ewma').p, null, 'the annotation beats the flag');
});

test('upstream-hash-by: one key, one endpoint, on every replica; an ejected endpoint is passed over to the next on the ring', () => {
  const list = eps(5);
  const a = picker({ hashBy: '$request_uri' }, list).p!;
  const b = picker({ hashBy: '$request_uri' }, [...list]).p!; // another replica
  const seen = new Set<string>();
  for (let i = 0; i < 50; i++) {
    const ip = a.pick(request({ url: '/same?x=1' }), undefined)!.ip;
    seen.add(ip);
    assert.equal(b.pick(request({ url: '/same?x=1' }), undefined)!.ip, ip);
  }
  assert.equal(seen.size, 1);
  const owner = [...seen][0]!;
  const ejecting = picker({ hashBy: '$request_uri' }, list, createBalancer((k) => k === `${owner}:8080`)).p!;
  const other = ejecting.pick(request({ url: '/same?x=1' }), undefined)!.ip;
  assert.notEqual(other, owner);
  assert.equal(ejecting.pick(request({ url: '/same?x=1' }), undefined)!.ip, other, 'consistently the next one');
  assert.notEqual(a.pick(request({ url: '/same?x=1' }), { ip: owner, port: 8080, terminating: false })!.ip, owner, 'a retry avoids the failed endpoint');
  const all = picker({ hashBy: '$request_uri' }, list, createBalancer(() => true)).p!;
  assert.equal(all.pick(request({ url: '/same?x=1' }), undefined)!.ip, owner, 'everything ejected: the key still decides');
});

test('upstream-hash-by spreads distinct keys, and combines variables', () => {
  const p = picker({ hashBy: '$arg_user$http_x_tenant' }, eps(4)).p!;
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(p.pick(request({ url: `/?user=${i}`, headers: { 'x-tenant': 't' } }), undefined)!.ip);
  assert.equal(seen.size, 4);
  const q = picker({ hashBy: '$remote_addr' }, eps(4)).p!;
  const one = q.pick(request({ clientIp: '198.51.100.7', url: '/a' }), undefined)!.ip;
  assert.equal(q.pick(request({ clientIp: '198.51.100.7', url: '/b' }), undefined)!.ip, one);
});

test('upstream-hash-by-subset: a key always lands in one subset of the given size', () => {
  const p = picker({ hashBy: '$request_uri', hashSubsetSize: 3 }, eps(6)).p!;
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(p.pick(request({ url: '/same' }), undefined)!.ip);
  assert.equal(seen.size, 3);
});

test('ewma: the better of two by response time; a slow endpoint gets little traffic, an ejected one none', () => {
  const list = eps(3);
  const { p } = picker({ algorithm: 'ewma' }, list);
  for (const ep of list) p!.observe!(ep, ep.ip === '10.0.0.2' ? 500 : 5);
  const counts = new Map<string, number>();
  for (let i = 0; i < 3000; i++) {
    const ep = p!.pick(request(), undefined)!;
    counts.set(ep.ip, (counts.get(ep.ip) ?? 0) + 1);
  }
  // the slow one wins only when drawn with itself, which never happens: two distinct draws
  assert.equal(counts.get('10.0.0.2') ?? 0, 0);
  const ejecting = picker({ algorithm: 'ewma' }, list, createBalancer((k) => k === '10.0.0.1:8080')).p!;
  for (let i = 0; i < 300; i++) assert.notEqual(ejecting.pick(request(), undefined)!.ip, '10.0.0.1');
});

test('ewma scores decay towards 0 with idle time, new endpoints start at the mean (slow start), gone ones are forgotten', () => {
  let t = 0;
  const e = createEwma(() => t, () => 0.5);
  const [a, b, c] = eps(3) as [Endpoint, Endpoint, Endpoint];
  e.pick([a, b], () => true);
  e.observe(a, 100);
  e.observe(b, 300);
  assert.equal(e.score(a), 100);
  t = 10_000;
  assert.ok(Math.abs(e.score(a) - 100 / Math.E) < 1e-9, 'one decay time later: 1/e');
  e.observe(a, 200);
  const moved = 100 / Math.E + 200 * (1 - 1 / Math.E);
  assert.ok(Math.abs(e.score(a) - moved) < 1e-9, 'the average moves towards the new sample');
  e.pick([a, b, c], () => true);
  const mean = (moved + 300) / 2;
  assert.ok(Math.abs(e.score(c) - mean) < 1e-6, `slow start at the mean: ${e.score(c)} vs ${mean}`);
  e.pick([c], () => true);
  e.pick([a, b, c], () => true);
  assert.equal(e.score(a), e.score(c), 'a came back: it starts at the mean of what is known (c alone)');
});

const sticky = (a: Partial<Affinity> = {}): Balancing => ({ affinity: { mode: 'balanced', name: 'SERVERID', ...a } });
const cookieOf = (r: FakeRequest): string => (r.setCookie as string).split(';')[0]!.slice('SERVERID='.length);

for (const mode of ['balanced', 'persistent'] as const) {
  test(`${mode} affinity: a new session gets a cookie; any replica, before or after a table swap, sends it to the same endpoint`, () => {
    const list = eps(5);
    const first = picker(sticky({ mode }), list).p!;
    const r = request();
    const ep = first.pick(r, undefined)!;
    assert.match(r.setCookie!, /^SERVERID=[^;|]+\|[0-9a-f]{32}; Path=\/shop; HttpOnly$/);
    const value = cookieOf(r);
    if (mode === 'persistent') assert.equal(value.split('|')[0], persistentKey(web(list), `${ep.ip}:8080`));
    // another replica (its own balancer), and a swapped table (new lists, same endpoints, reversed)
    for (const p of [picker(sticky({ mode }), [...list]).p!, picker(sticky({ mode }), [...list].reverse()).p!]) {
      for (let i = 0; i < 20; i++) {
        const again = request({ cookie: `SERVERID=${value}` });
        assert.equal(p.pick(again, undefined)!.ip, ep.ip);
        assert.equal(again.setCookie, null, 'an honoured cookie is not set again');
      }
    }
  });

  test(`${mode} affinity: when the cookie's endpoint is gone or ejected, a new one is picked and the cookie re-set`, () => {
    const list = eps(4);
    const r = request();
    const ep = picker(sticky({ mode }), list).p!.pick(r, undefined)!;
    const value = cookieOf(r);
    const without = list.filter((e) => e.ip !== ep.ip);
    const again = request({ cookie: `SERVERID=${value}` });
    const next = picker(sticky({ mode }), without).p!.pick(again, undefined)!;
    if (mode === 'persistent') {
      assert.notEqual(next.ip, ep.ip);
      assert.notEqual(again.setCookie, null, 're-set');
      assert.notEqual(cookieOf(again), value);
    } else {
      // balanced: the session key lands on the ring of what is left; no cookie change is needed
      assert.notEqual(next.ip, ep.ip);
    }
    const ejected = request({ cookie: `SERVERID=${value}` });
    const other = picker(sticky({ mode }), list, createBalancer((k) => k === `${ep.ip}:8080`)).p!.pick(ejected, undefined)!;
    assert.notEqual(other.ip, ep.ip);
    assert.notEqual(ejected.setCookie, null, 'ejected: re-picked and re-set');
  });
}

test('affinity: a retry keeps the session endpoint unless change-on-failure, which re-picks and re-sets the cookie', () => {
  const list = eps(3);
  const r = request();
  const p = picker(sticky({ mode: 'persistent' }), list).p!;
  const ep = p.pick(r, undefined)!;
  const value = cookieOf(r);
  const retry = request({ cookie: `SERVERID=${value}` });
  assert.equal(p.pick(retry, ep)!.ip, ep.ip);
  assert.equal(retry.setCookie, null);
  const c = picker(sticky({ mode: 'persistent', changeOnFailure: true }), list).p!;
  const retry2 = request({ cookie: `SERVERID=${value}` });
  assert.notEqual(c.pick(retry2, ep)!.ip, ep.ip);
  assert.notEqual(retry2.setCookie, null);
});

test("affinity: affinitized() tells this backend's cookie from another backend's (the canary decision)", () => {
  const list = eps(2);
  const p = picker(sticky(), list).p!;
  const r = request();
  p.pick(r, undefined);
  assert.equal(p.affinitized!(request({ cookie: `SERVERID=${cookieOf(r)}` })), true);
  assert.equal(p.affinitized!(request({ cookie: `SERVERID=${cookieOf(r).split('|')[0]}|other` })), false);
  assert.equal(p.affinitized!(request()), false);
});

test('a garbage cookie never throws: balanced maps it on the ring, persistent starts a new session', () => {
  for (const mode of ['balanced', 'persistent'] as const) {
    const p = picker(sticky({ mode }), eps(3)).p!;
    for (const v of ['', '|', '||||', 'x'.repeat(10_000), '%00', '"', '\u{1F600}']) assert.ok(p.pick(request({ cookie: `SERVERID=${v}` }), undefined));
  }
  assert.equal(picker(sticky(), []).p!.pick(request(), undefined), undefined, 'no endpoints: nothing, and no cookie');
});

test('retain forgets the state of backends the table dropped', () => {
  const b = createBalancer();
  const p = picker({ hashBy: '$uri' }, eps(3), b).p!;
  p.pick(request(), undefined);
  b.pick('shop/web:80', eps(3));
  b.retain(new Set(['other']));
  let built = 0;
  b.built('shop/web:80', 'ring', eps(3), () => built++);
  assert.equal(built, 1, 'rebuilt after being forgotten');
});
