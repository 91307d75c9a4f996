/**
 * Test "pods": HTTP servers on distinct loopback addresses (127.x.y.z, port 0) that record what
 * they receive and answer with it, or misbehave on request (see `Behaviour`).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { listen } from './listen.js';

export interface Seen {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly httpVersion: string;
}

/** What a pod does with a request; `echo` by default. */
export type Behaviour = 'echo' | 'reset' | 'hang' | 'fixed-length' | 'chunked' | 'hop-headers' | 'slow';

export interface Pod {
  readonly ip: string;
  readonly port: number;
  readonly name: string;
  readonly seen: Seen[];
  behaviour: Behaviour;
  close(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish (up to 3 s), then closes everything. */
  drain(): Promise<void>;
  /** Dies at once: every connection reset, the port refusing from now on. */
  kill(): void;
}

/** Starts a pod on `ip` (a loopback address), any free port. */
export async function startPod(ip: string, name = ip): Promise<Pod> {
  const seen: Seen[] = [];
  /** Requests seen per retry-simulation uuid. */
  const attempts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body, httpVersion: req.httpVersion });
      switch (pod.behaviour) {
        case 'reset':
          req.socket.destroy();
          return;
        case 'hang':
          return;
        case 'slow': {
          const out = JSON.stringify({ pod: name, slow: true });
          setTimeout(() => {
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
            res.end(out);
          }, 400);
          return;
        }
        case 'fixed-length': {
          const payload = Buffer.alloc(100_000, 'x');
          res.writeHead(200, { 'content-length': payload.length, 'content-type': 'text/plain' });
          res.end(payload);
          return;
        }
        case 'chunked':
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('part1,');
          setTimeout(() => res.end('part2'), 20);
          return;
        case 'hop-headers':
          res.writeHead(200, { connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5', 'x-kept': 'yes', server: 'pod-server', 'content-length': 2 });
          res.end('ok');
          return;
        default: {
          // as the Gateway API conformance echo's retry simulation: ?succeedAfter=N&uuid=U fails the
          // first N requests of U (with ?responseCode=C, else by resetting the connection), each
          // after ?delayRetry=D (300ms, 1s)
          const q = new URL(req.url ?? '/', 'http://x').searchParams;
          if (q.has('succeedAfter')) {
            const key = q.get('uuid') ?? '';
            const n = (attempts.get(key) ?? 0) + 1;
            attempts.set(key, n);
            if (n <= Number(q.get('succeedAfter'))) {
              const code = Number(q.get('responseCode') ?? 0);
              const d = /^(\d+)(ms|s)$/.exec(q.get('delayRetry') ?? '');
              const fail = (): void => {
                if (res.destroyed) return;
                if (code > 0) {
                  res.writeHead(code, { 'content-type': 'text/plain', 'content-length': 6, 'x-pod': name });
                  res.end('failed');
                } else req.socket.resetAndDestroy();
              };
              if (d !== null) setTimeout(fail, Number(d[1]) * (d[2] === 's' ? 1000 : 1));
              else fail();
              return;
            }
          }
          // as the Gateway API conformance echo: ?delay=<ms> delays the answer, X-Echo-Set-Header: "name:value,..." sets response headers
          const out = JSON.stringify({ pod: name, method: req.method, url: req.url, headers: req.headers, bodyLength: body.length });
          const extra: [string, string][] = [];
          for (const pair of String(req.headers['x-echo-set-header'] ?? '').split(',')) {
            const i = pair.indexOf(':');
            if (i > 0) extra.push([pair.slice(0, i).trim(), pair.slice(i + 1).trim()]);
          }
          const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
          const answer = (): void => {
            if (res.destroyed) return;
            res.writeHead(200, [['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(out))], ['x-pod', name], ...extra].flat());
            res.end(out);
          };
          if (delay > 0) setTimeout(answer, delay);
          else answer();
        }
      }
    });
  });
  const l = await listen(server, ip);
  // the handler above reads pod.behaviour: requests come only after this (listen resolved, no I/O yet)
  const pod: Pod = {
    ip,
    port: l.port,
    name,
    seen,
    behaviour: 'echo',
    close: l.close,
    drain: () =>
      new Promise((r) => {
        const force = setTimeout(() => {
          for (const s of l.sockets) s.destroy();
        }, 3000);
        server.close(() => {
          clearTimeout(force);
          r();
        });
        server.closeIdleConnections();
      }),
    kill() {
      for (const s of l.sockets) s.resetAndDestroy();
      server.close();
    },
  };
  return pod;
}

/** The pod name an echo pod put in its JSON answer. */
export const podOf = (body: string): string => (JSON.parse(body) as { pod: string }).pod;

/** A free port on `ip` that nothing listens on (bound, then released): connecting to it is refused. */
export async function refusedPort(ip: string): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, ip, () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
