/** Header edits as nginx combines them: scopes, statuses, content types, add_header, variables. */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, test } from 'node:test';
import type { HeaderEdit, HeaderDirectivesPolicy } from '../../model/types.js';
import { ADD_STATUSES, compileHeaders } from './header-directives.js';
import { argOf, compileValue, cookieOf, expand } from './template.js';
import { Verdict, type PolicyExchange } from './types.js';

/** A request as policies see it: headers as a flat list, what they set upstream recorded. */
function fakeExchange(o: { headers?: string[]; uri?: string; host?: string; method?: string } = {}) {
  const raw = [...(o.headers ?? [])];
  const upstream: (string | null)[] = [];
  const ex = {
    req: { method: o.method ?? 'GET', headers: {} } as unknown as IncomingMessage,
    scheme: 'https',
    path: (o.uri ?? '/').split('?')[0] as string,
    forwardPath: o.uri ?? '/',
    requestUri: o.uri ?? '/',
    requestId: 'rid-1',
    captures: null,
    host: o.host ?? 'App.Test:8443',
    clientIp: '192.0.2.7',
    servername: undefined,
    tlsSocket: null,
    names: { namespace: 'ns', ingress: 'ing', service: 'svc', servicePort: '80', host: 'app.test' },
    header(name: string) {
      const vs: string[] = [];
      for (let i = 0; i < raw.length; i += 2) if ((raw[i] as string).toLowerCase() === name) vs.push(raw[i + 1] as string);
      return vs.length === 0 ? undefined : vs.join(', ');
    },
    setRequestHeader(name: string, value: string, onlyExisting = false) {
      let found = false;
      for (let i = raw.length - 2; i >= 0; i -= 2) if ((raw[i] as string).toLowerCase() === name.toLowerCase()) (raw.splice(i, 2), (found = true));
      if (found || !onlyExisting) raw.push(name, value);
    },
    removeRequestHeader(name: string, prefix = false) {
      for (let i = raw.length - 2; i >= 0; i -= 2) {
        const n = (raw[i] as string).toLowerCase();
        if (prefix ? n.startsWith(name) : n === name.toLowerCase()) raw.splice(i, 2);
      }
    },
    setUpstreamHeader: (name: string, value: string) => void upstream.push(name, value),
    removeUpstreamHeader: (name: string) => void upstream.push(name, null),
    setForwardPath() {},
    addResponseHeader() {},
    closeAfter() {},
    answer() {},
    resume() {},
    listenerPort: 443,
    editResponse() {},
    onDone() {},
  } satisfies PolicyExchange;
  return { ex, raw, upstream };
}

const policy = (scope: HeaderDirectivesPolicy['scope'], response: HeaderEdit[], more: Partial<HeaderDirectivesPolicy> = {}): HeaderDirectivesPolicy => ({ kind: 'headerDirectives', scope, from: scope, input: [], upstream: [], response, ...more });

/** Runs a plan's response editor over a head. */
function respond(ps: HeaderDirectivesPolicy[], status: number, head: string[] = ['content-type', 'text/html; charset=utf-8', 'server', 'portico'], proxied = true, which: 'response' | 'outer' = 'response'): string[] {
  const h = [...head];
  compileHeaders(ps)[which]?.edit(status, h, fakeExchange().ex, proxied);
  return h;
}
const names = (h: string[]): string[] => h.filter((_, i) => i % 2 === 0);

describe('response edits', () => {
  test('more_set_headers replaces every value of a name, or adds it; an empty value removes it', () => {
    const h = respond([policy('location', [{ op: 'set', name: 'X-Frame-Options', value: 'DENY' }, { op: 'set', name: 'Server', value: '' }])], 200, ['x-frame-options', 'SAMEORIGIN', 'X-Frame-Options', 'ALLOW', 'server', 'portico']);
    assert.deepEqual(h, ['X-Frame-Options', 'DENY']);
  });
  test('-s and -t restrict an edit to statuses and media types (parameters ignored, case-blind)', () => {
    const ps = [policy('location', [{ op: 'set', name: 'X-Err', value: '1', statuses: [404, 500] }, { op: 'set', name: 'X-Html', value: '1', types: ['text/html'] }])];
    assert.deepEqual(names(respond(ps, 404)).filter((n) => n.startsWith('X-')), ['X-Err', 'X-Html']);
    assert.deepEqual(names(respond(ps, 200)).filter((n) => n.startsWith('X-')), ['X-Html']);
    assert.deepEqual(names(respond(ps, 500, ['Content-Type', 'APPLICATION/JSON'])).filter((n) => n.startsWith('X-')), ['X-Err']);
  });
  test('more_clear_headers: names and prefixes, with filters', () => {
    const ps = [policy('location', [{ op: 'clear', name: 'X-Debug-*' }, { op: 'clear', name: 'Server', statuses: [500] }])];
    const head = ['x-debug-a', '1', 'X-DEBUG-B', '2', 'x-debugger', '3', 'server', 'portico'];
    assert.deepEqual(respond(ps, 200, head), ['x-debugger', '3', 'server', 'portico']);
    assert.deepEqual(respond(ps, 500, head), ['x-debugger', '3']);
  });
  test(`add_header: only ${[...ADD_STATUSES].join(', ')} unless always; it adds, never replaces; empty is not added`, () => {
    const ps = [policy('location', [{ op: 'add', name: 'X-A', value: 'a' }, { op: 'add', name: 'X-B', value: 'b', always: true }, { op: 'add', name: 'X-E', value: '' }])];
    for (const s of [200, 201, 204, 206, 301, 302, 303, 304, 307, 308]) assert.deepEqual(names(respond(ps, s, [])), ['X-A', 'X-B'], String(s));
    for (const s of [202, 300, 400, 404, 500, 503]) assert.deepEqual(names(respond(ps, s, [])), ['X-B'], String(s));
    assert.deepEqual(respond(ps, 200, ['X-A', 'pod']), ['X-A', 'pod', 'X-A', 'a', 'X-B', 'b']);
  });
  test('proxy_hide_header applies to the pods\' answers only', () => {
    const ps = [policy('location', [{ op: 'hide', name: 'X-Secret' }])];
    assert.deepEqual(respond(ps, 200, ['x-secret', '1'], true), []);
    assert.deepEqual(respond(ps, 200, ['x-secret', '1'], false), ['x-secret', '1']);
  });
  test('order: hide, then more_set/more_clear (global, server, location: the last wins), then add_header', () => {
    const ps = [
      policy('location', [{ op: 'set', name: 'X', value: 'location' }, { op: 'add', name: 'X', value: 'added' }]),
      policy('global', [{ op: 'set', name: 'X', value: 'global' }, { op: 'set', name: 'G', value: 'g' }]),
      policy('server', [{ op: 'set', name: 'X', value: 'server' }, { op: 'set', name: 'S', value: 's' }]),
    ];
    assert.deepEqual(respond(ps, 200, []), ['G', 'g', 'S', 's', 'X', 'location', 'X', 'added']);
  });
  test('add_header and proxy_hide_header come from the innermost scope that has any (nginx inheritance)', () => {
    const server = policy('server', [{ op: 'add', name: 'X-Server', value: '1' }, { op: 'hide', name: 'X-A' }]);
    assert.deepEqual(respond([server], 200, ['x-a', '1', 'x-b', '2']), ['x-b', '2', 'X-Server', '1'], 'a location without its own: the server\'s');
    const location = policy('location', [{ op: 'add', name: 'X-Location', value: '1' }, { op: 'hide', name: 'X-B' }]);
    assert.deepEqual(respond([server, location], 200, ['x-a', '1', 'x-b', '2']), ['x-a', '1', 'X-Location', '1'], 'with its own: only its own');
  });
  test('an error page\'s answer gets the server\'s and global edits, not the location\'s', () => {
    const ps = [policy('location', [{ op: 'set', name: 'X-Location', value: '1' }]), policy('server', [{ op: 'set', name: 'X-Server', value: '1' }])];
    assert.deepEqual(names(respond(ps, 404, [], true, 'outer')), ['X-Server']);
    assert.equal(compileHeaders([ps[0] as HeaderDirectivesPolicy]).outer, null);
  });
  test('a literal value (custom-headers) is never expanded', () => {
    assert.deepEqual(respond([policy('location', [{ op: 'set', name: 'X', value: '$remote_addr', literal: true }, { op: 'set', name: 'Y', value: '$remote_addr' }])], 200, []), ['X', '$remote_addr', 'Y', '192.0.2.7']);
  });
  test('no policies: nothing compiled', () => {
    assert.deepEqual(compileHeaders([]), { request: null, response: null, outer: null });
  });
});

describe('request edits', () => {
  const run = (input: HeaderEdit[], upstream: HeaderEdit[], headers: string[]) => {
    const f = fakeExchange({ headers });
    compileHeaders([policy('location', [], { input, upstream })]).request?.run(f.ex);
    return f;
  };
  test('more_set_input_headers replaces the client\'s header; -r only when it has one; -t by the request\'s type', () => {
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'new' }], [], ['x-a', '1', 'X-A', '2']).raw, ['X-A', 'new']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'new', existing: true }], [], ['x-b', '1']).raw, ['x-b', '1']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'j', types: ['application/json'] }], [], ['content-type', 'application/json; charset=utf-8']).raw, ['content-type', 'application/json; charset=utf-8', 'X-A', 'j']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'j', types: ['application/json'] }], [], ['content-type', 'text/plain']).raw, ['content-type', 'text/plain']);
  });
  test('more_clear_input_headers: names and prefixes; a later edit sees an earlier one ($http_)', () => {
    assert.deepEqual(run([{ op: 'clear', name: 'X-Internal-*' }, { op: 'clear', name: 'Cookie' }], [], ['x-internal-a', '1', 'cookie', 'c', 'x-keep', '2']).raw, ['x-keep', '2']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'a' }, { op: 'set', name: 'X-B', value: '$http_x_a-b' }], [], []).raw, ['X-A', 'a', 'X-B', 'a-b']);
  });
  test('an edit that cannot be made answers 500: never a throw, never a request sent without it', () => {
    const f = fakeExchange();
    let answered = 0;
    const ex = { ...f.ex, setUpstreamHeader: () => { throw new Error('boom'); }, answer: (status: number) => void (answered = status) };
    const v = compileHeaders([policy('location', [], { upstream: [{ op: 'set', name: 'X', value: 'y' }] })]).request?.run(ex);
    assert.equal(v, Verdict.Answered);
    assert.equal(answered, 500);
  });
  test('proxy_set_header sets the upstream header; an empty value removes it', () => {
    assert.deepEqual(run([], [{ op: 'set', name: 'X-Real-Host', value: '$host' }, { op: 'set', name: 'Accept-Encoding', value: '' }], []).upstream, ['X-Real-Host', 'app.test', 'Accept-Encoding', null]);
  });
});

describe('variables', () => {
  const value = (v: string, o: Parameters<typeof fakeExchange>[0] = {}): string | null => expand(compileValue(v), fakeExchange(o).ex);
  test('each variable reads what nginx\'s does', () => {
    const o = { uri: '/a%20b/c?Page=2&q=x%20y&empty', host: '[2001:db8::1]:8443', headers: ['User-Agent', 'curl', 'cookie', 'a=1; Session=abc', 'x-forwarded-for', '10.0.0.1'] };
    assert.equal(value('$request_uri', o), '/a%20b/c?Page=2&q=x%20y&empty');
    assert.equal(value('$uri|$document_uri', o), '/a%20b/c|/a%20b/c');
    assert.equal(value('$args|$query_string|$is_args', o), 'Page=2&q=x%20y&empty|Page=2&q=x%20y&empty|?');
    assert.equal(value('$host', o), '[2001:db8::1]');
    assert.equal(value('$host', { host: 'App.Test:8443' }), 'app.test');
    assert.equal(value('$arg_page|$arg_q|$arg_empty|$arg_none', o), '2|x%20y||');
    assert.equal(value('$http_user_agent|$HTTP_USER_AGENT|$http_x_none', o), 'curl|curl|');
    assert.equal(value('$cookie_session|$cookie_a|$cookie_b', o), 'abc|1|');
    assert.equal(value('$remote_addr|$proxy_add_x_forwarded_for', o), '192.0.2.7|10.0.0.1, 192.0.2.7');
    assert.equal(value('$scheme $request_id $request_method $server_name', o), 'https rid-1 GET app.test');
    assert.equal(value('$namespace/$ingress_name/$service_name:$service_port', o), 'ns/ing/svc:80');
    assert.equal(value('${scheme}://${host}${request_uri}', { uri: '/x' }), 'https://app.test/x');
  });
  test('an expansion with a control byte is never written', () => {
    assert.equal(value('$http_x', { headers: ['x', 'a\r\nb'] }), null);
    assert.equal(value('plain'), 'plain');
  });
  test('argOf and cookieOf on edge cases', () => {
    assert.equal(argOf('/p', 'a'), '');
    assert.equal(argOf('/p?a', 'a'), '');
    assert.equal(argOf('/p?b=1&A=2&a=3', 'a'), '2');
    assert.equal(cookieOf(undefined, 'a'), '');
    assert.equal(cookieOf('junk; a = 1 ', 'a'), '1');
  });
});
