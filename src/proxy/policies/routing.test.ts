/**
 * Rewrites and redirects as policies: what a request becomes (target sent upstream, upstream
 * headers) or what it is answered (status, Location), on a fake exchange, with ingress-nginx's
 * examples and the edge cases a decoded path brings (escapes, CR/LF, non-ASCII).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { compilePattern } from '../../model/regex.js';
import { pathOf } from '../../router/match.js';
import { createLimiters } from '../limiters.js';
import { unsafeTarget } from '../request-target.js';
import type { Policy, Route } from '../../model/types.js';
import { fakeExchange, type FakeExchange } from '../../testing/exchange.js';
import { compilePolicies, Verdict } from './index.js';
import { dropTrailingSlash, hostName, hostPort } from './location.js';
import { escapePath, fill, parseTemplate } from './paths.js';
import { rewriteTarget } from './rewrite.js';

/** A request routed by `host` with the decoded `path`, sent on as `forward`. */
const exchange = (o: { scheme?: 'http' | 'https'; host?: string | undefined; path?: string; forward?: string; captures?: string[] | null }): FakeExchange =>
  fakeExchange({ scheme: o.scheme ?? 'http', host: o.host, path: o.path ?? '/', forwardPath: o.forward ?? o.path ?? '/', captures: o.captures ?? null, clientIp: '127.0.0.1' });

const env = { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 };
/** Runs a route's policies on an exchange; returns it. */
function run(policies: Policy[], ex: FakeExchange, e = env): FakeExchange {
  const route: Route = { host: 'a.test', path: '/', match: 'Prefix', source: { kind: 'Ingress', namespace: 'ns', name: 'i' }, policies, backends: [], settings: {} };
  for (const p of compilePolicies(route, e).request) if (p.run(ex) !== Verdict.Continue) break;
  return ex;
}
const location = (ex: FakeExchange): string | undefined => {
  const h = ex.answered?.headers ?? [];
  return h[h.indexOf('location') + 1];
};

describe('rewrite-target templates', () => {
  test('parsed once into literals and capture numbers; $0 and $x stay literal, $10 is $1 then 0', () => {
    assert.deepEqual(parseTemplate('/new/backend/$1'), ['/new/backend/', 1]);
    assert.deepEqual(parseTemplate('/$2'), ['/', 2]);
    assert.deepEqual(parseTemplate('$1$2'), [1, 2]);
    assert.deepEqual(parseTemplate('/a$10'), ['/a', 1, '0']);
    assert.deepEqual(parseTemplate('/a$0$'), ['/a$0$']);
  });
  test('a missing group is empty, as in nginx', () => {
    assert.equal(fill(parseTemplate('/x/$3/$1'), ['/p', 'one']), '/x//one');
    assert.equal(fill(parseTemplate('/x/$1'), null), '/x/');
  });
  test('the docs example: /something(/|$)(.*) with /$2', () => {
    const t = parseTemplate('/$2');
    assert.equal(rewriteTarget(t, ['/something', '', ''], '/something'), '/');
    assert.equal(rewriteTarget(t, ['/something/', '/', ''], '/something/'), '/');
    assert.equal(rewriteTarget(t, ['/something/new', '/', 'new'], '/something/new'), '/new');
  });
  test('the whole path is replaced; the query is kept as received', () => {
    assert.equal(rewriteTarget(parseTemplate('/'), ['/something'], '/something/x?a=1&b=%20'), '/?a=1&b=%20');
    assert.equal(rewriteTarget(parseTemplate('/v2/$1'), ['/api/users', 'users'], '/api/users?'), '/v2/users?');
  });
  test('a result that does not start with / gets one', () => {
    assert.equal(rewriteTarget(parseTemplate('$1'), ['/a/b', 'b'], '/a/b'), '/b');
  });
  test('what was decoded for matching is escaped again: %, ?, #, spaces, CR/LF, non-ASCII', () => {
    assert.equal(escapePath('/a b/%/?/#'), '/a%20b/%25/%3F/%23');
    assert.equal(escapePath('/x\r\nInjected: 1'), '/x%0D%0AInjected:%201');
    assert.equal(escapePath('/é/日本'), '/%C3%A9/%E6%97%A5%E6%9C%AC');
    assert.equal(escapePath('/\ud800'), '/%EF%BF%BD', 'a lone surrogate never throws');
    assert.equal(escapePath("/a-b_c.d~e/f:g@h!$&'()*+,;="), "/a-b_c.d~e/f:g@h!$&'()*+,;=", 'path characters are kept');
  });
});

describe('the rewrite policy', () => {
  test('R5: /foo/bar/(.+) with /new/backend/$1 sends /new/backend/bar', () => {
    const ex = run([{ kind: 'rewrite', path: { type: 'template', value: '/new/backend/$1' } }], exchange({ path: '/foo/bar/bar', captures: ['/foo/bar/bar', 'bar'] }));
    assert.equal(ex.answered, null);
    assert.equal(ex.forwardPath, '/new/backend/bar');
  });
  test('x-forwarded-prefix is sent with the rewrite, captures filled and escaped', () => {
    const ex = run([{ kind: 'rewrite', path: { type: 'template', value: '/$2' }, forwardedPrefix: '/$1' }], exchange({ path: '/api v1/x', forward: '/api%20v1/x?q', captures: ['/api v1/x', 'api v1', 'x'] }));
    assert.equal(ex.forwardPath, '/x?q');
    assert.deepEqual(ex.upstream, ['x-forwarded-prefix', '/api%20v1']);
  });
  test('after the redirects: a redirect answers and nothing is rewritten', () => {
    const ex = run([{ kind: 'rewrite', path: { type: 'template', value: '/x' } }, { kind: 'fixedRedirect', url: 'https://e.test', status: 301 }], exchange({ path: '/a' }));
    assert.equal(ex.answered?.status, 301);
    assert.equal(ex.forwardPath, '/a');
  });
});

describe('redirect policies', () => {
  test('D1/D2: an absolute URL verbatim, no path or query appended, with its code', () => {
    const ex = run([{ kind: 'fixedRedirect', url: 'http://redirect.example.com', status: 301 }], exchange({ host: 'redirect', path: '/something', forward: '/something?a=1' }));
    assert.equal(ex.answered?.status, 301);
    assert.equal(location(ex), 'http://redirect.example.com');
    assert.equal(location(run([{ kind: 'fixedRedirect', url: 'http://redirect.example.com', status: 302 }], exchange({}))), 'http://redirect.example.com');
  });
  test('RR2/RR3: a path is made absolute with the scheme and host (no port), unless relative-redirects', () => {
    assert.equal(location(run([{ kind: 'fixedRedirect', url: '/new-location', status: 301 }], exchange({ host: 'rr.foo.com:8080', path: '/something' }))), 'http://rr.foo.com/new-location');
    assert.equal(location(run([{ kind: 'fixedRedirect', url: '/new-location', status: 301 }], exchange({ scheme: 'https', host: 'rr.foo.com' }))), 'https://rr.foo.com/new-location');
    assert.equal(location(run([{ kind: 'fixedRedirect', url: '/new-location', status: 301, relative: true }], exchange({ host: 'rr.foo.com' }))), '/new-location');
    assert.equal(location(run([{ kind: 'fixedRedirect', url: '/new-location', status: 301, usePort: true }], exchange({ host: 'rr.foo.com:8080' }))), 'http://rr.foo.com:8080/new-location');
  });
  test('A1: app-root answers / with 302 to scheme://Host<app-root>, the Host as sent, the query dropped; other paths go on', () => {
    const ex = run([{ kind: 'appRoot', path: '/foo' }], exchange({ host: 'approot.bar.com', path: '/', forward: '/?x=1' }));
    assert.equal(ex.answered?.status, 302);
    assert.equal(location(ex), 'http://approot.bar.com/foo');
    assert.equal(location(run([{ kind: 'appRoot', path: '/foo' }], exchange({ scheme: 'https', host: 'a.test:8443', path: '/' }))), 'https://a.test:8443/foo');
    assert.equal(run([{ kind: 'appRoot', path: '/foo' }], exchange({ host: 'a.test', path: '/x' })).answered, null);
  });
  test('W1/W2: from-to-www is a 308 with the port always written and one trailing slash dropped', () => {
    assert.equal(location(run([{ kind: 'hostRedirect', host: 'fromtowwwredirect.bar.com' }], exchange({ host: 'www.fromtowwwredirect.bar.com', path: '/foo' }))), 'http://fromtowwwredirect.bar.com:80/foo');
    const https = run([{ kind: 'hostRedirect', host: 'x.nip.io' }], exchange({ scheme: 'https', host: 'www.x.nip.io', path: '/' }));
    assert.equal(https.answered?.status, 308);
    assert.equal(location(https), 'https://x.nip.io:443');
    assert.equal(location(run([{ kind: 'hostRedirect', host: 'www.a.test' }], exchange({ host: 'a.test:8080', path: '/p/', forward: '/p/?q=1' }))), 'http://www.a.test:8080/p/?q=1');
  });
  test('T1/T2: the HTTPS redirect drops one trailing slash unless preserve-trailing-slash; use-port-in-redirects writes 443', () => {
    assert.equal(location(run([{ kind: 'httpsRedirect' }], exchange({ host: 'forcesslredirect.bar.com', path: '/' }))), 'https://forcesslredirect.bar.com');
    assert.equal(location(run([{ kind: 'httpsRedirect', preserveTrailingSlash: true }], exchange({ host: 'forcesslredirect.bar.com', path: '/' }))), 'https://forcesslredirect.bar.com/');
    assert.equal(location(run([{ kind: 'httpsRedirect' }], exchange({ host: 'a.test', path: '/a/', forward: '/a/?next=/' }))), 'https://a.test/a/?next=/', 'a query is never altered');
    assert.equal(location(run([{ kind: 'httpsRedirect', usePort: true }], exchange({ host: 'a.test:80', path: '/a' }))), 'https://a.test:443/a');
    assert.equal(location(run([{ kind: 'httpsRedirect' }], exchange({ host: 'a.test', path: '/a' }), { ...env, httpsRedirectPort: 8443 })), 'https://a.test:8443/a');
  });
  test('the fixed order: HTTPS first, then app-root, www, redirect, rewrite', () => {
    const all: Policy[] = [{ kind: 'rewrite', path: { type: 'template', value: '/r' } }, { kind: 'fixedRedirect', url: '/d', status: 307 }, { kind: 'appRoot', path: '/app' }, { kind: 'httpsRedirect' }];
    assert.equal(run(all, exchange({ host: 'a.test', path: '/' })).answered?.status, 308);
    assert.equal(run(all, exchange({ scheme: 'https', host: 'a.test', path: '/' })).answered?.status, 302);
    assert.equal(run(all, exchange({ scheme: 'https', host: 'a.test', path: '/x' })).answered?.status, 307);
  });
});

describe('Host parts', () => {
  test('name and port of names, IPv4 and IPv6 literals', () => {
    assert.deepEqual([hostName('a.test:81'), hostPort('a.test:81')], ['a.test', '81']);
    assert.deepEqual([hostName('a.test'), hostPort('a.test')], ['a.test', '']);
    assert.deepEqual([hostName('[::1]:8080'), hostPort('[::1]:8080')], ['[::1]', '8080']);
    assert.deepEqual([hostName('[::1]'), hostPort('[::1]')], ['[::1]', '']);
    assert.deepEqual([hostName(undefined), hostPort(undefined)], ['', '']);
  });
  test('one trailing slash of a target without a query', () => {
    assert.deepEqual(['/', '/a/', '/a//', '/a', '/a/?b', '/?next=/'].map(dropTrailingSlash), ['', '/a', '/a/', '/a', '/a/?b', '/?next=/']);
  });
});

describe('no request path can make a rewrite or redirect throw or send an unsafe target', () => {
  test('random targets through pathOf, a regex with captures, the rewrite and the redirects', () => {
    const pattern = compilePattern('/(a|b|[^/]*)(/|$)(.*)', 'start', true);
    const policies: Policy[][] = [
      [{ kind: 'rewrite', path: { type: 'template', value: '/x/$1/$3' }, forwardedPrefix: '/$1' }],
      [{ kind: 'fixedRedirect', url: '/moved', status: 301, usePort: true }],
      [{ kind: 'appRoot', path: '/app' }],
      [{ kind: 'hostRedirect', host: 'www.a.test' }],
      [{ kind: 'httpsRedirect', usePort: true }],
    ];
    const segment = fc.oneof(fc.string({ unit: 'grapheme' }), fc.constantFrom('%0d%0a', '%25', '%3F', '%23', '%2F', '..', '.', '', '%e6%97%a5', '%ff', '?q=/', '#f'));
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 6 }), fc.option(fc.string(), { nil: undefined }), (segments, host) => {
        const raw = `/${segments.join('/')}`;
        const path = pathOf(raw);
        if (path === null) return;
        const captures = pattern.exec(path);
        for (const ps of policies) {
          const ex = run(ps, exchange({ host, path, forward: raw, captures }));
          assert.equal(ex.forwardPath.charCodeAt(0), 47);
          if (ps[0]?.kind === 'rewrite') {
            assert.ok(!unsafeTarget(ex.forwardPath), ex.forwardPath);
            assert.ok(!/[\r\n\0]/.test(ex.upstream[1] ?? ''));
          }
        }
      }),
      { numRuns: 3000, seed: 20261206 },
    );
  });
});
