/**
 * Migrating from ingress-nginx never opens a door: an annotation Portico cannot honour that
 * restricts access or moves traffic refuses its Ingress (503 naming it, nothing reaches the pod),
 * everything else is reported, and --unsupported-annotations=warn serves with a warning.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect as h2connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { cert, secretYaml } from './lib/certs.js';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';

/** Ingresses from the issue, each on its own host, all to the same pod. */
function manifests(pod: Pod, authPort: number): Record<string, string> {
  const on = (name: string, annotations: Record<string, string>, extra: Record<string, unknown> = {}): string => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path: '/', service: 'pod' }] }], extra, annotations);
  return {
    'a.yaml': join(
      on('extauth', { [`${N}auth-url`]: `http://127.0.0.1:${authPort}/check` }),
      on('basic', { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd' }),
      on('mtls', { [`${N}auth-tls-verify-client`]: 'on', [`${N}auth-tls-secret`]: 'default/ca' }, { tls: [{ hosts: ['mtls.test'], secretName: 'mtls-cert' }] }),
      on('snippet', { [`${N}configuration-snippet`]: 'deny all;' }),
      on('waf', { [`${N}enable-modsecurity`]: 'true' }),
      on('typo', { [`${N}whitelist-source-ranges`]: '10.0.0.0/8' }),
      on('tuned', { [`${N}proxy-buffer-size`]: '16k', [`${N}enable-modsecurity`]: 'false' }),
      // a refused /admin must not fall through to the open / of another Ingress on the host
      ingressYaml('admin', [{ host: 'shared.test', paths: [{ path: '/admin', service: 'pod' }] }], {}, { [`${N}auth-url`]: `http://127.0.0.1:${authPort}/check` }),
      ingressYaml('site', [{ host: 'shared.test', paths: [{ path: '/', service: 'pod' }] }]),
      serviceYaml('pod', [pod]),
      secretYaml('mtls-cert', cert(['mtls.test'])),
    ),
  };
}

describe('fail closed (--unsupported-annotations=refuse, the default)', () => {
  let pod: Pod;
  let auth: Server;
  let authCalls = 0;
  let p: Portico;
  before(async () => {
    pod = await startPod('127.0.130.1', 'pod');
    auth = createServer((_req, res) => {
      authCalls++;
      res.writeHead(401).end();
    });
    await new Promise<void>((r) => auth.listen(0, '127.0.130.2', () => r()));
    p = await startPortico(manifests(pod, (auth.address() as AddressInfo).port));
  });
  after(async () => {
    await p.stop();
    await pod.close();
    await new Promise((r) => auth.close(r));
  });

  for (const [host, annotation] of [
    ['extauth.test', 'auth-url'],
    ['basic.test', 'auth-type'],
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

  test('auth-url: the auth service is never called and the pod never reached', async () => {
    await get(p.httpPort, '/', { host: 'extauth.test' });
    assert.equal(authCalls, 0);
  });

  test('auth-tls-verify-client on, over HTTP/2 without a client certificate: 503, never served open', async () => {
    const s = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: 'mtls.test', rejectUnauthorized: false });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        const r = s.request({ ':path': '/', ':authority': 'mtls.test' });
        r.on('response', (h) => {
          r.resume();
          resolve(Number(h[':status']));
        });
        r.on('error', reject);
        r.end();
      });
      assert.equal(status, 503);
    } finally {
      s.destroy();
    }
  });

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
    assert.ok(Number(/portico_diagnostics\{reason="UnsupportedAnnotation"\} (\d+)/.exec(metrics)?.[1]) >= 16);
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
