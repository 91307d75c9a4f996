/** nginx variables: one grammar (nginx's), and what each place reads. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate } from './headers.js';
import { AUTH_VARIABLES, HASH_VARIABLES, HEADER_VARIABLES, parseHashBy, parseVars, type VarContext } from './nginx-vars.js';

const CONTEXTS: readonly (readonly [string, VarContext])[] = [
  ['auth', AUTH_VARIABLES],
  ['header values', HEADER_VARIABLES],
  ['upstream-hash-by', HASH_VARIABLES],
];

const errorOf = (value: string, ctx: VarContext): string => {
  const t = parseVars(value, ctx);
  assert.ok('error' in t, value);
  return t.error;
};

describe('the grammar, the same in every place', () => {
  test('text and variables, as nginx splits them: the longest name, ${name} braced', () => {
    assert.deepEqual(parseVars('http://$host/auth?rd=$escaped_request_uri&x=${http_x_team}y', AUTH_VARIABLES), {
      parts: [{ text: 'http://' }, { var: 'host' }, { text: '/auth?rd=' }, { var: 'escaped_request_uri' }, { text: '&x=' }, { var: 'http', name: 'x-team' }, { text: 'y' }],
    });
    assert.deepEqual(parseVars('$scheme://$http_host$request_uri', AUTH_VARIABLES), { parts: [{ var: 'scheme' }, { text: '://' }, { var: 'http', name: 'host' }, { var: 'request_uri' }] });
    assert.deepEqual(parseVars('plain', AUTH_VARIABLES), { parts: [{ text: 'plain' }] });
    assert.deepEqual(parseVars('', AUTH_VARIABLES), { parts: [] });
  });

  test('names are case-insensitive (nginx lower-cases them); $http_ reads _ as -, $arg_ and $cookie_ names are lower-case', () => {
    for (const [, ctx] of CONTEXTS) {
      assert.deepEqual(parseVars('$HOST${Scheme}$HTTP_X_Team', ctx), { parts: [{ var: 'host' }, { var: 'scheme' }, { var: 'http', name: 'x-team' }] });
      assert.deepEqual(parseVars('$arg_Team-$cookie__OAuth2_proxy', ctx), { parts: [{ var: 'arg', name: 'team' }, { text: '-' }, { var: 'cookie', name: '_oauth2_proxy' }] });
    }
  });

  test('$1-$9 is one digit, a capture ($10 is $1 then "0"); ${1} is one too', () => {
    assert.deepEqual(parseVars('$1$10${2}/$9', HASH_VARIABLES), {
      parts: [{ var: 'capture', index: 1 }, { var: 'capture', index: 1 }, { text: '0' }, { var: 'capture', index: 2 }, { text: '/' }, { var: 'capture', index: 9 }],
    });
  });

  test('a lone $, a $ before no name, ${} and an unclosed ${ are errors everywhere (nginx has no escape for $)', () => {
    for (const [name, ctx] of CONTEXTS) {
      for (const v of ['$', 'a$-b', '${}', 'x $ y']) assert.equal(errorOf(v, ctx), '"$" must start a variable name', `${name}: ${v}`);
      for (const v of ['${host', '${host-x}']) assert.match(errorOf(v, ctx), /^unclosed "\$\{" at \d+$/, `${name}: ${v}`);
    }
  });
});

describe('what each place reads, and its message for the rest', () => {
  test('auth-url, auth-signin, auth-cache-key', () => {
    for (const v of ['$host', '$scheme', '$request_uri', '$escaped_request_uri', '$request_method', '$remote_addr', '$remote_user', '$http_x', '$arg_x', '$cookie_x']) assert.ok('parts' in parseVars(v, AUTH_VARIABLES), v);
    assert.equal(
      errorOf('http://$server_name/', AUTH_VARIABLES),
      '$server_name is not a variable Portico reads (it reads $host, $scheme, $request_uri, $escaped_request_uri, $request_method, $remote_addr, $remote_user, $http_<header>, $arg_<name>, $cookie_<name>)',
    );
    for (const [v, name] of [['http://a/$hostx', 'hostx'], ['$http_', 'http_'], ['$uri', 'uri'], ['$1', '1'], ['$Remote_Port', 'Remote_Port']]) assert.match(errorOf(v as string, AUTH_VARIABLES), new RegExp(`^\\$${name} is not a variable Portico reads`));
  });

  test('header values', () => {
    for (const v of ['$request_uri', '$uri', '$document_uri', '$args', '$query_string', '$is_args', '$request_method', '$remote_addr', '$proxy_add_x_forwarded_for', '$host', '$scheme', '$request_id', '$server_name', '$namespace', '$ingress_name', '$service_name', '$service_port', '$http_x', '$arg_x', '$cookie_x']) {
      assert.ok('parts' in parseTemplate(v), v);
    }
    assert.equal(
      errorOf('$upstream_addr', HEADER_VARIABLES),
      'variable $upstream_addr is not supported (supported: $request_uri, $uri, $document_uri, $args, $query_string, $is_args, $request_method, $remote_addr, $proxy_add_x_forwarded_for, $host, $scheme, $request_id, $server_name, $namespace, $ingress_name, $service_name, $service_port, $http_<name>, $arg_<name>, $cookie_<name>)',
    );
    for (const v of ['$remote_user', '$escaped_request_uri', '$1']) assert.match(errorOf(v, HEADER_VARIABLES), /^variable \$\S+ is not supported/);
    assert.deepEqual(parseTemplate('a\r\nb'), { error: 'control character in a header value' });
    assert.deepEqual(parseTemplate('x'.repeat(8193)), { error: 'value longer than 8192 characters' });
  });

  test('upstream-hash-by', () => {
    assert.deepEqual(parseHashBy('$arg_user ${http_x_tenant}-$cookie_Session$host$1'), {
      parts: [{ var: 'arg', name: 'user' }, { text: ' ' }, { var: 'http', name: 'x-tenant' }, { text: '-' }, { var: 'cookie', name: 'session' }, { var: 'host' }, { var: 'capture', index: 1 }],
    });
    for (const v of ['$request_uri', '$uri', '$args', '$query_string', '$remote_addr', '$host', '$scheme', '$request_method']) assert.ok('parts' in parseHashBy(v), v);
    assert.deepEqual(parseHashBy('$server_addr'), {
      error: '$server_addr is not a variable Portico can hash by (use $request_uri, $uri, $args, $remote_addr, $host, $scheme, $request_method, $arg_<name>, $http_<name>, $cookie_<name> or $1-$9)',
    });
    assert.deepEqual(parseHashBy(''), { error: 'the expression is empty' });
    assert.deepEqual(parseHashBy('request_uri'), { error: 'the expression names no variable, so every request would go to one endpoint' });
    // ingress-nginx's Lua reads a lone $ as text; Portico reads every value with nginx's grammar
    assert.deepEqual(parseHashBy('$request_uri$'), { error: '"$" must start a variable name' });
  });
});
