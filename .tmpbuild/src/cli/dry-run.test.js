import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigError, parseArgs } from '../config.js';
import { dryRun, dryRunReport } from './dry-run.js';
const dirs = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function tree(files) {
    const dir = mkdtempSync(join(tmpdir(), 'portico-dry-run-'));
    dirs.push(dir);
    for (const [name, text] of Object.entries(files)) {
        mkdirSync(join(dir, name, '..'), { recursive: true });
        writeFileSync(join(dir, name), text);
    }
    return dir;
}
const configFor = (...args) => {
    const c = parseArgs([...args, '--dry-run'], {});
    assert.equal(c.kind, 'check');
    return c.config;
};
/** An Ingress without a namespace (it lands in `default`, as with kubectl apply) to Service `service`. */
const ingress = (name, service) => `
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: ${name}}
spec:
  ingressClassName: portico
  rules:
  - host: ${name}.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: ${service}, port: {number: 80}}}}]}
`;
const service = `
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-1, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{port: 8080}]
endpoints: [{addresses: [10.0.0.1], conditions: {ready: true}}]
`;
test('good manifests: no problems, the counts of what was read', async () => {
    const dir = tree({ 'app/ingress.yaml': ingress('shop', 'web'), 'app/service.yml': service, 'README.md': 'not a manifest', '.hidden/broken.yaml': 'kind: [', 'notes.txt': 'kind: [' });
    const config = configFor('--manifests', dir);
    const r = await dryRun(config);
    assert.deepEqual(r, { files: 2, objects: 3, routes: 1, problems: [] });
    assert.equal(dryRunReport(config, r), `portico: --manifests ${dir}: 2 files, 3 objects, 1 route, no problems\n`);
});
test('what in a file cannot be read and the translation diagnostics are problems, one a line, as /debug/routes shows them', async () => {
    const old = 'apiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old}\nspec: {backend: {serviceName: web, servicePort: 80}}\n';
    const dir = tree({ 'a.yaml': ingress('shop', 'web') + '---\n' + service, 'b.yaml': ingress('blog', 'missing'), 'c.yaml': 'kind: Service\nmetadata: {name: x\n', 'd.yaml': old });
    const config = configFor('--manifests', dir);
    const r = await dryRun(config);
    assert.equal(r.routes, 2, 'the rest of the table keeps working');
    assert.deepEqual(r.problems, [
        `File ${join(dir, 'c.yaml')}: InvalidManifest: line 3, column 1: unexpected end of the stream within a flow collection (at the end of the file; its last line, 2: "metadata: {name: x")`,
        `File ${join(dir, 'd.yaml')}: UnsupportedAPIVersion: document 1 (line 1): Ingress old: apiVersion extensions/v1beta1 was removed in Kubernetes 1.22; convert it to networking.k8s.io/v1 (backend.serviceName and servicePort become backend.service.name and port.number or port.name, and every path needs a pathType: Prefix, Exact or ImplementationSpecific)`,
        r.problems[2],
    ]);
    assert.match(r.problems[2], /^Ingress default\/blog: \w+: .*missing/);
    const report = dryRunReport(config, r).split('\n');
    assert.match(report[0], /: 4 files, 4 objects, 2 routes, 3 problems:$/);
    assert.deepEqual(report.slice(1, 4), r.problems.map((p) => `  ${p}`));
});
test('the flags that shape translation apply: the ingress class', async () => {
    const dir = tree({ 'a.yaml': ingress('shop', 'web') + '---\n' + service });
    assert.equal((await dryRun(configFor('--manifests', dir, '--ingress-class', 'other'))).routes, 0);
});
test('ExternalName Services: refused without the flag, left unresolved (no DNS) with it', async () => {
    const external = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {type: ExternalName, externalName: api.example.com, ports: [{port: 80}]}\n';
    const dir = tree({ 'a.yaml': ingress('shop', 'web') + '---\n' + external });
    assert.match((await dryRun(configFor('--manifests', dir))).problems.join('\n'), /--allow-external-name-services/);
    assert.deepEqual((await dryRun(configFor('--manifests', dir, '--allow-external-name-services'))).problems, []);
});
test('one file is read as it is, whatever its name; a missing path is a ConfigError', async () => {
    const dir = tree({ 'only.conf': ingress('shop', 'web') + '---\n' + service });
    assert.equal((await dryRun(configFor('--manifests', join(dir, 'only.conf')))).routes, 1);
    await assert.rejects(dryRun(configFor('--manifests', join(dir, 'nope'))), (err) => err instanceof ConfigError && err.message === `--manifests ${join(dir, 'nope')}: no such file or directory`);
});
//# sourceMappingURL=dry-run.test.js.map