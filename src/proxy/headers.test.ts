import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { test } from 'node:test';
import { requestLength } from './headers.js';

const req = (method: string, url: string, rawHeaders: string[]): IncomingMessage => {
  const headers: Record<string, string> = {};
  for (let i = 0; i < rawHeaders.length; i += 2) headers[rawHeaders[i]!.toLowerCase()] = rawHeaders[i + 1]!;
  return { method, url, rawHeaders, headers } as unknown as IncomingMessage;
};

test("request length counts the request line, header lines and declared body, as nginx's $request_length", () => {
  const head = 'GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nUser-Agent: t\r\n\r\n';
  assert.equal(requestLength(req('GET', '/a?b=1', ['Host', 'x.test', 'User-Agent', 't'])), Buffer.byteLength(head));
  const post = 'POST / HTTP/1.1\r\nHost: x.test\r\nContent-Length: 5\r\n\r\nhello';
  assert.equal(requestLength(req('POST', '/', ['Host', 'x.test', 'Content-Length', '5'])), Buffer.byteLength(post));
});
