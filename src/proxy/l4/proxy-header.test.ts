/** PROXY protocol on Layer 4 listeners: the v1 line sent to pods, and the header read from clients (bounded in time). */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, test } from 'node:test';
import { proxyV1, readProxyHeader, type Peer } from './proxy-header.js';

describe('proxyV1', () => {
  test('TCP4 and TCP6 lines as HAProxy specifies; IPv4-mapped addresses unmapped; mixed families UNKNOWN', () => {
    assert.equal(proxyV1({ address: '203.0.113.7', port: 51000 }, { address: '10.0.0.1', port: 443 }), 'PROXY TCP4 203.0.113.7 10.0.0.1 51000 443\r\n');
    assert.equal(proxyV1({ address: '2001:db8::1', port: 1 }, { address: '2001:db8::2', port: 2 }), 'PROXY TCP6 2001:db8::1 2001:db8::2 1 2\r\n');
    assert.equal(proxyV1({ address: '::ffff:192.0.2.1', port: 5 }, { address: '::ffff:192.0.2.2', port: 6 }), 'PROXY TCP4 192.0.2.1 192.0.2.2 5 6\r\n');
    assert.equal(proxyV1({ address: '192.0.2.1', port: 5 }, { address: '2001:db8::2', port: 6 }), 'PROXY UNKNOWN\r\n');
    assert.equal(proxyV1({ address: '', port: 0 }, { address: '', port: 0 }), 'PROXY UNKNOWN\r\n');
  });
});

/** A server socket for a client that sends `chunks` (with a pause between them), and what readProxyHeader made of it. */
async function read(chunks: (string | Buffer)[], timeoutMs = 500): Promise<{ client: Peer; rest: string } | null> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const c = connect({ host: '127.0.0.1', port: (server.address() as AddressInfo).port });
  c.on('error', () => {});
  const [s] = await accepted;
  const result = new Promise<{ client: Peer; rest: string } | null>((resolve) => readProxyHeader(s, timeoutMs, (r) => resolve(r === null ? null : { client: r.client, rest: r.rest.toString() })));
  for (const chunk of chunks) {
    c.write(chunk);
    await new Promise((r) => setTimeout(r, 20));
  }
  const r = await result;
  c.destroy();
  s.destroy();
  server.close();
  return r;
}

describe('readProxyHeader', () => {
  test('v1, split across segments: the client it names, and the bytes after it', async () => {
    assert.deepEqual(await read(['PROXY TCP4 203.0', '.113.7 10.0.0.1 51000 443\r', '\nhello']), { client: { address: '203.0.113.7', port: 51000 }, rest: 'hello' });
  });

  test('v2 (PROXY, TCP over IPv4)', async () => {
    const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    const v2 = Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x00, 0x0c, 198, 51, 100, 9, 10, 0, 0, 1, 0xc3, 0x50, 0x01, 0xbb]), Buffer.from('x')]);
    assert.deepEqual(await read([v2]), { client: { address: '198.51.100.9', port: 50000 }, rest: 'x' });
  });

  test('LOCAL and UNKNOWN name no client: the socket peer stands', async () => {
    const r = await read(['PROXY UNKNOWN\r\nrest']);
    assert.equal(r?.client.address, '127.0.0.1');
    assert.equal(r?.rest, 'rest');
  });

  test('no header, a bad one, or one that never completes: null (the caller closes)', async () => {
    assert.equal(await read(['GET / HTTP/1.1\r\n\r\n']), null);
    assert.equal(await read(['PROXY TCP4 not-an-ip 10.0.0.1 1 2\r\n']), null);
    assert.equal(await read(['PROXY TCP4 1.2.3.4'], 200), null);
    assert.equal(await read([], 100), null);
  });
});
