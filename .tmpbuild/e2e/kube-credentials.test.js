/**
 * How Portico reaches the API server: the in-cluster service account, kubeconfig files (CA file
 * or data, bearer token, token file, basic auth, client certificates) read by Portico itself, and
 * credential plugins (exec) through @kubernetes/client-node, each against the API-server double.
 */
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dump } from 'js-yaml';
import { parseArgs } from '../src/config.js';
import { createKubeClient } from '../src/kube/client.js';
import { connect } from '../src/kube/config.js';
import { inCluster, readKubeconfig } from '../src/kube/credentials.js';
import { startApiDouble } from './apiserver/double.js';
import { get } from './lib/http.js';
import { ingress, service, slice } from './lib/objects.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
const dir = mkdtempSync(join(tmpdir(), 'portico-creds-'));
function configFor(args, env = {}) {
    const c = parseArgs(['--bind-address', '127.0.0.1', ...args], { HOME: dir, ...env });
    assert.equal(c.kind, 'run');
    return c.config;
}
function kubeconfig(name, server, cluster, user, extra = {}) {
    const path = join(dir, name);
    writeFileSync(path, dump({ apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'c', cluster: { server, ...cluster } }], users: [{ name: 'u', user }], contexts: [{ name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team-a' } }], 'current-context': 'ctx', ...extra }));
    return path;
}
describe('API server credentials', () => {
    let api;
    before(async () => {
        api = await startApiDouble();
        writeFileSync(join(dir, 'ca.crt'), api.caPem);
        api.apply(service('creds'));
    });
    after(() => api.close());
    const listServices = async (config) => {
        const conn = await connect(config, join(dir, 'no-service-account'));
        const body = await createKubeClient(conn.creds).request('GET', '/api/v1/services');
        return body.items.map((i) => i.metadata.name);
    };
    test('the in-cluster service account: address from the environment, CA and token from files', async () => {
        const sa = join(dir, 'sa');
        mkdirSync(sa, { recursive: true });
        writeFileSync(join(sa, 'token'), 'admin-token\n');
        writeFileSync(join(sa, 'ca.crt'), api.caPem);
        writeFileSync(join(sa, 'namespace'), 'ingress-system\n');
        const url = new URL(api.url);
        const config = configFor([], { KUBERNETES_SERVICE_HOST: url.hostname, KUBERNETES_SERVICE_PORT: url.port });
        const conn = await connect(config, sa);
        assert.deepEqual([conn.source, conn.namespace, conn.creds.server], ['in-cluster service account', 'ingress-system', api.url.replace(/\/$/, '')]);
        const body = await createKubeClient(conn.creds).request('GET', '/api/v1/services');
        assert.ok(body.items.length >= 1);
        assert.equal(inCluster(sa, { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '6443' }).server, 'https://[fd00::1]:6443');
    });
    test('kubeconfig: CA file relative to the kubeconfig, token; CA data, token file; basic auth refused by the double', async () => {
        const a = kubeconfig('a.kubeconfig', api.url, { 'certificate-authority': 'ca.crt' }, { token: 'admin-token' });
        assert.ok((await listServices(configFor(['--kubeconfig', a]))).includes('creds'));
        writeFileSync(join(dir, 'token'), 'admin-token');
        const b = kubeconfig('b.kubeconfig', api.url, { 'certificate-authority-data': Buffer.from(api.caPem).toString('base64') }, { tokenFile: join(dir, 'token') });
        const conn = await connect(configFor(['--kubeconfig', b]));
        assert.equal(conn.namespace, 'team-a');
        assert.ok((await listServices(configFor(['--kubeconfig', b]))).includes('creds'));
        const basic = kubeconfig('basic.kubeconfig', api.url, { 'certificate-authority': join(dir, 'ca.crt') }, { username: 'u', password: 'p' });
        await assert.rejects(listServices(configFor(['--kubeconfig', basic])), /401/);
        // without the CA the server certificate is not trusted
        const noCa = kubeconfig('noca.kubeconfig', api.url, {}, { token: 'admin-token' });
        await assert.rejects(listServices(configFor(['--kubeconfig', noCa])), /certificate/i);
        const insecure = kubeconfig('insecure.kubeconfig', api.url, { 'insecure-skip-tls-verify': true }, { token: 'admin-token' });
        assert.ok((await listServices(configFor(['--kubeconfig', insecure]))).includes('creds'));
    });
    test('contexts: --kube-context selects one; unknown contexts and broken files fail with one line', async () => {
        const multi = kubeconfig('multi.kubeconfig', api.url, { 'certificate-authority': 'ca.crt' }, { token: 'admin-token' }, {
            contexts: [
                { name: 'ctx', context: { cluster: 'c', user: 'u', namespace: 'team-a' } },
                { name: 'other', context: { cluster: 'c', user: 'u', namespace: 'team-b' } },
            ],
        });
        assert.equal((await connect(configFor(['--kubeconfig', multi, '--kube-context', 'other']))).namespace, 'team-b');
        await assert.rejects(connect(configFor(['--kubeconfig', multi, '--kube-context', 'nope'])), /--kube-context nope: no such context in .* \(has ctx, other\)/);
        writeFileSync(join(dir, 'broken.kubeconfig'), 'clusters: [');
        await assert.rejects(connect(configFor(['--kubeconfig', join(dir, 'broken.kubeconfig')])), /cannot read kubeconfig .*broken\.kubeconfig: unexpected end/);
        const noCluster = kubeconfig('nocluster.kubeconfig', '', {}, {});
        await assert.rejects(connect(configFor(['--kubeconfig', noCluster])), /no cluster for context "ctx"/);
        assert.deepEqual(readKubeconfig(multi).contexts, ['ctx', 'other']);
    });
    test('an exec credential plugin goes through @kubernetes/client-node, and Portico routes with it', async () => {
        const plugin = join(dir, 'plugin.sh');
        writeFileSync(plugin, `#!/bin/sh\necho '{"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"admin-token"}}'\n`);
        chmodSync(plugin, 0o755);
        const kc = kubeconfig('exec.kubeconfig', api.url, { 'certificate-authority': 'ca.crt' }, { exec: { apiVersion: 'client.authentication.k8s.io/v1', command: plugin, interactiveMode: 'Never' } });
        assert.ok((await listServices(configFor(['--kubeconfig', kc]))).includes('creds'));
        const pod = await startPod('127.0.81.1', 'exec-pod');
        api.apply(slice('creds-1', 'creds', [pod]));
        api.apply(ingress('creds', 'creds.test', 'creds'));
        const p = await startPortico(null, ['--kubeconfig', kc, '--update-status=false'], { env: { POD_NAME: 'creds', POD_NAMESPACE: 'default' } });
        try {
            const r = await get(p.httpPort, '/', { host: 'creds.test' });
            assert.equal(r.status, 200);
        }
        finally {
            await p.stop();
            await pod.close();
        }
    });
});
//# sourceMappingURL=kube-credentials.test.js.map