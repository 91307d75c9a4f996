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
import { compile } from './compile.js';
import { hostOf, match, pathOf } from './match.js';

type Rule = [pathType: string, path: string, service: string];

function ingress(name: string, host: string | undefined, rules: Rule[], extra: Partial<NonNullable<Ingress['spec']>> = {}): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, namespace: 'default' },
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
