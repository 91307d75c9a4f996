/** Which pools and stats an endpoint patch releases: exactly those no live route reaches any more. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Backend, BackendProtocol, Endpoint } from '../model/types.js';
import { createEndpointState } from './endpoints.js';
import { createPools, endpointKey, poolsByEndpoint, type Dispatch } from './pools.js';
import { createRetention } from './retention.js';
import type { BackendTarget } from './route.js';

type Reached = Pick<BackendTarget, 'slot' | 'dispatch' | 'upgrade'>;
import { createEndpointStats } from './stats.js';

const ep = (n: number, port = 8080): Endpoint => ({ ip: `10.0.0.${n}`, port, terminating: false });

function setup(backends: readonly { id: string; protocol?: BackendProtocol; endpoints: readonly Endpoint[] }[]) {
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  const stats = createEndpointStats();
  const live = createEndpointState();
  const retention = createRetention(pools, stats);
  const bts = backends.map((b): Reached => {
    const backend: Backend = { id: b.id, namespace: 'ns', service: b.id, port: '80', protocol: b.protocol ?? 'HTTP', endpoints: b.endpoints };
    const tls = backend.protocol === 'HTTPS' || backend.protocol === 'GRPCS';
    return { slot: live.slot(backend), dispatch: pools.dispatch(b.protocol ?? 'HTTP'), upgrade: pools.dispatch(tls ? 'HTTPS' : 'HTTP') };
  });
  // two routes on the first backend (a slot read by several targets counts once); the last backend
  // is only ever a canary
  const canary = bts.length > 1 ? (bts[bts.length - 1] as Reached) : null;
  const plain = canary === null ? bts : bts.slice(0, -1);
  const targets = [{ backends: plain, canary: canary === null ? null : { target: canary } }, { backends: plain.slice(0, 1), canary: null }];
  retention.reset(targets);
  /** A swap to a table with the same routes. */
  const swap = (): void => retention.reset(targets);
  const patch = (id: string, endpoints: readonly Endpoint[]): void => live.patch(new Map([[id, endpoints]]), retention.changed);
  /** Traffic to every endpoint of every backend, both ways (requests, upgrades): pools and stats exist. */
  const use = (): void => {
    for (const bt of bts) {
      for (const e of bt.slot.endpoints) {
        pools.get(bt.dispatch, e.ip, e.port);
        pools.get(bt.upgrade, e.ip, e.port);
        stats.success(endpointKey(e.ip, e.port));
      }
    }
  };
  /** The (dispatcher, endpoint) pairs some backend reaches now. */
  const livePairs = (): Set<string> => {
    const s = new Set<string>();
    for (const bt of bts) for (const e of bt.slot.endpoints) for (const d of [bt.dispatch, bt.upgrade]) s.add(`${d.key}|${endpointKey(e.ip, e.port)}`);
    return s;
  };
  const dispatchers = (): Dispatch[] => [...new Set(bts.flatMap((bt) => [bt.dispatch, bt.upgrade]))];
  const poolPairs = (): Set<string> => new Set(dispatchers().flatMap((d) => [...poolsByEndpoint(d).keys()].map((k) => `${d.key}|${k}`)));
  return { pools, stats, patch, swap, use, livePairs, poolPairs, dispatchers };
}

test('a rollout closes the old pods\' pools and forgets their stats; the pods that stay keep theirs', () => {
  const t = setup([{ id: 'a', endpoints: [ep(1), ep(2)] }, { id: 'b', endpoints: [ep(9)] }]);
  t.use();
  const [http] = t.dispatchers() as [Dispatch];
  const kept = poolsByEndpoint(http).get('10.0.0.2:8080');
  t.patch('a', [ep(2), ep(3)]);
  assert.deepEqual([...poolsByEndpoint(http).keys()].sort(), ['10.0.0.2:8080', '10.0.0.9:8080'], 'the new pod has no pool until its first request');
  assert.equal(poolsByEndpoint(http).get('10.0.0.2:8080'), kept, 'the staying pod keeps its pool (and its idle connections)');
  assert.equal(t.stats.view('10.0.0.1:8080').requests, 0, 'the gone pod is forgotten');
  assert.equal(t.stats.view('10.0.0.2:8080').requests, 1);
  t.use();
  assert.deepEqual(t.poolPairs(), t.livePairs());
});

test('an endpoint two backends list keeps its pool and stats until neither does', () => {
  const t = setup([{ id: 'a', endpoints: [ep(1)] }, { id: 'b', endpoints: [ep(1), ep(2)] }]);
  t.use();
  const [http] = t.dispatchers() as [Dispatch];
  const shared = poolsByEndpoint(http).get('10.0.0.1:8080');
  t.patch('a', [ep(3)]);
  assert.equal(poolsByEndpoint(http).get('10.0.0.1:8080'), shared);
  assert.equal(t.stats.view('10.0.0.1:8080').requests, 2, 'one request through each backend');
  t.patch('b', [ep(2)]);
  assert.equal(poolsByEndpoint(http).has('10.0.0.1:8080'), false);
  assert.equal(t.stats.view('10.0.0.1:8080').requests, 0);
});

test('a canary\'s pods keep their pools and stats across a swap and a patch of another backend', () => {
  const t = setup([{ id: 'a', endpoints: [ep(1)] }, { id: 'canary', endpoints: [ep(7)] }]);
  t.use();
  const [http] = t.dispatchers() as [Dispatch];
  const canaryPool = poolsByEndpoint(http).get('10.0.0.7:8080');
  assert.ok(canaryPool);
  t.swap();
  t.patch('a', [ep(2)]);
  assert.equal(poolsByEndpoint(http).get('10.0.0.7:8080'), canaryPool);
  assert.equal(t.stats.view('10.0.0.7:8080').requests, 1);
  t.patch('canary', [ep(8)]);
  assert.equal(poolsByEndpoint(http).has('10.0.0.7:8080'), false);
});

test('a gRPC backend\'s endpoint is released from both of its dispatchers (requests over h2c, upgrades over HTTP/1.1)', () => {
  const t = setup([{ id: 'g', protocol: 'GRPC', endpoints: [ep(1)] }]);
  t.use();
  assert.equal(t.dispatchers().length, 2);
  assert.equal(t.pools.size(), 2);
  t.patch('g', [ep(2)]);
  assert.equal(t.pools.size(), 0);
});

test('IPv6 endpoints: kept across a swap, released by a patch', () => {
  const v6 = (n: number): Endpoint => ({ ip: `2001:db8::${n}`, port: 8443, terminating: false });
  const t = setup([{ id: 'a', endpoints: [v6(1), v6(2)] }]);
  t.use();
  const [http] = t.dispatchers() as [Dispatch];
  const pool = poolsByEndpoint(http).get('2001:db8::1:8443');
  t.swap();
  assert.equal(poolsByEndpoint(http).get('2001:db8::1:8443'), pool);
  assert.equal(t.stats.view('2001:db8::1:8443').requests, 1);
  t.patch('a', [v6(2)]);
  assert.deepEqual([...poolsByEndpoint(http).keys()], ['2001:db8::2:8443']);
  assert.equal(t.stats.view('2001:db8::1:8443').requests, 0);
});

test('an address listed twice (two slices) counts once', () => {
  const t = setup([{ id: 'a', endpoints: [ep(1), ep(1)] }]);
  t.use();
  t.patch('a', [ep(1)]);
  assert.equal(t.pools.size(), 1);
  t.patch('a', []);
  assert.equal(t.pools.size(), 0);
});

test('after any sequence of patches, exactly the pairs live routes reach have pools (as a full recount would keep)', () => {
  const endpoints = fc.uniqueArray(fc.integer({ min: 1, max: 6 }), { maxLength: 4 }).map((ns) => ns.map((n) => ep(n)));
  const ids = ['a', 'b', 'c'] as const;
  fc.assert(
    fc.property(
      fc.tuple(endpoints, endpoints, endpoints),
      fc.constantFrom<BackendProtocol>('HTTP', 'GRPC', 'HTTPS'),
      fc.array(fc.tuple(fc.constantFrom(...ids), endpoints, fc.boolean()), { maxLength: 12 }),
      (initial, protocol, steps) => {
        const t = setup(ids.map((id, i) => ({ id, protocol: i === 2 ? protocol : 'HTTP', endpoints: initial[i] as Endpoint[] })));
        t.use();
        for (const [id, next, traffic] of steps) {
          const before = new Map(t.dispatchers().flatMap((d) => [...poolsByEndpoint(d)].map(([k, p]) => [`${d.key}|${k}`, p] as const)));
          t.patch(id, next);
          const live = t.livePairs();
          for (const pair of t.poolPairs()) assert.ok(live.has(pair), `${pair}: a pool no route reaches`);
          // a pair live before and after keeps its very pool
          for (const d of t.dispatchers()) for (const [k, p] of poolsByEndpoint(d)) if (before.has(`${d.key}|${k}`)) assert.equal(p, before.get(`${d.key}|${k}`));
          if (traffic) t.use();
        }
        t.use();
        assert.deepEqual(t.poolPairs(), t.livePairs());
        void t.pools.close();
      },
    ),
    { numRuns: 300 },
  );
});

test('error backends (custom-http-errors) keep their pools across a swap', () => {
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  const stats = createEndpointStats();
  const live = createEndpointState();
  const retention = createRetention(pools, stats);
  const slotOf = (id: string, eps: Endpoint[]): Reached => ({ slot: live.slot({ id, namespace: 'ns', service: id, port: '80', protocol: 'HTTP', endpoints: eps }), dispatch: pools.dispatch('HTTP'), upgrade: pools.dispatch('HTTP') });
  const main = slotOf('main', [ep(1)]);
  const errors = slotOf('errors', [ep(5)]);
  const targets = [{ backends: [main], canary: null, errors: { all: [errors] } }];
  retention.reset(targets);
  const pool = pools.get(errors.dispatch, '10.0.0.5', 8080);
  retention.reset(targets);
  assert.equal(pools.get(errors.dispatch, '10.0.0.5', 8080), pool);
  live.patch(new Map([['errors', [ep(6)]]]), retention.changed);
  assert.equal(poolsByEndpoint(errors.dispatch).has('10.0.0.5:8080'), false);
  void pools.close();
});
