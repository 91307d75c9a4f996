/**
 * Manifest errors are first-class: what a file holds that cannot be read (a syntax error, a kind
 * Kubernetes does not have, an API version it removed) is a diagnostic in /debug/routes naming the
 * file and saying what to do, counted by portico_config_files and portico_config_valid, and logged
 * once. Files added broken, broken while running and fixed while running, against the real process.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { podOf, startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
const TYPO = 'apiVersion: networking.k8s.io/v1\nkind: Ingres\nmetadata: {name: typo}\nspec: {ingressClassName: portico}\n';
const OLD = `apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: old}
spec:
  ingressClassName: portico
  rules:
  - host: old.test
    http:
      paths:
      - path: /
        backend: {serviceName: web, servicePort: 80}
`;
const BROKEN = 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: site\n  broken: [';
describe('manifest errors in /debug/routes, in metrics and in the log', () => {
    let p;
    let pod;
    const site = () => ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'web' }] }]);
    const fileDiagnostics = async () => JSON.parse((await get(p.adminPort, '/debug/routes')).body).diagnostics.filter((d) => d.startsWith('File '));
    const config = async () => (await get(p.adminPort, '/metrics')).body.split('\n').filter((l) => l.startsWith('portico_config_')).sort();
    const problemLines = (file) => p.logs.filter((l) => String(l.msg).startsWith('manifest file problem') && l.file === pathJoin(p.dir, file));
    before(async () => {
        pod = await startPod('127.0.195.1', 'web');
        p = await startPortico({ 'web.yaml': join(serviceYaml('web', [pod])), 'site.yaml': site(), 'typo.yaml': TYPO, 'old.yaml': OLD });
    });
    after(async () => {
        await p.stop();
        await pod.close();
    });
    test('at start-up: an unknown kind and a removed API version are diagnostics naming the file and saying what to do', async () => {
        assert.deepEqual(await fileDiagnostics(), [
            `File ${pathJoin(p.dir, 'old.yaml')}: UnsupportedAPIVersion: document 1 (line 1): Ingress old: apiVersion extensions/v1beta1 was removed in Kubernetes 1.22; convert it to networking.k8s.io/v1 (backend.serviceName and servicePort become backend.service.name and port.number or port.name, and every path needs a pathType: Prefix, Exact or ImplementationSpecific)`,
            `File ${pathJoin(p.dir, 'typo.yaml')}: UnknownKind: document 1 (line 1): Ingres typo: kind "Ingres" (apiVersion networking.k8s.io/v1) is not a Kubernetes kind, so nothing reads it; did you mean "Ingress"?`,
        ]);
        const all = JSON.parse((await get(p.adminPort, '/debug/routes')).body).diagnostics;
        assert.ok(!all.some((d) => /pathType/.test(d) && !d.startsWith('File ')), `the old Ingress reached the translator: ${all.join('\n')}`);
        assert.deepEqual(await config(), ['portico_config_files{state="invalid"} 2', 'portico_config_files{state="valid"} 2', 'portico_config_valid 0']);
        assert.equal((await get(p.httpPort, '/', { host: 'site.test' })).status, 200, 'the valid files serve');
        assert.equal((await get(p.httpPort, '/', { host: 'old.test' })).status, 404);
        for (const f of ['typo.yaml', 'old.yaml']) {
            assert.deepEqual(problemLines(f).map((l) => l.msg), ['manifest file problem; nothing in the file is served'], `${f}: one line, and no "last good objects" at start-up`);
        }
    });
    test('fixed while running: the diagnostics go and portico_config_valid is 1', async () => {
        p.write('typo.yaml', TYPO.replace('Ingres', 'Ingress'));
        rmSync(pathJoin(p.dir, 'old.yaml'));
        await eventually(async () => (await fileDiagnostics()).length === 0, { ms: 5000, what: 'no file diagnostics' });
        await eventually(async () => (await config()).join() === 'portico_config_files{state="invalid"} 0,portico_config_files{state="valid"} 3,portico_config_valid 1', { ms: 5000, what: 'config valid' });
    });
    test('broken while running: a syntax error with its line, column, whole message and offending line; the last good objects keep serving; one log line', async () => {
        p.write('site.yaml', BROKEN);
        const file = pathJoin(p.dir, 'site.yaml');
        await eventually(async () => (await fileDiagnostics()).length === 1, { ms: 5000, what: 'a file diagnostic' });
        assert.deepEqual(await fileDiagnostics(), [`File ${file}: InvalidManifest: line 4, column 9: missed comma between flow collection entries: "  broken: ["`]);
        await eventually(async () => (await config()).join() === 'portico_config_files{state="invalid"} 1,portico_config_files{state="valid"} 2,portico_config_valid 0', { ms: 5000, what: 'config invalid' });
        const r = await get(p.httpPort, '/', { host: 'site.test' });
        assert.equal(r.status, 200);
        assert.equal(podOf(r.body), 'web');
        await sleep(2500); // past a poll of the directory (2 s): the same problem is not logged again
        assert.deepEqual(problemLines('site.yaml'), [
            { ...problemLines('site.yaml')[0], msg: 'manifest file problem; keeping its last good objects', file, line: 4, column: 9, reason: 'InvalidManifest', problem: 'line 4, column 9: missed comma between flow collection entries: "  broken: ["', component: 'manifests' },
        ]);
    });
    test('fixed again: the diagnostic goes, the fix is logged, and the file serves its new content', async () => {
        p.write('site.yaml', ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'web' }] }, { host: 'new.test', paths: [{ path: '/', service: 'web' }] }]));
        await eventually(async () => (await get(p.httpPort, '/', { host: 'new.test' })).status === 200, { ms: 5000, what: 'new.test routed' });
        assert.deepEqual(await fileDiagnostics(), []);
        assert.deepEqual(await config(), ['portico_config_files{state="invalid"} 0', 'portico_config_files{state="valid"} 3', 'portico_config_valid 1']);
        await p.waitForLog((l) => l.msg === 'manifest file fixed' && l.file === pathJoin(p.dir, 'site.yaml'));
    });
});
test('with --workers 2, portico_config_valid is the primary\'s: the workers\' own copies (always 1) do not hide a 0', async () => {
    const pod = await startPod('127.0.195.2', 'web');
    const p = await startPortico({ 'web.yaml': join(serviceYaml('web', [pod])), 'typo.yaml': TYPO }, ['--workers', '2']);
    try {
        const lines = (await get(p.adminPort, '/metrics')).body.split('\n').filter((l) => l.startsWith('portico_config_'));
        assert.deepEqual(lines.sort(), ['portico_config_files{state="invalid"} 1', 'portico_config_files{state="valid"} 1', 'portico_config_valid 0']);
    }
    finally {
        await p.stop();
        await pod.close();
    }
});
//# sourceMappingURL=manifest-errors.test.js.map