/**
 * Regressions found reviewing the merges of the annotation families, against the real binary with
 * pods on loopback (127.0.230.x): a canary's request retried on a status (proxy-next-upstream
 * http_502) is counted under the canary's labels, as one retried on a connection error is.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPortico, type Portico } from './lib/portico.js';
import { echoOf, startStatusPod, type StatusPod } from './lib/status-pod.js';

const N = 'nginx.ingress.kubernetes.io/';

describe('a canary request retried on a status', () => {
  let main: StatusPod;
  let bad: StatusPod;
  let good: StatusPod;
  let p: Portico;
  before(async () => {
    main = await startStatusPod('127.0.230.1', 'main');
    bad = await startStatusPod('127.0.230.2', 'bad', 502);
    good = await startStatusPod('127.0.230.3', 'good');
    p = await startPortico({
      'a.yaml': join(
        ingressYaml('shop', [{ host: 'shop.test', paths: [{ path: '/', service: 'app' }] }], {}, { [`${N}proxy-next-upstream`]: 'error timeout http_502' }),
        ingressYaml('shop-canary', [{ host: 'shop.test', paths: [{ path: '/', service: 'next' }] }], {}, { [`${N}canary`]: 'true', [`${N}canary-by-header`]: 'X-Canary' }),
        serviceYaml('app', [main]),
        serviceYaml('next', [bad, good]),
      ),
    });
  });
  after(async () => {
    await p.stop();
    await Promise.all([main.close(), bad.close(), good.close()]);
  });

  test("is counted in portico_upstream_retries_total under the canary's service, not the main route's", async () => {
    for (let i = 0; i < 8; i++) {
      const r = await get(p.httpPort, `/get/${i}`, { host: 'shop.test', headers: { 'x-canary': 'always' } });
      assert.equal(r.status, 200, `request ${i}`);
      assert.equal(echoOf(r.body).pod, 'good');
    }
    assert.ok(bad.seen.length > 0, 'the 502 pod was tried');
    const metrics = (await get(p.adminPort, '/metrics')).body;
    assert.match(metrics, /portico_upstream_retries_total\{namespace="default",service="next"\} [1-9]/);
    assert.doesNotMatch(metrics, /portico_upstream_retries_total\{namespace="default",service="app"\}/, 'no request of the main service was retried');
  });
});
