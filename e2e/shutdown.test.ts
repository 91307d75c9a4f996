/** SIGTERM: /readyz fails at once, traffic is still served through the grace period, then a clean exit. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';

test('draining: /readyz 503 and Connection: close during the grace period, then exit 0', async () => {
  const pod = await startPod('127.0.50.1', 'api');
  const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'a.test', paths: [{ path: '/', service: 'api' }] }]), serviceYaml('api', [pod])) }, [], { grace: '1500ms' });
  try {
    assert.equal((await get(p.adminPort, '/readyz')).status, 200);
    const t0 = Date.now();
    const exited = once(p.proc, 'exit');
    p.proc.kill('SIGTERM');
    await p.waitForLog((l) => l.msg === 'draining: /readyz now fails');
    assert.equal((await get(p.adminPort, '/readyz', { agent: false })).status, 503);
    await sleep(200);
    const r = await get(p.httpPort, '/', { host: 'a.test' });
    assert.equal(r.status, 200, 'still serving during the grace period');
    assert.equal(r.headers.connection, 'close');
    const [code] = (await exited) as [number];
    assert.equal(code, 0);
    const took = Date.now() - t0;
    assert.ok(took >= 1400 && took < 10_000, `exited after ${took} ms`);
  } finally {
    await p.stop();
    await pod.close();
  }
});
