/**
 * What the log says about Portico's life: a start-up line (version, Node.js, mode, source, ports,
 * workers), a `component` on every control-plane line, and an exit line with the reason (the
 * signal, or the error); and `npm start` stopping at once on Ctrl-C.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { NODE_FLAGS, repoRoot } from '../src/paths.js';
import { startApiDouble } from './apiserver/double.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { ingressYaml, join as joinDocs, serviceYaml } from './lib/manifests.js';
import { ingress, service, slice } from './lib/objects.js';
import { startPod } from './lib/pods.js';
import { CLI, startPortico } from './lib/portico.js';
const VERSION = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version;
/** Sends `signal`, waits for the exit and the last log line; returns the exit code and the log. */
async function stopWith(p, signal) {
    const exited = once(p.proc, 'exit');
    p.proc.kill(signal);
    const [code] = (await exited);
    await eventually(() => p.logs.some((l) => l.msg === 'exiting'), { ms: 5000, what: 'the exit line' });
    await p.stop();
    return { code, logs: p.logs };
}
/** Every line but the access log's carries a component. */
function assertComponents(logs) {
    const without = logs.filter((l) => l.msg !== 'request' && typeof l.component !== 'string');
    assert.deepEqual(without, [], 'lines without a component');
}
test('standalone: a start-up line first, a component on every line, and an exit line naming SIGTERM', async () => {
    const pod = await startPod('127.0.196.1', 'web');
    const files = {
        'site.yaml': joinDocs(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'web' }] }]), serviceYaml('web', [pod])),
        'dangling.yaml': ingressYaml('dangling', [{ host: 'dangling.test', paths: [{ path: '/', service: 'nowhere' }] }]),
        'typo.yaml': 'apiVersion: v1\nkind: Servce\nmetadata: {name: x}\n',
    };
    const p = await startPortico(files);
    try {
        assert.deepEqual(p.logs[0], {
            ...p.logs[0],
            level: 'info',
            component: 'lifecycle',
            msg: 'starting',
            version: VERSION,
            node: process.version,
            mode: 'standalone',
            source: p.dir,
            ports: { http: 0, https: 0, admin: 0 },
            workers: 1,
        });
        assert.equal((await get(p.httpPort, '/', { host: 'site.test' })).status, 200);
        p.write('site.yaml', files['site.yaml'].replace('site.test', 'other.test'));
        await eventually(async () => (await get(p.httpPort, '/', { host: 'other.test' })).status === 200, { ms: 5000, what: 'the edit applied' });
        for (const msg of ['listening', 'ready', 'routing table swapped', 'configuration problem', 'manifest file problem; nothing in the file is served']) {
            assert.ok(p.logs.some((l) => l.msg === msg), `no ${msg} line`);
        }
        assert.deepEqual(p.logs.filter((l) => l.msg === 'listening').map((l) => [l.listener, l.component]), [['http', 'dataplane'], ['https', 'dataplane'], ['admin', 'admin']]);
        assert.equal(p.logs.find((l) => l.msg === 'ready')?.component, 'lifecycle');
        const { code, logs } = await stopWith(p, 'SIGTERM');
        assert.equal(code, 0);
        assertComponents(logs);
        assert.equal(logs.filter((l) => l.msg === 'exiting').length, 1);
        const last = logs.at(-1);
        assert.equal(typeof last.uptimeS, 'number');
        assert.deepEqual(last, { ...last, component: 'lifecycle', msg: 'exiting', signal: 'SIGTERM', code: 0 }, 'the exit line is the last line');
    }
    finally {
        await p.stop();
        await pod.close();
    }
});
test('--workers 2: the workers\' lines carry a component too, and SIGINT is the exit line\'s reason', async () => {
    const pod = await startPod('127.0.196.2', 'web');
    const p = await startPortico({ 'site.yaml': joinDocs(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'web' }] }]), serviceYaml('web', [pod])) }, ['--workers', '2']);
    try {
        assert.equal(p.logs[0]?.msg, 'starting');
        assert.equal(p.logs[0]?.workers, 2);
        await eventually(async () => (await get(p.httpPort, '/', { host: 'site.test' })).status === 200, { ms: 10_000, what: 'served by the workers' });
        const { code, logs } = await stopWith(p, 'SIGINT');
        assert.equal(code, 0);
        assertComponents(logs);
        assert.ok(logs.some((l) => l.component === 'worker'), 'the workers log');
        const last = logs.filter((l) => l.msg === 'exiting');
        assert.deepEqual(last.map((l) => [l.component, l.signal, l.code]), [['lifecycle', 'SIGINT', 0]]);
    }
    finally {
        await p.stop();
        await pod.close();
    }
});
test('Kubernetes mode: the start-up line names the kubeconfig, and every control-plane line has a component', async () => {
    const api = await startApiDouble({ ip: '127.0.196.10' });
    const dir = mkdtempSync(join(tmpdir(), 'portico-lifecycle-'));
    const pod = await startPod('127.0.196.3', 'web');
    api.apply(service('web'));
    api.apply(slice('web-1', 'web', [pod]));
    api.apply(ingress('web', 'web.test', 'web'));
    api.apply(ingress('dangling', 'dangling.test', 'nowhere'));
    const kc = api.kubeconfig(join(dir, 'kubeconfig'), undefined, 'ingress-system');
    const p = await startPortico(null, ['--kubeconfig', kc], { env: { POD_NAME: 'lifecycle', POD_NAMESPACE: 'ingress-system' } });
    try {
        assert.deepEqual(p.logs[0], { ...p.logs[0], component: 'lifecycle', msg: 'starting', mode: 'kubernetes', source: kc, version: VERSION, workers: 1 });
        await eventually(async () => (await get(p.httpPort, '/', { host: 'web.test' })).status === 200, { ms: 10_000, what: 'web.test routed' });
        await p.waitForLog((l) => l.msg === 'became leader');
        assert.equal(p.logs.find((l) => l.msg === 'kubernetes mode')?.component, 'kube');
        const { code, logs } = await stopWith(p, 'SIGTERM');
        assert.equal(code, 0);
        assertComponents(logs);
        for (const c of ['lifecycle', 'kube', 'watch', 'leader', 'pipeline', 'admin', 'dataplane'])
            assert.ok(logs.some((l) => l.component === c), `no ${c} line`);
    }
    finally {
        await p.stop();
        await pod.close();
        await api.close();
        rmSync(dir, { recursive: true, force: true });
    }
});
test('a start-up error: exit 2 with one line on stderr, and the log has the start-up line and an exit line with the error', () => {
    const r = spawnSync(process.execPath, [CLI, '--manifests', '/nonexistent/portico/dir', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--bind-address', '127.0.0.1'], { encoding: 'utf8', timeout: 10_000 });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stderr, 'portico: --manifests /nonexistent/portico/dir: no such file or directory\n');
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => [l.component, l.msg]), [['lifecycle', 'starting'], ['lifecycle', 'exiting']]);
    assert.deepEqual([lines[0].mode, lines[0].source], ['standalone', '/nonexistent/portico/dir']);
    assert.deepEqual([lines[1].code, lines[1].err, lines[1].signal], [2, '--manifests /nonexistent/portico/dir: no such file or directory', undefined]);
});
test('npm start (examples/start.ts) stops at once on Ctrl-C: SIGINT to exit within a second, with the exit line', async () => {
    const demo = spawn(process.execPath, [...NODE_FLAGS, join(repoRoot, 'dist/examples/start.js'), '--http-port', '0', '--https-port', '0', '--admin-port', '0'], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { ...process.env, PORTICO_DEMO_PODS: '127.0.197' },
    });
    const logs = [];
    let stderr = '';
    demo.stderr.on('data', (c) => (stderr += c.toString()));
    const closed = once(demo.stdout, 'close');
    createInterface({ input: demo.stdout }).on('line', (line) => logs.push(JSON.parse(line)));
    try {
        await eventually(() => logs.some((l) => l.msg === 'ready') && stderr.includes('Ctrl-C stops'), { ms: 20_000, what: `the demo ready (stderr: ${stderr})` });
        const admin = logs.find((l) => l.msg === 'listening' && l.listener === 'admin').port;
        const http = logs.find((l) => l.msg === 'listening' && l.listener === 'http').port;
        // an idle keep-alive connection on each port must not hold the exit back
        assert.equal((await get(admin, '/readyz')).status, 200);
        assert.equal((await get(http, '/', { host: 'shop.example.com' })).status, 502, 'the pods moved to 127.0.197.x; the example endpoints stay on 127.0.10.x');
        const t0 = performance.now();
        const exited = once(demo, 'exit');
        demo.kill('SIGINT');
        const [code] = (await exited);
        const took = performance.now() - t0;
        assert.equal(code, 0);
        assert.ok(took < 1000, `exit took ${took.toFixed(0)} ms`);
        await closed;
        assert.deepEqual(logs.filter((l) => l.msg === 'exiting').map((l) => [l.component, l.signal, l.code]), [['lifecycle', 'SIGINT', 0]]);
        assert.equal(logs.find((l) => l.msg === 'draining: /readyz now fails')?.gracePeriodMs, 0);
    }
    finally {
        if (demo.exitCode === null && demo.signalCode === null)
            demo.kill('SIGKILL');
    }
});
//# sourceMappingURL=lifecycle.test.js.map