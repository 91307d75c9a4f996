/** Header edits as nginx combines them: scopes, statuses, content types, add_header, variables. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { HeaderEdit, HeaderDirectivesPolicy } from '../../model/types.js';
import { ADD_STATUSES, compileHeaders } from './header-directives.js';
import { compileValue, expand } from './template.js';
import { fakeExchange, type FakeExchange, type FakeRequest } from '../../testing/exchange.js';
import { Verdict } from './types.js';

/** A request to App.Test:8443 over HTTPS, matched by a route of ns/ing. */
const fake = (o: FakeRequest = {}): FakeExchange =>
  fakeExchange({ scheme: 'https', host: 'App.Test:8443', clientIp: '192.0.2.7', requestId: 'rid-1', names: { namespace: 'ns', ingress: 'ing', service: 'svc', servicePort: '80', host: 'app.test' }, ...o });

const policy = (scope: HeaderDirectivesPolicy['scope'], response: HeaderEdit[], more: Partial<HeaderDirectivesPolicy> = {}): HeaderDirectivesPolicy => ({ kind: 'headerDirectives', scope, from: scope, input: [], upstream: [], response, ...more });

/** Runs a plan's response editor over a head. */
function respond(ps: HeaderDirectivesPolicy[], status: number, head: string[] = ['content-type', 'text/html; charset=utf-8', 'server', 'portico'], proxied = true, which: 'response' | 'outer' = 'response'): string[] {
  const h = [...head];
  compileHeaders(ps)[which]?.edit(status, h, fake(), proxied);
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
    const f = fake({ headers });
    compileHeaders([policy('location', [], { input, upstream })]).request?.run(f);
    return f;
  };
  test('more_set_input_headers replaces the client\'s header; -r only when it has one; -t by the request\'s type', () => {
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'new' }], [], ['x-a', '1', 'X-A', '2']).headers, ['X-A', 'new']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'new', existing: true }], [], ['x-b', '1']).headers, ['x-b', '1']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'j', types: ['application/json'] }], [], ['content-type', 'application/json; charset=utf-8']).headers, ['content-type', 'application/json; charset=utf-8', 'X-A', 'j']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'j', types: ['application/json'] }], [], ['content-type', 'text/plain']).headers, ['content-type', 'text/plain']);
  });
  test('more_clear_input_headers: names and prefixes; a later edit sees an earlier one ($http_)', () => {
    assert.deepEqual(run([{ op: 'clear', name: 'X-Internal-*' }, { op: 'clear', name: 'Cookie' }], [], ['x-internal-a', '1', 'cookie', 'c', 'x-keep', '2']).headers, ['x-keep', '2']);
    assert.deepEqual(run([{ op: 'set', name: 'X-A', value: 'a' }, { op: 'set', name: 'X-B', value: '$http_x_a-b' }], [], []).headers, ['X-A', 'a', 'X-B', 'a-b']);
  });
  test('an edit that cannot be made answers 500: never a throw, never a request sent without it', () => {
    const f = fake();
    let answered = 0;
    const ex = { ...f, setUpstreamHeader: () => { throw new Error('boom'); }, answer: (status: number) => void (answered = status) };
    const v = compileHeaders([policy('location', [], { upstream: [{ op: 'set', name: 'X', value: 'y' }] })]).request?.run(ex);
    assert.equal(v, Verdict.Answered);
    assert.equal(answered, 500);
  });
  test('proxy_set_header sets the upstream header; an empty value removes it', () => {
    assert.deepEqual(run([], [{ op: 'set', name: 'X-Real-Host', value: '$host' }, { op: 'set', name: 'Accept-Encoding', value: '' }], []).upstream, ['X-Real-Host', 'app.test', 'Accept-Encoding', null]);
  });
});

describe('variables', () => {
  const value = (v: string, o: FakeRequest = {}): string | null => expand(compileValue(v), fake(o));
  test('a value expands its variables (what each reads: proxy/nginx-vars.test.ts)', () => {
    assert.equal(value('${scheme}://${host}${request_uri} $server_name $http_user_agent', { target: '/x?a=1', headers: ['User-Agent', 'curl'] }), 'https://app.test/x?a=1 app.test curl');
  });
  test('an expansion with a control byte is never written', () => {
    assert.equal(value('$http_x', { headers: ['x', 'a\r\nb'] }), null);
    assert.equal(value('plain'), 'plain');
  });
});
