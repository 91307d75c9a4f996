/**
 * CORS in the data plane: origin matching as ingress-nginx's e2e suite (test/e2e/annotations/cors.go)
 * and its docs expect it (and stricter where ingress-nginx's end-only anchoring lets more in),
 * then the two halves of the compiled policy on a fake exchange: which headers, replacing what,
 * Vary, and which requests are preflights.
 */
import assert from 'node:assert/strict';
import { validateHeaderName, validateHeaderValue, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { CorsPolicy, Route } from '../../model/types.js';
import { compileOrigins, cors } from './cors.js';
import { createLimiters } from '../limiters.js';
import { compilePolicies } from './index.js';
import { Verdict, type PolicyExchange, type ResponseEdit } from './types.js';

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

/** A fake exchange recording what a policy did. */
function exchange(method: string, headers: IncomingHttpHeaders): PolicyExchange & { set: string[]; added: string[]; answered: { status: number; body: string; type: string; cause: string } | null } {
  const ex = {
    req: { method, headers } as unknown as IncomingMessage,
    scheme: 'https' as const,
    listenerPort: 443,
    path: '/',
    forwardPath: '/',
    captures: null,
    host: 'api.example.com',
    clientIp: '192.0.2.1',
    servername: undefined,
    tlsSocket: null,
    set: [] as string[],
    added: [] as string[],
    answered: null as { status: number; body: string; type: string; cause: string } | null,
    setForwardPath() {},
    setUpstreamHeader() {},
    removeUpstreamHeader() {},
    addResponseHeader(n: string, v: string) {
      ex.added.push(n, v);
    },
    editResponse(e: ResponseEdit) {
      assert.deepEqual([e.add, e.remove], [[], []]);
      for (const [n, v] of e.set) ex.set.push(n, v);
    },
    closeAfter() {},
    requestUri: '/',
    requestId: 'r',
    names: null,
    header: () => undefined,
    setRequestHeader() {},
    removeRequestHeader() {},
    onDone() {},
    answer(status: number, body: string, type: string, cause: string) {
      ex.answered = { status, body, type, cause };
    },
    resume() {},
  };
  return ex;
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
function run(p: CorsPolicy, method: string, headers: IncomingHttpHeaders): ReturnType<typeof exchange> & { verdict: Verdict } {
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
    assert.deepEqual(ex.set, [
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
    assert.deepEqual(ex.set, ['access-control-allow-origin', 'https://App.example.org', 'access-control-allow-methods', DEFAULTS.methods, 'access-control-allow-headers', DEFAULTS.headers, 'access-control-expose-headers', 'X-Total', 'access-control-max-age', '600']);
    assert.deepEqual(ex.added, ['vary', 'Origin']);
  });

  test('a list: an origin not allowed, or none, gets no CORS header but still Vary: Origin', () => {
    for (const headers of [{ origin: 'https://evil.example' }, {}]) {
      const ex = run({ ...DEFAULTS, origins: ['https://app.example.org'] }, 'GET', headers);
      assert.deepEqual(ex.set, []);
      assert.deepEqual(ex.added, ['vary', 'Origin']);
      assert.equal(ex.verdict, Verdict.Continue);
    }
  });

  test('a preflight (OPTIONS, Origin, Access-Control-Request-Method) from an allowed origin is answered 204 with no body and no type', () => {
    const ex = run({ ...DEFAULTS, origins: ['https://*.example.org'] }, 'OPTIONS', { origin: 'https://app.example.org', 'access-control-request-method': 'DELETE' });
    assert.equal(ex.verdict, Verdict.Answered);
    assert.deepEqual(ex.answered, { status: 204, body: '', type: '', cause: 'cors_preflight' });
    assert.equal(ex.set[1], 'https://app.example.org');
  });

  test('not a preflight: OPTIONS without Access-Control-Request-Method, or without Origin, or from an origin not allowed, goes on to the pod', () => {
    const list: CorsPolicy = { ...DEFAULTS, origins: ['https://app.example.org'] };
    const cases: [CorsPolicy, string, IncomingHttpHeaders][] = [
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
    assert.equal(ex.set[1], '*');
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
    assert.equal(ex.set[1], '*');
  });

  test('a preflight is answered before authentication and after the source ranges', () => {
    const basic = { kind: 'basicAuth' as const, realm: 'r', secret: 'default/users', users: [{ user: 'alice', hash: '{PLAIN}x' }] };
    const compiled = compilePolicies(route([basic, DEFAULTS, { kind: 'sourceRange', allow: ['10.0.0.0/8'], deny: [] }]), ENV).request;
    // the preflight from a client outside the range: the source range answers 403 (with the CORS headers)
    const outside = exchange('OPTIONS', { origin: 'https://a.example', 'access-control-request-method': 'GET' });
    let i = 0;
    while (i < compiled.length && compiled[i]!.run(outside) === Verdict.Continue) i++;
    assert.equal(outside.answered?.status, 403);
    assert.equal(outside.set[1], '*');
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
    assert.deepEqual(ex.set, []);
    assert.equal(ex.answered?.status, 503);
  });

  test('whatever the Origin, what is set is a valid header', () => {
    const allow = { ...DEFAULTS, origins: ['https://a.com', 'http://*.b.com:8080', 'null'] };
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('https://a.com', 'http://x.b.com:8080', 'null', 'HTTPS://A.COM')), (origin) => {
        const ex = run(allow, 'OPTIONS', { origin, 'access-control-request-method': 'GET' });
        for (let i = 0; i < ex.set.length; i += 2) {
          validateHeaderName(ex.set[i]!);
          validateHeaderValue(ex.set[i]!, ex.set[i + 1]!);
        }
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });
});
