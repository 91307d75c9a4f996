/** The snippet reader: nginx's directive syntax, strictly, and only the header directives. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseSnippet, tokenize, type Directive } from './snippet.js';

const words = (text: string): string[][] => {
  const t = tokenize(text);
  assert.ok('directives' in t, 'error' in t ? t.error : '');
  return t.directives.map((d: Directive) => [d.name, ...d.args]);
};
const tokenError = (text: string): string => {
  const t = tokenize(text);
  assert.ok('error' in t, `expected an error for ${JSON.stringify(text)}`);
  return t.error;
};

describe('tokenize: nginx directive syntax', () => {
  test('words, directives, whitespace of every kind', () => {
    assert.deepEqual(words('a b c;d;\n\te\r\n f ;'), [['a', 'b', 'c'], ['d'], ['e', 'f']]);
    assert.deepEqual(words(''), []);
    assert.deepEqual(words('  \n\t '), []);
  });
  test('double and single quotes keep spaces and semicolons; an empty quoted word is a word', () => {
    assert.deepEqual(words(`x "a b;c" 'd "e" f' "" '';`), [['x', 'a b;c', 'd "e" f', '', '']]);
    assert.deepEqual(words('x "a\nb";'), [['x', 'a\nb']], 'a quoted word may span lines (as in nginx)');
  });
  test("escapes: \\\" \\' \\\\ \\t \\r \\n are replaced, any other pair is kept as written", () => {
    assert.deepEqual(words(String.raw`x "a\"b" 'c\'d' "e\\f" "g\th" i\;j "k\$l";`), [['x', 'a"b', "c'd", 'e\\f', 'g\th', 'i\\;j', 'k\\$l']]);
    assert.deepEqual(words(String.raw`x a\ b;`), [['x', 'a\\ b']], 'an escaped space does not separate words, and is kept as written (as nginx)');
  });
  test('comments: # at the start of a word, to the end of the line', () => {
    assert.deepEqual(words('# a comment; x;\nx y; # trailing\n# last'), [['x', 'y']]);
    assert.deepEqual(words('x a#b;'), [['x', 'a#b']], 'inside a word, # is a character');
    assert.deepEqual(words('x "#not a comment";'), [['x', '#not a comment']]);
  });
  test('${var} is a word, not a block', () => {
    assert.deepEqual(words('x ${a}b;'), [['x', '${a}b']]);
  });
  test('line numbers count from 1, for the first word of each directive', () => {
    const t = tokenize('a;\n\n  b\n c;');
    assert.ok('directives' in t);
    assert.deepEqual(t.directives.map((d) => d.line), [1, 3]);
  });
  test('errors: unterminated quotes, a missing ";", an empty directive, blocks, text after a quote, control bytes', () => {
    assert.match(tokenError('x "a;'), /unterminated double-quoted string/);
    assert.match(tokenError("x 'a;"), /unterminated single-quoted string/);
    assert.match(tokenError('x a'), /directive "x" at line 1 does not end with ";"/);
    assert.match(tokenError(';'), /unexpected ";"/);
    assert.match(tokenError('x; ;'), /unexpected ";"/);
    assert.match(tokenError('location / { return 200; }'), /unexpected "\{" at line 1: blocks are not supported/);
    assert.match(tokenError('}'), /unexpected "\}"/);
    assert.match(tokenError('x a{b;'), /blocks are not supported/);
    assert.match(tokenError('x "a"b;'), /unexpected "b" after a quoted string/);
    assert.match(tokenError('x a\u0000b;'), /control character \(0x00\)/);
    assert.match(tokenError('x\u0007;'), /control character \(0x07\)/);
    assert.match(tokenError('# \u0001\nx;'), /control character in a comment/);
    assert.match(tokenError('x;'.repeat(40_000)), /longer than/);
  });
});

describe('parseSnippet: the header directives', () => {
  const edits = (text: string, where: 'location' | 'server' = 'location') => {
    const r = parseSnippet(text, where);
    assert.ok(!('error' in r), 'error' in r ? r.error : '');
    return r;
  };
  const error = (text: string, where: 'location' | 'server' = 'location'): string => {
    const r = parseSnippet(text, where);
    assert.ok('error' in r, `expected an error for ${JSON.stringify(text)}`);
    return r.error;
  };

  test('more_set_headers: several headers; "Name:" and "Name" clear; -s and -t anywhere, merged', () => {
    const r = edits(`more_set_headers "A: 1" 'B:2' "C:" D -s 404 -t 'text/html TEXT/Plain' -s "500 503" "E: $host";`);
    assert.deepEqual(r.response, [
      { op: 'set', name: 'A', value: '1', statuses: [404, 500, 503], types: ['text/html', 'text/plain'] },
      { op: 'set', name: 'B', value: '2', statuses: [404, 500, 503], types: ['text/html', 'text/plain'] },
      { op: 'clear', name: 'C', statuses: [404, 500, 503], types: ['text/html', 'text/plain'] },
      { op: 'clear', name: 'D', statuses: [404, 500, 503], types: ['text/html', 'text/plain'] },
      { op: 'set', name: 'E', value: '$host', statuses: [404, 500, 503], types: ['text/html', 'text/plain'] },
    ]);
    assert.deepEqual([r.input, r.upstream, r.notes], [[], [], []]);
  });
  test('more_clear_headers: names and prefixes', () => {
    assert.deepEqual(edits('more_clear_headers -s 200 Server "X-Hidden-*";').response, [
      { op: 'clear', name: 'Server', statuses: [200] },
      { op: 'clear', name: 'X-Hidden-*', statuses: [200] },
    ]);
  });
  test('more_set_input_headers (-r, -t) and more_clear_input_headers (-t)', () => {
    const r = edits(`more_set_input_headers -r "X-A: $http_x_b" -t application/json 'X-C: c';\nmore_clear_input_headers -t text/plain Cookie 'X-Internal-*';`);
    assert.deepEqual(r.input, [
      { op: 'set', name: 'X-A', value: '$http_x_b', types: ['application/json'], existing: true },
      { op: 'set', name: 'X-C', value: 'c', types: ['application/json'], existing: true },
      { op: 'clear', name: 'Cookie', types: ['text/plain'] },
      { op: 'clear', name: 'X-Internal-*', types: ['text/plain'] },
    ]);
  });
  test('add_header with and without always; proxy_set_header; proxy_hide_header', () => {
    const r = edits('add_header X-A "1";\nadd_header X-B 2 always;\nproxy_set_header X-Real-Host $host;\nproxy_hide_header X-Powered-By;');
    assert.deepEqual(r.response, [
      { op: 'add', name: 'X-A', value: '1' },
      { op: 'add', name: 'X-B', value: '2', always: true },
      { op: 'hide', name: 'X-Powered-By' },
    ]);
    assert.deepEqual(r.upstream, [{ op: 'set', name: 'X-Real-Host', value: '$host' }]);
  });
  test('every supported variable, with $name and ${name}', () => {
    const vars = ['request_uri', 'uri', 'document_uri', 'args', 'query_string', 'is_args', 'request_method', 'remote_addr', 'proxy_add_x_forwarded_for', 'host', 'scheme', 'request_id', 'server_name', 'namespace', 'ingress_name', 'service_name', 'service_port', 'http_user_agent', 'arg_page', 'cookie_session'];
    for (const v of vars) {
      edits(`more_set_headers "X: $${v}";`);
      edits(`more_set_headers "X: a\${${v}}b";`);
    }
  });
  test('a server-snippet\'s proxy_set_header is accepted with a note (nginx never applies it to ingress-nginx\'s locations)', () => {
    const r = edits('proxy_set_header X-A b;', 'server');
    assert.deepEqual(r.upstream, []);
    assert.match(r.notes[0] ?? '', /has no effect/);
  });
  test('headers Portico manages are left alone, with a note', () => {
    const r = edits('proxy_set_header Connection "";\nmore_set_headers "Content-Length: 0" "Transfer-Encoding: chunked";\nmore_clear_input_headers Upgrade;');
    assert.deepEqual([r.input, r.upstream, r.response], [[], [], []]);
    assert.equal(r.notes.length, 4);
  });
  test('any other directive is refused, naming it and its line', () => {
    for (const d of ['deny all', 'allow 10.0.0.0/8', 'return 403', 'rewrite ^ /x break', 'set $a b', 'proxy_pass http://evil', 'lua_code_cache off', 'include /etc/passwd', 'more_set_headers_x "A: b"', 'Add_Header X y']) {
      assert.match(error(`more_set_headers "Ok: 1";\n${d};`), new RegExp(`^directive "${d.split(' ')[0]}" at line 2: not supported`));
      const r = parseSnippet(`${d};`, 'location');
      assert.ok('error' in r && r.unsupported, d);
    }
  });
  test('bad arguments are refused', () => {
    assert.match(error('more_set_headers;'), /names no header/);
    assert.match(error('more_set_headers -s;'), /option -s needs a value/);
    assert.match(error('more_set_headers -r "A: b";'), /option -r is not valid here/);
    assert.match(error('more_set_input_headers -s 200 "A: b";'), /option -s is not valid here/);
    assert.match(error('more_clear_input_headers -r A;'), /option -r is not valid here/);
    assert.match(error('more_set_headers -s abc "A: b";'), /"abc" is not a status code/);
    assert.match(error('more_set_headers -s 600 "A: b";'), /"600" is not a status code/);
    assert.match(error('more_set_headers -t html "A: b";'), /"html" is not a content type/);
    assert.match(error('more_set_headers "A B: c";'), /"A B" is not a valid header name/);
    assert.match(error('more_set_headers ": c";'), /"" is not a valid header name/);
    assert.match(error('more_set_headers "$x: c";'), /variables are not allowed in header names/);
    assert.match(error('more_set_headers "A: $nope";'), /variable \$nope is not supported/);
    // the one grammar's messages (model/nginx-vars.ts)
    assert.match(error('more_set_headers "A: $";'), /"\$" must start a variable name/);
    assert.match(error('more_set_headers "A: ${x";'), /unclosed "\$\{"/);
    assert.match(error('more_set_headers "A: ${}";'), /"\$" must start a variable name/);
    assert.match(error('more_clear_headers "*";'), /"\*" is not a valid header name/);
    assert.match(error('add_header A;'), /expected: add_header Name value \[always\]/);
    assert.match(error('add_header A b sometimes;'), /expected: add_header/);
    assert.match(error('proxy_set_header A;'), /expected: proxy_set_header Name value/);
    assert.match(error('proxy_hide_header A B;'), /expected: proxy_hide_header Name/);
    assert.match(error('proxy_set_header "A\\r\\nInjected: 1" b;'), /is not a valid header name/);
    assert.match(error('more_set_headers "A: b\\r\\nSet-Cookie: x=1";'), /control character/);
    assert.match(error('add_header A "b\\n";'), /control character/);
  });
  test('malicious input: never a throw, always a verdict', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (s) => {
        const r = parseSnippet(s, 'location');
        assert.ok('error' in r || Array.isArray(r.response));
      }),
      { numRuns: 2000, seed: 20261215 },
    );
    const alphabet = fc.constantFrom('more_set_headers', 'add_header', ' ', '"', "'", '\\', ';', '#', '\n', '$', '${', '}', '{', 'A: b', '-s', '-t', '200', 'always', 'X-A');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 40 }), (parts) => {
        const r = parseSnippet(parts.join(''), 'server');
        if ('error' in r) return;
        // whatever was accepted is well formed
        for (const e of [...r.input, ...r.upstream, ...r.response]) {
          assert.match(e.name, /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+\*?$/);
          assert.ok(!/[\r\n\0]/.test(e.value ?? ''));
        }
      }),
      { numRuns: 3000, seed: 20261215 },
    );
  });
});
