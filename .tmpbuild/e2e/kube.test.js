/**
 * Kubernetes mode: the real portico process against the API-server double (real list/watch
 * protocol, real client library). Routing follows API changes, status and Events are written by
 * the leader, leadership moves when the leader dies, and an API outage loses no routes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApiDouble } from './apiserver/double.js';
import { get } from './lib/http.js';
import { sleep, startLoad } from './lib/load.js';
import { eventually } from './lib/eventually.js';
import { ingress, service, slice } from './lib/objects.js';
import { podOf, startPod } from './lib/pods.js';
import { CLI, startPortico } from './lib/portico.js';
const dir = mkdtempSync(join(tmpdir(), 'portico-kube-'));
function kubePortico(api, name, extra = [], token) {
    const kc = api.kubeconfig(join(dir, `${name}.kubeconfig`), token, 'ingress-system');
    return startPortico(null, ['--kubeconfig', kc, ...extra], { env: { POD_NAME: name, POD_NAMESPACE: 'ingress-system' } });
}
describe('Kubernetes mode against the API-server double', () => {
    let api;
    let a;
    let b;
    let p;
    before(async () => {
        api = await startApiDouble();
        a = await startPod('127.0.80.1', 'pod-a');
        b = await startPod('127.0.80.2', 'pod-b');
        api.apply(service('web'));
        api.apply(slice('web-1', 'web', [a]));
        api.apply(ingress('web', 'web.test', 'web'));
        p = await kubePortico(api, 'portico-a', ['--publish-status-address', '10.0.0.10,lb.example.com']);
    });
    after(async () => {
        await p?.stop();
        await api?.close();
        await Promise.all([a?.close(), b?.close()]);
    });
    test('objects listed at start are routed, and /readyz is ready', async () => {
        const r = await get(p.httpPort, '/', { host: 'web.test' });
        assert.equal(r.status, 200);
        assert.equal(podOf(r.body), 'pod-a');
        assert.equal((await get(p.adminPort, '/readyz')).status, 200);
    });
    test('an EndpointSlice change is serving traffic within milliseconds', async () => {
        const t0 = Date.now();
        api.apply(slice('web-1', 'web', [b]));
        await eventually(async () => podOf((await get(p.httpPort, '/', { host: 'web.test' })).body) === 'pod-b', { ms: 5000, what: 'new endpoint serving' });
        const took = Date.now() - t0;
        assert.ok(took < 2000, `took ${took} ms`);
    });
    test('EndpointSlice changes patch the live table (no new table), and a settle rebuild follows', async () => {
        const metric = async (series) => {
            const line = (await get(p.adminPort, '/metrics')).body.split('\n').find((l) => l.startsWith(`${series} `));
            return line === undefined ? 0 : Number(line.slice(series.length + 1));
        };
        const patched0 = await metric('portico_table_rebuilds_total{result="patched"}');
        const swapped0 = await metric('portico_table_rebuilds_total{result="swapped"}');
        // a second slice of the Service (the pods listen on different ports, so one slice each)
        api.apply(slice('web-2', 'web', [a]));
        const seen = new Set();
        await eventually(async () => {
            seen.add(podOf((await get(p.httpPort, '/', { host: 'web.test' })).body));
            return seen.size === 2;
        }, { ms: 5000, what: 'both pods serving' });
        assert.ok((await metric('portico_table_rebuilds_total{result="patched"}')) > patched0, 'patched');
        assert.equal(await metric('portico_table_rebuilds_total{result="swapped"}'), swapped0, 'no full swap');
        // the settle rebuild brings the table metrics up to date
        await eventually(async () => (await metric('portico_endpoints')) === 2, { ms: 5000, what: 'portico_endpoints updated' });
        assert.equal(await metric('portico_table_rebuilds_total{result="swapped"}'), swapped0, 'the settle rebuild found the table current');
        api.remove('EndpointSlice', 'default', 'web-2');
        await eventually(async () => {
            for (let i = 0; i < 4; i++)
                if (podOf((await get(p.httpPort, '/', { host: 'web.test' })).body) !== 'pod-b')
                    return false;
            return true;
        }, { ms: 5000, what: 'a deleted slice stops serving' });
    });
    test('Ingresses created, changed and deleted through the API are routed and unrouted', async () => {
        api.apply(ingress('new', 'new.test', 'web'));
        await eventually(async () => (await get(p.httpPort, '/', { host: 'new.test' })).status === 200, { ms: 5000, what: 'new ingress routed' });
        api.apply(ingress('new', 'renamed.test', 'web'));
        await eventually(async () => (await get(p.httpPort, '/', { host: 'renamed.test' })).status === 200, { ms: 5000, what: 'changed host routed' });
        assert.equal((await get(p.httpPort, '/', { host: 'new.test' })).status, 404);
        api.remove('Ingress', 'default', 'new');
        await eventually(async () => (await get(p.httpPort, '/', { host: 'renamed.test' })).status === 404, { ms: 5000, what: 'deleted ingress unrouted' });
    });
    test('the leader writes status.loadBalancer.ingress, and removes it when the Ingress stops being ours', async () => {
        const want = [{ ip: '10.0.0.10' }, { hostname: 'lb.example.com' }];
        await eventually(() => JSON.stringify(api.get('Ingress', 'default', 'web')?.status?.loadBalancer?.ingress) === JSON.stringify(want), { ms: 10_000, what: 'status written' });
        const lease = api.get('Lease', 'ingress-system', 'portico-leader');
        assert.equal(lease.spec.holderIdentity, 'portico-a');
        api.apply(ingress('theirs', 'theirs.test', 'web'));
        await eventually(() => api.get('Ingress', 'default', 'theirs')?.status?.loadBalancer?.ingress?.length === 2, { ms: 10_000, what: 'status on second ingress' });
        api.apply(ingress('theirs', 'theirs.test', 'web', { className: 'nginx' }));
        await eventually(() => api.get('Ingress', 'default', 'theirs')?.status?.loadBalancer?.ingress?.length === 0, { ms: 10_000, what: 'status removed' });
        const writes = api.requests.filter((r) => r.method === 'PUT' && r.path.includes('/ingresses/web/status') && r.status === 200);
        assert.equal(writes.length, 1, 'status is written only when it changes');
    });
    test('a diagnostic becomes one Kubernetes Event on the Ingress', async () => {
        api.apply(ingress('dangling', 'dangling.test', 'nope'));
        const ev = await eventually(() => api.list('Event').find((e) => e.regarding?.name === 'dangling'), { ms: 10_000, what: 'event created' });
        assert.equal(ev.reason, 'ServiceNotFound');
        assert.equal(ev.type, 'Warning');
        assert.match(String(ev.note), /Service default\/nope not found/);
        api.apply(ingress('other-change', 'x.test', 'web')); // more rebuilds
        await sleep(500);
        assert.equal(api.list('Event').filter((e) => e.regarding?.name === 'dangling').length, 1, 'deduplicated');
    });
    test('a Service no Ingress refers to does not trigger a rebuild', async () => {
        const count = async () => {
            const m = /portico_table_rebuilds_total\{result="(?:swapped|patched|unchanged)"\} (\d+)/g;
            const text = (await get(p.adminPort, '/metrics')).body;
            return [...text.matchAll(m)].reduce((n, x) => n + Number(x[1]), 0);
        };
        await sleep(300);
        const before = await count();
        for (let i = 0; i < 5; i++)
            api.apply(service(`unrelated-${i}`));
        api.apply(slice('unrelated-0-x', 'unrelated-0', [a]));
        await sleep(500);
        assert.equal(await count(), before);
        api.apply(slice('web-1', 'web', [a]));
        await eventually(async () => (await count()) > before, { ms: 5000, what: 'a referenced slice rebuilds' });
    });
    test('410 Gone (expired resourceVersions) triggers a re-list and changes keep flowing', async () => {
        api.expire();
        api.apply(ingress('after-expiry', 'expiry.test', 'web'));
        await eventually(async () => (await get(p.httpPort, '/', { host: 'expiry.test' })).status === 200, { ms: 15_000, what: 'routed after 410' });
    });
    test('a 30 s API outage loses no routes and no requests; changes made during it apply after', async () => {
        const load = startLoad(p.httpPort, '/', 'web.test', { concurrency: 4, maxMs: 90_000 });
        api.failFor(30_000);
        api.dropWatches();
        await sleep(1000);
        api.apply(ingress('during-outage', 'outage.test', 'web')); // stored in the API; Portico cannot see it yet
        await sleep(29_000);
        assert.equal((await get(p.httpPort, '/', { host: 'web.test' })).status, 200, 'old routes still served at the end of the outage');
        await eventually(async () => (await get(p.httpPort, '/', { host: 'outage.test' })).status === 200, { ms: 45_000, what: 'outage change applied' });
        const res = await load.stop();
        assert.deepEqual(res.errors, []);
        assert.deepEqual([...res.byStatus.keys()], [200]);
        assert.ok(res.total > 100);
        const restarts = /portico_watch_restarts_total\{kind="Ingress"\} (\d+)/.exec((await get(p.adminPort, '/metrics')).body);
        assert.ok(Number(restarts?.[1]) >= 1, 'watch restarts are counted');
    });
    test('two replicas elect one leader; the other takes over after the leader is killed', async () => {
        const q = await kubePortico(api, 'portico-b', ['--publish-status-address', '10.0.0.10,lb.example.com']);
        try {
            await sleep(3000);
            assert.equal(api.get('Lease', 'ingress-system', 'portico-leader').spec.holderIdentity, 'portico-a');
            assert.equal((await get(q.httpPort, '/', { host: 'web.test' })).status, 200, 'a follower serves traffic too');
            p.proc.kill('SIGKILL');
            const t0 = Date.now();
            await eventually(() => api.get('Lease', 'ingress-system', 'portico-leader').spec.holderIdentity === 'portico-b', { ms: 30_000, what: 'takeover' });
            assert.ok(Date.now() - t0 < 20_000, `takeover took ${Date.now() - t0} ms (lease 15 s)`);
            await q.waitForLog((l) => l.msg === 'became leader');
        }
        finally {
            await q.stop();
        }
    });
});
test('an ExternalName Service from the API is served, and a changed externalName moves its traffic', async () => {
    const api = await startApiDouble();
    const c = await startPod('127.0.80.3', 'outside-c');
    const d = await startPod('127.0.80.4', 'outside-d');
    const ext = (name, port) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: name, ports: [{ port: 80, targetPort: port }] } });
    let q = null;
    try {
        api.apply(ext('127.0.80.3', c.port));
        api.apply(ingress('ext', 'ext.test', 'ext'));
        q = await kubePortico(api, 'portico-ext', ['--allow-external-name-services', '--external-name-denied-cidrs=']);
        const r = await get(q.httpPort, '/', { host: 'ext.test' });
        assert.equal(r.status, 200);
        assert.equal(podOf(r.body), 'outside-c');
        api.apply(ext('127.0.80.4', d.port));
        const srv = q;
        await eventually(async () => {
            const x = await get(srv.httpPort, '/', { host: 'ext.test' });
            return x.status === 200 && podOf(x.body) === 'outside-d';
        }, { ms: 5000, what: 'traffic on the new externalName' });
    }
    finally {
        await q?.stop();
        await api.close();
        await Promise.all([c.close(), d.close()]);
    }
});
describe('Kubernetes mode with restricted permissions', () => {
    test('a 403 on Secrets is reported clearly and HTTP routing still works', async () => {
        const api = await startApiDouble();
        const pod = await startPod('127.0.80.9', 'pod-r');
        api.addToken('no-secrets', {
            name: 'portico',
            rules: [
                { apiGroups: ['networking.k8s.io'], resources: ['ingresses', 'ingressclasses'], verbs: ['list', 'watch'] },
                { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch'] },
                { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
                { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
            ],
        });
        api.apply(service('web'));
        api.apply(slice('web-1', 'web', [pod]));
        api.apply(ingress('web', 'web.test', 'web'));
        const p = await kubePortico(api, 'portico-r', ['--update-status=false'], 'no-secrets');
        try {
            const line = await p.waitForLog((l) => String(l.msg).startsWith('cannot list secrets'));
            assert.match(String(line.msg), /forbidden by RBAC/);
            assert.equal(line.status, 403);
            assert.equal((await get(p.httpPort, '/', { host: 'web.test' })).status, 200);
            assert.equal((await get(p.adminPort, '/readyz')).status, 200);
        }
        finally {
            await p.stop();
            await api.close();
            await pod.close();
        }
    });
    test('without a usable configuration portico exits 2 naming what it tried', () => {
        const r = spawnSync(process.execPath, [CLI, '--kubeconfig', '/nonexistent/kubeconfig', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--bind-address', '127.0.0.1'], { encoding: 'utf8', env: { ...process.env, KUBERNETES_SERVICE_HOST: '' } });
        assert.equal(r.status, 2);
        assert.match(r.stderr.trim(), /^portico: no usable Kubernetes configuration \(tried \/nonexistent\/kubeconfig\)/);
        const noHome = spawnSync(process.execPath, [CLI, '--http-port', '0'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '', HOME: '/nonexistent-home' } });
        assert.equal(noHome.status, 2);
        assert.match(noHome.stderr, /tried in-cluster config .*\/nonexistent-home\/\.kube\/config/);
    });
});
//# sourceMappingURL=kube.test.js.map