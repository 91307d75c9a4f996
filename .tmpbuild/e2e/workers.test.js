/** --workers N: one primary with the control plane, N processes serving the same ports. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { test } from 'node:test';
import { startApiDouble } from './apiserver/double.js';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { ingress, service, slice } from './lib/objects.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
test('two workers share the load, follow table changes, report merged metrics and stop together', async () => {
    const a = await startPod('127.0.120.1', 'a');
    const b = await startPod('127.0.120.2', 'b');
    const p = await startPortico({ 'site.yaml': join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'a' }] }]), serviceYaml('a', [a]), serviceYaml('b', [b])) }, ['--workers', '2']);
    try {
        assert.equal((await get(p.adminPort, '/readyz')).status, 200);
        const ready = await p.waitForLog((l) => l.msg === 'ready' && l.pid === p.proc.pid);
        assert.equal(typeof ready.startupGcMs, 'number', 'the primary collects its start-up garbage too');
        for (let i = 0; i < 200; i++)
            assert.equal((await get(p.httpPort, '/', { host: 'site.test', agent: false })).status, 200);
        await sleep(300);
        const pids = new Set(p.logs.filter((l) => l.msg === 'request').map((l) => l.pid));
        assert.equal(pids.size, 2, `requests served by ${pids.size} worker(s)`);
        assert.ok(!pids.has(p.proc.pid), 'the primary does not serve');
        // one fallback certificate, whichever worker takes the connection (no SNI: an IP address)
        const fingerprints = new Set();
        for (let i = 0; i < 20; i++) {
            fingerprints.add(await new Promise((resolve, reject) => {
                const s = tlsConnect({ host: '127.0.0.1', port: p.httpsPort, rejectUnauthorized: false }, () => {
                    resolve(s.getPeerCertificate().fingerprint256);
                    s.destroy();
                });
                s.on('error', reject);
            }));
        }
        assert.equal(fingerprints.size, 1, 'every worker serves the same fallback certificate');
        const metrics = (await get(p.adminPort, '/metrics')).body;
        assert.match(metrics, /portico_requests_total\{namespace="default",ingress="site",service="a",host="site.test",method="GET",status="200"\} 200\n/);
        assert.match(metrics, /portico_routes 1\n/);
        assert.match(metrics, /portico_build_info\{[^}]*\} 1\n/);
        // /debug/backends adds up every worker's counts
        const backends = JSON.parse((await get(p.adminPort, '/debug/backends')).body);
        const ep = backends.backends.find((x) => x.id === 'default/a:80').endpoints[0];
        assert.equal(ep.address, `127.0.120.1:${a.port}`);
        assert.equal(ep.requests, 200, 'requests summed across both workers');
        assert.equal(ep.errors, 0);
        p.write('site.yaml', join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'b' }] }]), serviceYaml('a', [a]), serviceYaml('b', [b])));
        // 20 requests in a row (spread over both workers by fresh connections) all see the new table
        await eventually(async () => {
            const seen = new Set();
            for (let i = 0; i < 20; i++)
                seen.add(JSON.parse((await get(p.httpPort, '/', { host: 'site.test', agent: false })).body).pod);
            return seen.size === 1 && seen.has('b');
        }, { ms: 5000, every: 50, what: 'every worker serves the new table' });
        const exited = once(p.proc, 'exit');
        p.proc.kill('SIGTERM');
        const [code] = (await exited);
        assert.equal(code, 0);
    }
    finally {
        await p.stop();
        await Promise.all([a.close(), b.close()]);
    }
});
test('in Kubernetes mode, EndpointSlice patches reach every worker', async () => {
    const a = await startPod('127.0.120.3', 'ka');
    const b = await startPod('127.0.120.4', 'kb');
    const api = await startApiDouble();
    api.apply(service('web'));
    api.apply(slice('web-1', 'web', [a]));
    api.apply(ingress('web', 'web.test', 'web'));
    const dir = mkdtempSync(pathJoin(tmpdir(), 'portico-workers-'));
    const p = await startPortico(null, ['--workers', '2', '--kubeconfig', api.kubeconfig(pathJoin(dir, 'kc'), undefined, 'ingress-system')], { env: { POD_NAME: 'w', POD_NAMESPACE: 'ingress-system' } });
    try {
        const podOf = async () => JSON.parse((await get(p.httpPort, '/', { host: 'web.test', agent: false })).body).pod;
        assert.equal(await podOf(), 'ka');
        api.apply(slice('web-1', 'web', [b]));
        await eventually(async () => {
            const seen = new Set();
            for (let i = 0; i < 20; i++)
                seen.add(await podOf());
            return seen.size === 1 && seen.has('kb');
        }, { ms: 5000, every: 50, what: 'every worker serves the patched endpoints' });
        const metrics = (await get(p.adminPort, '/metrics')).body;
        assert.match(metrics, /portico_table_rebuilds_total\{result="patched"\} [1-9]/);
    }
    finally {
        await p.stop();
        await api.close();
        await Promise.all([a.close(), b.close()]);
    }
});
//# sourceMappingURL=workers.test.js.map