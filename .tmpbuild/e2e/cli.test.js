/** The command line: help, and one-line errors with exit code 2 for bad input. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../src/paths.js';
import { ingressYaml, join as joinDocs, serviceYaml } from './lib/manifests.js';
import { CLI, startPortico } from './lib/portico.js';
const run = (...args) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function manifests(files) {
    const dir = mkdtempSync(join(tmpdir(), 'portico-cli-'));
    dirs.push(dir);
    for (const [name, yaml] of Object.entries(files))
        writeFileSync(join(dir, name), yaml);
    return dir;
}
/** A port nothing listens on (bound, then closed). */
async function freePort() {
    const s = createServer().listen(0, '127.0.0.1');
    await once(s, 'listening');
    const { port } = s.address();
    await new Promise((r) => s.close(r));
    return port;
}
test('--help lists every flag and exits 0', () => {
    const r = run('--help');
    assert.equal(r.status, 0);
    for (const flag of ['--manifests', '--http-port', '--https-port', '--admin-port', '--bind-address', '--admin-bind-address', '--debug-endpoints', '--ingress-class', '--controller-class', '--watch-ingress-without-class', '--default-backend-service', '--proxy-connect-timeout', '--proxy-read-timeout', '--access-log']) {
        assert.ok(r.stdout.includes(flag), `--help lacks ${flag}`);
    }
});
test('--help prints real defaults: no "see README" (the image has none), one default per flag, the cipher list itself', () => {
    const r = run('--help');
    assert.doesNotMatch(r.stdout, /README/);
    // each flag's entry: its line and the continuation lines under it
    const entries = r.stdout.split(/\n(?= {2}--)/);
    for (const e of entries)
        assert.ok((e.match(/\(default/g) ?? []).length <= 1, `two defaults: ${e}`);
    const ciphers = entries.find((e) => e.startsWith('  --ssl-ciphers')).replace(/\s+/g, '');
    assert.ok(ciphers.includes('(default:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:'), ciphers);
    assert.match(entries.find((e) => e.startsWith('  --external-name-denied-cidrs')).replace(/\s+/g, ''), /\(default:127\.0\.0\.0\/8,::1\/128,169\.254\.0\.0\/16,fe80::\/10,0\.0\.0\.0\/8,::\/128\)/);
    for (const line of r.stdout.split('\n'))
        assert.ok(line.length <= 100, `wider than 100 columns: ${line}`);
});
for (const sub of ['routes', 'backends']) {
    test(`portico ${sub} --help prints its usage and exits 0`, () => {
        for (const flag of ['--help', '-h']) {
            const r = run(sub, flag);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`^Usage: portico ${sub} \\[--admin-url URL\\]`));
            assert.match(r.stdout, /--admin-url URL/);
        }
    });
}
test('portico routes and backends with nothing on the admin port ask whether Portico is running there', async () => {
    const port = await freePort();
    for (const sub of ['routes', 'backends']) {
        const r = run(sub, '--admin-url', `http://127.0.0.1:${port}`);
        assert.equal(r.status, 1);
        assert.equal(r.stderr, `portico: is Portico running on http://127.0.0.1:${port}? (connect ECONNREFUSED 127.0.0.1:${port})\n`);
    }
});
const m = ['--manifests', 'x'];
for (const [args, pattern] of [
    [[...m, '--no-such-flag'], /unknown flag --no-such-flag/],
    [[...m, '--http-port', '99999'], /invalid value "99999" for --http-port/],
    [[...m, '--proxy-read-timeout', 'soon'], /invalid value "soon" for --proxy-read-timeout/],
    [[...m, '--default-backend-service', 'just-a-name'], /expected namespace\/name:port/],
    [[...m, '--watch-ingress-without-class=maybe'], /expected true or false/],
    [['--manifests'], /--manifests needs a value/],
    // a --manifests path that does not exist is found once Portico starts: e2e/lifecycle.test.ts (exit 2, one line, and the log's start and exit lines)
    // addresses, CIDRs and ports at parse time, before anything is read or bound
    [[...m, '--bind-address', '999.1.1.1'], /^portico: invalid value "999\.1\.1\.1" for --bind-address: expected an IP address/],
    [[...m, '--bind-address', 'localhost'], /invalid value "localhost" for --bind-address: expected an IP address/],
    [[...m, '--admin-bind-address', 'my-node'], /invalid value "my-node" for --admin-bind-address: expected an IP address/],
    [[...m, '--publish-status-address', '10.0.0.1,under_score'], /"under_score" is neither an IP address nor a DNS name/],
    [[...m, '--trusted-proxies', '10.0.0.0/40'], /for --trusted-proxies: "10\.0\.0\.0\/40" has an invalid prefix length/],
    [[...m, '--http-port', '9000', '--admin-port', '9000'], /--http-port and --admin-port are both 9000 on 0\.0\.0\.0/],
    [['--manifests='], /invalid value "" for --manifests: expected a file or directory/],
    [['--manifests', ''], /invalid value "" for --manifests: expected a file or directory/],
    [[...m, '--debug-endpoints', 'loopback'], /invalid value "loopback" for --debug-endpoints: expected local, all or off/],
    [['routes', '--admin-url', 'http://127.0.0.1:99999'], /invalid value "http:\/\/127\.0\.0\.1:99999" for --admin-url/],
    [['--dry-run', '--manifests', '/nonexistent/portico/dir'], /^portico: --manifests \/nonexistent\/portico\/dir: no such file or directory$/],
]) {
    test(`${args.join(' ')} -> exit 2 with one line`, () => {
        const r = run(...args);
        assert.equal(r.status, 2, r.stderr);
        const lines = r.stderr.trim().split('\n');
        assert.equal(lines.length, 1, r.stderr);
        assert.match(lines[0], /^portico: /);
        assert.match(lines[0], pattern);
        assert.equal(r.stdout, '');
    });
}
test('--dry-run parses flags, prints the configuration and exits 0', () => {
    const dir = manifests({});
    const r = run('--manifests', dir, '--http-port', '80', '--proxy-read-timeout', '1.5s', '--dry-run');
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout);
    assert.equal(cfg.httpPort, 80);
    assert.equal(cfg.proxyReadTimeout, 1500);
    assert.equal(cfg.manifests, dir);
});
test('--dry-run without --manifests checks the flags only (Kubernetes mode): the configuration, exit 0', () => {
    const r = run('--dry-run', '--admin-bind-address', '127.0.0.1', '--debug-endpoints=off');
    assert.equal(r.status, 0, r.stderr);
    const cfg = JSON.parse(r.stdout);
    assert.deepEqual([cfg.bindAddress, cfg.adminBindAddress, cfg.debugEndpoints], ['0.0.0.0', '127.0.0.1', 'off']);
    assert.equal(r.stderr, '');
});
test('--dry-run --manifests on the examples: a summary, no problems, exit 0', () => {
    const r = run('--dry-run', '--manifests', join(repoRoot, 'examples/manifests'));
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).manifests, join(repoRoot, 'examples/manifests'));
    assert.match(r.stderr, /^portico: --manifests .*examples\/manifests: 3 files, \d+ objects, \d+ routes, no problems\n$/);
});
test('--dry-run --manifests prints the diagnostics and a file that does not parse (as /debug/routes shows them), and exits 1 (a CI gate)', () => {
    const dir = manifests({
        'good.yaml': joinDocs(ingressYaml('good', [{ host: 'a.example.com', paths: [{ path: '/', service: 'web' }] }]), serviceYaml('web', [{ ip: '10.0.0.1', port: 8080 }])),
        'dangling.yaml': ingressYaml('dangling', [{ host: 'b.example.com', paths: [{ path: '/', service: 'nowhere' }] }]),
        'broken.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n',
    });
    const r = run('--dry-run', '--manifests', dir);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(JSON.parse(r.stdout).manifests, dir, 'stdout is still the configuration');
    const [summary, ...problems] = r.stderr.trimEnd().split('\n');
    assert.match(summary, /: 3 files, \d+ objects, 2 routes, 2 problems:$/);
    assert.equal(problems.length, 2, r.stderr);
    assert.equal(problems[0], `  File ${join(dir, 'broken.yaml')}: InvalidManifest: line 4, column 1: unexpected end of the stream within a flow collection (at the end of the file; its last line, 3: "metadata: {name: x")`);
    assert.match(problems[1], /^ {2}Ingress default\/dangling: \w+: .*nowhere/);
});
/** A GET from `address` to `address`: the admin port sees `address` as the peer. */
function getFrom(address, port, path) {
    return new Promise((resolve, reject) => {
        httpGet({ host: address, localAddress: address, port, path, agent: false }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (c) => (body += c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
    });
}
const outside = Object.values(networkInterfaces())
    .flat()
    .find((a) => a !== undefined && !a.internal && a.family === 'IPv4')?.address;
describe('--admin-bind-address and --debug-endpoints on the real process', { skip: outside === undefined && 'no non-loopback address on this host' }, () => {
    test('the admin port binds --admin-bind-address; by default (local) /debug/* answers loopback only, /metrics everyone', async () => {
        const p = await startPortico({}, ['--admin-bind-address', '0.0.0.0']);
        try {
            const listening = p.logs.find((l) => l.msg === 'listening' && l.listener === 'admin');
            assert.equal(listening.address, '0.0.0.0');
            assert.equal(p.logs.find((l) => l.msg === 'listening' && l.listener === 'http').address, '127.0.0.1', 'the data plane stays on --bind-address');
            assert.equal((await getFrom('127.0.0.1', p.adminPort, '/debug/routes')).status, 200);
            const refused = await getFrom(outside, p.adminPort, '/debug/routes');
            assert.equal(refused.status, 403);
            assert.match(refused.body, /^forbidden: .*--debug-endpoints=local/);
            for (const path of ['/metrics', '/healthz', '/readyz'])
                assert.equal((await getFrom(outside, p.adminPort, path)).status, 200, path);
            // portico backends from outside says why it was refused
            const r = spawnSync(process.execPath, [CLI, 'backends', '--admin-url', `http://${outside}:${p.adminPort}`], { encoding: 'utf8', timeout: 10_000 });
            assert.equal(r.status, 1);
            assert.match(r.stderr, /^portico: cannot read .*\/debug\/backends: HTTP 403: forbidden: .*--debug-endpoints=local/);
        }
        finally {
            await p.stop();
        }
    });
    test('--debug-endpoints=all serves /debug/* to any peer; off answers 404 even on loopback', async () => {
        const all = await startPortico({}, ['--admin-bind-address', outside, '--debug-endpoints=all']);
        try {
            assert.equal(all.logs.find((l) => l.msg === 'listening' && l.listener === 'admin').address, outside);
            assert.equal((await getFrom(outside, all.adminPort, '/debug/routes')).status, 200);
        }
        finally {
            await all.stop();
        }
        const off = await startPortico({}, ['--debug-endpoints', 'off']);
        try {
            const r = await getFrom('127.0.0.1', off.adminPort, '/debug/routes');
            assert.equal(r.status, 404);
            assert.match(r.body, /--debug-endpoints=off/);
            assert.equal((await getFrom('127.0.0.1', off.adminPort, '/metrics')).status, 200);
        }
        finally {
            await off.stop();
        }
    });
});
//# sourceMappingURL=cli.test.js.map