/**
 * The API client's requests: a finished request keeps nothing of its response body. The text of
 * a list page (half a megabyte at 10,000 Ingresses) stayed referenced from the response's `end`
 * listener, which the keep-alive connection's last response keeps, until the next request on
 * that connection: three list pages, about 0.9 MiB of heap after start-up (docs/performance.md,
 * "Memory"). A heap snapshot after the request must not hold a string of the body.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { getHeapSnapshot } from 'node:v8';
import { createKubeClient, ApiError } from './client.js';

const IP = '127.0.249.10';

async function serve(body: (path: string) => { status: number; text: string }): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const { status, text } = body(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(text);
  });
  server.listen(0, IP);
  await once(server, 'listening');
  return { server, url: `http://${IP}:${(server.address() as AddressInfo).port}` };
}

/** Whether any string in a heap snapshot of this process contains `needle` (bytes, so that the needle itself is no string on the heap). */
async function heapHolds(needle: Buffer): Promise<boolean> {
  let tail = Buffer.alloc(0);
  for await (const chunk of getHeapSnapshot()) {
    const b = Buffer.concat([tail, chunk as Buffer]);
    if (b.includes(needle)) return true;
    tail = b.subarray(Math.max(0, b.length - needle.length));
  }
  return false;
}

test('a finished request keeps no string of its response body', async () => {
  const id = randomUUID();
  // The body's text spells the note's first letter as a JSON escape: `\u006d` is in the text and
  // not in the parsed string (which the caller's frame may still hold).
  const { server, url } = await serve(() => ({ status: 200, text: `{"kind":"ThingList","items":[{"note":"\\u006darker-${id}-${'x'.repeat(2000)}"}],"count":1}` }));
  try {
    const client = createKubeClient({ server: url, apply: async () => {} });
    const { count } = await client.request<{ count: number }>('GET', '/api/v1/things');
    assert.equal(count, 1);
    assert.equal(await heapHolds(Buffer.concat([Buffer.from('u006darker-'), Buffer.from(id)])), false, 'the response text is still referenced after the request');
  } finally {
    server.closeAllConnections();
    server.close();
  }
});

test('an error response still reports its status and the start of a non-JSON body', async () => {
  const { server, url } = await serve(() => ({ status: 503, text: 'upstream not ready' }));
  try {
    const client = createKubeClient({ server: url, apply: async () => {} });
    const err = await client.request('GET', '/api/v1/things').then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ApiError);
    assert.equal(err.status, 503);
    assert.match(err.message, /GET \/api\/v1\/things: 503 upstream not ready/);
  } finally {
    server.closeAllConnections();
    server.close();
  }
});
