/**
 * What each nginx variable reads, pinned once for every place that expands them (auth templates,
 * header values, upstream-hash-by keys all compile through compileVars): nginx's documented
 * semantics (https://nginx.org/en/docs/http/ngx_http_core_module.html#variables) and its source
 * where the docs are silent (ngx_http_arg, ngx_http_parse_multi_header_lines, ngx_http_validate_host).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH_VARIABLES, HASH_VARIABLES, HEADER_VARIABLES, parseVars, type VarContext } from '../model/nginx-vars.js';
import { fakeExchange, type FakeRequest } from '../testing/exchange.js';
import { createBalancer, createPicker } from './balance.js';
import { argOf, compileVars, cookieOf, escapeUri, type VarRequest } from './nginx-vars.js';
import { compileValue, expand } from './policies/template.js';
import { cookieValue } from './sticky.js';

const CONTEXTS: readonly (readonly [string, VarContext])[] = [
  ['auth', AUTH_VARIABLES],
  ['header values', HEADER_VARIABLES],
  ['upstream-hash-by', HASH_VARIABLES],
];

const NAMES = { namespace: 'ns', ingress: 'ing', service: 'svc', servicePort: 'http', host: 'app.test' };
const request = (o: FakeRequest = {}) => fakeExchange({ host: 'app.test', clientIp: '192.0.2.7', requestId: 'rid-1', names: NAMES, ...o });

/**
 * A variable's value for a request, in every place that reads it; the places must agree. Fails
 * when no place reads it.
 */
function read(variable: string, r: VarRequest): string {
  const values = new Set<string>();
  for (const [, ctx] of CONTEXTS) {
    const t = parseVars(variable, ctx);
    if ('error' in t) continue;
    const v = compileVars(t.parts);
    values.add(typeof v === 'string' ? v : v(r));
  }
  assert.equal(values.size, 1, `${variable}: ${[...values].join(' / ') || 'read nowhere'}`);
  return [...values][0] as string;
}

describe('$host', () => {
  test('the request line\'s host, else the Host header; lower-case, without the port or a trailing dot', () => {
    assert.equal(read('$host', request({ host: 'App.Test:8080' })), 'app.test');
    assert.equal(read('$host', request({ host: 'app.test.' })), 'app.test');
    assert.equal(read('$host', request({ host: '[2001:DB8::1]:8443' })), '[2001:db8::1]');
  });
  test('without one (HTTP/1.0 without Host), the server name: the rule host, "_" for a rule without one', () => {
    assert.equal(read('$host', request({ host: undefined })), 'app.test');
    assert.equal(read('$host', request({ host: '', names: { ...NAMES, host: '' } })), '_');
  });
});

describe('targets: $request_uri raw and original, $uri normalised and current, $args current', () => {
  const rewritten = (): ReturnType<typeof request> => {
    const r = request({ target: '/orig/a%20b?x=1&y', path: '/orig/a b' });
    r.setForwardPath('/new/a%20b?y=2');
    return r;
  };
  test('as received', () => {
    const r = request({ target: '/a%20b/../c?Q=x%20y&e=', path: '/c' });
    assert.equal(read('$request_uri', r), '/a%20b/../c?Q=x%20y&e=');
    assert.equal(read('$escaped_request_uri', r), '%2Fa%2520b%2F..%2Fc%3FQ%3Dx%2520y%26e%3D');
    assert.equal(read('$uri|$document_uri', r), '/c|/c');
    assert.equal(read('$args|$query_string|$is_args', r), 'Q=x%20y&e=|Q=x%20y&e=|?');
  });
  test('after a rewrite: $request_uri is still the client\'s, $uri, $args and $arg_ are the new target\'s', () => {
    const r = rewritten();
    assert.equal(read('$request_uri', r), '/orig/a%20b?x=1&y');
    assert.equal(read('$uri', r), '/new/a b');
    assert.equal(read('$args', r), 'y=2');
    assert.equal(read('$arg_y|$arg_x', r), '2|');
  });
  test('$is_args is "?" only when there are arguments: not for an empty query', () => {
    assert.equal(read('$is_args', request({ target: '/p?' })), '');
    assert.equal(read('$is_args', request({ target: '/p' })), '');
  });
  test('a rewritten path with a bad escape is read as it is', () => {
    const r = request({ target: '/a' });
    r.setForwardPath('/%E0%A4%A');
    assert.equal(read('$uri', r), '/%E0%A4%A');
  });
});

describe('$arg_<name>: ngx_http_arg', () => {
  test('the first argument "name=", compared case-insensitively, raw (not decoded)', () => {
    const r = request({ target: '/?b=1&Page=2&page=3&q=x%20y&e=' });
    assert.equal(read('$arg_page|$arg_PAGE|$arg_q|$arg_e|$arg_none', r), '2|2|x%20y||');
  });
  test('an argument without "=" is passed over; a name is never found inside another', () => {
    assert.equal(argOf('a&a=2', 'a'), '2');
    assert.equal(argOf('ba=1&a=2', 'a'), '2');
    assert.equal(argOf('a', 'a'), '');
    assert.equal(argOf('', 'a'), '');
    assert.equal(argOf('&&a=1&', 'a'), '1');
  });
});

describe('$cookie_<name>: ngx_http_parse_multi_header_lines', () => {
  test('the name case-insensitive, the value as sent (quotes kept), up to the next ";"', () => {
    const r = request({ headers: ['Cookie', 'a=1; Session="x y"; b=2'] });
    assert.equal(read('$cookie_session|$cookie_SESSION|$cookie_a|$cookie_none', r), '"x y"|"x y"|1|');
  });
  test('several Cookie fields are one list', () => {
    assert.equal(read('$cookie_b', request({ headers: ['cookie', 'a=1', 'cookie', 'b=2'] })), '2');
  });
  test('edge cases', () => {
    assert.equal(cookieOf(undefined, 'a'), '');
    assert.equal(cookieOf('ab=1; a=2', 'a'), '2');
    assert.equal(cookieOf('a =1', 'a'), '1');
    assert.equal(cookieOf('junk; a= 1', 'a'), '1');
    assert.equal(cookieOf('x=1, a=2', 'a'), '2');
    assert.equal(cookieOf('a', 'a'), '');
  });
});

describe('$http_<name>', () => {
  test('the header as policies left it, several values joined by ", "; _ read as -, any case', () => {
    const r = request({ headers: ['X-Team', 'a', 'x-team', 'b', 'User-Agent', 'curl'] });
    assert.equal(read('$http_x_team|$HTTP_USER_AGENT|$http_none', r), 'a, b|curl|');
    r.setRequestHeader('X-Team', 'edited');
    assert.equal(read('$http_x_team', r), 'edited');
  });
  test('$http_host is the Host as sent (case and port kept); over HTTP/2, the :authority', () => {
    assert.equal(read('$http_host', request({ headers: ['Host', 'App.Test:8080'] })), 'App.Test:8080');
    assert.equal(read('$http_host', request({ headers: [':authority', 'h2.test:8443'] })), 'h2.test:8443');
  });
});

describe('the others', () => {
  test('$scheme, $request_method, $remote_addr, $remote_user, $proxy_add_x_forwarded_for, $request_id', () => {
    const r = request({ scheme: 'https', method: 'PUT', headers: ['Authorization', `Basic ${Buffer.from('ann:p:w').toString('base64')}`, 'X-Forwarded-For', '10.0.0.1'] });
    assert.equal(read('$scheme $request_method $remote_addr $remote_user', r), 'https PUT 192.0.2.7 ann');
    assert.equal(read('$proxy_add_x_forwarded_for', r), '10.0.0.1, 192.0.2.7');
    assert.equal(read('$proxy_add_x_forwarded_for', request()), '192.0.2.7');
    assert.equal(read('$remote_user', request({ headers: ['authorization', 'Bearer x'] })), '');
    assert.equal(read('$request_id', r), 'rid-1');
  });
  test('the route\'s names; captures of its regex ("" without)', () => {
    const r = request({ captures: ['/a/b', 'a', 'b'] });
    assert.equal(read('$server_name $namespace/$ingress_name/$service_name:$service_port', r), 'app.test ns/ing/svc:http');
    assert.equal(read('$1-$2-$3', r), 'a-b-');
    assert.equal(read('$1', request()), '');
  });
  test('set_escape_uri: everything but unreserved characters, upper-case hex, UTF-8', () => {
    assert.equal(escapeUri('/?a=b&c=d'), '%2F%3Fa%3Db%26c%3Dd');
    assert.equal(escapeUri('A-z0_9.~'), 'A-z0_9.~');
    assert.equal(escapeUri('é%'), '%C3%A9%25');
  });
  test('text without variables is compiled to itself', () => {
    assert.equal(compileVars([{ text: 'a' }, { text: 'b' }]), 'ab');
  });
});

describe('where the copies disagreed, each caller now reads as nginx', () => {
  test('header values: $uri, $args and $arg_ after a rewrite; $http_host over HTTP/2; $is_args of an empty query', () => {
    const r = request({ target: '/old?a=1', path: '/old' });
    r.setForwardPath('/new?a=2');
    assert.equal(expand(compileValue('$uri?$args $arg_a'), r), '/new?a=2 2');
    assert.equal(expand(compileValue('$http_host'), request({ headers: [':authority', 'h2.test'] })), 'h2.test');
    assert.equal(expand(compileValue('[$is_args]'), request({ target: '/p?' })), '[]');
  });

  test('upstream-hash-by: $cookie_ names are case-insensitive, as nginx\'s $cookie_', () => {
    const eps = Array.from({ length: 8 }, (_, i) => ({ ip: `10.0.0.${i + 1}`, port: 80, terminating: false }));
    const backend = { id: 'ns/web:80', namespace: 'ns', service: 'web', port: '80', protocol: 'HTTP' as const, endpoints: eps };
    const p = createPicker({ hashBy: '$cookie_session' }, { balancer: createBalancer(), algorithm: 'round_robin', backend, slot: { endpoints: eps }, routePath: '/' });
    assert.ok(p !== null);
    const pick = (cookie: string): string => {
      const r = Object.assign(request({ headers: ['cookie', cookie] }), { cookie: (n: string) => cookieValue(cookie, n), setAffinityCookie: () => undefined });
      return p.pick(r, undefined)?.ip ?? '';
    };
    for (let i = 0; i < 20; i++) assert.equal(pick(`SESSION=s${i}`), pick(`session=s${i}`));
    assert.ok(new Set(Array.from({ length: 40 }, (_, i) => pick(`Session=s${i}`))).size > 1, 'the value decides');
  });

  test('upstream-hash-by: $request_uri of an absolute-form target is its origin form, as nginx\'s', () => {
    const r = request({ target: '/p?q=1' });
    (r.req as { url: string }).url = 'http://app.test/p?q=1';
    assert.equal(read('$request_uri', r), '/p?q=1');
  });
});
