/**
 * Router specification: [rules, request host, request path, expected backend or 404], taken
 * row by row from the Kubernetes Ingress docs ("Examples" table under "Path types") and the
 * PathTypePrefix doc comment in k8s.io/api networking/v1, then host rules.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Ingress } from '../model/k8s.js';
import type { Route, RouteTable } from '../model/types.js';
import { translate } from '../model/translate.js';
import { snapshotOf } from '../control/store.js';
import { compile, isNode } from './compile.js';
import { hostOf, match, NO_INPUT, pathOf } from './match.js';

type Rule = [pathType: string, path: string, service: string];

function ingress(name: string, host: string | undefined, rules: Rule[], extra: Partial<NonNullable<Ingress['spec']>> = {}, annotations?: Record<string, string>): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default', ...(annotations ? { annotations } : {}) },
    spec: {
      ingressClassName: 'portico',
      rules: [{ ...(host === undefined ? {} : { host }), http: { paths: rules.map(([pathType, path, service]) => ({ pathType, path, backend: { service: { name: service, port: { number: 80 } } } })) } }],
      ...extra,
    },
  };
}

/** A matcher whose action is the name of the route's first backend's Service. */
function matcherOf(ings: Ingress[]) {
  const { table } = translate(snapshotOf(ings), { controllerClass: 'x', ingressClass: 'portico', watchWithoutClass: false });
  return compile(table, (r) => serviceOf(table, r));
}
const serviceOf = (table: RouteTable, r: Route): string => {
  const id = r.backends[0]?.backend ?? '';
  return table.backends.get(id)?.service || id;
};

/** Routes one request and names the service that gets it, or '404'. */
function route(ings: Ingress[], host: string, url: string): string {
  const path = pathOf(url);
  assert.ok(path !== null, `unparseable ${url}`);
  const t = match(matcherOf(ings), hostOf(host), path);
  return t === null ? '404' : t.action;
}

describe('path matching: the Kubernetes docs examples table', () => {
  const rows: [Rule[], string, string][] = [
    [[['Prefix', '/', 'a']], '/anything/at/all', 'a'],
    [[['Exact', '/foo', 'a']], '/foo', 'a'],
    [[['Exact', '/foo', 'a']], '/bar', '404'],
    [[['Exact', '/foo', 'a']], '/foo/', '404'],
    [[['Exact', '/foo/', 'a']], '/foo', '404'],
    [[['Prefix', '/foo', 'a']], '/foo', 'a'],
    [[['Prefix', '/foo', 'a']], '/foo/', 'a'],
    [[['Prefix', '/foo/', 'a']], '/foo', 'a'],
    [[['Prefix', '/foo/', 'a']], '/foo/', 'a'],
    [[['Prefix', '/aaa/bb', 'a']], '/aaa/bbb', '404'],
    [[['Prefix', '/aaa/bbb', 'a']], '/aaa/bbb', 'a'],
    [[['Prefix', '/aaa/bbb/', 'a']], '/aaa/bbb', 'a'],
    [[['Prefix', '/aaa/bbb', 'a']], '/aaa/bbb/', 'a'],
    [[['Prefix', '/aaa/bbb', 'a']], '/aaa/bbb/ccc', 'a'],
    [[['Prefix', '/aaa/bbb', 'a']], '/aaa/bbbxyz', '404'],
    [[['Prefix', '/', 'root'], ['Prefix', '/aaa', 'aaa']], '/aaa/ccc', 'aaa'],
    [[['Prefix', '/', 'root'], ['Prefix', '/aaa', 'aaa'], ['Prefix', '/aaa/bbb', 'bbb']], '/aaa/bbb', 'bbb'],
    [[['Prefix', '/', 'root'], ['Prefix', '/aaa', 'aaa'], ['Prefix', '/aaa/bbb', 'bbb']], '/ccc', 'root'],
    [[['Prefix', '/aaa', 'a']], '/ccc', '404'],
    [[['Prefix', '/foo', 'prefix'], ['Exact', '/foo', 'exact']], '/foo', 'exact'],
  ];
  for (const [rules, path, want] of rows) {
    test(`${rules.map((r) => `${r[0]} ${r[1]}`).join(', ')} with request ${path} -> ${want}`, () => {
      assert.equal(route([ingress('i', 'h.example.com', rules)], 'h.example.com', path), want);
    });
  }
});

describe('path matching: the PathTypePrefix doc comment', () => {
  test('/foo/bar does not match /foo/barbaz', () => assert.equal(route([ingress('i', 'h', [['Prefix', '/foo/bar', 'a']])], 'h', '/foo/barbaz'), '404'));
  test('/foo/bar matches /foo/bar and /foo/bar/baz', () => {
    const ings = [ingress('i', 'h', [['Prefix', '/foo/bar', 'a']])];
    assert.equal(route(ings, 'h', '/foo/bar'), 'a');
    assert.equal(route(ings, 'h', '/foo/bar/baz'), 'a');
  });
  test('/foo and /foo/ both present: the longest written path (/foo/) wins for /foo and /foo/', () => {
    const ings = [ingress('i', 'h', [['Prefix', '/foo', 'short'], ['Prefix', '/foo/', 'long']])];
    assert.equal(route(ings, 'h', '/foo'), 'long');
    assert.equal(route(ings, 'h', '/foo/'), 'long');
    assert.equal(route(ings, 'h', '/foo/x'), 'long');
  });
  test('the longer written Prefix /foo/ beats Exact /foo for /foo (length before type)', () => {
    assert.equal(route([ingress('i', 'h', [['Exact', '/foo', 'exact'], ['Prefix', '/foo/', 'prefix']])], 'h', '/foo'), 'prefix');
  });
  test('Exact beats a shorter Prefix', () => {
    assert.equal(route([ingress('i', 'h', [['Exact', '/foo/bar', 'exact'], ['Prefix', '/foo', 'prefix']])], 'h', '/foo/bar'), 'exact');
  });
  test('matching is case sensitive', () => assert.equal(route([ingress('i', 'h', [['Prefix', '/Foo', 'a']])], 'h', '/foo'), '404'));
  test('the query string is not part of the path', () => {
    const ings = [ingress('i', 'h', [['Exact', '/search', 'a']])];
    assert.equal(route(ings, 'h', '/search?q=/x'), 'a');
    assert.equal(route(ings, 'h', '/search#frag'), 'a');
  });
  test('an absolute-form request target is matched on its path', () => {
    assert.equal(route([ingress('i', 'h', [['Exact', '/x', 'a']])], 'h', 'http://h/x?y'), 'a');
  });
});

describe('prefix trie: many siblings', () => {
  // a node keeps a few children in a flat array and more in a Map: every sibling must stay
  // reachable across that change, nested children too, and nothing else may match
  for (const n of [1, 7, 8, 9, 20]) {
    test(`${n} sibling prefixes under one element`, () => {
      const rules: Rule[] = [];
      for (let i = 0; i < n; i++) rules.push(['Prefix', `/api/v${i}`, `s${i}`], ['Prefix', `/api/v${i}/deep/x`, `d${i}`]);
      const m = compile(translate(snapshotOf([ingress('i', 'h', rules)]), { controllerClass: 'x', ingressClass: 'portico', watchWithoutClass: false }).table, (r) => r.path);
      const at = (path: string): string => match(m, 'h', path)?.action ?? '404';
      for (let i = 0; i < n; i++) {
        assert.equal(at(`/api/v${i}`), `/api/v${i}`);
        assert.equal(at(`/api/v${i}/other`), `/api/v${i}`);
        assert.equal(at(`/api/v${i}/deep/x/y`), `/api/v${i}/deep/x`);
        assert.equal(at(`/api/v${i}/deep`), `/api/v${i}`);
      }
      assert.equal(at(`/api/v${n}`), '404');
      assert.equal(at('/api'), '404');
      // an element equal to a node's position in the flat array is still only an element
      assert.equal(at('/api/1'), '404');
    });
  }
});

describe('prefix trie: leaves folded into their candidates', () => {
  // a node with no children is replaced by its candidates once the trie is built (memory): the
  // walk must stop at a folded leaf with its candidates, on the quick path and the general one
  const rules: Rule[] = [['Prefix', '/a', 'a'], ['Prefix', '/a/b', 'ab'], ['Prefix', '/a/b/', 'ab-slash'], ['Prefix', '/c', 'c'], ['Exact', '/a/b/c', 'exact']];
  const opts = { controllerClass: 'x', ingressClass: 'portico', watchWithoutClass: false };
  /** With `general`, a regex route on the same host makes matching take the general path. */
  const compiled = (general = false) => compile(translate(snapshotOf([ingress('i', 'h', rules), ...(general ? [ingress('r', 'h', [['ImplementationSpecific', '/z[0-9]+', 'z']], {}, { 'nginx.ingress.kubernetes.io/use-regex': 'true' })] : [])]), opts).table, (r) => `${r.match}:${r.path}`);
  test('the leaves are folded, inner nodes stay nodes', () => {
    const root = compiled().exactHosts.get('h')?.prefix;
    const kids = (root?.children ?? []) as unknown[];
    assert.ok(Array.isArray(kids));
    const child = (el: string): unknown => kids[kids.indexOf(el) + 1];
    assert.ok(isNode(child('a') as never), '/a has children: a node');
    assert.equal(isNode(child('c') as never), false, '/c: folded');
    assert.equal((child('c') as { action: string }).action, 'Prefix:/c');
    const b = ((child('a') as { children: unknown[] }).children as unknown[])[1];
    assert.ok(Array.isArray(b), '/a/b and /a/b/ end at one leaf: its two candidates, folded');
  });
  for (const general of [false, true]) {
    test(`requests reach the same routes on the ${general ? 'general' : 'quick'} path`, () => {
      const m = compiled(general);
      assert.equal(m.exactHosts.get('h')?.general, general);
      const at = (path: string): string => match(m, 'h', path)?.action ?? '404';
      assert.equal(at('/c'), 'Prefix:/c');
      assert.equal(at('/c/d/e'), 'Prefix:/c');
      assert.equal(at('/a/x'), 'Prefix:/a');
      assert.equal(at('/a/b'), 'Prefix:/a/b/', 'the longer written path first');
      assert.equal(at('/a/b/x/y'), 'Prefix:/a/b/');
      assert.equal(at('/a/b/c'), 'Exact:/a/b/c');
      assert.equal(at('/b'), '404');
      if (general) assert.equal(at('/z12'), 'Regex:/z[0-9]+');
    });
  }
});

describe('path normalisation before matching', () => {
  const ings = [ingress('i', 'h', [['Prefix', '/public', 'public'], ['Prefix', '/admin', 'admin']])];
  test('dot segments cannot escape a prefix', () => assert.equal(route(ings, 'h', '/public/../admin'), 'admin'));
  test('percent-encoding is decoded', () => assert.equal(route(ings, 'h', '/%61dmin/x'), 'admin'));
  test('repeated slashes are merged', () => assert.equal(route(ings, 'h', '//admin//x'), 'admin'));
  test('a bad escape is not a path', () => assert.equal(pathOf('/a%zz'), null));
  test('a target that is neither origin- nor absolute-form is not a path', () => assert.equal(pathOf('*'), null));
  test('normalisation keeps a trailing slash', () => assert.equal(pathOf('/a/./b/'), '/a/b/'));
});

describe('host matching', () => {
  const ings = [
    ingress('exact', 'foo.bar.com', [['Prefix', '/', 'exact']]),
    ingress('wild', '*.bar.com', [['Prefix', '/', 'wild']]),
    ingress('any', undefined, [['Prefix', '/', 'any']]),
  ];
  test('an exact host beats a wildcard', () => assert.equal(route(ings, 'foo.bar.com', '/'), 'exact'));
  test('a wildcard matches one label', () => assert.equal(route(ings, 'baz.bar.com', '/'), 'wild'));
  test('a wildcard does not match two labels (falls to the any-host rule)', () => assert.equal(route(ings, 'a.baz.bar.com', '/'), 'any'));
  test('a wildcard does not match the bare domain', () => assert.equal(route(ings, 'bar.com', '/'), 'any'));
  test('the Host header is case-insensitive and its port ignored', () => assert.equal(route(ings, 'FOO.Bar.COM:8080', '/'), 'exact'));
  test('a trailing dot in the Host header is ignored', () => assert.equal(route(ings, 'foo.bar.com.', '/'), 'exact'));
  test('a rule with no host matches any host', () => assert.equal(route(ings, 'other.example', '/'), 'any'));
  test('no Host header only matches host-less rules', () => assert.equal(route(ings, '', '/'), 'any'));
  test('IPv6 literal hosts keep their brackets and drop the port', () => assert.equal(hostOf('[::1]:8080'), '[::1]'));
  test('host first: a matched host without a matching path does not fall to host-less rules', () => {
    const two = [ingress('exact', 'foo.bar.com', [['Prefix', '/only', 'exact']]), ingress('any', undefined, [['Prefix', '/', 'any']])];
    assert.equal(route(two, 'foo.bar.com', '/other'), '404');
  });
  test('an unknown host with no host-less rules gets the default backend (404)', () => {
    assert.equal(route([ingress('exact', 'foo.bar.com', [['Prefix', '/', 'exact']])], 'nope.com', '/'), '404');
  });
  test("a host's unmatched paths go to its Ingress's spec.defaultBackend", () => {
    const withDefault = ingress('d', 'foo.bar.com', [['Prefix', '/api', 'api']], { defaultBackend: { service: { name: 'fallback', port: { number: 80 } } } });
    assert.equal(route([withDefault], 'foo.bar.com', '/api/x'), 'api');
    assert.equal(route([withDefault], 'foo.bar.com', '/other'), 'fallback');
  });
});

describe('lookup cost does not depend on table size', () => {
  test('10,000 hosts compile and each resolves to its own backend', () => {
    const ings: Ingress[] = [];
    for (let i = 0; i < 10_000; i++) ings.push(ingress(`i${i}`, `h${i}.example.com`, [['Prefix', `/p${i % 7}`, `s${i}`]]));
    const m = matcherOf(ings);
    for (const i of [0, 4321, 9999]) assert.equal(match(m, `h${i}.example.com`, `/p${i % 7}/x`)?.action, `s${i}`);
    assert.equal(match(m, 'h1.example.com', '/p0'), null);
  });
});

describe('regex paths: the rows of ingress-nginx\'s e2e tests (rewrite.go, pathtype_prefix.go)', () => {
  const N = 'nginx.ingress.kubernetes.io/';
  const regex = (name: string, host: string, rules: Rule[], target?: string): Ingress => ingress(name, host, rules, {}, { [`${N}use-regex`]: 'true', ...(target ? { [`${N}rewrite-target`]: target } : {}) });
  /** The route's Service and, for a Regex route, its captures. */
  function routeWith(ings: Ingress[], host: string, url: string): [string, string[] | null] {
    const input = { ...NO_INPUT, captures: null as string[] | null };
    const t = match(matcherOf(ings), hostOf(host), pathOf(url) as string, input);
    return [t === null ? '404' : t.action, input.captures];
  }

  test('P2 /id/[0-9]+ has no end anchor: /id/123a matches, /id/aaa does not', () => {
    const ings = [regex('i', 'h', [['Prefix', '/id/[0-9]+', 'a']])];
    for (const [path, want] of [['/id/1', 'a'], ['/id/12', 'a'], ['/id/123', 'a'], ['/id/aaa', '404'], ['/id/123a', 'a']]) assert.equal(route(ings, 'h', path as string), want, path);
  });
  test('P3-P5 anchors and counted repeats', () => {
    const p3 = [regex('i', 'h', [['Prefix', '/id/[0-9]+$', 'a']])];
    for (const [path, want] of [['/id/1', 'a'], ['/id/aaa', '404'], ['/id/123a', '404']]) assert.equal(route(p3, 'h', path as string), want, path);
    const p4 = [regex('i', 'h', [['Prefix', '/id/[0-9]{3}$', 'a']])];
    for (const [path, want] of [['/id/99', '404'], ['/id/123', 'a'], ['/id/9999', '404'], ['/id/123a', '404']]) assert.equal(route(p4, 'h', path as string), want, path);
    const p5 = [regex('i', 'h', [['Prefix', '/id/[0-9]+/post/[a-zA-Z]+$', 'a']])];
    for (const [path, want] of [['/id/123/post/abc', 'a'], ['/id/123/post/abc123', '404'], ['/id/abc/post/abc', '404']]) assert.equal(route(p5, 'h', path as string), want, path);
  });
  test('a regex matches case-insensitively, from the start of the path only', () => {
    const ings = [regex('i', 'h', [['Prefix', '/api/v[0-9]', 'a']])];
    assert.equal(route(ings, 'h', '/API/V1/x'), 'a');
    assert.equal(route(ings, 'h', '/x/api/v1'), '404');
  });
  test('R2 a longer plain path of another Ingress still wins over a rewrite on /', () => {
    const ings = [ingress('kube-lego', 'h', [['Prefix', '/.well-known/acme/challenge', 'acme']]), ingress('rewrite-index', 'h', [['Prefix', '/', 'index']], {}, { [`${N}rewrite-target`]: '/new/backend' })];
    assert.equal(route(ings, 'h', '/.well-known/acme/challenge'), 'acme');
    assert.equal(route(ings, 'h', '/other'), 'index');
  });
  test('R3 /foo (plain) and /foo.+ (regex): /foo goes to the plain path, /foo/bar to the longer regex', () => {
    const ings = [ingress('foo', 'h', [['Prefix', '/foo', 'plain']]), regex('regex', 'h', [['Prefix', '/foo.+', 'regex']], '/new/backend')];
    assert.equal(route(ings, 'h', '/foo'), 'plain');
    assert.equal(route(ings, 'h', '/foo/bar'), 'regex');
  });
  test('R4 the documented warning: a longer regex beats a literal path that equals the request', () => {
    const ings = [ingress('foo', 'h', [['Prefix', '/foo/bar/bar', 'plain']]), regex('regex', 'h', [['Prefix', '/foo/bar/[a-z]{3}', 'regex']], '/new/backend')];
    assert.equal(route(ings, 'h', '/foo/bar/bar'), 'regex');
  });
  test('R5 captures of the matched regex are what the rewrite reads', () => {
    const ings = [regex('regex', 'h', [['Prefix', '/foo/bar/(.+)', 'a']], '/new/backend/$1')];
    assert.deepEqual(routeWith(ings, 'h', '/foo/bar/bar'), ['a', ['/foo/bar/bar', 'bar']]);
  });
  test('the docs example /something(/|$)(.*): $2 is the tail, empty for /something and /something/', () => {
    const ings = [regex('rewrite', 'h', [['ImplementationSpecific', '/something(/|$)(.*)', 'a']], '/$2')];
    assert.deepEqual(routeWith(ings, 'h', '/something')[1]?.[2], '');
    assert.deepEqual(routeWith(ings, 'h', '/something/')[1]?.[2], '');
    assert.deepEqual(routeWith(ings, 'h', '/something/new')[1]?.[2], 'new');
  });
  test('only the Ingress that asks for regex has regexes: the other Ingresses of the host keep Prefix and Exact', () => {
    const ings = [ingress('plain', 'h', [['Prefix', '/app', 'prefix'], ['Exact', '/exact', 'exact']]), regex('regex', 'h', [['Prefix', '/api/.*', 'regex']])];
    assert.equal(route(ings, 'h', '/application'), '404', 'ingress-nginx would match ^/app here');
    assert.equal(route(ings, 'h', '/APP'), '404', 'Prefix stays case-sensitive');
    assert.equal(route(ings, 'h', '/exact/x'), '404', 'Exact stays exact');
    assert.equal(route(ings, 'h', '/exact'), 'exact');
  });
  test('Exact routes come first, then regex and Prefix longest written path first (Prefix first on a tie)', () => {
    const ings = [ingress('plain', 'h', [['Exact', '/abc', 'exact'], ['Prefix', '/abcd', 'prefix']]), regex('regex', 'h', [['Prefix', '/a.*', 'short'], ['Prefix', '/ab.d', 'tie']])];
    assert.equal(route(ings, 'h', '/abc'), 'exact');
    assert.equal(route(ings, 'h', '/abcd'), 'prefix');
    assert.equal(route(ings, 'h', '/abxd'), 'tie');
    assert.equal(route(ings, 'h', '/azzz'), 'short');
  });
  test('regexes of equal length: the greater pattern first, as ingress-nginx sorts its locations', () => {
    const ings = [regex('regex', 'h', [['Prefix', '/a.c', 'dot'], ['Prefix', '/abc', 'abc']])];
    // '/abc' > '/a.c': the literal-looking pattern is tried first
    assert.equal(route(ings, 'h', '/abc'), 'abc');
    assert.equal(route(ings, 'h', '/axc'), 'dot');
  });
  test('rewrite-target that equals the path is a no-op and does not make the paths regexes', () => {
    const ings = [ingress('i', 'h', [['Prefix', '/app', 'a']], {}, { [`${N}rewrite-target`]: '/app' })];
    assert.equal(route(ings, 'h', '/application'), '404');
  });
});
