/** Template expansion, the caches, the hash workers and the basic-auth policy, on fake exchanges. */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { basicAuth } from '../policies/basic-auth.js';
import { Verdict } from '../policies/types.js';
import { createTtlCache } from './cache.js';
import { createHashPool } from './pool.js';
import { createAuthState } from './state.js';
import { compileTemplate, escapeUri, hostOf } from './template.js';
function fake(o = {}) {
    const headers = Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const ex = {
        req: { headers, method: o.method ?? 'GET', rawHeaders: Object.entries(o.headers ?? {}).flat(), socket: { localPort: 80 } },
        scheme: 'http',
        listenerPort: 80,
        path: (o.target ?? '/').split('?')[0],
        forwardPath: o.target ?? '/',
        host: o.host ?? 'app.test',
        clientIp: '10.1.2.3',
        servername: undefined,
        tlsSocket: null,
        answers: [],
        upstream: [],
        resumed: 0,
        captures: null,
        setForwardPath() { },
        setUpstreamHeader(name, value) {
            ex.upstream.push(name, value);
        },
        removeUpstreamHeader(name) {
            ex.upstream.push(name, '(removed)');
        },
        editResponse() { },
        addResponseHeader() { },
        closeAfter() { },
        requestUri: '/',
        requestId: 'r',
        names: null,
        header: () => undefined,
        setRequestHeader() { },
        removeRequestHeader() { },
        onDone() { },
        answer(status, _body, _type, _cause, h = []) {
            ex.answers.push({ status, headers: h });
        },
        resume() {
            ex.resumed++;
        },
    };
    return ex;
}
describe('templates', () => {
    test('each variable expands from the request', () => {
        const ex = fake({ host: 'App.Test:8080', target: '/a b/?Team=red&x=1', method: 'PUT', headers: { 'X-Team': 'blue', Cookie: 'a=1; _oauth2_proxy=tok', Authorization: `Basic ${Buffer.from('ann:pw').toString('base64')}`, Host: 'App.Test:8080' } });
        const t = compileTemplate('$scheme://$host|$http_host|$request_uri|$escaped_request_uri|$request_method|$remote_addr|$remote_user|$http_x_team|$arg_team|$cookie__oauth2_proxy|$arg_none|$http_none');
        assert.equal(t(ex), 'http://app.test|App.Test:8080|/a b/?Team=red&x=1|%2Fa%20b%2F%3FTeam%3Dred%26x%3D1|PUT|10.1.2.3|ann|blue|red|tok||');
        assert.equal(compileTemplate('no variables')(ex), 'no variables');
        assert.equal(compileTemplate('$unknown')(ex), '');
    });
    test('set_escape_uri: everything but unreserved characters, upper-case hex, UTF-8', () => {
        assert.equal(escapeUri('/?a=b&c=d'), '%2F%3Fa%3Db%26c%3Dd');
        assert.equal(escapeUri('A-z0_9.~'), 'A-z0_9.~');
        assert.equal(escapeUri('é%'), '%C3%A9%25');
    });
    test('$host drops the port, also after an IPv6 address', () => {
        assert.equal(hostOf(fake({ host: '[::1]:8443' })), '[::1]');
        assert.equal(hostOf(fake({ host: 'a.test' })), 'a.test');
    });
});
describe('TTL cache', () => {
    test('entries expire, and past the bound the oldest go', () => {
        const c = createTtlCache(2);
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
    const check = (hash, pw) => new Promise((r) => pool.verify(hash, new Uint8Array(Buffer.from(pw)), r));
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
    const policy = {
        kind: 'basicAuth',
        realm: 'r',
        secret: 'default/s',
        users: [
            { user: 'carol', hash: '{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=' },
            { user: 'bob', hash: '$apr1$MriUlIAF$spp5YkNCjoV1JrZxOJkcj/' },
        ],
    };
    const p = basicAuth(policy, state);
    const basic = (s) => ({ authorization: `Basic ${Buffer.from(s).toString('base64')}` });
    test('no or bad credentials: 401 with the challenge', () => {
        for (const h of [{}, { authorization: 'Bearer x' }, basic('carol:no'), basic('nobody'), basic(':hunter2')]) {
            const ex = fake({ headers: h });
            assert.equal(p.run(ex), Verdict.Answered);
            assert.deepEqual(ex.answers, [{ status: 401, headers: ['www-authenticate', 'Basic realm="r"'] }]);
        }
    });
    test('a fast scheme is checked inline; the Authorization header is removed upstream', () => {
        const ex = fake({ headers: basic('carol:hunter2') });
        assert.equal(p.run(ex), Verdict.Continue);
        assert.deepEqual(ex.upstream, ['authorization', '(removed)']);
    });
    test('a slow scheme goes to a worker, then resumes; the next identical header is a cache hit', async () => {
        const ex = fake({ headers: basic('bob:hunter2') });
        assert.equal(p.run(ex), Verdict.Pending);
        await new Promise((r) => {
            const t = setInterval(() => {
                if (ex.resumed > 0)
                    r(clearInterval(t));
            }, 5);
        });
        assert.deepEqual(ex.answers, []);
        assert.deepEqual(ex.upstream, ['authorization', '(removed)']);
        const again = fake({ headers: basic('bob:hunter2') });
        assert.equal(p.run(again), Verdict.Continue);
        // another user list (a changed Secret) does not share the cache
        const changed = basicAuth({ ...policy, users: [{ user: 'bob', hash: '$apr1$xy$/B3YgSzvOD97f3u9mtaL4/' }] }, state);
        const ex3 = fake({ headers: basic('bob:hunter2') });
        assert.equal(changed.run(ex3), Verdict.Pending);
        await new Promise((r) => {
            const t = setInterval(() => {
                if (ex3.answers.length > 0)
                    r(clearInterval(t));
            }, 5);
        });
        assert.equal(ex3.answers[0]?.status, 401);
    });
});
//# sourceMappingURL=auth.test.js.map