/** The caches, the hash workers and the basic-auth policy, on fake exchanges (nginx variables: proxy/nginx-vars.test.ts). */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { BasicAuthPolicy } from '../../model/types.js';
import { basicAuth } from '../policies/basic-auth.js';
import { Verdict } from '../policies/types.js';
import { fakeExchange, type FakeExchange, type FakeRequest } from '../../testing/exchange.js';
import { createTtlCache } from './cache.js';
import { createHashPool } from './pool.js';
import { createAuthState } from './state.js';

const fake = (o: FakeRequest = {}): FakeExchange => fakeExchange({ clientIp: '10.1.2.3', host: 'app.test', ...o });

describe('TTL cache', () => {
  test('entries expire, and past the bound the oldest go', () => {
    const c = createTtlCache<number>(2);
    c.set('a', 1, 1000, 0);
    assert.equal(c.get('a', 999), 1);
    assert.equal(c.get('a', 1000), undefined);
    c.set('a', 1, 1000, 0);
    c.set('b', 2, 1000, 0);
    c.set('c', 3, 1000, 0);
    assert.equal(c.size, 2);
    assert.equal(c.get('a', 1), undefined);
    assert.equal(c.get('c', 1), 3);
    c.set('d', 4, 0, 0);
    assert.equal(c.get('d', 0), undefined);
  });
});

describe('hash workers', () => {
  const pool = createHashPool({ size: 1, queue: 2 });
  after(() => pool.close());
  const check = (hash: string, pw: string): Promise<string> => new Promise((r) => pool.verify(hash, new Uint8Array(Buffer.from(pw)), r));

  test('verify off the event loop; a full queue answers error at once', async () => {
    const bcrypt = '$2y$05$ZrbMXcxqLXPGKdHk/0ro5OD4aYA4OCj7kq6MuC8x8GPGPUQocU9Ie';
    const all = Promise.all([check(bcrypt, 'p@ss:word'), check(bcrypt, 'nope'), check(bcrypt, 'p@ss:word'), check(bcrypt, 'x')]);
    // one running, two waiting: the fourth is refused
    assert.deepEqual(await all, ['ok', 'mismatch', 'ok', 'error']);
    assert.equal(pool.pending, 0);
  });
});

describe('basic-auth policy', () => {
  const state = createAuthState({ workers: 1 });
  after(() => state.close());
  const policy: BasicAuthPolicy = {
    kind: 'basicAuth',
    realm: 'r',
    secret: 'default/s',
    users: [
      { user: 'carol', hash: '{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=' },
      { user: 'bob', hash: '$apr1$MriUlIAF$spp5YkNCjoV1JrZxOJkcj/' },
    ],
  };
  const p = basicAuth(policy, state);
  const basic = (s: string): Record<string, string> => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });

  test('no or bad credentials: 401 with the challenge', () => {
    for (const h of [{}, { authorization: 'Bearer x' }, basic('carol:no'), basic('nobody'), basic(':hunter2')]) {
      const ex = fake({ headers: h });
      assert.equal(p.run(ex), Verdict.Answered);
      assert.deepEqual(ex.answers.map((a) => [a.status, a.headers]), [[401, ['www-authenticate', 'Basic realm="r"']]]);
    }
  });

  test('a fast scheme is checked inline; the Authorization header is removed upstream', () => {
    const ex = fake({ headers: basic('carol:hunter2') });
    assert.equal(p.run(ex), Verdict.Continue);
    assert.deepEqual(ex.upstream, ['authorization', null]);
  });

  test('a slow scheme goes to a worker, then resumes; the next identical header is a cache hit', async () => {
    const ex = fake({ headers: basic('bob:hunter2') });
    assert.equal(p.run(ex), Verdict.Pending);
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (ex.resumed > 0) r(clearInterval(t));
      }, 5);
    });
    assert.deepEqual(ex.answers, []);
    assert.deepEqual(ex.upstream, ['authorization', null]);
    const again = fake({ headers: basic('bob:hunter2') });
    assert.equal(p.run(again), Verdict.Continue);
    // another user list (a changed Secret) does not share the cache
    const changed = basicAuth({ ...policy, users: [{ user: 'bob', hash: '$apr1$xy$/B3YgSzvOD97f3u9mtaL4/' }] }, state);
    const ex3 = fake({ headers: basic('bob:hunter2') });
    assert.equal(changed.run(ex3), Verdict.Pending);
    await new Promise<void>((r) => {
      const t = setInterval(() => {
        if (ex3.answers.length > 0) r(clearInterval(t));
      }, 5);
    });
    assert.equal(ex3.answers[0]?.status, 401);
  });
});
