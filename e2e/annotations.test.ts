/**
 * Migrating from ingress-nginx never opens a door: an annotation Portico cannot honour that
 * restricts access or moves traffic refuses its Ingress (503 naming it, nothing reaches the pod),
 * everything else is reported, and --unsupported-annotations=warn serves with a warning.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';

/** Ingresses from the issue, each on its own host, all to the same pod. */
function manifests(pod: Pod): Record<string, string> {
  const on = (name: string, annotations: Record<string, string>, extra: Record<string, unknown> = {}): string => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path: '/', service: 'pod' }] }], extra, annotations);
  return {
    'a.yaml': join(
      // basic and external authentication are implemented (e2e/auth.test.ts); digest is not
      on('digest', { [`${N}auth-type`]: 'digest', [`${N}auth-secret`]: 'htpasswd' }),
      on('snippet', { [`${N}configuration-snippet`]: 'deny all;' }),
      on('waf', { [`${N}enable-modsecurity`]: 'true' }),
      on('typo', { [`${N}whitelist-source-ranges`]: '10.0.0.0/8' }),
      on('tuned', { [`${N}proxy-buffer-size`]: '16k', [`${N}enable-modsecurity`]: 'false' }),
      // a refused /admin must not fall through to the open / of another Ingress on the host
      ingressYaml('admin', [{ host: 'shared.test', paths: [{ path: '/admin', service: 'pod' }] }], {}, { [`${N}auth-type`]: 'digest', [`${N}auth-secret`]: 'htpasswd' }),
      ingressYaml('site', [{ host: 'shared.test', paths: [{ path: '/', service: 'pod' }] }]),
      serviceYaml('pod', [pod]),
    ),
  };
}

describe('fail closed (--unsupported-annotations=refuse, the default)', () => {
  let pod: Pod;
  let p: Portico;
  before(async () => {
    pod = await startPod('127.0.130.1', 'pod');
    p = await startPortico(manifests(pod));
  });
  after(async () => {
    await p.stop();
    await pod.close();
  });

  for (const [host, annotation] of [
    ['digest.test', 'auth-type'],
    ['snippet.test', 'configuration-snippet'],
    ['waf.test', 'enable-modsecurity'],
    ['typo.test', 'whitelist-source-ranges'],
  ] as const) {
    test(`${annotation} cannot be honoured: 503 naming it, and nothing reaches the pod`, async () => {
      const before = pod.seen.length;
      for (let i = 0; i < 3; i++) {
        const r = await get(p.httpPort, '/', { host });
        assert.equal(r.status, 503);
        assert.match(r.body, new RegExp(`not served: its Ingress uses [^\\n]*nginx\\.ingress\\.kubernetes\\.io/${annotation}\\b`));
      }
      assert.equal(pod.seen.length, before);
    });
  }

  test('a refused path keeps its place: /admin never falls through to another Ingress\'s /', async () => {
    assert.equal((await get(p.httpPort, '/admin/users', { host: 'shared.test' })).status, 503);
    assert.equal((await get(p.httpPort, '/other', { host: 'shared.test' })).status, 200);
  });

  test('switched-off and tuning annotations are served, each noted', async () => {
    assert.equal((await get(p.httpPort, '/', { host: 'tuned.test' })).status, 200);
  });

  test('every annotation is accounted for in /debug/routes, the metric and the log', async () => {
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    const d = debug.diagnostics.join('\n');
    assert.match(d, /Ingress default\/waf: UnsupportedAnnotation: not served: nginx\.ingress\.kubernetes\.io\/enable-modsecurity cannot be honoured/);
    assert.match(d, /Ingress default\/typo: UnsupportedAnnotation: nginx\.ingress\.kubernetes\.io\/whitelist-source-ranges: not supported \(not an ingress-nginx annotation \(a typo\?\)\)/);
    // a snippet is parsed, never executed: a directive other than the header ones refuses it, named
    assert.match(d, /Ingress default\/snippet: UnsupportedAnnotation: nginx\.ingress\.kubernetes\.io\/configuration-snippet: directive "deny" at line 1: not supported/);
    assert.match(d, /Ingress default\/tuned: IgnoredAnnotation: nginx\.ingress\.kubernetes\.io\/proxy-buffer-size: accepted and ignored/);
    assert.match(d, /Ingress default\/tuned: IgnoredAnnotation: nginx\.ingress\.kubernetes\.io\/enable-modsecurity: "false" asks for nothing/);
    const metrics = (await get(p.adminPort, '/metrics')).body;
    assert.match(metrics, /portico_diagnostics\{reason="UnsupportedAnnotation"\} (\d+)/);
    // the metric counts exactly what /debug/routes lists: one per unsupported annotation and Ingress
    const listed = debug.diagnostics.filter((x) => x.includes(': UnsupportedAnnotation: ')).length;
    assert.ok(listed >= 6, d);
    assert.equal(Number(/portico_diagnostics\{reason="UnsupportedAnnotation"\} (\d+)/.exec(metrics)?.[1]), listed);
    assert.match(metrics, /portico_diagnostics\{reason="IgnoredAnnotation"\} 2/);
    await p.waitForLog((l) => l.msg === 'configuration problem' && String(l.diagnostic).includes('default/snippet: UnsupportedAnnotation: not served'));
    await p.waitForLog((l) => l.msg === 'configuration note' && l.level === 'info' && String(l.diagnostic).includes('proxy-buffer-size'));
  });
});

describe('--unsupported-annotations=warn', () => {
  test('serves the Ingress without what it asked for, and says so', async () => {
    const pod = await startPod('127.0.131.1', 'pod');
    const p = await startPortico(
      { 'a.yaml': join(ingressYaml('waf', [{ host: 'waf.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}enable-modsecurity`]: 'true' }), serviceYaml('pod', [pod])) },
      ['--unsupported-annotations', 'warn'],
    );
    try {
      assert.equal((await get(p.httpPort, '/', { host: 'waf.test' })).status, 200);
      const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
      assert.ok(debug.diagnostics.some((d) => /served WITHOUT nginx\.ingress\.kubernetes\.io\/enable-modsecurity \(--unsupported-annotations=warn\)/.test(d)), debug.diagnostics.join('\n'));
    } finally {
      await p.stop();
      await pod.close();
    }
  });
});
