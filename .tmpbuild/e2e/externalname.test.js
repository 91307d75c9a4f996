/** ExternalName Services end to end: off by default, served when allowed, and never to denied addresses. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { stringify } from 'yaml';
import { get } from './lib/http.js';
import { ingressYaml, join } from './lib/manifests.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
/** An Ingress on ext.test to Service `ext`, an ExternalName for `name` whose port 80 targets `port`. */
const site = (name, port) => join(ingressYaml('ext', [{ host: 'ext.test', paths: [{ path: '/', service: 'ext' }] }]), stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'ext', namespace: 'default' }, spec: { type: 'ExternalName', externalName: name, ports: [{ port: 80, targetPort: port }] } }));
test('an ExternalName backend: refused by default, served when allowed, refused again on a denied address', async () => {
    const pod = await startPod('127.0.133.1', 'outside');
    try {
        const off = await startPortico({ 'ext.yaml': site('127.0.133.1', pod.port) });
        try {
            assert.equal((await get(off.httpPort, '/', { host: 'ext.test' })).status, 503);
            const d = await off.waitForLog((l) => l.msg === 'configuration problem');
            assert.match(String(d.diagnostic), /UnsupportedBackend: .*--allow-external-name-services/);
        }
        finally {
            await off.stop();
        }
        // allowed, with loopback let through (tests can only reach loopback)
        const on = await startPortico({ 'ext.yaml': site('127.0.133.1', pod.port) }, ['--allow-external-name-services', '--external-name-denied-cidrs=']);
        try {
            const r = await get(on.httpPort, '/', { host: 'ext.test' });
            assert.equal(r.status, 200, 'served from the first resolution, which start-up waits for');
            assert.equal(JSON.parse(r.body).pod, 'outside');
            const b = JSON.parse((await get(on.adminPort, '/debug/backends')).body);
            const ext = b.backends.find((x) => x.id === 'default/ext:80');
            assert.equal(ext?.externalName, '127.0.133.1');
            assert.deepEqual(ext?.endpoints.map((e) => e.address), [`127.0.133.1:${pod.port}`]);
        }
        finally {
            await on.stop();
        }
        // the default denied list refuses loopback: the request never reaches the pod
        const denied = await startPortico({ 'ext.yaml': site('127.0.133.1', pod.port) }, ['--allow-external-name-services']);
        try {
            const d = await denied.waitForLog((l) => l.msg === 'configuration problem');
            assert.match(String(d.diagnostic), /UnsupportedBackend: .*resolves only to addresses --external-name-denied-cidrs refuses \(1\)/);
            assert.equal((await get(denied.httpPort, '/', { host: 'ext.test' })).status, 503);
        }
        finally {
            await denied.stop();
        }
    }
    finally {
        await pod.close();
    }
});
//# sourceMappingURL=externalname.test.js.map