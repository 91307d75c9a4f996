import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { Http1Pool } from './http1-pool.js';
import { readResponseHead, requestHead, type UpstreamHandler, type UpstreamRequest } from './upstream.js';

const IP = '127.0.71.1';

/** A scripted upstream: `respond` gets each request head (and body bytes so far) and its socket. */
async function upstream(respond: (head: string, socket: Socket, body: string) => void): Promise<{ server: Server; port: number; connections: () => number; requests: string[] }> {
  let connections = 0;
  const requests: string[] = [];
  const server = createServer((socket) => {
    connections++;
    let buf = '';
    socket.on('error', () => {});
    socket.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buf.slice(0, end);
        const cl = /content-length: (\d+)/i.exec(head);
        const chunked = /transfer-encoding: chunked/i.test(head);
        let bodyEnd = end + 4;
        if (cl) bodyEnd += Number(cl[1]);
        else if (chunked) {
          const last = buf.indexOf('0\r\n\r\n', end + 4);
          if (last === -1) return;
          bodyEnd = last + 5;
        }
        if (buf.length < bodyEnd) return;
        const body = buf.slice(end + 4, bodyEnd);
        buf = buf.slice(bodyEnd);
        requests.push(head + '\r\n\r\n' + body);
        respond(head, socket, body);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, IP, r));
  return { server, port: (server.address() as { port: number }).port, connections: () => connections, requests };
}

interface Result {
  status: number;
  headers: string[];
  body: string;
  trailers: string[] | null;
  error: (Error & { code?: string }) | null;
}

/** Sends one request; resolves with what the handler saw. `pauseFirst` exercises back-pressure. */
function send(pool: Http1Pool, req: Partial<UpstreamRequest> = {}, opts: { pauseFirst?: boolean } = {}): Promise<Result> {
  return new Promise((resolve) => {
    const r: Result = { status: 0, headers: [], body: '', trailers: null, error: null };
    let resume: () => void = () => {};
    let paused = false;
    const h: UpstreamHandler = {
      onConnect: () => {},
      onHeaders: (status, raw, res) => {
        r.status = status;
        r.headers = raw.map(String);
        resume = res;
        return true;
      },
      onData: (chunk) => {
        r.body += chunk.toString('latin1');
        if (opts.pauseFirst && !paused) {
          paused = true;
          setTimeout(resume, 20);
          return false;
        }
        return true;
      },
      onComplete: (t) => {
        r.trailers = t;
        if (paused) setTimeout(() => resolve(r), 40);
        else resolve(r);
      },
      onError: (err) => {
        r.error = err;
        resolve(r);
      },
    };
    pool.dispatch({ path: '/p', method: 'GET', headers: ['host', 'a.test'], body: null, headersTimeout: 2000, bodyTimeout: 2000, ...req }, h);
  });
}

/** Writes `text` one byte per write with a tick between, to split every boundary. */
async function dribble(socket: Socket, text: string): Promise<void> {
  for (const ch of text) {
    socket.write(ch, 'latin1');
    await new Promise((r) => setImmediate(r));
  }
}

const pool = (port: number, idleTimeout = 10_000): Http1Pool => new Http1Pool({ host: IP, port, tls: null, connectTimeout: 1000, idleTimeout });

/** Runs `body` against a scripted upstream and a pool on it; both are closed even when an assertion fails. */
async function scripted(respond: Parameters<typeof upstream>[0], body: (p: Http1Pool, u: Awaited<ReturnType<typeof upstream>>) => Promise<void>): Promise<void> {
  const u = await upstream(respond);
  const p = pool(u.port);
  try {
    await body(p, u);
  } finally {
    await p.close();
    u.server.close();
  }
}

test('a Content-Length response split at every byte is read whole, and the connection is reused', async () => {
  await scripted((_h, s) => void dribble(s, 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello'), async (p, u) => {
    const a = await send(p);
    assert.deepEqual([a.status, a.headers, a.body, a.error], [200, ['Content-Length', '5', 'X-A', '1'], 'hello', null]);
    const b = await send(p);
    assert.equal(b.body, 'hello');
    assert.equal(u.connections(), 1);
    assert.equal(p.idleCount(), 1);
  });
});

test('a chunked response with extensions and trailers, split at every byte', async () => {
  await scripted((_h, s) => void dribble(s, 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n1\r\n!\r\n0\r\ngrpc-status: 0\r\nx-t: a\r\n\r\n'), async (p, u) => {
    const a = await send(p);
    assert.deepEqual([a.status, a.body, a.trailers, a.error], [200, 'hello!', ['grpc-status', '0', 'x-t', 'a'], null]);
    assert.equal((await send(p)).body, 'hello!');
    assert.equal(u.connections(), 1);
  });
});

test('a body delimited by close completes at close; the connection is not reused', async () => {
  await scripted((_h, s) => s.end('HTTP/1.1 200 OK\r\n\r\nuntil close'), async (p, u) => {
    assert.equal((await send(p)).body, 'until close');
    assert.equal((await send(p)).body, 'until close');
    assert.equal(u.connections(), 2);
  });
});

test('1xx responses are skipped; HEAD, 204 and 304 have no body and keep the connection', async () => {
  await scripted((head, s) => {
    if (head.startsWith('HEAD')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n');
    else if (head.includes('/204')) s.write('HTTP/1.1 204 No Content\r\n\r\n');
    else if (head.includes('/304')) s.write('HTTP/1.1 304 Not Modified\r\nContent-Length: 9\r\n\r\n');
    else s.write('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok');
  }, async (p, u) => {
    const a = await send(p, { method: 'POST' });
    assert.deepEqual([a.status, a.body], [201, 'ok']);
    const h = await send(p, { method: 'HEAD' });
    assert.deepEqual([h.status, h.body, h.headers], [200, '', ['Content-Length', '5']]);
    assert.equal((await send(p, { path: '/204' })).status, 204);
    assert.deepEqual([(await send(p, { path: '/304' })).status, u.connections()], [304, 1]);
  });
});

test('invalid responses are errors with the protocol code, and the connection is dropped', async () => {
  const cases: Record<string, string> = {
    '/cl': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello',
    '/cl-sign': 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello',
    '/fold': 'HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\nContent-Length: 0\r\n\r\n',
    '/space': 'HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n',
    '/status': 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n',
    '/code': 'HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n',
    '/chunk': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
    '/crlf': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXY',
    '/101': 'HTTP/1.1 101 Switching Protocols\r\n\r\n',
    '/big': `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(70_000)}\r\n\r\n`,
    '/trailers': `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n${'x-t: 1234567890\r\n'.repeat(5000)}\r\n`,
  };
  await scripted((head, s) => s.write(cases[head.split(' ')[1] as string] as string), async (p, u) => {
    for (const path of Object.keys(cases)) {
      const r = await send(p, { path });
      assert.equal(r.error?.code, 'PORTICO_UPSTREAM_INVALID', path);
    }
    assert.equal(u.connections(), Object.keys(cases).length);
  });
});

test('Transfer-Encoding overrides Content-Length (RFC 9112 6.1) and ends reuse', async () => {
  await scripted((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'), async (p, u) => {
    assert.equal((await send(p)).body, 'abc');
    await send(p);
    assert.equal(u.connections(), 2);
  });
});

test('Connection: close, HTTP/1.0, extra bytes and a short Keep-Alive timeout end reuse', async () => {
  const replies = ['HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\na', 'HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\na', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1', 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1\r\nContent-Length: 1\r\n\r\na'];
  let i = 0;
  await scripted((_h, s) => s.write(replies[i++ % replies.length] as string), async (p, u) => {
    for (let n = 0; n < replies.length; n++) assert.equal((await send(p)).body, 'a');
    assert.equal(p.idleCount(), 0);
    assert.equal(u.connections(), replies.length);
  });
});

test('timeouts: no head, and a stalled body', async () => {
  await scripted((head, s) => {
    if (head.includes('/body')) s.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc');
  }, async (p) => {
    assert.equal((await send(p, { headersTimeout: 100 })).error?.code, 'PORTICO_HEADERS_TIMEOUT');
    const b = await send(p, { path: '/body', bodyTimeout: 100 });
    assert.deepEqual([b.error?.code, b.body], ['PORTICO_BODY_TIMEOUT', 'abc']);
  });
});

test('connection refused, and an idle connection the upstream closed, surface as errors', async () => {
  const gone = await upstream(() => {});
  const port = gone.port;
  await new Promise((r) => gone.server.close(r));
  assert.equal((await send(pool(port))).error?.code, 'ECONNREFUSED');
  // the body of a request that never reached the upstream is left unread, for a retry elsewhere
  const body = new PassThrough();
  body.end('payload');
  assert.equal((await send(pool(port), { method: 'POST', headers: ['content-length', '7'], body })).error?.code, 'ECONNREFUSED');
  assert.equal(body.readableDidRead, false);

  const u = await upstream((_h, s) => s.end('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na'));
  const p = pool(u.port);
  // the upstream closes after answering, but says nothing: the socket is pooled, then found closed
  assert.equal((await send(p)).body, 'a');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(p.idleCount(), 0, 'a closed idle socket leaves the pool');
  await p.close();
  u.server.close();

  const s2 = await upstream((_h, s) => s.destroy());
  const r = await send(pool(s2.port));
  assert.match(r.error?.code ?? '', /^(PORTICO_UPSTREAM_CLOSED|ECONNRESET)$/);
  s2.server.close();
});

test('request bodies: a declared length is sent as is, an unknown length is chunk-encoded', async () => {
  await scripted((_h, s, body) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`), async (p, u) => {
    const fixed = new PassThrough();
    fixed.end('0123456789');
    const a = await send(p, { method: 'POST', headers: ['host', 'a', 'content-length', '10'], body: fixed });
    assert.equal(a.body, '0123456789');
    const streamed = new PassThrough();
    const pending = send(p, { method: 'POST', headers: ['host', 'a'], body: streamed });
    streamed.write('abc');
    setTimeout(() => streamed.end('defgh'), 20);
    const b = await pending;
    assert.equal(b.body, '3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n');
    assert.match(u.requests[1] as string, /^POST \/p HTTP\/1\.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n/);
    assert.equal(u.connections(), 1);
  });
});

test('a header value with CR, LF or NUL is never serialised', () => {
  assert.equal(requestHead('GET', '/', ['a', 'ok', 'b', 'x\r\nInjected: 1', 'c', 'nul\0'], false), 'GET / HTTP/1.1\r\na: ok\r\n\r\n');
});

test('back-pressure: a paused response resumes, and its connection is reused only after the resume', async () => {
  await scripted((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nabcd'), async (p, u) => {
    const r = await send(p, {}, { pauseFirst: true });
    assert.equal(r.body, 'abcd');
    assert.equal(p.idleCount(), 1);
    assert.equal((await send(p)).body, 'abcd');
    assert.equal(u.connections(), 1);
  });
});

test('close() waits for the request in flight, then drops the connection', async () => {
  const u = await upstream((_h, s) => setTimeout(() => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na'), 100));
  const p = pool(u.port);
  const r = send(p);
  await new Promise((res) => setTimeout(res, 20));
  let closed = false;
  const c = p.close().then(() => (closed = true));
  await new Promise((res) => setTimeout(res, 20));
  assert.equal(closed, false);
  assert.equal((await r).body, 'a');
  await c;
  assert.equal(p.idleCount(), 0);
  u.server.close();
});

test('abort() ends the request with an abort error and drops the connection', async () => {
  await scripted(() => {}, async (p) => {
    const err = await new Promise<Error & { code?: string }>((resolve) => {
      p.dispatch({ path: '/', method: 'GET', headers: [], body: null, headersTimeout: 5000, bodyTimeout: 5000 }, {
        onConnect: (abort) => setTimeout(abort, 30),
        onHeaders: () => true,
        onData: () => true,
        onComplete: () => resolve(new Error('completed')),
        onError: resolve,
      });
    });
    assert.equal(err.code, 'PORTICO_UPSTREAM_ABORTED');
  });
});

test('a handler that aborts while taking the last body chunk gets one error and no completion', { timeout: 5000 }, async () => {
  await scripted((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'), async (p) => {
    const seen: string[] = [];
    await new Promise<void>((resolve) => {
      let abort: (err?: Error) => void = () => {};
      p.dispatch({ path: '/', method: 'GET', headers: [], body: null, headersTimeout: 1000, bodyTimeout: 1000 }, {
        onConnect: (a) => (abort = a),
        onHeaders: () => true,
        onData: () => {
          abort();
          return true;
        },
        onComplete: () => seen.push('complete'),
        onError: (err) => {
          seen.push((err as Error & { code: string }).code);
          setTimeout(resolve, 20);
        },
      });
    });
    assert.deepEqual(seen, ['PORTICO_UPSTREAM_ABORTED']);
    assert.equal(p.idleCount(), 0);
  });
});

test('a handler that throws fails its request, not the process', { timeout: 5000 }, async () => {
  await scripted((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc'), async (p) => {
    const err = await new Promise<Error>((resolve) => {
      p.dispatch({ path: '/', method: 'GET', headers: [], body: null, headersTimeout: 1000, bodyTimeout: 1000 }, {
        onConnect: () => {},
        onHeaders: () => {
          throw new Error('handler bug');
        },
        onData: () => true,
        onComplete: () => resolve(new Error('completed')),
        onError: resolve,
      });
    });
    assert.equal(err.message, 'handler bug');
  });
});

test('response heads are read strictly: a table of heads and what they mean', async () => {
  const ws = new Set(['websocket']);
  const cases: [string, boolean, ReadonlySet<string> | null, string | Partial<ReturnType<typeof readResponseHead> & object>][] = [
    ['HTTP/1.1 200 OK\r\nContent-Length: 5', false, null, { status: 200, body: 'length', length: 5, keepAlive: true }],
    ['HTTP/1.0 200 OK\r\nContent-Length: 5', false, null, { keepAlive: false }],
    ['HTTP/1.1 200 OK\r\nConnection: keep-alive, close', false, null, { body: 'close', keepAlive: false }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked', false, null, { body: 'chunked', keepAlive: true }],
    ['HTTP/1.1 200 OK\r\nContent-Length: 40\r\nTransfer-Encoding: chunked', false, null, { body: 'chunked', keepAlive: false, raw: ['Transfer-Encoding', 'chunked'] }],
    ['HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip', false, null, { body: 'close', keepAlive: false }],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5', true, null, { body: 'length', length: 0 }],
    ['HTTP/1.1 304 Not Modified\r\nContent-Length: 5', false, null, { length: 0 }],
    ['HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5', false, null, { keepAliveMs: 5000 }],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket', false, ws, { status: 101 }],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c', false, ws, '101 Switching Protocols to a protocol the client did not ask for'],
    ['HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket', false, null, 'unexpected 101 Switching Protocols'],
    ['HTTP/2 200', false, null, 'bad status line'],
    ['HTTP/1.1 20 OK', false, null, 'bad status code'],
    ['HTTP/1.1 200 OK\r\nX-A: a\nX-B: b', false, null, 'control character in the response head'],
    ['HTTP/1.1 200 OK\r\nX-A: a\r\n b', false, null, 'obsolete line folding'],
    ['HTTP/1.1 200 OK\r\nX-A : a', false, null, 'whitespace before colon'],
    ['HTTP/1.1 200 OK\r\nX(A): a', false, null, 'bad header name'],
    ['HTTP/1.1 200 OK\r\nContent-Length: +5', false, null, 'bad content-length'],
    ['HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6', false, null, 'conflicting content-length'],
  ];
  for (const [head, headOnly, upgrade, want] of cases) {
    const got = readResponseHead(head, headOnly, upgrade);
    if (typeof want === 'string') assert.equal(got, want, head);
    else {
      assert.ok(typeof got !== 'string', `${head}: ${String(got)}`);
      for (const [k, v] of Object.entries(want)) assert.deepEqual((got as unknown as Record<string, unknown>)[k], v, `${head}: ${k}`);
    }
  }
});

// --- the first, line-by-line version of readResponseHead: the specification the indexed one is held to

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
function badHeadByteRef(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32) {
      if (c === 127) return true;
    } else if (c === 13 && text.charCodeAt(i + 1) === 10) {
      i++;
    } else if (c !== 9) {
      return true;
    }
  }
  return false;
}
function readResponseHeadByLines(text: string, headOnly: boolean, upgrade: ReadonlySet<string> | null): ReturnType<typeof readResponseHead> {
  // HTTP/1.x NNN[ reason]
  if (!(text.startsWith('HTTP/1.1 ') || text.startsWith('HTTP/1.0 '))) return 'bad status line';
  const status = Number(text.slice(9, 12));
  const after = text.charCodeAt(12);
  if (!(status >= 100 && status <= 999) || !(Number.isNaN(after) || after === 32 || after === 13)) return 'bad status code';
  // a bare CR or LF, NUL or another control byte in the head is not HTTP: never forwarded (RFC 9112 2.2)
  if (badHeadByteRef(text)) return 'control character in the response head';
  let keepAlive = text.charCodeAt(7) !== 48; // HTTP/1.0 ends the connection
  const raw: string[] = [];
  let length = -1;
  let chunked = false;
  let te = false;
  let upgradeTo = '';
  let keepAliveMs = -1;
  let lineStart = text.indexOf('\r\n');
  while (lineStart !== -1) {
    const from = lineStart + 2;
    const next = text.indexOf('\r\n', from);
    const line = next === -1 ? text.slice(from) : text.slice(from, next);
    lineStart = next;
    const colon = line.indexOf(':');
    const c0 = line.charCodeAt(0);
    if (colon <= 0 || c0 === 32 || c0 === 9) return c0 === 32 || c0 === 9 ? 'obsolete line folding' : 'bad header line';
    const name = line.slice(0, colon);
    const last = name.charCodeAt(name.length - 1);
    if (last === 32 || last === 9) return 'whitespace before colon';
    if (!TOKEN.test(name)) return 'bad header name';
    const value = line.slice(colon + 1).trim();
    raw.push(name, value);
    switch (name.length) {
      case 14:
        if (name.toLowerCase() === 'content-length') {
          if (!/^\d{1,15}$/.test(value)) return 'bad content-length';
          const n = Number(value);
          if (length !== -1 && length !== n) return 'conflicting content-length';
          length = n;
        }
        break;
      case 17:
        if (name.toLowerCase() === 'transfer-encoding') {
          te = true;
          chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
        }
        break;
      case 10: {
        const lower = name.toLowerCase();
        if (lower === 'connection') {
          if (/(^|,)\s*close\s*(,|$)/i.test(value)) keepAlive = false;
        } else if (lower === 'keep-alive') {
          const m = /timeout\s*=\s*(\d+)/i.exec(value);
          if (m) keepAliveMs = Number(m[1]) * 1000;
        }
        break;
      }
      case 7:
        if (name.toLowerCase() === 'upgrade') upgradeTo = value;
        break;
    }
  }
  if (status === 101) {
    // a tunnel only for the protocol the client asked for (RFC 9110 7.8, 15.2.2); anything else is not HTTP
    const proto = upgradeTo.split(',')[0]?.trim().toLowerCase() ?? '';
    if (upgrade === null) return 'unexpected 101 Switching Protocols';
    if (proto === '' || !upgrade.has(proto)) return '101 Switching Protocols to a protocol the client did not ask for';
    return { status, raw, body: 'length', length: 0, keepAlive: false, keepAliveMs };
  }
  if (headOnly || status === 204 || status === 304 || status < 200) return { status, raw, body: 'length', length: 0, keepAlive, keepAliveMs };
  if (te) {
    // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which is removed before forwarding;
    // such a message ends the connection, and so does a final coding other than chunked
    if (length !== -1) for (let i = raw.length - 2; i >= 0; i -= 2) if ((raw[i] as string).length === 14 && (raw[i] as string).toLowerCase() === 'content-length') raw.splice(i, 2);
    return { status, raw, body: chunked ? 'chunked' : 'close', length: -1, keepAlive: keepAlive && length === -1 && chunked, keepAliveMs };
  }
  if (length !== -1) return { status, raw, body: 'length', length, keepAlive, keepAliveMs };
  return { status, raw, body: 'close', length: -1, keepAlive: false, keepAliveMs };
}

test('readResponseHead decides as its line-by-line first version did, for generated and mutated heads', async () => {
  const fc = (await import('fast-check')).default;
  const line = fc.oneof(
    fc.constantFrom('Content-Length: 5', 'content-length:5', 'Content-Length: 5 ', 'Content-Length: +5', 'Content-Length: 05', 'Transfer-Encoding: chunked', 'Transfer-Encoding: gzip, chunked', 'Transfer-Encoding: chunked, gzip', 'Connection: close', 'Connection: keep-alive, close', 'Keep-Alive: timeout=7', 'Upgrade: websocket', 'X-A:  b\t', 'X-A: \xa0b\xa0', 'X-A :b', ' X-A: b', '\tX-A: b', 'X(A): b', ':b', 'X-A', '', 'X-A: é', 'X-A: a\x7fb', 'X-A: a\x00b'),
    fc.tuple(fc.stringMatching(/^[!#$%&'*+.^_`|~0-9A-Za-z-]{0,10}$/), fc.constantFrom(':', ' :', ''), fc.string({ maxLength: 8 })).map(([n, c, v]) => `${n}${c}${v}`),
  );
  const eol = fc.constantFrom('\r\n', '\r\n', '\r\n', '\n', '\r');
  const head = fc.tuple(fc.constantFrom('HTTP/1.1 200 OK', 'HTTP/1.0 200 OK', 'HTTP/1.1 101 Switching Protocols', 'HTTP/1.1 204', 'HTTP/1.1 304 Not Modified', 'HTTP/1.1 100 Continue', 'HTTP/1.1 20 OK', 'HTTP/2 200'), fc.array(fc.tuple(eol, line), { maxLength: 6 })).map(([s, ls]) => s + ls.map(([nl, l]) => nl + l).join(''));
  const mutated = fc.tuple(head, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([h, at, b]) => (h.length === 0 ? h : h.slice(0, at % h.length) + String.fromCharCode(b) + h.slice((at % h.length) + 1)));
  const ws = new Set(['websocket']);
  fc.assert(
    fc.property(fc.oneof(head, mutated), fc.boolean(), fc.constantFrom(null, ws), (h, headOnly, up) => {
      assert.deepEqual(readResponseHead(h, headOnly, up), readResponseHeadByLines(h, headOnly, up), JSON.stringify(h));
    }),
    { numRuns: 5000, seed: 20261206 },
  );
});

test('writeRequestHead writes the bytes of requestHead as UTF-8, from a buffer it reuses only once a socket let go of it', async () => {
  const { writeRequestHead } = await import('./upstream.js');
  const fc = (await import('fast-check')).default;
  const held: Buffer[] = [];
  let keep = false;
  const socket = {
    writableLength: 0,
    write(b: Buffer): boolean {
      held.push(b);
      this.writableLength = keep ? b.length : 0;
      return true;
    },
  };
  const name = fc.oneof(fc.constantFrom('host', 'x-a', 'Content-Length', 'bad name', 'x_y', ''), fc.stringMatching(/^[a-z-]{1,8}$/));
  const value = fc.oneof(fc.constantFrom('v', 'é', '€', '😀', 'a\r\nb', '\t', ''), fc.string({ unit: 'binary', maxLength: 12 }), fc.constantFrom('x'.repeat(20_000)));
  fc.assert(
    fc.property(fc.constantFrom('GET', 'POST', 'G ET'), fc.constantFrom('/', '/a?b=é', '/€/x', 'x', '/a b'), fc.array(fc.tuple(name, value), { maxLength: 8 }), fc.boolean(), fc.boolean(), (method, path, pairs, chunked, retain) => {
      const headers = pairs.flat();
      let want: string | Error;
      try {
        want = requestHead(method, path, headers, chunked);
      } catch (err) {
        want = err as Error;
      }
      held.length = 0;
      keep = retain;
      try {
        writeRequestHead(socket, method, path, headers, chunked);
      } catch (err) {
        assert.ok(want instanceof Error);
        assert.equal((err as Error).message, want.message);
        assert.equal(held.length, 0, 'nothing written');
        return;
      }
      assert.ok(typeof want === 'string');
      const got = Buffer.from(held[0]!);
      assert.deepEqual(got, Buffer.from(want, 'utf8'));
      // the next head must not overwrite bytes a socket still holds
      writeRequestHead(socket, 'GET', '/next', ['host', 'h'], false);
      if (retain) assert.deepEqual(held[0], got, 'a held head is left alone');
    }),
    { numRuns: 1500, seed: 20261206 },
  );
});

test('heads held for the burst are views later heads never overwrite, sent in order at the end of the loop turn', async () => {
  const { writeRequestHead, requestHead } = await import('./upstream.js');
  const fc = (await import('fast-check')).default;
  const sent: Buffer[] = [];
  // what releaseWrites reads of a socket, and its write
  const socket = { destroyed: false, writableEnded: false, writableLength: 0, write: (b: Buffer): boolean => void sent.push(Buffer.from(b)) === undefined, cork(): void {}, uncork(): void {} };
  const value = fc.oneof(fc.constantFrom('v', 'é', '€', ''), fc.string({ unit: 'binary-ascii', maxLength: 40 }).filter((v) => !/[\x00-\x08\x0a-\x1f\x7f]/.test(v)), fc.constantFrom('x'.repeat(3_000), 'y'.repeat(20_000)));
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('/', '/a', '/€'), value), { minLength: 1, maxLength: 40 }), async (reqs) => {
      sent.length = 0;
      const sockets = reqs.map(() => ({ ...socket }));
      const want = reqs.map(([path, v]) => Buffer.from(requestHead('GET', path, ['host', 'h', 'x-v', v], false), 'utf8'));
      reqs.forEach(([path, v], i) => writeRequestHead(sockets[i] as typeof socket, 'GET', path, ['host', 'h', 'x-v', v], false, true));
      assert.equal(sent.length, 0, 'held until the end of the loop turn');
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(sent, want);
    }),
    { numRuns: 200, seed: 20261206 },
  );
});

test('bytes kept past a read are copies: two connections reading into the shared buffer in turn never see each other\'s bytes', async () => {
  // each request's response is dribbled a few bytes per write, head and body, chunked or not, so
  // that reads of the two connections alternate and every kept piece (a partial head, a chunk the
  // handler holds on to) would be overwritten by the other connection's next read if it were a view
  const body = (tag: string): string => tag.repeat(40);
  await scripted(
    (head, s) => {
      const tag = /GET \/(\w)/.exec(head)?.[1] ?? '?';
      const b = body(tag);
      const text = tag === 'a' ? `HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\nX-Tag: ${tag}\r\n\r\n${b}` : `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Tag: ${tag}\r\n\r\n${b.length.toString(16)}\r\n${b}\r\n0\r\n\r\n`;
      s.setNoDelay(true);
      void (async () => {
        for (let i = 0; i < text.length; i += 7) {
          s.write(text.slice(i, i + 7), 'latin1');
          await new Promise((r) => setTimeout(r, 1));
        }
      })();
    },
    async (p) => {
      const one = (path: string): Promise<{ tag: string; chunks: Buffer[] }> =>
        new Promise((resolve, reject) => {
          const got = { tag: '', chunks: [] as Buffer[] };
          p.dispatch(
            { path, method: 'GET', headers: ['host', 'a.test'], body: null, headersTimeout: 2000, bodyTimeout: 2000 },
            {
              onConnect: () => {},
              onHeaders: (_s, raw) => {
                got.tag = String(raw[raw.indexOf('X-Tag') + 1]);
                return true;
              },
              onData: (chunk, last, borrowed) => {
                // kept as handed over, read only at the end; a lent chunk is copied, as its contract says
                assert.ok(borrowed !== true || last === true, 'only the last chunk is lent');
                got.chunks.push(borrowed === true ? Buffer.from(chunk) : chunk);
                return true;
              },
              onComplete: () => resolve(got),
              onError: reject,
            },
          );
        });
      for (let round = 0; round < 3; round++) {
        const [a, b] = await Promise.all([one('/a'), one('/b')]);
        assert.equal(a.tag, 'a');
        assert.equal(b.tag, 'b');
        assert.ok(a.chunks.length > 1 && b.chunks.length > 1, 'the bodies came in several reads');
        assert.equal(Buffer.concat(a.chunks).toString('latin1'), body('a'));
        assert.equal(Buffer.concat(b.chunks).toString('latin1'), body('b'));
      }
    },
  );
});

test('a connection reading into the shared buffer that becomes a tunnel hands over a copy of the bytes after the 101, and its socket reads as a stream', async () => {
  // Http1Pool gives upgrades a connection of their own (no shared buffer); a Conn made with one
  // must still hand over a socket and bytes that survive the next read
  const { Conn } = await import('./http1-conn.js');
  const { connect: netConnect } = await import('node:net');
  const shared = Buffer.alloc(64 * 1024);
  await scripted(
    (_head, s) => {
      s.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\nrest');
      setTimeout(() => s.write('y'.repeat(300)), 30);
    },
    async (_p, u) => {
      const stub = { idleTimeout: 10_000, closing: false, release: () => {}, settled: () => {}, forget: () => {} };
      const got = await new Promise<{ rest: string; after: string; destroyed: boolean }>((resolve, reject) => {
        let c: InstanceType<typeof Conn> | null = null;
        const socket = netConnect({ host: IP, port: u.port, onread: { buffer: shared, callback: (n, buf) => (c as InstanceType<typeof Conn>).read(buf as Buffer, n) } });
        c = new Conn(socket, stub, 1000, false, true);
        c.start({ path: '/ws', method: 'GET', headers: ['host', 'a', 'connection', 'upgrade', 'upgrade', 'x'], body: null, headersTimeout: 2000, bodyTimeout: 2000, upgrade: 'x' }, {
          onConnect: () => {},
          onHeaders: () => true,
          onData: () => true,
          onComplete: () => reject(new Error('no upgrade')),
          onError: reject,
          onUpgrade: (_raw, tunnel, rest) => {
            let after = '';
            tunnel.on('data', (d: Buffer) => (after += d.toString('latin1')));
            tunnel.resume();
            setTimeout(() => {
              resolve({ rest: rest.toString('latin1'), after, destroyed: tunnel.destroyed });
              tunnel.destroy();
            }, 150);
          },
        });
      });
      assert.equal(got.rest, 'rest');
      assert.equal(got.after, 'y'.repeat(300));
      assert.equal(got.destroyed, false);
    },
  );
});

// Upstream timeouts at their edges: when they fire, what resets them, what replaces them.
const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('timeouts: a head timeout fires, never before its time', async () => {
  await scripted(() => {}, async (p) => {
    const t0 = performance.now();
    const r = await send(p, { headersTimeout: 150, bodyTimeout: 150 });
    const took = performance.now() - t0;
    assert.equal(r.error?.code, 'PORTICO_HEADERS_TIMEOUT');
    assert.ok(took >= 150 && took < 1000, `${took} ms`);
  });
});

test('timeouts: reads reset the timeout, a body trickling in under it is read whole', async () => {
  await scripted((_h, s) => {
    s.write('HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\n');
    let n = 0;
    const t = setInterval(() => {
      s.write('x');
      if (++n === 8) clearInterval(t);
    }, 40);
  }, async (p) => {
    // 8 reads 40 ms apart: 320 ms in all against a 100 ms timeout between reads
    const r = await send(p, { headersTimeout: 100, bodyTimeout: 100 });
    assert.deepEqual([r.error, r.body], [null, 'xxxxxxxx']);
  });
});

test('timeouts: a connection back in the pool keeps the idle timeout, not the read timeout of its last request', async () => {
  await scripted((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na'), async (p, u) => {
    assert.equal((await send(p, { headersTimeout: 50, bodyTimeout: 50 })).body, 'a');
    await wait(300);
    assert.equal(p.idleCount(), 1, 'still pooled after six read timeouts');
    assert.equal((await send(p)).body, 'a');
    assert.equal(u.connections(), 1);
  });
});

test('timeouts: an idle connection is dropped after the idle timeout', async () => {
  const u = await upstream((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na'));
  const p = pool(u.port, 100);
  try {
    assert.equal((await send(p)).body, 'a');
    assert.equal(p.idleCount(), 1);
    await wait(400);
    assert.equal(p.idleCount(), 0);
    assert.equal((await send(p)).body, 'a');
    assert.equal(u.connections(), 2);
  } finally {
    await p.close();
    u.server.close();
  }
});

test('request heads written in one callback to two connections are each their own (held heads are copies of the head buffer)', async () => {
  await scripted((_h, s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\na'), async (p, u) => {
    // two connections open and idle
    await Promise.all([send(p), send(p)]);
    assert.equal(p.idleCount(), 2);
    // both heads are held until this callback's loop iteration is done (write-batch.ts)
    const [a, b] = await Promise.all([send(p, { path: '/first' }), send(p, { path: '/second-one' })]);
    assert.deepEqual([a.body, b.body], ['a', 'a']);
    assert.deepEqual(u.requests.slice(2).map((r) => r.split(' ')[1]).sort(), ['/first', '/second-one']);
    assert.equal(u.connections(), 2);
  });
});
