/**
 * Canary releases, sticky sessions and load balancing against the real binary, with real pods on
 * loopback (127.0.185.x-127.0.189.x): canary splits over a few hundred requests and by header,
 * value, pattern and cookie; the canary metric label; cookie stickiness over 20 requests, after a
 * table swap, and when the endpoint dies; upstream-hash-by stable when an endpoint joins; ewma.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { join, serviceYaml } from './lib/manifests.js';
import { ingressObject } from './lib/objects.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
const N = 'nginx.ingress.kubernetes.io/';
/** An Ingress with a creation time (the older one wins what two claim). */
function ing(name, rules, annotations = {}, created = '2026-01-01T00:00:00Z') {
    const o = ingressObject(name, rules, {}, annotations);
    o.metadata.creationTimestamp = created;
    return stringify(o);
}
const one = (host, service, path = '/') => [{ host, paths: [{ path, service }] }];
/** The pod that answered: its x-pod header, or (a slow pod) the name in its JSON body. */
const podOf = (r) => r.headers['x-pod'] ?? JSON.parse(r.body).pod;
const setCookie = (r, name) => [r.headers['set-cookie'] ?? []].flat().find((c) => c.startsWith(`${name}=`));
const valueOf = (c) => c.split(';')[0].slice(c.indexOf('=') + 1);
async function tally(port, n, host, path = '/', headers = {}) {
    const counts = new Map();
    for (let i = 0; i < n; i++) {
        const r = await get(port, path, { host, headers });
        assert.equal(r.status, 200, r.body);
        counts.set(podOf(r), (counts.get(podOf(r)) ?? 0) + 1);
    }
    return counts;
}
describe('canary releases', () => {
    let pods;
    let p;
    before(async () => {
        pods = await Promise.all([startPod('127.0.185.1', 'main-1'), startPod('127.0.185.2', 'main-2'), startPod('127.0.185.3', 'canary')]);
        const [m1, m2, c] = pods;
        const canary = (name, host, a, created) => ing(name, one(host, 'canary'), { [`${N}canary`]: 'true', ...a }, created);
        p = await startPortico({
            'a.yaml': join(
            // the canary is the older Ingress: it used to take the path outright
            canary('weight-canary', 'weight.test', { [`${N}canary-weight`]: '30' }, '2025-01-01T00:00:00Z'), ing('weight-main', one('weight.test', 'main')), canary('header-canary', 'header.test', { [`${N}canary-by-header`]: 'X-Canary' }), ing('header-main', one('header.test', 'main')), canary('value-canary', 'value.test', { [`${N}canary-by-header`]: 'X-Version', [`${N}canary-by-header-value`]: 'v2' }), ing('value-main', one('value.test', 'main')), canary('pattern-canary', 'pattern.test', { [`${N}canary-by-header`]: 'X-Version', [`${N}canary-by-header-pattern`]: '^beta-[0-9]+$' }), ing('pattern-main', one('pattern.test', 'main')), canary('bad-pattern-canary', 'badpattern.test', { [`${N}canary-by-header`]: 'X-Version', [`${N}canary-by-header-pattern`]: '(a)\\1', [`${N}canary-by-cookie`]: 'canary' }), ing('bad-pattern-main', one('badpattern.test', 'main')), canary('cookie-canary', 'cookie.test', { [`${N}canary-by-cookie`]: 'canary' }), ing('cookie-main', one('cookie.test', 'main')), canary('orphan-canary', 'orphan.test', { [`${N}canary-weight`]: '100' }), serviceYaml('main', [m1, m2]), serviceYaml('canary', [c])),
        }, ['--metrics-compat=ingress-nginx']);
    });
    after(async () => {
        await p.stop();
        await Promise.all(pods.map((x) => x.close()));
    });
    test('canary-weight 30, the canary Ingress older than the main one: about 30% of 400 requests, the rest on the main pods', async () => {
        const counts = await tally(p.httpPort, 400, 'weight.test');
        const canary = counts.get('canary') ?? 0;
        assert.ok(canary >= 400 * 0.22 && canary <= 400 * 0.38, `canary took ${canary} of 400`);
        assert.ok((counts.get('main-1') ?? 0) > 0 && (counts.get('main-2') ?? 0) > 0, JSON.stringify([...counts]));
    });
    test('canary requests are counted with canary="true" (and the main Service) in the ingress-nginx series', async () => {
        const text = (await get(p.adminPort, '/metrics')).body;
        const count = (canary) => text
            .split('\n')
            .filter((l) => l.startsWith('nginx_ingress_controller_requests{') && l.includes('host="weight.test"') && l.includes(`canary="${canary}"`))
            .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
        const yes = count('true');
        assert.ok(yes >= 400 * 0.22 && yes + count('false') === 400, `canary="true": ${yes}, canary="false": ${count('false')}`);
        assert.match(text, /nginx_ingress_controller_requests\{[^}]*service="main",canary="true",host="weight.test"/);
    });
    test('canary-by-header: always goes to the canary, never and anything else to the main pods', async () => {
        assert.deepEqual([...(await tally(p.httpPort, 20, 'header.test', '/', { 'x-canary': 'always' })).keys()], ['canary']);
        for (const v of ['never', 'sometimes'])
            assert.ok(!(await tally(p.httpPort, 20, 'header.test', '/', { 'x-canary': v })).has('canary'), v);
        assert.ok(!(await tally(p.httpPort, 20, 'header.test')).has('canary'), 'no header');
    });
    test('canary-by-header-value: only the exact value (always means nothing then)', async () => {
        assert.deepEqual([...(await tally(p.httpPort, 10, 'value.test', '/', { 'x-version': 'v2' })).keys()], ['canary']);
        for (const v of ['always', 'V2', 'v3'])
            assert.ok(!(await tally(p.httpPort, 10, 'value.test', '/', { 'x-version': v })).has('canary'), v);
    });
    test('canary-by-header-pattern (RE2); a pattern RE2 refuses sends a request with the header to the main pods, even with the cookie', async () => {
        assert.deepEqual([...(await tally(p.httpPort, 10, 'pattern.test', '/', { 'x-version': 'beta-42' })).keys()], ['canary']);
        assert.ok(!(await tally(p.httpPort, 10, 'pattern.test', '/', { 'x-version': 'beta-x' })).has('canary'));
        assert.ok(!(await tally(p.httpPort, 10, 'badpattern.test', '/', { 'x-version': 'aa', cookie: 'canary=always' })).has('canary'));
        assert.deepEqual([...(await tally(p.httpPort, 10, 'badpattern.test', '/', { cookie: 'canary=always' })).keys()], ['canary'], 'without the header, the cookie decides');
    });
    test('canary-by-cookie: always and never; another value falls through to the weight (0)', async () => {
        assert.deepEqual([...(await tally(p.httpPort, 10, 'cookie.test', '/', { cookie: 'a=1; canary=always' })).keys()], ['canary']);
        for (const v of ['never', 'maybe'])
            assert.ok(!(await tally(p.httpPort, 10, 'cookie.test', '/', { cookie: `canary=${v}` })).has('canary'), v);
    });
    test('a canary without a main Ingress takes no traffic (404) and says why', async () => {
        assert.equal((await get(p.httpPort, '/', { host: 'orphan.test' })).status, 404);
        const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body);
        assert.ok(debug.diagnostics.some((d) => /orphan-canary: CanaryWithoutMain/.test(d)), debug.diagnostics.join('\n'));
    });
});
describe('sticky sessions', () => {
    let pods;
    let canaryPod;
    let p;
    const sticky = (mode, extra = {}) => ({ [`${N}affinity`]: 'cookie', [`${N}affinity-mode`]: mode, [`${N}session-cookie-name`]: 'SERVERID', ...extra });
    const services = (list) => join(serviceYaml('web', list), serviceYaml('web-canary', [canaryPod]));
    before(async () => {
        pods = await Promise.all([1, 2, 3, 4, 5].map((i) => startPod(`127.0.186.${i}`, `web-${i}`)));
        canaryPod = await startPod('127.0.186.20', 'web-canary');
        p = await startPortico({
            'ingresses.yaml': join(ing('persistent', one('persistent.test', 'web', '/app'), sticky('persistent', { [`${N}session-cookie-max-age`]: '3600', [`${N}session-cookie-samesite`]: 'lax' })), ing('balanced', one('balanced.test', 'web'), sticky('balanced')), ing('failover', one('failover.test', 'web'), sticky('persistent', { [`${N}session-cookie-change-on-failure`]: 'true' })), ing('main', one('canary.test', 'web'), sticky('balanced')), ing('canary', one('canary.test', 'web-canary'), { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'X-Canary', [`${N}canary-weight`]: '1' })),
            'services.yaml': services(pods.slice(0, 3)),
        });
    });
    after(async () => {
        await p.stop();
        await Promise.all([...pods, canaryPod].map((x) => x.close()));
    });
    let session = '';
    let pinned = '';
    test('persistent: a new session gets the cookie with its attributes; 20 requests with it reach one pod, and no new cookie is set', async () => {
        const first = await get(p.httpPort, '/app/x', { host: 'persistent.test' });
        const c = setCookie(first, 'SERVERID');
        assert.ok(c, JSON.stringify(first.headers));
        assert.match(c, /^SERVERID=[0-9a-f]{32}\|[0-9a-f]{32}; Max-Age=3600; Path=\/app; HttpOnly; SameSite=Lax$/);
        session = valueOf(c);
        pinned = podOf(first);
        for (let i = 0; i < 20; i++) {
            const r = await get(p.httpPort, `/app/${i}`, { host: 'persistent.test', headers: { cookie: `SERVERID=${session}` } });
            assert.equal(podOf(r), pinned);
            assert.equal(setCookie(r, 'SERVERID'), undefined);
        }
        const spread = await tally(p.httpPort, 30, 'persistent.test', '/app');
        assert.ok(spread.size > 1, 'requests without the cookie are spread');
    });
    test('balanced: the same, on the consistent-hash ring', async () => {
        const first = await get(p.httpPort, '/', { host: 'balanced.test' });
        const value = valueOf(setCookie(first, 'SERVERID'));
        for (let i = 0; i < 20; i++)
            assert.equal(podOf(await get(p.httpPort, '/', { host: 'balanced.test', headers: { cookie: `SERVERID=${value}` } })), podOf(first));
    });
    test('after a table swap that adds endpoints, a persistent session stays on its pod', async () => {
        p.write('services.yaml', services(pods));
        await eventually(async () => (await tally(p.httpPort, 40, 'persistent.test', '/app')).has('web-5'), { what: 'the new endpoints serving' });
        for (let i = 0; i < 20; i++) {
            const r = await get(p.httpPort, '/app', { host: 'persistent.test', headers: { cookie: `SERVERID=${session}` } });
            assert.equal(podOf(r), pinned);
            assert.equal(setCookie(r, 'SERVERID'), undefined);
        }
    });
    test('when its endpoint leaves, the session is re-picked and the cookie re-set; the new cookie is sticky', async () => {
        const rest = pods.filter((x) => x.name !== pinned);
        p.write('services.yaml', services(rest));
        const moved = await eventually(async () => {
            const r = await get(p.httpPort, '/app', { host: 'persistent.test', headers: { cookie: `SERVERID=${session}` } });
            return podOf(r) !== pinned ? r : undefined;
        }, { what: 'the session leaving the removed endpoint' });
        const c = setCookie(moved, 'SERVERID');
        assert.ok(c, 'cookie re-set');
        const next = valueOf(c);
        assert.notEqual(next, session);
        for (let i = 0; i < 20; i++)
            assert.equal(podOf(await get(p.httpPort, '/app', { host: 'persistent.test', headers: { cookie: `SERVERID=${next}` } })), podOf(moved));
        p.write('services.yaml', services(pods));
    });
    test('change-on-failure: a session whose pod dies is retried on another pod and its cookie re-set', async () => {
        const first = await get(p.httpPort, '/', { host: 'failover.test' });
        const value = valueOf(setCookie(first, 'SERVERID'));
        const victim = pods.find((x) => x.name === podOf(first));
        victim.kill();
        try {
            const r = await get(p.httpPort, '/', { host: 'failover.test', headers: { cookie: `SERVERID=${value}` } });
            assert.equal(r.status, 200, r.body);
            assert.notEqual(podOf(r), victim.name);
            const c = setCookie(r, 'SERVERID');
            assert.ok(c !== undefined && valueOf(c) !== value, 'the cookie is re-set');
        }
        finally {
            const i = pods.indexOf(victim);
            pods[i] = await startPod(victim.ip, victim.name);
            p.write('services.yaml', services(pods));
        }
    });
    test('a session the canary started stays on the canary without the header (affinity-canary-behavior sticky)', async () => {
        await eventually(async () => (await get(p.httpPort, '/', { host: 'canary.test' })).status === 200);
        const forced = await get(p.httpPort, '/', { host: 'canary.test', headers: { 'x-canary': 'always' } });
        assert.equal(podOf(forced), 'web-canary');
        const value = valueOf(setCookie(forced, 'SERVERID'));
        const counts = await tally(p.httpPort, 30, 'canary.test', '/', { cookie: `SERVERID=${value}` });
        assert.deepEqual([...counts.keys()], ['web-canary']);
        const main = await get(p.httpPort, '/', { host: 'canary.test', headers: { 'x-canary': 'never' } });
        const mainValue = valueOf(setCookie(main, 'SERVERID'));
        assert.deepEqual([...(await tally(p.httpPort, 20, 'canary.test', '/', { cookie: `SERVERID=${mainValue}`, 'x-canary': 'always' })).keys()], [podOf(main)], "the main backend's session beats the header");
    });
});
describe('upstream-hash-by and ewma', () => {
    let pods;
    let p;
    before(async () => {
        pods = await Promise.all([1, 2, 3, 4, 5].map((i) => startPod(`127.0.187.${i}`, `h-${i}`)));
        const [slow, fast] = await Promise.all([startPod('127.0.187.10', 'slow'), startPod('127.0.187.11', 'fast')]);
        slow.behaviour = 'slow';
        pods.push(slow, fast);
        p = await startPortico({
            'ingresses.yaml': join(ing('hash', one('hash.test', 'hashed'), { [`${N}upstream-hash-by`]: '$request_uri' }), ing('ewma', one('ewma.test', 'mixed'), { [`${N}load-balance`]: 'ewma' })),
            'services.yaml': join(serviceYaml('hashed', pods.slice(0, 4)), serviceYaml('mixed', [slow, fast])),
        });
    });
    after(async () => {
        await p.stop();
        await Promise.all(pods.map((x) => x.close()));
    });
    test('one URI, one pod; when a fifth pod joins, only about a fifth of 200 URIs move, every one of them to it', async () => {
        const uris = Array.from({ length: 200 }, (_, i) => `/item/${i}?v=${i % 7}`);
        const owner = async (u) => podOf(await get(p.httpPort, u, { host: 'hash.test' }));
        const before = new Map();
        for (const u of uris)
            before.set(u, await owner(u));
        for (const u of uris.slice(0, 20))
            assert.equal(await owner(u), before.get(u), 'stable');
        assert.ok(new Set(before.values()).size === 4, 'spread over the four pods');
        p.write('services.yaml', join(serviceYaml('hashed', pods.slice(0, 5)), serviceYaml('mixed', pods.slice(5))));
        await eventually(async () => {
            for (const u of uris)
                if ((await owner(u)) === 'h-5')
                    return true;
            return false;
        }, { what: 'the fifth pod taking keys' });
        let moved = 0;
        for (const u of uris) {
            const now = await owner(u);
            if (now !== before.get(u)) {
                moved++;
                assert.equal(now, 'h-5', `${u} moved from ${before.get(u)} to ${now}`);
            }
        }
        assert.ok(moved >= 200 * 0.08 && moved <= 200 * 0.35, `${moved} of 200 moved (ideal 40)`);
    });
    test('ewma: a slow pod gets few requests once its response time is known', async () => {
        const counts = await tally(p.httpPort, 40, 'ewma.test');
        assert.ok((counts.get('fast') ?? 0) >= 30, JSON.stringify([...counts]));
    });
    test('--load-balance=ewma: the same for a route without the annotation; load-balance: round_robin opts out', async () => {
        const [slow, fast] = pods.slice(5);
        const q = await startPortico({ 'a.yaml': join(ing('plain', one('plain.test', 'mixed')), ing('rr', one('rr.test', 'mixed'), { [`${N}load-balance`]: 'round_robin' }), serviceYaml('mixed', [slow, fast])) }, ['--load-balance=ewma']);
        try {
            const counts = await tally(q.httpPort, 40, 'plain.test');
            assert.ok((counts.get('fast') ?? 0) >= 30, JSON.stringify([...counts]));
            const rr = await tally(q.httpPort, 10, 'rr.test');
            assert.equal(rr.get('slow'), 5, JSON.stringify([...rr]));
        }
        finally {
            await q.stop();
        }
    });
});
//# sourceMappingURL=balance.test.js.map