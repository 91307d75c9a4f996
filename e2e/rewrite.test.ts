/**
 * Regex paths, rewrites and redirects against the real process, with ingress-nginx's e2e cases
 * (test/e2e/annotations/{rewrite,approot,xforwardedprefix,preservetrailingslash,redirect,
 * fromtowwwredirect,alias,relativeredirects}.go) and its documented rewrite example: what the pod
 * receives after a rewrite, and redirect statuses and Location headers exactly. Pods on
 * 127.0.180.x-127.0.184.x.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { run } from './lib/command.js';
import { cert, secretYaml } from './lib/certs.js';
import { get, httpsGet } from './lib/http.js';
import { ingressYaml, join, serviceYaml, type HostSpec } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico, type Portico } from './lib/portico.js';

const N = 'nginx.ingress.kubernetes.io/';

/** What the echo pod saw: its name, the request target, the headers. */
const seen = (body: string): { pod: string; url: string; headers: Record<string, string> } => JSON.parse(body) as never;

const one = (host: string, path: string, service: string, pathType: 'Exact' | 'Prefix' | 'ImplementationSpecific' = 'Prefix'): HostSpec[] => [{ host, paths: [{ path, pathType, service }] }];

describe('regex paths and rewrite-target', () => {
  let plain: Pod;
  let regex: Pod;
  let p: Portico;
  before(async () => {
    plain = await startPod('127.0.180.1', 'plain');
    regex = await startPod('127.0.180.2', 'regex');
    p = await startPortico({
      'a.yaml': join(
        // docs/examples/rewrite
        ingressYaml('rewrite', one('rewrite.test', '/something(/|$)(.*)', 'regex', 'ImplementationSpecific'), {}, { [`${N}use-regex`]: 'true', [`${N}rewrite-target`]: '/$2' }),
        // rewrite.go "should allow for custom rewrite parameters" (no use-regex: rewrite-target alone makes regexes)
        ingressYaml('custom', one('custom.test', '/foo/bar/(.+)', 'regex'), {}, { [`${N}rewrite-target`]: '/new/backend/$1' }),
        // rewrite.go "should use correct longest path match"
        ingressYaml('kube-lego', one('longest.test', '/.well-known/acme/challenge', 'plain')),
        ingressYaml('rewrite-index', one('longest.test', '/', 'regex'), {}, { [`${N}rewrite-target`]: '/new/backend' }),
        // "should use ~* location modifier if regex annotation is present"
        ingressYaml('foo', one('modifier.test', '/foo', 'plain')),
        ingressYaml('regex', one('modifier.test', '/foo.+', 'regex'), {}, { [`${N}use-regex`]: 'true', [`${N}rewrite-target`]: '/new/backend' }),
        // "should fail to use longest match for documented warning"
        ingressYaml('foo-bar', one('warning.test', '/foo/bar/bar', 'plain')),
        ingressYaml('regex-bar', one('warning.test', '/foo/bar/[a-z]{3}', 'regex'), {}, { [`${N}use-regex`]: 'true', [`${N}rewrite-target`]: '/new/backend' }),
        // xforwardedprefix.go
        ingressYaml('xfp', one('xfp.test', '/', 'regex'), {}, { [`${N}x-forwarded-prefix`]: '/test/value', [`${N}rewrite-target`]: '/foo' }),
        ingressYaml('noxfp', one('noxfp.test', '/', 'regex'), {}, { [`${N}x-forwarded-prefix`]: '', [`${N}rewrite-target`]: '/foo' }),
        ingressYaml('xfp-capture', one('xfp-capture.test', '/(api|web)(/|$)(.*)', 'regex'), {}, { [`${N}x-forwarded-prefix`]: '/$1', [`${N}rewrite-target`]: '/$3' }),
        // only the asking Ingress's paths are regexes; a pattern RE2 cannot run refuses only its path
        ingressYaml('team-a', [{ host: 'shared.test', paths: [{ path: '/app', service: 'plain' }, { path: '/exact', pathType: 'Exact', service: 'plain' }] }]),
        ingressYaml('team-b', [{ host: 'shared.test', paths: [{ path: '/api/(v[0-9]+)/(.*)', service: 'regex' }, { path: '/(?!admin)', service: 'regex' }] }], {}, { [`${N}rewrite-target`]: '/$1/$2' }),
        ingressYaml('noop', one('noop.test', '/', 'plain'), {}, { [`${N}rewrite-target`]: '/' }),
        serviceYaml('plain', [plain]),
        serviceYaml('regex', [regex]),
      ),
    });
  });
  after(async () => {
    await p.stop();
    await plain.close();
    await regex.close();
  });

  test('the documented example: /something(/|$)(.*) with /$2; the query is kept', async () => {
    for (const [path, want] of [
      ['/something', '/'],
      ['/something/', '/'],
      ['/something/new', '/new'],
      ['/something/new/deeper?x=1&y=%20', '/new/deeper?x=1&y=%20'],
      ['/SomeThing/Case', '/Case'],
    ] as const) {
      const r = await get(p.httpPort, path, { host: 'rewrite.test' });
      assert.equal(r.status, 200, path);
      assert.deepEqual([seen(r.body).pod, seen(r.body).url], ['regex', want], path);
    }
    assert.equal((await get(p.httpPort, '/other', { host: 'rewrite.test' })).status, 404, 'the regex is anchored at the start');
  });

  test('captures decoded for matching go back out escaped; nothing unsafe reaches the pod', async () => {
    const r = await get(p.httpPort, '/something/a%20b%3Fc%25d%0DX:%201%C3%A9?q=%0A', { host: 'rewrite.test' });
    assert.equal(seen(r.body).url, '/a%20b%3Fc%25d%0DX:%201%C3%A9?q=%0A');
    // as in PCRE, `.` stops at a newline: (.*) captures up to it
    assert.equal(seen((await get(p.httpPort, '/something/a%0Ab', { host: 'rewrite.test' })).body).url, '/a');
  });

  test('rewrite-target with $1 and no use-regex (R5): the pod sees /new/backend/bar', async () => {
    const r = await get(p.httpPort, '/foo/bar/bar', { host: 'custom.test' });
    assert.equal(seen(r.body).url, '/new/backend/bar');
  });

  test('a longer plain path of another Ingress wins over a rewrite on / (R2)', async () => {
    const acme = seen((await get(p.httpPort, '/.well-known/acme/challenge', { host: 'longest.test' })).body);
    assert.deepEqual([acme.pod, acme.url], ['plain', '/.well-known/acme/challenge']);
    const r = seen((await get(p.httpPort, '/anything?a=b', { host: 'longest.test' })).body);
    assert.deepEqual([r.pod, r.url], ['regex', '/new/backend?a=b']);
  });

  test('/foo goes to the plain /foo, /foo/bar to the longer regex /foo.+ (R3)', async () => {
    const a = seen((await get(p.httpPort, '/foo', { host: 'modifier.test' })).body);
    assert.deepEqual([a.pod, a.url], ['plain', '/foo']);
    const b = seen((await get(p.httpPort, '/foo/bar', { host: 'modifier.test' })).body);
    assert.deepEqual([b.pod, b.url], ['regex', '/new/backend']);
  });

  test('the documented warning (R4): the longer regex beats the literal path it equals', async () => {
    const r = seen((await get(p.httpPort, '/foo/bar/bar', { host: 'warning.test' })).body);
    assert.deepEqual([r.pod, r.url], ['regex', '/new/backend']);
  });

  test('x-forwarded-prefix is sent with the rewrite (X1), not when empty (X2), with captures', async () => {
    const x1 = seen((await get(p.httpPort, '/', { host: 'xfp.test' })).body);
    assert.equal(x1.url, '/foo');
    assert.equal(x1.headers['x-forwarded-prefix'], '/test/value');
    const x2 = seen((await get(p.httpPort, '/', { host: 'noxfp.test', headers: {} })).body);
    assert.equal(x2.headers['x-forwarded-prefix'], undefined);
    const x3 = seen((await get(p.httpPort, '/web/static/app.js', { host: 'xfp-capture.test' })).body);
    assert.deepEqual([x3.url, x3.headers['x-forwarded-prefix']], ['/static/app.js', '/web']);
  });

  test("another team's Prefix and Exact paths on the host keep their meaning", async () => {
    assert.equal((await get(p.httpPort, '/application', { host: 'shared.test' })).status, 404, 'ingress-nginx would serve this by ^/app');
    assert.equal((await get(p.httpPort, '/exact/more', { host: 'shared.test' })).status, 404, 'ingress-nginx would serve this by ^/exact');
    assert.equal(seen((await get(p.httpPort, '/app/x', { host: 'shared.test' })).body).url, '/app/x');
    const api = seen((await get(p.httpPort, '/API/v2/users?id=1', { host: 'shared.test' })).body);
    assert.deepEqual([api.pod, api.url], ['regex', '/v2/users?id=1']);
  });

  test('a pattern RE2 cannot run is an InvalidPath for that path only', async () => {
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => /Ingress default\/team-b: InvalidPath: rules\[0\]\.http\.paths\[1\]: regex path "\/\(\?!admin\)" is not a pattern RE2 can run/.test(d)), debug.diagnostics.join('\n'));
    assert.equal((await get(p.httpPort, '/api/v1/x', { host: 'shared.test' })).status, 200);
  });

  test('rewrite-target: / on the path / is a no-op: the pod sees the original target', async () => {
    assert.equal(seen((await get(p.httpPort, '/some/where?x', { host: 'noop.test' })).body).url, '/some/where?x');
  });

  test('curl sees the same rewrite', async () => {
    const r = await run('curl', ['-s', '--resolve', `rewrite.test:${p.httpPort}:127.0.0.1`, `http://rewrite.test:${p.httpPort}/something/from-curl?k=v`]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(seen(r.stdout).url, '/from-curl?k=v');
  });
});

describe('redirects', () => {
  let pod: Pod;
  let p: Portico;
  const both = cert(['fromtowww.test', 'www.fromtowww.test']);
  before(async () => {
    pod = await startPod('127.0.181.1', 'pod');
    p = await startPortico({
      'a.yaml': join(
        // approot.go
        ingressYaml('approot', one('approot.test', '/', 'pod'), {}, { [`${N}app-root`]: '/foo' }),
        // app-root applies to / whichever Ingress of the host routes it
        ingressYaml('approot-api', one('approot2.test', '/api', 'pod'), {}, { [`${N}app-root`]: '/api/docs' }),
        ingressYaml('approot-site', one('approot2.test', '/', 'pod')),
        // redirect.go
        ingressYaml('permanent', one('redirect.test', '/something', 'pod'), {}, { [`${N}permanent-redirect`]: 'http://redirect.example.com' }),
        ingressYaml('permanent-302', one('redirect302.test', '/something', 'pod'), {}, { [`${N}permanent-redirect`]: 'http://redirect.example.com', [`${N}permanent-redirect-code`]: '302' }),
        // relativeredirects.go
        ingressYaml('rr-absolute', one('rr.foo.com', '/something', 'pod'), {}, { [`${N}permanent-redirect`]: '/new-location', [`${N}relative-redirects`]: 'false' }),
        ingressYaml('rr-relative', one('rr2.foo.com', '/something', 'pod'), {}, { [`${N}permanent-redirect`]: '/new-location', [`${N}relative-redirects`]: 'true' }),
        ingressYaml('temporal', one('temporal.test', '/', 'pod'), {}, { [`${N}temporal-redirect`]: 'https://www.example.com/?from=a', [`${N}permanent-redirect`]: 'https://ignored.test', [`${N}temporal-redirect-code`]: '307' }),
        ingressYaml('bad-code', one('badcode.test', '/', 'pod'), {}, { [`${N}permanent-redirect`]: 'https://x.test/', [`${N}permanent-redirect-code`]: '999' }),
        ingressYaml('bad-url', one('badurl.test', '/', 'pod'), {}, { [`${N}permanent-redirect`]: 'https://x.test$request_uri' }),
        // fromtowwwredirect.go, both directions, and over TLS with a certificate for both names
        ingressYaml('to-www', one('www.shop.test', '/', 'pod'), {}, { [`${N}from-to-www-redirect`]: 'true' }),
        ingressYaml('from-www', one('fromtowww.test', '/', 'pod'), { tls: [{ hosts: ['fromtowww.test'], secretName: 'both' }] }, { [`${N}from-to-www-redirect`]: 'true', [`${N}ssl-redirect`]: 'false' }),
        // alias.go
        ingressYaml('alias', one('foo.test', '/', 'pod'), {}, { [`${N}server-alias`]: 'bar.test' }),
        ingressYaml('app-a', one('two.test', '/app-a', 'pod')),
        ingressYaml('app-b', one('two.test', '/app-b', 'pod'), {}, { [`${N}server-alias`]: 'alias.two.test, foo.test' }),
        // preservetrailingslash.go and forcesslredirect.go
        ingressYaml('preserve', one('forcesslredirect.test', '/', 'pod'), { tls: [{ hosts: ['forcesslredirect.test'] }] }, { [`${N}ssl-redirect`]: 'true', [`${N}preserve-trailing-slash`]: 'true' }),
        ingressYaml('force', one('force.test', '/', 'pod'), {}, { [`${N}force-ssl-redirect`]: 'true' }),
        ingressYaml('force-port', one('forceport.test', '/', 'pod'), {}, { [`${N}force-ssl-redirect`]: 'true', [`${N}use-port-in-redirects`]: 'true' }),
        serviceYaml('pod', [pod]),
        secretYaml('both', both),
      ),
    });
  });
  after(async () => {
    await p.stop();
    await pod.close();
  });

  const redirectOf = async (host: string, path: string): Promise<[number, string | undefined]> => {
    const r = await get(p.httpPort, path, { host });
    return [r.status, r.headers.location as string | undefined];
  };

  test('app-root: / gets 302 to http://<Host>/foo, the query dropped; other paths reach the pod (A1)', async () => {
    assert.deepEqual(await redirectOf('approot.test', '/'), [302, 'http://approot.test/foo']);
    assert.deepEqual(await redirectOf('approot.test', '/?a=1'), [302, 'http://approot.test/foo']);
    assert.deepEqual(await redirectOf('approot.test:8080', '/'), [302, 'http://approot.test:8080/foo'], 'the Host header as sent');
    assert.equal((await get(p.httpPort, '/foo', { host: 'approot.test' })).status, 200);
  });

  test("app-root answers / even where another Ingress's path routes it", async () => {
    assert.deepEqual(await redirectOf('approot2.test', '/'), [302, 'http://approot2.test/api/docs']);
    assert.equal((await get(p.httpPort, '/other', { host: 'approot2.test' })).status, 200);
  });

  test('permanent-redirect: 301 with the URL exactly, no path or query appended (D1), and its code (D2)', async () => {
    assert.deepEqual(await redirectOf('redirect.test', '/something/deeper?x=1'), [301, 'http://redirect.example.com']);
    assert.deepEqual(await redirectOf('redirect302.test', '/something'), [302, 'http://redirect.example.com']);
  });

  test('relative-redirects: a path is made absolute with the Host (RR2) or kept as written (RR3)', async () => {
    assert.deepEqual(await redirectOf('rr.foo.com', '/something'), [301, 'http://rr.foo.com/new-location']);
    assert.deepEqual(await redirectOf('rr2.foo.com', '/something'), [301, '/new-location']);
  });

  test('temporal-redirect wins over permanent-redirect, with its code', async () => {
    assert.deepEqual(await redirectOf('temporal.test', '/x'), [307, 'https://www.example.com/?from=a']);
  });

  test('bad values: an out-of-range code is 301; a URL with a variable is left out and the pod serves', async () => {
    assert.deepEqual(await redirectOf('badcode.test', '/'), [301, 'https://x.test/']);
    assert.equal((await get(p.httpPort, '/', { host: 'badurl.test' })).status, 200);
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => d.includes('Ingress default/bad-code: InvalidAnnotation: nginx.ingress.kubernetes.io/permanent-redirect-code: 999')), debug.diagnostics.join('\n'));
    assert.ok(debug.diagnostics.some((d) => d.includes('Ingress default/bad-url: InvalidAnnotation: nginx.ingress.kubernetes.io/permanent-redirect:')));
  });

  test('from-to-www over HTTP, both directions: 308 with the port written and the path and query kept (W1)', async () => {
    assert.deepEqual(await redirectOf('www.fromtowww.test', '/foo'), [308, 'http://fromtowww.test:80/foo']);
    assert.deepEqual(await redirectOf('shop.test', '/a/b?c=d'), [308, 'http://www.shop.test:80/a/b?c=d']);
    assert.deepEqual(await redirectOf('shop.test:8080', '/'), [308, 'http://www.shop.test:8080']);
    assert.equal((await get(p.httpPort, '/', { host: 'www.shop.test' })).status, 200);
  });

  test('from-to-www over HTTPS: the www name gets the certificate and 308 to https://host:443 (W2); the host serves', async () => {
    const r = await httpsGet(p.httpsPort, 'www.fromtowww.test', 'www.fromtowww.test', '/');
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, 'https://fromtowww.test:443');
    assert.match(r.san, /DNS:www\.fromtowww\.test/);
    const ok = await httpsGet(p.httpsPort, 'fromtowww.test', 'fromtowww.test', '/');
    assert.equal(ok.status, 200);
    assert.equal(seen(ok.body).headers.host, 'fromtowww.test');
  });

  test('server-alias: the alias serves the host (S1, S2), the pod sees the requested host', async () => {
    for (const host of ['foo.test', 'bar.test']) {
      const r = await get(p.httpPort, '/', { host });
      assert.equal(r.status, 200, host);
      assert.equal(seen(r.body).headers.host, host);
    }
    assert.equal((await get(p.httpPort, '/', { host: 'baz.test' })).status, 404);
  });

  test("server-alias of one Ingress serves every path of the host, also another Ingress's (S3); a real host is never an alias", async () => {
    for (const host of ['two.test', 'alias.two.test']) assert.equal((await get(p.httpPort, '/app-a', { host })).status, 200, host);
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => d.includes('Ingress default/app-b: InvalidAnnotation: server-alias foo.test of host two.test left out: foo.test has rules of its own')), debug.diagnostics.join('\n'));
  });

  test('ssl-redirect keeps the trailing slash with preserve-trailing-slash (T1), drops it without (T2)', async () => {
    assert.deepEqual(await redirectOf('forcesslredirect.test', '/'), [308, 'https://forcesslredirect.test/']);
    assert.deepEqual(await redirectOf('force.test', '/'), [308, 'https://force.test']);
    assert.deepEqual(await redirectOf('force.test', '/dir/?q=/'), [308, 'https://force.test/dir/?q=/']);
    assert.deepEqual(await redirectOf('forceport.test', '/x'), [308, 'https://forceport.test:443/x']);
  });

  test('curl follows the www redirect to the host', async () => {
    const r = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code} %{redirect_url}', '-H', 'Host: www.fromtowww.test', `http://127.0.0.1:${p.httpPort}/path?q=1`]);
    assert.equal(r.stdout, '308 http://fromtowww.test:80/path?q=1');
  });
});
