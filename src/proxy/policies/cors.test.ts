/**
 * CORS in the data plane: origin matching as ingress-nginx's e2e suite (test/e2e/annotations/cors.go)
 * and its docs expect it (and stricter where ingress-nginx's end-only anchoring lets more in),
 * then the two halves of the compiled policy on a fake exchange: which headers, replacing what,
 * Vary, and which requests are preflights.
 */
import assert from 'node:assert/strict';
import { validateHeaderName, validateHeaderValue } from 'node:http';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CorsPolicy, Route } from '../../model/types.js';
import { compileGatewayOrigins, compileOrigins, cors } from './cors.js';
import { createLimiters } from '../limiters.js';
import { compilePolicies } from './index.js';
import { fakeExchange, type FakeExchange } from '../../testing/exchange.js';
import { Verdict } from './types.js';

/** [allowed origins as cors-allow-origin lists them (lower-cased by the parser), Origin, allowed?] */
const MATCHING: readonly (readonly [string, string, boolean])[] = [
  // ingress-nginx e2e
  ['https://origin.cors.com:8080', 'https://origin.cors.com:8080', true],
  ['https://origin.cors.com:8080,https://origin2.cors.com', 'https://origin.cors.com:8080', true],
  ['http://origin2.cors.com,https://origin.com', 'http://no.origin.com', false],
  ['https://origin2.cors.com,https://origin.com', 'origin.cors.com:8080', false],
  ['https://origin2.cors.com,https://origin.com', 'https://origin2.cors.com', true],
  ['https://origin2.cors.com,https://origin.com', 'https://origin.com', true],
  ['https://foo.bar.com', 'https://fooxbar.com', false],
  ['http://origin.cors.com:8080,http://origin.com:8080', 'http://origin.com:8080', true],
  ['https://origin2.cors.com,http://origin.com', 'http://origin.com:8080', false],
  ['http://origin.cors.com:8080,http://origin.com:8080', 'http://origin.com', false],
  ['http://*.origin.cors.com,http://*.origin.com:8080', 'http://foo.origin.cors.com', true],
  ['http://*.origin.cors.com,http://*.origin.com:8080', 'http://bar-foo.origin.cors.com', true],
  ['http://*.origin.cors.com,http://*.origin.com:8080', 'http://bar.foo.origin.cors.com', false],
  ['http://origin.cors.com:8080,http://*.origin.com:8080', 'http://abc.origin.com:8080', true],
  ['http://origin.cors.com:8080,http://*.origin.com:8080', 'http://abc.origin.com', false],
  ['http://origin.cors.com:8080,http://*.origin.com:8080', 'http://origin.com:8080', false],
  ['http://origin.cors.com:8080,http://*.origin.com:8080', 'http://bar.origin.com:8080', true],
  ['https://origin-123.cors.com:8080,https://origin-321.cors.com:8080', 'https://origin-123.cors.com:8080', true],
  ['https://origin-123.cors.com:8080,https://origin-321.cors.com:8080', 'https://origin-321.cors.com:8080', true],
  ['https://origin-123.cors.com:8080,https://origin-321.cors.com:8080', 'https://unknown.cors.com:8080', false],
  ['test://localhost,tauri://localhost:3000', 'test://localhost', true],
  ['test://localhost,tauri://localhost:3000', 'tauri://localhost:3000', true],
  // ingress-nginx docs
  ['https://*.origin-site.com:4443,http://*.origin-site.com,myprotocol://example.org:1199', 'https://app.origin-site.com:4443', true],
  ['https://*.origin-site.com:4443,http://*.origin-site.com,myprotocol://example.org:1199', 'https://app.origin-site.com', false],
  ['https://*.origin-site.com:4443,http://*.origin-site.com,myprotocol://example.org:1199', 'http://x-1.origin-site.com', true],
  ['https://*.origin-site.com:4443,http://*.origin-site.com,myprotocol://example.org:1199', 'myprotocol://example.org:1199', true],
  // case-insensitive, as nginx's ~*
  ['https://app.example.org', 'HTTPS://APP.Example.ORG', true],
  ['http://*.example.org', 'http://WWW.example.org', true],
  ['null', 'null', true],
  ['null', 'NULL', true],
  // whole-value matches only (ingress-nginx anchors the end only: these pass there)
  ['https://a.com', 'xhttps://a.com', false],
  ['https://a.com', 'https://evil.example, https://a.com', false],
  ['http://*.a.com', 'http://evil.com/.a.com', false],
  ['http://*.a.com', 'http://x.y.a.com', false],
  ['http://*.a.com', 'http://.a.com', false],
  ['http://*.a.com', 'http://a.com', false],
  ['http://*.a.com', 'http://x_y.a.com', false],
  ['https://a.com', 'https://a.com:443', false],
  ['https://a.com', 'https://a.com/', false],
  ['https://a.com', '', false],
];

describe('origin matching', () => {
  for (const [list, origin, want] of MATCHING) {
    test(`${list} ${want ? 'allows' : 'refuses'} ${JSON.stringify(origin)}`, () => {
      assert.equal(compileOrigins(list.split(','))(origin), want);
    });
  }

  test('any string is answered, never thrown on', () => {
    const allow = compileOrigins(['https://a.com', 'http://*.b.com:8080', 'null']);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => typeof allow(s) === 'boolean'), { numRuns: 2000, seed: 20261206 });
  });
});

/** A request to api.example.com over HTTPS. */
const exchange = (method: string, headers: Record<string, string>): FakeExchange => fakeExchange({ method, headers, scheme: 'https', host: 'api.example.com' });

/** The headers the policy set on the answer, flat (CORS only ever sets). */
function set(ex: FakeExchange): string[] {
  for (const e of ex.responseEdits) assert.deepEqual([e.add, e.remove], [[], []]);
  return ex.responseEdits.flatMap((e) => e.set.flat());
}

const ENV = { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 };

const DEFAULTS: CorsPolicy = {
  kind: 'cors',
  origins: '*',
  methods: 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
  headers: 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
  exposeHeaders: '',
  credentials: true,
  maxAge: 1728000,
};

/** A route with these policies, as the table holds it. */
const route = (policies: Route['policies'], bodySize?: number): Route => ({ host: 'api.example.com', path: '/', match: 'Prefix', source: { kind: 'Ingress', namespace: 'default', name: 'api' }, policies, backends: [], settings: bodySize === undefined ? {} : { bodySize } });

/** Runs both halves as index.ts orders them (headers first). */
function run(p: CorsPolicy, method: string, headers: Record<string, string>): ReturnType<typeof exchange> & { verdict: Verdict } {
  const c = cors(p);
  const ex = exchange(method, headers);
  let verdict = c.headers.run(ex);
  assert.equal(verdict, Verdict.Continue, 'the headers half never answers');
  verdict = c.preflight.run(ex);
  return Object.assign(ex, { verdict });
}

describe('the compiled policy', () => {
  test('enable-cors alone: "*" and the defaults, in ingress-nginx\'s order, even without an Origin; no Vary', () => {
    const ex = run(DEFAULTS, 'GET', {});
    assert.equal(ex.verdict, Verdict.Continue);
    assert.deepEqual(set(ex), [
      'access-control-allow-origin', '*',
      'access-control-allow-credentials', 'true',
      'access-control-allow-methods', 'GET, PUT, POST, DELETE, PATCH, OPTIONS',
      'access-control-allow-headers', 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization',
      'access-control-max-age', '1728000',
    ]);
    assert.deepEqual(ex.added, []);
  });

  test('a list: the Origin is echoed as sent, with Vary: Origin; expose headers when set; no credentials when off', () => {
    const ex = run({ ...DEFAULTS, origins: ['https://app.example.org'], exposeHeaders: 'X-Total', credentials: false, maxAge: 600 }, 'POST', { origin: 'https://App.example.org' });
    assert.deepEqual(set(ex), ['access-control-allow-origin', 'https://App.example.org', 'access-control-allow-methods', DEFAULTS.methods, 'access-control-allow-headers', DEFAULTS.headers, 'access-control-expose-headers', 'X-Total', 'access-control-max-age', '600']);
    assert.deepEqual(ex.added, ['vary', 'Origin']);
  });

  test('a list: an origin not allowed, or none, gets no CORS header but still Vary: Origin', () => {
    for (const headers of [{ origin: 'https://evil.example' }, {}]) {
      const ex = run({ ...DEFAULTS, origins: ['https://app.example.org'] }, 'GET', headers);
      assert.deepEqual(set(ex), []);
      assert.deepEqual(ex.added, ['vary', 'Origin']);
      assert.equal(ex.verdict, Verdict.Continue);
    }
  });

  test('a preflight (OPTIONS, Origin, Access-Control-Request-Method) from an allowed origin is answered 204 with no body and no type', () => {
    const ex = run({ ...DEFAULTS, origins: ['https://*.example.org'] }, 'OPTIONS', { origin: 'https://app.example.org', 'access-control-request-method': 'DELETE' });
    assert.equal(ex.verdict, Verdict.Answered);
    assert.deepEqual(ex.answered, { status: 204, body: '', type: '', cause: 'cors_preflight', headers: [] });
    assert.equal(set(ex)[1], 'https://app.example.org');
  });

  test('not a preflight: OPTIONS without Access-Control-Request-Method, or without Origin, or from an origin not allowed, goes on to the pod', () => {
    const list: CorsPolicy = { ...DEFAULTS, origins: ['https://app.example.org'] };
    const cases: [CorsPolicy, string, Record<string, string>][] = [
      [list, 'OPTIONS', { origin: 'https://app.example.org' }],
      [list, 'OPTIONS', { 'access-control-request-method': 'PUT' }],
      [list, 'OPTIONS', { origin: 'https://evil.example', 'access-control-request-method': 'PUT' }],
      [DEFAULTS, 'OPTIONS', { 'access-control-request-method': 'PUT' }],
      [DEFAULTS, 'OPTIONS', {}],
      [DEFAULTS, 'GET', { origin: 'https://a.example', 'access-control-request-method': 'PUT' }],
    ];
    for (const [p, method, headers] of cases) {
      const ex = run(p, method, headers);
      assert.equal(ex.verdict, Verdict.Continue, JSON.stringify(headers));
      assert.equal(ex.answered, null);
    }
  });

  test('"*": any Origin makes a preflight', () => {
    const ex = run(DEFAULTS, 'OPTIONS', { origin: 'https://anything.example', 'access-control-request-method': 'GET' });
    assert.equal(ex.verdict, Verdict.Answered);
    assert.equal(set(ex)[1], '*');
  });

  test('in the fixed order: the headers half first, the preflight after the redirect and the body limit', () => {
    const compiled = compilePolicies(route([DEFAULTS, { kind: 'httpsRedirect' }], 1024), ENV).request;
    assert.equal(compiled.length, 4);
    const ex = exchange('OPTIONS', { origin: 'https://a.example', 'access-control-request-method': 'GET' });
    // plain HTTP: the redirect answers, and it carries the CORS headers set before it
    const plain = Object.assign(ex, { scheme: 'http' as const });
    let i = 0;
    while (i < compiled.length && compiled[i]!.run(plain) === Verdict.Continue) i++;
    assert.equal(i, 1, 'the redirect (second) answered');
    assert.equal(set(ex)[1], '*');
  });

  test('a preflight is answered before authentication and after the source ranges', () => {
    const basic = { kind: 'basicAuth' as const, realm: 'r', secret: 'default/users', users: [{ user: 'alice', hash: '{PLAIN}x' }] };
    const compiled = compilePolicies(route([basic, DEFAULTS, { kind: 'sourceRange', allow: ['10.0.0.0/8'], deny: [] }]), ENV).request;
    // the preflight from a client outside the range: the source range answers 403 (with the CORS headers)
    const outside = exchange('OPTIONS', { origin: 'https://a.example', 'access-control-request-method': 'GET' });
    let i = 0;
    while (i < compiled.length && compiled[i]!.run(outside) === Verdict.Continue) i++;
    assert.equal(outside.answered?.status, 403);
    assert.equal(set(outside)[1], '*');
    // from inside the range: the preflight is answered 204 before basic auth would ask for credentials
    const inside = Object.assign(exchange('OPTIONS', { origin: 'https://a.example', 'access-control-request-method': 'GET' }), { clientIp: '10.1.2.3' });
    i = 0;
    while (i < compiled.length && compiled[i]!.run(inside) === Verdict.Continue) i++;
    assert.equal(inside.answered?.status, 204);
  });

  test('a refused route stays refused: no CORS', () => {
    const compiled = compilePolicies(route([DEFAULTS, { kind: 'refuse', because: ['x'] }]), ENV).request;
    assert.equal(compiled.length, 1);
    const ex = exchange('GET', { origin: 'https://a.example' });
    assert.equal(compiled[0]!.run(ex), Verdict.Answered);
    assert.deepEqual(set(ex), []);
    assert.equal(ex.answered?.status, 503);
  });

  test('whatever the Origin, what is set is a valid header', () => {
    const allow = { ...DEFAULTS, origins: ['https://a.com', 'http://*.b.com:8080', 'null'] };
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('https://a.com', 'http://x.b.com:8080', 'null', 'HTTPS://A.COM')), (origin) => {
        const ex = run(allow, 'OPTIONS', { origin, 'access-control-request-method': 'GET' });
        const h = set(ex);
        for (let i = 0; i < h.length; i += 2) {
          validateHeaderName(h[i]!);
          validateHeaderValue(h[i]!, h[i + 1]!);
        }
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });
});

/** [Gateway API allowOrigins, Origin, allowed?]: HTTPCORSFilter's doc comments and the conformance suite's cases. */
const GATEWAY_MATCHING: readonly (readonly [string, string, boolean])[] = [
  ['https://www.foo.com,https://*.bar.com', 'https://www.foo.com', true],
  ['https://www.foo.com,https://*.bar.com', 'https://www.bar.com', true],
  // "* is a greedy match to the left, including any number of DNS labels"
  ['https://www.foo.com,https://*.bar.com', 'https://xpto.www.bar.com', true],
  ['https://www.foo.com,https://*.bar.com', 'https://foobar.com', false],
  ['https://www.foo.com,https://*.bar.com', 'https://bar.com', false],
  ['https://www.foo.com,https://*.bar.com', 'https://xbar.com', false],
  ['https://www.foo.com,https://*.bar.com', 'http://www.foo.com', false],
  // default ports are implied on both sides
  ['https://www.foo.com', 'https://www.foo.com:443', true],
  ['https://www.foo.com:443', 'https://www.foo.com', true],
  ['http://www.foo.com', 'http://www.foo.com:80', true],
  ['http://www.foo.com', 'http://www.foo.com:8080', false],
  ['https://www.foo.com:8443', 'https://www.foo.com:8443', true],
  ['https://www.foo.com:8443', 'https://www.foo.com', false],
  // a host of "*" alone: every host of that scheme and port
  ['http://*', 'http://anything.example', true],
  ['http://*', 'https://anything.example', false],
  ['http://*:8080', 'http://a.example:8080', true],
  ['http://*:8080', 'http://a.example', false],
  // case-insensitive; not an origin
  ['https://www.foo.com', 'HTTPS://WWW.FOO.COM', true],
  ['https://www.foo.com', 'https://www.foo.com/', false],
  ['https://www.foo.com', 'null', false],
  ['https://www.foo.com', '', false],
];

describe('Gateway API origin matching', () => {
  for (const [list, origin, want] of GATEWAY_MATCHING) {
    test(`${list} ${want ? 'allows' : 'refuses'} ${JSON.stringify(origin)}`, () => {
      assert.equal(compileGatewayOrigins(list.split(','))(origin), want);
    });
  }
  test('any string is answered, never thrown on', () => {
    const allow = compileGatewayOrigins(['https://a.com', 'http://*.b.com:8080', 'http://*']);
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => typeof allow(s) === 'boolean'), { numRuns: 2000, seed: 20261206 });
  });
});

/** The conformance suite's routes (conformance/tests/httproute-cors.yaml), as filters.ts makes them. */
const CORS_1: CorsPolicy = { kind: 'cors', origins: ['https://www.foo.com', 'https://*.bar.com'], methods: 'GET, OPTIONS', headers: 'x-header-1, x-header-2', exposeHeaders: 'x-header-3, x-header-4', credentials: true, maxAge: 3600, gatewayApi: true };
const CORS_2: CorsPolicy = { kind: 'cors', origins: ['https://www.foo.com'], methods: '*', headers: '', exposeHeaders: '', credentials: false, maxAge: 5, gatewayApi: true };
const WILDCARD_ORIGIN: CorsPolicy = { kind: 'cors', origins: '*', methods: 'PUT', headers: '', exposeHeaders: '', credentials: false, maxAge: 5, gatewayApi: true };
const WILDCARDS_CREDENTIALS: CorsPolicy = { kind: 'cors', origins: '*', methods: '*', headers: '*', exposeHeaders: '', credentials: true, maxAge: 5, gatewayApi: true };
const WILDCARDS: CorsPolicy = { ...WILDCARDS_CREDENTIALS, credentials: false };

/** What was set, as an object (the last value of a name). */
const setOf = (ex: FakeExchange): Record<string, string> => {
  const h = set(ex);
  const out: Record<string, string> = {};
  for (let i = 0; i < h.length; i += 2) out[h[i] as string] = h[i + 1] as string;
  return out;
};
const preflight = (origin: string, method: string, headers?: string): Record<string, string> => ({ origin, 'access-control-request-method': method, ...(headers !== undefined ? { 'access-control-request-headers': headers } : {}) });

describe('the Gateway API CORS filter (the conformance suite\'s rows)', () => {
  test('preflights from allowed origins (exact, wildcard, wildcard over several labels): 204 with every header the row expects', () => {
    for (const origin of ['https://www.foo.com', 'https://www.bar.com', 'https://xpto.www.bar.com']) {
      const ex = run(CORS_1, 'OPTIONS', preflight(origin, 'GET', 'x-header-1, x-header-2'));
      assert.equal(ex.verdict, Verdict.Answered);
      assert.equal(ex.answered?.status, 204);
      assert.deepEqual(setOf(ex), {
        'access-control-allow-origin': origin,
        'access-control-allow-credentials': 'true',
        'access-control-expose-headers': 'x-header-3, x-header-4',
        'access-control-allow-methods': 'GET, OPTIONS',
        'access-control-allow-headers': 'x-header-1, x-header-2',
        'access-control-max-age': '3600',
      });
      assert.deepEqual(ex.added, ['vary', 'Origin']);
    }
  });

  test('a preflight from an origin not allowed is answered 204 by the gateway, without CORS headers (it never reaches the pod)', () => {
    const ex = run(CORS_1, 'OPTIONS', preflight('https://foobar.com', 'GET'));
    assert.equal(ex.verdict, Verdict.Answered);
    assert.equal(ex.answered?.status, 204);
    assert.deepEqual(set(ex), []);
  });

  test('actual requests: Allow-Origin (echoed), credentials and expose headers; never the preflight-only headers', () => {
    const ok = run(CORS_1, 'GET', { origin: 'https://www.bar.com', 'access-control-request-method': 'GET' });
    assert.equal(ok.verdict, Verdict.Continue);
    assert.deepEqual(setOf(ok), { 'access-control-allow-origin': 'https://www.bar.com', 'access-control-allow-credentials': 'true', 'access-control-expose-headers': 'x-header-3, x-header-4' });
    const no = run(CORS_1, 'GET', { origin: 'https://foobar.com' });
    assert.equal(no.verdict, Verdict.Continue);
    assert.deepEqual(set(no), []);
  });

  test('allowMethods "*" without credentials: "*"; no Allow-Credentials; no Allow-Headers when none are configured', () => {
    const ex = run(CORS_2, 'OPTIONS', preflight('https://www.foo.com', 'POST'));
    assert.deepEqual(setOf(ex), { 'access-control-allow-origin': 'https://www.foo.com', 'access-control-allow-methods': '*', 'access-control-max-age': '5' });
  });

  test('allowOrigins "*" without credentials: "*" (with or without a port in the Origin), no Vary', () => {
    for (const origin of ['https://foobar.com', 'https://foobar.com:12345']) {
      const ex = run(WILDCARD_ORIGIN, 'OPTIONS', preflight(origin, 'PUT'));
      assert.deepEqual(setOf(ex), { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'PUT', 'access-control-max-age': '5' });
      assert.deepEqual(ex.added, []);
      const put = run(WILDCARD_ORIGIN, 'PUT', { origin });
      assert.deepEqual(setOf(put), { 'access-control-allow-origin': '*' });
    }
  });

  test('"*" everywhere with credentials: the Origin, the requested method and headers are echoed, never "*"', () => {
    const ex = run(WILDCARDS_CREDENTIALS, 'OPTIONS', preflight('https://other.foo.com', 'PUT', 'x-header-1, x-header-2'));
    assert.deepEqual(setOf(ex), {
      'access-control-allow-origin': 'https://other.foo.com',
      'access-control-allow-credentials': 'true',
      'access-control-allow-methods': 'PUT',
      'access-control-allow-headers': 'x-header-1, x-header-2',
      'access-control-max-age': '5',
    });
    assert.deepEqual(ex.added, ['vary', 'Origin']);
    // no Access-Control-Request-Headers: no Allow-Headers; a value that is not a list of names is not echoed
    assert.equal(setOf(run(WILDCARDS_CREDENTIALS, 'OPTIONS', preflight('https://a.com', 'PUT')))['access-control-allow-headers'], undefined);
    assert.equal(setOf(run(WILDCARDS_CREDENTIALS, 'OPTIONS', preflight('https://a.com', 'PUT', 'x-a, <script>')))['access-control-allow-headers'], undefined);
    const get = run(WILDCARDS_CREDENTIALS, 'GET', { origin: 'https://other.foo.com' });
    assert.deepEqual(setOf(get), { 'access-control-allow-origin': 'https://other.foo.com', 'access-control-allow-credentials': 'true' });
  });

  test('"*" everywhere without credentials: "*" for origin, methods and headers', () => {
    const ex = run(WILDCARDS, 'OPTIONS', preflight('https://other.foo.com', 'PUT', 'x-header-1'));
    assert.deepEqual(setOf(ex), { 'access-control-allow-origin': '*', 'access-control-allow-methods': '*', 'access-control-allow-headers': '*', 'access-control-max-age': '5' });
  });

  test('exposeHeaders "*" is not sent with credentials; a request without an Origin gets nothing', () => {
    const ex = run({ ...CORS_1, exposeHeaders: '*' }, 'GET', { origin: 'https://www.foo.com' });
    assert.equal(setOf(ex)['access-control-expose-headers'], undefined);
    assert.deepEqual(set(run(WILDCARD_ORIGIN, 'GET', {})), []);
  });

  test('OPTIONS that is not a preflight goes on to the pod', () => {
    for (const headers of [{ origin: 'https://www.foo.com' }, { 'access-control-request-method': 'GET' }]) {
      const ex = run(CORS_1, 'OPTIONS', headers);
      assert.equal(ex.verdict, Verdict.Continue);
      assert.equal(ex.answered, null);
    }
  });

  test('whatever the request, what is set is a valid header', () => {
    fc.assert(
      fc.property(fc.constantFrom(CORS_1, CORS_2, WILDCARDS, WILDCARDS_CREDENTIALS), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (p, origin, method, headers) => {
        const h = set(run(p, 'OPTIONS', preflight(origin, method, headers)));
        for (let i = 0; i < h.length; i += 2) {
          validateHeaderName(h[i]!);
          validateHeaderValue(h[i]!, h[i + 1]!);
        }
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });
});
