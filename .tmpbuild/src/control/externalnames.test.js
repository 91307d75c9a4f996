/** The ExternalName resolver: what it asks the resolver, what it keeps, when it says something changed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { createExternalNameResolver } from './externalnames.js';
const log = pino({ level: 'silent' });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const DENIED = ['127.0.0.0/8', '::1/128', '169.254.0.0/16', 'fe80::/10'];
/** A scripted resolver: answers from `answers` (an Error is thrown), counting questions. */
function scripted(answers) {
    const asked = [];
    return {
        asked,
        resolve: async (name) => {
            asked.push(name);
            await sleep(1);
            const a = answers[name];
            if (a === undefined)
                throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
            if (a instanceof Error)
                throw a;
            return a;
        },
    };
}
test('wanted names are resolved once, denied addresses dropped and counted, and each change reported', async () => {
    const answers = { 'api.test': ['10.0.0.2', '10.0.0.1', '10.0.0.1'], 'meta.test': ['169.254.169.254', '127.0.0.1'] };
    const s = scripted(answers);
    let changes = 0;
    const r = createExternalNameResolver({ denied: DENIED, log, onChange: () => changes++, resolve: s.resolve, refreshMs: 60_000 });
    try {
        r.want(new Set(['api.test', 'meta.test', 'nowhere.test']));
        r.want(new Set(['api.test', 'meta.test', 'nowhere.test'])); // in flight: not asked twice
        assert.equal(await r.settle(1000), true);
        assert.deepEqual(s.asked.sort(), ['api.test', 'meta.test', 'nowhere.test']);
        assert.deepEqual(r.lookup('api.test'), { addresses: ['10.0.0.1', '10.0.0.2'], denied: 0 });
        assert.deepEqual(r.lookup('meta.test'), { addresses: [], denied: 2 });
        assert.deepEqual(r.lookup('nowhere.test'), { error: 'ENOTFOUND' });
        assert.equal(changes, 3);
        r.want(new Set(['api.test']));
        assert.equal(await r.settle(1000), false, 'known names are not looked up again on every rebuild');
        assert.equal(r.lookup('meta.test'), undefined, 'names no table needs are forgotten');
    }
    finally {
        r.close();
    }
});
test('every refresh re-resolves: a new address is a change, a failure keeps the last good addresses, the same answer is none', async () => {
    const answers = { 'api.test': ['10.0.0.1'] };
    const s = scripted(answers);
    let changes = 0;
    const r = createExternalNameResolver({ denied: DENIED, log, onChange: () => changes++, resolve: s.resolve, refreshMs: 40 });
    try {
        r.want(new Set(['api.test']));
        await r.settle(1000);
        assert.equal(changes, 1);
        answers['api.test'] = ['10.0.0.9'];
        const until = async (pred) => {
            for (let i = 0; i < 200 && !pred(); i++)
                await sleep(10);
            assert.ok(pred());
        };
        await until(() => changes === 2);
        assert.deepEqual(r.lookup('api.test'), { addresses: ['10.0.0.9'], denied: 0 });
        answers['api.test'] = Object.assign(new Error('timeout'), { code: 'EAI_AGAIN' });
        const n = s.asked.length;
        await until(() => s.asked.length >= n + 3);
        assert.deepEqual(r.lookup('api.test'), { addresses: ['10.0.0.9'], denied: 0 }, 'a failed refresh keeps the last addresses');
        answers['api.test'] = ['10.0.0.9'];
        const m = s.asked.length;
        await until(() => s.asked.length >= m + 3);
        assert.equal(changes, 2, 'neither the failures nor the same answer again are changes');
    }
    finally {
        r.close();
    }
});
test('the system resolver is used by default: localhost from /etc/hosts, an IP address as itself', async () => {
    let changes = 0;
    const r = createExternalNameResolver({ denied: [], log, onChange: () => changes++ });
    try {
        r.want(new Set(['localhost', '192.0.2.7']));
        await r.settle(5000);
        const local = r.lookup('localhost');
        assert.ok(local !== undefined && 'addresses' in local && local.addresses.some((a) => a === '127.0.0.1' || a === '::1'), JSON.stringify(local));
        assert.deepEqual(r.lookup('192.0.2.7'), { addresses: ['192.0.2.7'], denied: 0 });
        assert.equal(changes, 2);
    }
    finally {
        r.close();
    }
});
test('a failing name is retried sooner than the refresh, backing off, and served once it resolves', async () => {
    const answers = {};
    const s = scripted(answers);
    let changes = 0;
    const r = createExternalNameResolver({ denied: DENIED, log, onChange: () => changes++, resolve: s.resolve, refreshMs: 60_000, retryMs: 20 });
    try {
        r.want(new Set(['late.test']));
        await r.settle(1000);
        assert.deepEqual(r.lookup('late.test'), { error: 'ENOTFOUND' });
        await sleep(400);
        const tries = s.asked.length;
        assert.ok(tries >= 2, `retried ${tries - 1} times`);
        assert.ok(tries <= 8, `${tries} lookups in 400 ms: no backoff (every 20 ms tick would be ~20)`);
        answers['late.test'] = ['10.0.0.7'];
        for (let i = 0; i < 300 && r.lookup('late.test') !== undefined && 'error' in r.lookup('late.test'); i++)
            await sleep(10);
        assert.deepEqual(r.lookup('late.test'), { addresses: ['10.0.0.7'], denied: 0 }, 'picked up long before the 60 s refresh');
        assert.equal(changes, 2);
    }
    finally {
        r.close();
    }
});
//# sourceMappingURL=externalnames.test.js.map