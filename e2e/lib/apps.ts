/**
 * "Apps" for the real-world corpus (e2e/real-world.test.ts): loopback pods that stand in for the
 * real applications behind the corpus's Ingresses, each recording what it received.
 *
 * - `echo`: answers 200 with JSON naming the pod and echoing the request (method, target,
 *   headers, body length), with `X-Pod` and, as PHP apps do, `X-Powered-By`; `/status/NNN`
 *   answers NNN (as httpbun), `?delay=ms` answers late, `?cookies=N` sets N cookies of 1 KB,
 *   `?set-cookie=<cookie>` sets that one, `?redirect=<url>` answers 302 with that Location.
 *   Request bodies are counted, not kept.
 * - `x-code`: ingress-nginx's custom-error-pages backend: answers with the status in `X-Code`.
 * - `https`: the echo over TLS (a self-signed certificate, as the Kubernetes Dashboard serves).
 * - `argocd`: argocd-server --insecure: HTTP/1.1 and gRPC over h2c on one port (it multiplexes
 *   them as argocd-server does with cmux); the gRPC method echoes its request message.
 * - `oauth2-proxy`: `/oauth2/auth` answers 202 with the user's headers for the session cookie
 *   `_oauth2_proxy=alice-session` or `Authorization: Bearer alice-token`, else 401; anything else
 *   is echoed.
 * - `ws`: a WebSocket echo (lib/ws.ts).
 */
import { createServer as createHttp, type IncomingHttpHeaders, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createH2, type Http2Server, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { createServer as createHttps } from 'node:https';
import { createServer as createNet, type Server as NetServer } from 'node:net';
import { Duplex } from 'node:stream';
import { cert } from './certs.js';
import { listen } from './listen.js';
import { startWsPod } from './ws.js';

export type AppKind = 'echo' | 'x-code' | 'https' | 'argocd' | 'oauth2-proxy' | 'ws';

export interface AppSeen {
  readonly pod: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyLength: number;
}

/** A gRPC call the `argocd` app received: its pseudo-headers and metadata, and the request message. */
export interface GrpcSeen {
  readonly headers: H2Headers;
  readonly message: string;
}

export interface App {
  readonly ip: string;
  readonly port: number;
  readonly name: string;
  readonly kind: AppKind;
  readonly seen: AppSeen[];
  readonly grpc: GrpcSeen[];
  close(): Promise<void>;
}

/** The echo body of an answer: who answered and what it saw. */
export const echoOf = (body: string): AppSeen => JSON.parse(body) as AppSeen;

function handler(name: string, kind: AppKind, seen: AppSeen[]): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    let bodyLength = 0;
    req.on('data', (c: Buffer) => (bodyLength += c.length));
    req.on('end', () => {
      const s: AppSeen = { pod: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength };
      seen.push(s);
      const url = new URL(req.url ?? '/', 'http://app');
      let status = 200;
      let extra: Record<string, string> = {};
      const m = /^\/status\/(\d{3})$/.exec(url.pathname);
      if (m) status = Number(m[1]);
      if (kind === 'x-code') status = Number(req.headers['x-code'] ?? 200) || 200;
      if (kind === 'oauth2-proxy' && url.pathname === '/oauth2/auth') {
        const ok = /(?:^|;\s*)_oauth2_proxy=alice-session(?:;|$)/.test(String(req.headers.cookie ?? '')) || req.headers.authorization === 'Bearer alice-token';
        status = ok ? 202 : 401;
        extra = ok ? { 'x-auth-request-user': 'alice', 'x-auth-request-email': 'alice@example.com' } : {};
      }
      const out = JSON.stringify(s);
      // ?cookies=N: N session cookies of about 1 KB each, as Keycloak's login answers carry
      const cookies = Array.from({ length: Number(url.searchParams.get('cookies') ?? 0) }, (_, i) => `KC_STATE_${i}=${'x'.repeat(1000)}; Path=/realms/; HttpOnly`);
      // ?set-cookie=<cookie>: that cookie; ?redirect=<url>: a 302 there (an app that believes it lives elsewhere)
      const setCookie = url.searchParams.get('set-cookie');
      if (setCookie !== null) cookies.push(setCookie);
      const redirect = url.searchParams.get('redirect');
      if (redirect !== null) {
        status = 302;
        extra = { ...extra, location: redirect };
      }
      const answer = (): void => {
        if (res.destroyed) return;
        res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out), 'x-pod': name, 'x-powered-by': 'PHP/8.2.12', ...extra, ...(cookies.length > 0 ? { 'set-cookie': cookies } : {}) });
        res.end(req.method === 'HEAD' ? undefined : out);
      };
      const delay = Number(url.searchParams.get('delay') ?? 0);
      if (delay > 0) setTimeout(answer, delay);
      else answer();
    });
  };
}

/** gRPC over h2c: a unary method answering `<pod>:<message>` (length-prefixed messages, grpc-status in trailers). */
function grpcServer(name: string, calls: GrpcSeen[]): Http2Server {
  const h2 = createH2();
  h2.on('stream', (stream, headers) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      const message = body.length >= 5 ? body.subarray(5, 5 + body.readUInt32BE(1)).toString() : '';
      calls.push({ headers, message });
      const reply = Buffer.from(`${name}:${message}`);
      const frame = Buffer.alloc(5 + reply.length);
      frame.writeUInt32BE(reply.length, 1);
      reply.copy(frame, 5);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0', 'grpc-message': '' }));
      stream.end(frame);
    });
    stream.on('error', () => undefined);
  });
  return h2;
}

/** Starts an app of `kind` on `ip` (any free port). */
export async function startApp(ip: string, name: string, kind: AppKind = 'echo'): Promise<App> {
  const seen: AppSeen[] = [];
  const grpc: GrpcSeen[] = [];
  if (kind === 'ws') {
    const ws = await startWsPod(ip);
    return { ip, port: ws.port, name, kind, seen, grpc, close: () => ws.close() };
  }
  const handle = handler(name, kind, seen);
  let server: HttpServer | NetServer;
  let inner: { close(): void }[] = [];
  if (kind === 'https') {
    const c = cert([`${name}.svc`]);
    server = createHttps({ key: c.keyPem, cert: c.certPem }, handle);
  } else if (kind === 'argocd') {
    const h1 = createHttp(handle);
    const h2 = grpcServer(name, grpc);
    inner = [h1, h2];
    // argocd-server tells HTTP/2 (the client preface starts with "PRI ") from HTTP/1.1 by the first bytes
    server = createNet((socket) => {
      socket.once('data', (first: Buffer) => {
        if (first.subarray(0, 4).toString() !== 'PRI ') {
          socket.pause();
          socket.unshift(first);
          h1.emit('connection', socket);
          socket.resume();
          return;
        }
        // Node's HTTP/2 reads a net.Socket's handle directly (past unshift): hand it a stream that replays the first bytes
        const stream = new Duplex({
          read: () => socket.resume(),
          write: (chunk: Buffer, _enc, cb) => socket.write(chunk, cb),
          final: (cb) => socket.end(cb),
          destroy: (err, cb) => {
            socket.destroy();
            cb(err);
          },
        });
        stream.push(first);
        socket.on('data', (d: Buffer) => {
          if (!stream.push(d)) socket.pause();
        });
        socket.on('end', () => stream.push(null));
        socket.on('close', () => stream.destroy());
        h2.emit('connection', stream);
      });
      socket.on('error', () => undefined);
    });
  } else {
    server = createHttp(handle);
  }
  const l = await listen(server, ip);
  return {
    ip,
    port: l.port,
    name,
    kind,
    seen,
    grpc,
    close: () => {
      for (const i of inner) i.close();
      return l.close();
    },
  };
}
