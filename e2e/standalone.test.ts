/**
 * Standalone mode: manifests on disk are followed live. Edits, new files and deletions take
 * effect without a restart and without failing in-flight requests; a bad file keeps the last good table.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { get } from './lib/http.js';
import { startLoad, sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { eventually } from './lib/eventually.js';
import { podOf, startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';


describe('standalone mode follows the manifests directory', () => {
  let p: Portico;
  let blue: Pod;
  let green: Pod;
  const route = (service: string): string => join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service }] }]));

  before(async () => {
    blue = await startPod('127.0.30.1', 'blue');
    green = await startPod('127.0.30.2', 'green');
    p = await startPortico({ 'services.yaml': join(serviceYaml('blue', [blue]), serviceYaml('green', [green])), 'site.yaml': route('blue') });
  });
  after(async () => {
    await p.stop();
    await Promise.all([blue.close(), green.close()]);
  });

  test('/healthz, /readyz and /debug/routes on the admin port', async () => {
    assert.equal((await get(p.adminPort, '/healthz')).status, 200);
    assert.equal((await get(p.adminPort, '/readyz')).status, 200);
    const routes = JSON.parse((await get(p.adminPort, '/debug/routes')).body);
    assert.deepEqual(routes.hosts['site.test'].routes, ['Prefix / -> default/blue:80 (default/site)']);
    assert.deepEqual(routes.backends['default/blue:80'], [`127.0.30.1:${blue.port}`]);
  });

  test('start-up garbage is collected before ready (Portico runs with NODE_FLAGS, --expose-gc among them)', async () => {
    const ready = await p.waitForLog((l) => l.msg === 'ready');
    assert.equal(typeof ready.startupGcMs, 'number');
  });

  test('an edit takes effect with zero failed requests while a load runs', async () => {
    const load = startLoad(p.httpPort, '/', 'site.test', { concurrency: 8, maxMs: 15_000, key: (r) => (r.status === 200 ? podOf(r.body) : `status ${r.status}`) });
    await sleep(300);
    p.write('site.yaml', route('green'));
    await eventually(async () => podOf((await get(p.httpPort, '/', { host: 'site.test' })).body) === 'green', { ms: 5000, what: 'green serving' });
    await sleep(300);
    const res = await load.stop();
    assert.deepEqual(res.errors, []);
    assert.deepEqual([...res.byStatus.keys()], [200], `statuses: ${JSON.stringify([...res.byStatus])}`);
    assert.ok((res.bodies.get('blue') ?? 0) > 0 && (res.bodies.get('green') ?? 0) > 0, JSON.stringify([...res.bodies]));
    assert.ok(res.total > 50, `only ${res.total} requests`);
  });

  test('a bad file is logged with its name and the last good table keeps serving', async () => {
    p.write('site.yaml', 'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: site\n  broken: [');
    const line = await p.waitForLog((l) => l.msg === 'manifest file problem; keeping its last good objects');
    assert.match(String(line.file), /site\.yaml$/);
    assert.equal(line.problem, 'line 4, column 9: missed comma between flow collection entries: "  broken: ["');
    await sleep(100);
    const r = await get(p.httpPort, '/', { host: 'site.test' });
    assert.equal(r.status, 200);
    assert.equal(podOf(r.body), 'green');
    p.write('site.yaml', route('blue'));
    await eventually(async () => podOf((await get(p.httpPort, '/', { host: 'site.test' })).body) === 'blue', { ms: 5000, what: 'blue serving' });
  });

  test('a new file adds routes and deleting it removes them', async () => {
    p.write('extra.yaml', ingressYaml('extra', [{ host: 'extra.test', paths: [{ path: '/', service: 'green' }] }]));
    await eventually(async () => (await get(p.httpPort, '/', { host: 'extra.test' })).status === 200, { ms: 5000, what: 'extra.test routed' });
    rmSync(pathJoin(p.dir, 'extra.yaml'));
    await eventually(async () => (await get(p.httpPort, '/', { host: 'extra.test' })).status === 404, { ms: 5000, what: 'extra.test unrouted' });
  });

  test('a configuration problem is logged as a diagnostic naming the object and reason', async () => {
    p.write('broken-ref.yaml', ingressYaml('dangling', [{ host: 'dangling.test', paths: [{ path: '/', service: 'nope' }] }]));
    const line = await p.waitForLog((l) => l.msg === 'configuration problem' && String(l.diagnostic).includes('dangling'));
    assert.equal(line.diagnostic, 'Ingress default/dangling: ServiceNotFound: Service default/nope not found');
    assert.equal((await get(p.httpPort, '/', { host: 'dangling.test' })).status, 503);
    assert.equal((await get(p.httpPort, '/', { host: 'site.test' })).status, 200);
  });
});
