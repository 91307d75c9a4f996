import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLimiters } from '../limiters.js';
import { clientKey, rateLimit } from './rate-limit.js';
import { sourceRange } from './source-range.js';
import { fakeExchange, type FakeExchange } from '../../testing/exchange.js';
import { Verdict, type PolicyEnv, type PolicyExchange } from './types.js';

const exchange = (clientIp: string): FakeExchange => fakeExchange({ clientIp });

/** The status each client gets (200 when the policy lets it through). */
const statusOf = (run: (ex: PolicyExchange) => Verdict, ip: string): number => {
  const ex = exchange(ip);
  const v = run(ex);
  assert.equal(v === Verdict.Answered, ex.answered !== null);
  return ex.answered?.status ?? 200;
};

describe('source ranges: deny first, then allow, 403', () => {
  test("ingress-nginx's e2e case: deny 18.1.0.0/16, 56.0.0.0/8 and allow 18.0.0.0/8, 55.0.0.0/8", () => {
    const p = sourceRange(['18.0.0.0/8', '55.0.0.0/8'], ['18.1.0.0/16', '56.0.0.0/8']);
    const run = (ex: PolicyExchange): Verdict => p.run(ex);
    assert.equal(statusOf(run, '18.1.0.1'), 403, 'deny wins over allow');
    assert.equal(statusOf(run, '10.10.10.10'), 403, 'outside the allow list');
    assert.equal(statusOf(run, '18.4.0.1'), 200);
    assert.equal(statusOf(run, '55.55.55.55'), 200);
    assert.equal(statusOf(run, '56.0.0.1'), 403);
  });

  test('deny only: everyone else passes; bare addresses are /32 and /128', () => {
    const p = sourceRange([], ['18.0.0.0/8', '56.0.0.1', '2001:db8::1']);
    const run = (ex: PolicyExchange): Verdict => p.run(ex);
    assert.deepEqual(['18.0.0.1', '56.0.0.1', '56.0.0.2', '2001:db8::1', '2001:db8::2'].map((ip) => statusOf(run, ip)), [403, 403, 200, 403, 200]);
  });

  test('an IPv4-mapped IPv6 client is judged as its IPv4 address, both ways', () => {
    const allow = sourceRange(['10.0.0.0/8'], []);
    const deny = sourceRange([], ['10.0.0.0/8']);
    assert.equal(statusOf((ex) => allow.run(ex), '::ffff:10.1.2.3'), 200);
    assert.equal(statusOf((ex) => allow.run(ex), '::ffff:a01:203'), 200);
    assert.equal(statusOf((ex) => deny.run(ex), '::ffff:10.1.2.3'), 403);
    assert.equal(statusOf((ex) => allow.run(ex), '::ffff:11.1.2.3'), 403);
    const mappedRange = sourceRange(['::ffff:10.0.0.0/104'], []);
    assert.equal(statusOf((ex) => mappedRange.run(ex), '10.1.2.3'), 200, 'a range written IPv4-mapped covers IPv4 clients');
    assert.equal(statusOf((ex) => mappedRange.run(ex), '11.1.2.3'), 403);
  });

  test('IPv6 ranges, and an IPv6 client where only IPv4 is allowed (deny all applies)', () => {
    const p = sourceRange(['fd00::/8', '10.0.0.0/8'], []);
    assert.equal(statusOf((ex) => p.run(ex), 'fd12::7'), 200);
    assert.equal(statusOf((ex) => p.run(ex), 'fe80::1'), 403);
    const v4 = sourceRange(['0.0.0.0/0'], []);
    assert.equal(statusOf((ex) => v4.run(ex), '::1'), 403);
  });

  test('a CIDR with host bits set covers its network, as nginx normalises it', () => {
    const p = sourceRange(['10.1.2.3/8'], []);
    assert.equal(statusOf((ex) => p.run(ex), '10.200.0.1'), 200);
  });

  test('a client address that is not an address (garbage from a trusted proxy) never passes a list', () => {
    for (const p of [sourceRange([], ['10.0.0.0/8']), sourceRange(['0.0.0.0/0'], [])]) {
      assert.equal(statusOf((ex) => p.run(ex), 'unknown'), 403);
      assert.equal(statusOf((ex) => p.run(ex), ''), 403);
    }
  });
});

function env(): PolicyEnv {
  return { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 429 };
}

describe('rate limits per client', () => {
  const base = { kind: 'rateLimit', id: 'default/x', rps: 0, rpm: 0, burstMultiplier: 5, connections: 0, exempt: [] } as const;

  test('limit-rps 1: eight instant requests give six 200s and two 503s (burst 5, nodelay)', () => {
    let t = 0;
    const p = rateLimit({ ...base, rps: 1 }, env(), () => t);
    const got = Array.from({ length: 8 }, () => statusOf((ex) => p.run(ex), '10.0.0.1'));
    assert.deepEqual(got, [200, 200, 200, 200, 200, 200, 503, 503]);
    assert.equal(statusOf((ex) => p.run(ex), '10.0.0.2'), 200, 'another client has its own bucket');
    t = 1000;
    assert.equal(statusOf((ex) => p.run(ex), '10.0.0.1'), 200);
    assert.equal(statusOf((ex) => p.run(ex), '10.0.0.1'), 503);
  });

  test('rps and rpm both apply; a request refused by one is counted by neither', () => {
    let t = 0;
    const e = env();
    const p = rateLimit({ ...base, rps: 10, rpm: 3, burstMultiplier: 0 }, e, () => t);
    const run = (ex: PolicyExchange): Verdict => p.run(ex);
    assert.equal(statusOf(run, '10.0.0.1'), 200);
    assert.equal(statusOf(run, '10.0.0.1'), 503, 'rps burst 0');
    t = 100;
    assert.equal(statusOf(run, '10.0.0.1'), 503, 'rps would pass, rpm (one per 20 s) does not');
    // the rps counter did not count that request: at 150 ms it still has room (it would not, had it)
    assert.equal(e.limiters.request('default/x', 10, false, 0).check('10.0.0.1', 150), 0);
    t = 20_000;
    assert.equal(statusOf(run, '10.0.0.1'), 200);
  });

  test('the counters are the Ingress\'s: two compiled routes (or two tables) of one Ingress share them', () => {
    const e = env();
    const t = 0;
    const a = rateLimit({ ...base, rps: 1, burstMultiplier: 1 }, e, () => t);
    const b = rateLimit({ ...base, rps: 1, burstMultiplier: 1 }, e, () => t);
    assert.deepEqual([statusOf((ex) => a.run(ex), '10.0.0.1'), statusOf((ex) => b.run(ex), '10.0.0.1'), statusOf((ex) => a.run(ex), '10.0.0.1')], [200, 200, 503]);
    const other = rateLimit({ ...base, id: 'default/y', rps: 1, burstMultiplier: 1 }, e, () => t);
    assert.equal(statusOf((ex) => other.run(ex), '10.0.0.1'), 200, 'another Ingress counts apart');
  });

  test('limit-allowlist clients are never limited; a mapped IPv6 client is its IPv4 address', () => {
    const p = rateLimit({ ...base, rps: 1, burstMultiplier: 0, exempt: ['10.0.0.0/8'] }, env(), () => 0);
    for (let i = 0; i < 5; i++) assert.equal(statusOf((ex) => p.run(ex), '::ffff:10.0.0.9'), 200);
    assert.equal(statusOf((ex) => p.run(ex), '192.168.0.1'), 200);
    assert.equal(statusOf((ex) => p.run(ex), '::ffff:192.168.0.1'), 503);
    assert.equal(clientKey('::ffff:192.168.0.1'), '192.168.0.1');
    assert.equal(clientKey('not an address'), '?');
  });

  test('limit-connections: requests in flight, released when each exchange is over', () => {
    const p = rateLimit({ ...base, connections: 2 }, env());
    const first = exchange('10.0.0.1');
    const second = exchange('10.0.0.1');
    assert.equal(p.run(first), Verdict.Continue);
    assert.equal(p.run(second), Verdict.Continue);
    assert.equal(statusOf((ex) => p.run(ex), '10.0.0.1'), 429, '--limit-conn-status-code');
    assert.equal(statusOf((ex) => p.run(ex), '10.0.0.2'), 200);
    for (const fn of first.done) fn();
    assert.equal(statusOf((ex) => p.run(ex), '10.0.0.1'), 200);
  });
});
