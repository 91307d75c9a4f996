import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { BasicAuthPolicy, ExtAuthPolicy, SatisfyCheck } from '../../model/types.js';
import { fakeExchange, type FakeExchange } from '../../testing/exchange.js';
import { defaultAuthState } from '../auth/state.js';
import { basicAuth } from './basic-auth.js';
import { satisfyAny } from './satisfy.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

// {SHA} of "test": checked inline, so basic auth answers synchronously
const BASIC: BasicAuthPolicy = { kind: 'basicAuth', realm: 'team', secret: 'default/users', users: [{ user: 'alice', hash: '{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=' }] };
const EXT: ExtAuthPolicy = { kind: 'extAuth', url: 'http://auth.test/', signinParam: 'rd', responseHeaders: ['x-user'], alwaysSetCookie: false };
const ALICE = `Basic ${Buffer.from('alice:test').toString('base64')}`;

type Behaviour = 'pass' | 'deny401' | 'deny403' | 'signin' | 'fail500' | 'throw';

/** An external-auth stand-in: answers as told, now or on the next turn. */
function stub(b: Behaviour, later: boolean, calls: string[]): RequestPolicy {
  const act = (ex: PolicyExchange): void => {
    calls.push(b);
    if (b === 'pass') {
      ex.setUpstreamHeader('x-user', 'alice');
      if (later) ex.resume();
    } else if (b === 'deny401') ex.answer(401, 'no', 'text/plain', 'unauthorized', ['www-authenticate', 'Bearer']);
    else if (b === 'deny403') ex.answer(403, 'no', 'text/plain', 'unauthorized');
    else if (b === 'signin') ex.answer(302, 'go', 'text/plain', 'auth_signin', ['location', 'http://a.test/auth/start?rd=x']);
    else if (b === 'fail500') ex.answer(500, 'broken', 'text/plain', 'auth_error');
    else throw new Error('boom');
  };
  return {
    run(ex) {
      if (later) {
        setImmediate(() => act(ex));
        return Verdict.Pending;
      }
      act(ex);
      return b === 'pass' ? Verdict.Continue : Verdict.Answered;
    },
  };
}

function policy(checks: readonly SatisfyCheck[], ext: Behaviour = 'deny401', later = false, calls: string[] = []): RequestPolicy {
  return satisfyAny(checks, (c) => (c.kind === 'basicAuth' ? basicAuth(c, defaultAuthState()) : stub(ext, later, calls)));
}

/** Runs the policy to its end: the status (200 when it let the request on) and the exchange. */
async function outcome(p: RequestPolicy, ex: FakeExchange): Promise<number> {
  const v = p.run(ex);
  if (v !== Verdict.Pending) {
    assert.equal(v === Verdict.Answered, ex.answered !== null);
    return ex.answered?.status ?? 200;
  }
  for (let i = 0; i < 50 && ex.resumed === 0 && ex.answered === null; i++) await new Promise((r) => setImmediate(r));
  assert.equal(ex.resumed + ex.answers.length, 1, 'resumed or answered exactly once');
  return ex.answered?.status ?? 200;
}

const allow = (allow: string[], deny: string[] = []): SatisfyCheck => ({ kind: 'sourceRange', allow, deny });

describe('satisfy: any', () => {
  test("an allow-listed address needs no credentials; any other needs them (ingress-nginx's satisfy any)", async () => {
    const p = policy([allow(['10.0.0.0/8']), BASIC]);
    const inside = fakeExchange({ clientIp: '10.1.2.3', headers: ['Authorization', 'Basic Zm9vOmJhcg=='] });
    assert.equal(await outcome(p, inside), 200);
    assert.deepEqual(inside.upstream.slice(0, 2), ['authorization', null], 'nginx sends Authorization "" upstream from a basic-auth location');
    assert.equal(await outcome(p, fakeExchange({ clientIp: '192.0.2.7' })), 401);
    assert.equal(await outcome(p, fakeExchange({ clientIp: '192.0.2.7', headers: ['Authorization', ALICE] })), 200);
  });

  test('when every check fails, 401 wins over 403 and carries the basic challenge', async () => {
    const ex = fakeExchange({ clientIp: '192.0.2.7' });
    assert.equal(await outcome(policy([allow(['10.0.0.0/8']), BASIC]), ex), 401);
    assert.deepEqual(ex.answered?.headers, ['www-authenticate', 'Basic realm="team"']);
  });

  test('only source ranges failing (403s) and an auth 403: 403', async () => {
    assert.equal(await outcome(policy([allow(['10.0.0.0/8']), EXT], 'deny403'), fakeExchange({ clientIp: '192.0.2.7' })), 403);
  });

  test('a deny list alone lets nobody in: outside it, credentials are still needed; in it, valid ones let the client in', async () => {
    const p = policy([allow([], ['192.0.2.0/24']), BASIC]);
    assert.equal(await outcome(p, fakeExchange({ clientIp: '198.51.100.1' })), 401, 'not denied is not allowed (nginx declines)');
    assert.equal(await outcome(p, fakeExchange({ clientIp: '192.0.2.9', headers: ['Authorization', ALICE] })), 200, 'a denied address with valid credentials gets in, as in nginx');
    assert.equal(await outcome(p, fakeExchange({ clientIp: '192.0.2.9' })), 401);
  });

  test('basic then external, async: valid basic credentials skip the auth service; without them its sign-in 302 answers', async () => {
    const calls: string[] = [];
    const p = policy([BASIC, EXT], 'signin', true, calls);
    assert.equal(await outcome(p, fakeExchange({ headers: ['Authorization', ALICE] })), 200);
    assert.deepEqual(calls, [], 'the auth service is not asked');
    const ex = fakeExchange();
    assert.equal(await outcome(p, ex), 302, "the last 401 goes to auth-signin (nginx's error_page 401)");
    assert.equal(ex.answered?.headers[1], 'http://a.test/auth/start?rd=x');
  });

  test('two 401s: the challenges of both', async () => {
    const ex = fakeExchange();
    assert.equal(await outcome(policy([BASIC, EXT], 'deny401', true), ex), 401);
    assert.deepEqual(ex.answered?.headers, ['www-authenticate', 'Bearer', 'www-authenticate', 'Basic realm="team"']);
  });

  test('an external pass after the others failed: the request goes on, once, with the copied header', async () => {
    const ex = fakeExchange({ clientIp: '192.0.2.7' });
    assert.equal(await outcome(policy([allow(['10.0.0.0/8']), BASIC, EXT], 'pass', true), ex), 200);
    assert.equal(ex.resumed, 1);
    assert.deepEqual(ex.upstream, ['x-user', 'alice', 'authorization', null], 'the copied header, and no Authorization (basic auth is configured)');
  });

  test('admitted by address: the headers the auth service would have set are removed, so a client cannot send its own', async () => {
    const ex = fakeExchange({ clientIp: '10.0.0.1', headers: ['X-User', 'admin'] });
    assert.equal(await outcome(policy([allow(['10.0.0.0/8']), EXT], 'pass'), ex), 200);
    assert.deepEqual(ex.upstream, ['x-user', null]);
  });

  test('an auth service that fails (500) ends the request, even when an earlier check only declined: never a pass', async () => {
    assert.equal(await outcome(policy([allow([], ['192.0.2.0/24']), EXT], 'fail500', true), fakeExchange({ clientIp: '198.51.100.1' })), 500);
    assert.equal(await outcome(policy([allow(['10.0.0.0/8']), EXT], 'fail500'), fakeExchange({ clientIp: '192.0.2.7' })), 500);
  });

  test('a check that throws is a 500, never a pass', async () => {
    assert.equal(await outcome(policy([allow(['10.0.0.0/8']), EXT], 'throw'), fakeExchange({ clientIp: '192.0.2.7' })), 500);
  });

  test('a client address that is not an address (a trusted proxy garbling X-Forwarded-For) fails the range check', async () => {
    assert.equal(await outcome(policy([allow([], ['192.0.2.0/24']), BASIC]), fakeExchange({ clientIp: 'garbage' })), 401);
    assert.equal(await outcome(policy([allow([], ['192.0.2.0/24']), BASIC]), fakeExchange({ clientIp: 'garbage', headers: ['Authorization', ALICE] })), 200);
  });
});
