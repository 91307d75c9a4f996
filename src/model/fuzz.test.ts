/**
 * The translator never throws, whatever it is given: random JSON in the places of Kubernetes
 * objects, valid objects with fields mutated to wrong types, odd Unicode, huge values and
 * thousands of paths. Every run must produce a table and diagnostics.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Snapshot } from './k8s.js';
import { printDiagnostics, printTable } from './print.js';
import { translate } from './translate.js';
import { compile } from '../router/compile.js';
import { match, NO_INPUT } from '../router/match.js';
import { inspectClientCaSecret, inspectSecret } from '../tls/inspect.js';
import { createSelfSigned } from '../tls/selfsigned.js';
import { createLimiters } from '../proxy/limiters.js';
import { compilePolicies } from '../proxy/policies/index.js';
import { compileRetry, DEFAULT_RETRY } from '../proxy/policies/retry.js';
import { fakeExchange } from '../testing/exchange.js';
import { mutate } from '../testing/mutate.js';

const opts = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: true, inspect: inspectSecret, inspectClientCa: inspectClientCaSecret, now: Date.now(), sourceRanges: { allow: ['10.0.0.0/8'], deny: ['10.9.9.9'] }, defaultBackendService: { namespace: 'default', name: 'errors', port: 80 }, addHeaders: { namespace: 'default', name: 'h' }, proxySetHeaders: { namespace: 'default', name: 'h' } };
const env = { httpsRedirectPort: 443, bodySize: 0, limiters: createLimiters(), limitReqStatus: 503, limitConnStatus: 503 };

/** The annotations of the error-pages, retries, header and mirroring families, with values that parse. */
const FAMILY = {
  'nginx.ingress.kubernetes.io/custom-http-errors': '404,503',
  'nginx.ingress.kubernetes.io/default-backend': 's',
  'nginx.ingress.kubernetes.io/disable-proxy-intercept-errors': 'false',
  'nginx.ingress.kubernetes.io/proxy-next-upstream': 'error timeout http_502 non_idempotent',
  'nginx.ingress.kubernetes.io/proxy-next-upstream-tries': '3',
  'nginx.ingress.kubernetes.io/proxy-next-upstream-timeout': '10',
  'nginx.ingress.kubernetes.io/service-upstream': 'true',
  'nginx.ingress.kubernetes.io/enable-access-log': 'false',
  'nginx.ingress.kubernetes.io/custom-headers': 'default/h',
  'nginx.ingress.kubernetes.io/configuration-snippet': 'more_set_headers -s 404 "X-A: $host"; add_header X-B b always; proxy_set_header X-C $request_id;',
  'nginx.ingress.kubernetes.io/server-snippet': 'more_clear_headers Server; more_set_input_headers -r "X-D: $arg_d";',
  'nginx.ingress.kubernetes.io/mirror-target': 'https://mirror.test:8443/copy$request_uri',
  'nginx.ingress.kubernetes.io/mirror-request-body': 'off',
  'nginx.ingress.kubernetes.io/mirror-host': 'shadow.test',
};

const valid = {
  ingress: {
    kind: 'Ingress',
    metadata: {
      name: 'i',
      namespace: 'default',
      annotations: {
        'nginx.ingress.kubernetes.io/proxy-body-size': '1m',
        'nginx.ingress.kubernetes.io/backend-protocol': 'GRPC',
        'nginx.ingress.kubernetes.io/whitelist-source-range': '10.0.0.0/8, ::1',
        'nginx.ingress.kubernetes.io/denylist-source-range': '10.1.0.0/16',
        'nginx.ingress.kubernetes.io/limit-rps': '5',
        'nginx.ingress.kubernetes.io/limit-rpm': '100',
        'nginx.ingress.kubernetes.io/limit-connections': '3',
        'nginx.ingress.kubernetes.io/limit-burst-multiplier': '2',
        'nginx.ingress.kubernetes.io/limit-allowlist': '192.168.0.0/16',
        'nginx.ingress.kubernetes.io/affinity': 'cookie',
        'nginx.ingress.kubernetes.io/affinity-mode': 'persistent',
        'nginx.ingress.kubernetes.io/session-cookie-name': 'S',
        'nginx.ingress.kubernetes.io/session-cookie-path': '/',
        'nginx.ingress.kubernetes.io/session-cookie-max-age': '60',
        'nginx.ingress.kubernetes.io/session-cookie-samesite': 'None',
        'nginx.ingress.kubernetes.io/upstream-hash-by': '$request_uri$arg_a',
        'nginx.ingress.kubernetes.io/upstream-hash-by-subset': 'true',
        'nginx.ingress.kubernetes.io/load-balance': 'ewma',
        ...FAMILY,
        'nginx.ingress.kubernetes.io/auth-type': 'basic',
        'nginx.ingress.kubernetes.io/auth-secret': 'tls',
        'nginx.ingress.kubernetes.io/auth-realm': 'r',
        'nginx.ingress.kubernetes.io/auth-url': 'http://$host/auth?u=$escaped_request_uri&t=$http_x_team',
        'nginx.ingress.kubernetes.io/auth-proxy-set-headers': 'h',
        'nginx.ingress.kubernetes.io/satisfy': 'any',
        'nginx.ingress.kubernetes.io/limit-rate': '10',
        'nginx.ingress.kubernetes.io/limit-rate-after': '5',
        'nginx.ingress.kubernetes.io/auth-signin': 'https://login.test/start?x=$arg_x',
        'nginx.ingress.kubernetes.io/auth-response-headers': 'X-User, X-Email',
        'nginx.ingress.kubernetes.io/auth-cache-key': '$cookie_s$remote_user',
        'nginx.ingress.kubernetes.io/auth-cache-duration': '200 401 1m, any 5s',
        'nginx.ingress.kubernetes.io/enable-cors': 'true',
        'nginx.ingress.kubernetes.io/cors-allow-origin': 'https://a.test, http://*.b.test:8080, null',
        'nginx.ingress.kubernetes.io/cors-allow-methods': 'GET, POST',
        'nginx.ingress.kubernetes.io/cors-allow-headers': 'X-A, X-B',
        'nginx.ingress.kubernetes.io/cors-expose-headers': '*, X-C',
        'nginx.ingress.kubernetes.io/cors-allow-credentials': 'false',
        'nginx.ingress.kubernetes.io/cors-max-age': '600',
      },
    },
    spec: {
      ingressClassName: 'portico',
      defaultBackend: { service: { name: 's', port: { number: 80 } } },
      tls: [{ hosts: ['a.test'], secretName: 'tls' }],
      rules: [{ host: 'a.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's', port: { name: 'http' } } } }] } }],
    },
  },
  // regex paths, rewrites and redirects (model/ingress/routing.ts): every annotation of the family, valid
  routing: {
    kind: 'Ingress',
    metadata: {
      name: 'r',
      namespace: 'default',
      annotations: {
        'nginx.ingress.kubernetes.io/use-regex': 'true',
        'nginx.ingress.kubernetes.io/rewrite-target': '/$2',
        'nginx.ingress.kubernetes.io/x-forwarded-prefix': '/$1',
        'nginx.ingress.kubernetes.io/app-root': '/app',
        'nginx.ingress.kubernetes.io/permanent-redirect': '/moved',
        'nginx.ingress.kubernetes.io/permanent-redirect-code': '308',
        'nginx.ingress.kubernetes.io/temporal-redirect': 'https://t.test/x',
        'nginx.ingress.kubernetes.io/temporal-redirect-code': '307',
        'nginx.ingress.kubernetes.io/relative-redirects': 'true',
        'nginx.ingress.kubernetes.io/use-port-in-redirects': 'true',
        'nginx.ingress.kubernetes.io/preserve-trailing-slash': 'true',
        'nginx.ingress.kubernetes.io/from-to-www-redirect': 'true',
        'nginx.ingress.kubernetes.io/server-alias': 'b.test, www.a.test, *.c.test',
      },
    },
    spec: {
      ingressClassName: 'portico',
      tls: [{ hosts: ['a.test', 'www.a.test'], secretName: 'tls' }],
      rules: [
        { host: 'a.test', http: { paths: [{ path: '/(api)(/|$)(.*)', pathType: 'ImplementationSpecific', backend: { service: { name: 's', port: { name: 'http' } } } }, { path: '/', pathType: 'Exact', backend: { service: { name: 's', port: { number: 80 } } } }] } },
        { host: 'www.a.test', http: { paths: [{ path: '/x[0-9]+', pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }] } },
      ],
    },
  },
  service: { kind: 'Service', metadata: { name: 's', namespace: 'default' }, spec: { ports: [{ name: 'http', port: 80 }], clusterIP: '10.96.0.1' } },
  slice: { kind: 'EndpointSlice', metadata: { name: 's-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 's' } }, addressType: 'IPv4', ports: [{ name: 'http', port: 8080 }], endpoints: [{ addresses: ['10.0.0.1'], conditions: { ready: true } }] },
  // also the basic-auth users: alice:{SHA}..., bob:{PLAIN}x
  secret: { kind: 'Secret', metadata: { name: 'tls', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'bm90IGEgY2VydA==', 'tls.key': 'bm8=', auth: Buffer.from('alice:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=\nbob:{PLAIN}x\n').toString('base64') } },
  canary: {
    kind: 'Ingress',
    metadata: {
      name: 'c',
      namespace: 'default',
      annotations: {
        'nginx.ingress.kubernetes.io/canary': 'true',
        'nginx.ingress.kubernetes.io/canary-weight': '30',
        'nginx.ingress.kubernetes.io/canary-weight-total': '200',
        'nginx.ingress.kubernetes.io/canary-by-header': 'X-Canary',
        'nginx.ingress.kubernetes.io/canary-by-header-pattern': '^v[0-9]+$',
        'nginx.ingress.kubernetes.io/canary-by-cookie': 'c',
        'nginx.ingress.kubernetes.io/affinity-canary-behavior': 'legacy',
        'nginx.ingress.kubernetes.io/upstream-hash-by': '$remote_addr',
      },
    },
    spec: {
      ingressClassName: 'portico',
      defaultBackend: { service: { name: 's2', port: { number: 80 } } },
      rules: [{ host: 'a.test', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 's2', port: { name: 'http' } } } }] } }],
    },
  },
  klass: { kind: 'IngressClass', metadata: { name: 'portico', annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } }, spec: { controller: 'portico.dev/ingress-controller' } },
  configMap: { kind: 'ConfigMap', metadata: { name: 'h', namespace: 'default' }, data: { 'X-E': 'e', 'X-F': '$remote_addr' } },
};

/** A request as response edits read it. */
const request = fakeExchange({ target: '/?a=1', path: '/' });

const weird = fc.oneof(
  fc.anything(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('', '/', '*', '*.', '..', '/../', '/(?!x)', '/(a)\\1', '(', '$1', '/$9$0$', '$host', 'www.', 'www', '~^www\\d+$', 'true', '301', '999', 'http://', '/x\r\nSet-Cookie: a', '%', '%2F', '\u0000', '\u202e', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', 'a'.repeat(100_000), -1, 0, 65536, 1e308, NaN, null, [], {}, true, { toString: 0 }, [{ toString: 0 }], { valueOf: 0, toString: 0 }),
);

/** Fixed by default so CI is repeatable; FUZZ_SEED=random (or a number) explores further. */
const seed = process.env.FUZZ_SEED === 'random' ? Date.now() : Number(process.env.FUZZ_SEED ?? 20261126);
const runs = Number(process.env.FUZZ_RUNS ?? 1);

function run(s: Partial<Snapshot>): void {
  const snap = { ingresses: [], ingressClasses: [], services: [], endpointSlices: [], secrets: [], configMaps: [], ...s } as Snapshot;
  const t = translate(snap, opts);
  assert.ok(Array.isArray(t.diagnostics));
  // every policy of the table compiles for the data plane
  const m = compile(t.table, (route) => (compilePolicies(route, env, t.table), route));
  // and the response edits and retry rules never throw either
  for (const r of t.table.routes) {
    const c = compilePolicies(r, env, t.table);
    const head = ['content-type', 'text/html', 'x-a', '1'];
    c.response?.edit(404, head, request, true);
    c.outer?.edit(200, head, request, false);
    compileRetry(r.settings, DEFAULT_RETRY);
  }
  for (const host of ['a.test', 'www.a.test', 'b.test', 'x.c.test']) for (const path of ['/', '/api', '/API/x/y', '/x123', '/\r\n']) match(m, host, path, { ...NO_INPUT, captures: null });
}

test('random values in place of whole objects never throw', () => {
  fc.assert(
    fc.property(fc.array(fc.anything(), { maxLength: 5 }), fc.array(fc.anything(), { maxLength: 5 }), fc.array(fc.anything(), { maxLength: 5 }), (a, b, c) => {
      run({ ingresses: a as never, services: b as never, endpointSlices: c as never, secrets: c as never, ingressClasses: b as never, configMaps: a as never });
    }),
    { numRuns: 2000 * runs, seed },
  );
});

test('valid objects with one field mutated to anything never throw', () => {
  fc.assert(
    fc.property(fc.constantFrom(...(Object.keys(valid) as (keyof typeof valid)[])), fc.array(fc.nat(50), { minLength: 1, maxLength: 8 }), weird, (which, path, value) => {
      const objs = { ...valid, [which]: mutate(valid[which], path, value) };
      run({ ingresses: [objs.ingress, objs.routing, objs.canary] as never, services: [objs.service] as never, endpointSlices: [objs.slice] as never, secrets: [objs.secret] as never, ingressClasses: [objs.klass] as never, configMaps: [objs.configMap] as never });
    }),
    { numRuns: 3000 * runs, seed },
  );
});

test('client-certificate annotations and CA Secrets mutated to anything never throw, in the translator or the policy compiler', () => {
  const ca = createSelfSigned({ commonName: 'Fuzz CA', dnsNames: ['ca.test'], isCA: true }).certPem;
  const N = 'nginx.ingress.kubernetes.io/';
  const objs = {
    ingress: {
      ...valid.ingress,
      metadata: {
        name: 'm',
        namespace: 'default',
        annotations: { [`${N}auth-tls-secret`]: 'default/ca', [`${N}auth-tls-verify-client`]: 'optional', [`${N}auth-tls-verify-depth`]: '2', [`${N}auth-tls-error-page`]: 'https://e.test/x', [`${N}auth-tls-pass-certificate-to-upstream`]: 'true', [`${N}auth-tls-match-cn`]: 'CN=(a|b)' },
      },
    },
    secret: { kind: 'Secret', metadata: { name: 'ca', namespace: 'default' }, type: 'Opaque', data: { 'ca.crt': Buffer.from(ca).toString('base64') } },
  };
  fc.assert(
    fc.property(fc.constantFrom('ingress', 'secret' as const), fc.array(fc.nat(50), { minLength: 1, maxLength: 6 }), weird, (which, path, value) => {
      const o = { ...objs, [which]: mutate(objs[which as keyof typeof objs], path, value) };
      const snap = { ingresses: [o.ingress, valid.ingress], ingressClasses: [valid.klass], services: [valid.service], endpointSlices: [valid.slice], secrets: [o.secret, valid.secret] } as never;
      const t = translate(snap, opts);
      for (const r of t.table.routes) compilePolicies(r, env, t.table);
      match(compile(t.table, (route) => route), 'a.test', '/');
    }),
    { numRuns: 1500 * runs, seed },
  );
});

/** Pieces of nginx configuration, hostile ones included, to build snippets from. */
const snippetPiece = fc.oneof(
  fc.constantFrom('more_set_headers', 'more_clear_headers', 'more_set_input_headers', 'more_clear_input_headers', 'add_header', 'proxy_set_header', 'proxy_hide_header', 'deny', 'return', 'lua_block', 'if'),
  fc.constantFrom(' ', '\t', '\n', ';', '"', "'", '\\', '#', '{', '}', '$', '${', '-s', '-t', '-r', 'always', '404', 'text/html', 'X-A: b', 'X-A:', '*', 'Content-Length: 0', '$host', '$http_x', '$nope', '\r\n', '\u0000'),
  fc.string({ unit: 'binary', maxLength: 8 }),
);

test('any snippet text, in either snippet annotation, translates without a throw, and what is accepted compiles and matches', () => {
  fc.assert(
    fc.property(fc.constantFrom('configuration-snippet', 'server-snippet'), fc.array(snippetPiece, { maxLength: 30 }), (which, pieces) => {
      const ingress = { ...valid.ingress, metadata: { ...valid.ingress.metadata, annotations: { [`nginx.ingress.kubernetes.io/${which}`]: pieces.join('') } } };
      run({ ingresses: [ingress] as never, services: [valid.service] as never, endpointSlices: [valid.slice] as never, configMaps: [valid.configMap] as never });
    }),
    { numRuns: 3000 * runs, seed },
  );
});

test('the family\'s annotations with any value never throw', () => {
  fc.assert(
    fc.property(fc.constantFrom(...Object.keys(FAMILY)), weird, (key, value) => {
      const ingress = { ...valid.ingress, metadata: { ...valid.ingress.metadata, annotations: { ...FAMILY, [key]: value } } };
      run({ ingresses: [ingress] as never, services: [valid.service] as never, endpointSlices: [valid.slice] as never, configMaps: [valid.configMap] as never });
    }),
    { numRuns: 2000 * runs, seed },
  );
});

test('an Ingress with thousands of paths and hosts translates', () => {
  const paths = Array.from({ length: 5000 }, (_, i) => ({ path: `/p${i}/${'x'.repeat(i % 50)}`, pathType: i % 2 ? 'Exact' : 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } }));
  const rules = Array.from({ length: 200 }, (_, i) => ({ host: `h${i}.test`, http: { paths: paths.slice(0, 25) } }));
  const big = { ...valid.ingress, spec: { ...valid.ingress.spec, rules: [{ host: 'a.test', http: { paths } }, ...rules] } };
  const t = translate({ ingresses: [big], ingressClasses: [], services: [valid.service], endpointSlices: [valid.slice], secrets: [] } as never, opts);
  assert.equal(t.table.routes.length, 5000 + 200 * 25);
});

test('rebuilds that reuse objects (the memos hit) give what translating fresh copies gives', () => {
  const printed = (s: Snapshot): string => {
    const t = translate(s, opts);
    return JSON.stringify({ table: printTable(t.table), diagnostics: printDiagnostics(t.diagnostics) });
  };
  const kinds = Object.keys(valid) as (keyof typeof valid)[];
  const variant = fc.tuple(fc.constantFrom(...kinds), fc.array(fc.nat(50), { minLength: 1, maxLength: 8 }), fc.jsonValue()).map(([which, path, value]) => ({ which, obj: mutate(valid[which], path, value) }));
  fc.assert(
    fc.property(fc.array(variant, { maxLength: 12 }), fc.array(fc.array(fc.nat(), { minLength: kinds.length, maxLength: kinds.length }), { minLength: 2, maxLength: 6 }), (variants, picks) => {
      // per kind, the valid object and its variants; each snapshot takes one of them or none, so
      // later snapshots share objects with earlier ones and the memos hit
      const pools = kinds.map((which) => [valid[which] as unknown, ...variants.filter((v) => v.which === which).map((v) => v.obj)]);
      const snaps = picks.map((pick): Snapshot => {
        const of = (k: number): never => {
          const pool = pools[k]!;
          const n = pick[k]! % (pool.length + 1);
          return (n === pool.length ? [] : [pool[n]]) as never;
        };
        return { ingresses: [...of(0), ...of(1), ...of(5)] as never, services: of(2), endpointSlices: of(3), secrets: of(4), ingressClasses: of(6), configMaps: of(7) };
      });
      // fresh copies first (every object new: the memos miss), then the sequence itself in a row
      // (a translation keeps what the one before it used, so shared objects hit)
      const fresh = snaps.map((s) => printed(structuredClone(s)));
      snaps.forEach((s, i) => assert.equal(printed(s), fresh[i]));
    }),
    { numRuns: 500 * runs, seed },
  );
});
