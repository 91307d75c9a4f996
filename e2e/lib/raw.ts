/**
 * Raw sockets for hostile-input tests: a client that sends exact bytes (plain or over TLS) and reads
 * until the server closes, and "pods" that record every byte they receive on every connection.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { listen } from './listen.js';

/** Sends raw bytes on a fresh connection; resolves with everything received until the server closes (or `waitMs`). */
export function raw(port: number, bytes: string | Buffer, waitMs = 2000): Promise<{ text: string; closed: boolean }> {
  const s: Socket = connect(port, '127.0.0.1', () => s.write(bytes));
  return readUntilClose(s, waitMs);
}

/** `raw` over TLS (HTTP/1.1 by ALPN, `servername` as SNI). */
export function rawTls(port: number, servername: string, bytes: string | Buffer, waitMs = 2000): Promise<{ text: string; closed: boolean }> {
  const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => s.write(bytes));
  return readUntilClose(s, waitMs);
}

/** Everything `s` receives (latin1) until it closes, or until `waitMs` (then `closed: false` and the socket is destroyed). */
function readUntilClose(s: Socket, waitMs: number): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false });
    }, waitMs);
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    s.on('error', () => undefined);
  });
}

/** Status lines in a byte stream of responses: how many responses a client read. */
export const statusLines = (text: string): string[] => text.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];

export interface RawPod {
  readonly ip: string;
  readonly port: number;
  /** Every byte received, one string (latin1) per connection, in connection order. */
  readonly connections: string[];
  /** Requests Node's parser saw on this pod: method and target. */
  readonly requests: { method: string; url: string; headers: IncomingMessage['headers'] }[];
  /** All bytes received on all connections, joined. */
  all(): string;
  close(): Promise<void>;
}

/**
 * A pod that records the raw bytes of every connection and answers each request through Node's
 * HTTP server with `answer` (default: 200 with a short body naming the target). It has no
 * `upgrade` listener, so an Upgrade request is answered like any other request (as a pod that
 * ignores Upgrade does).
 */
export async function startRawPod(ip: string, answer?: (req: IncomingMessage, res: ServerResponse) => void): Promise<RawPod> {
  const connections: string[] = [];
  const requests: RawPod['requests'] = [];
  const server = createHttpServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    req.resume();
    req.on('end', () => {
      if (answer) return answer(req, res);
      const body = `pod ${ip} saw ${req.method} ${req.url}\n`;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.on('connection', (s: Socket) => {
    const i = connections.push('') - 1;
    s.on('data', (d: Buffer) => (connections[i] += d.toString('latin1')));
  });
  return rawPod(server, ip, { connections, requests });
}

/**
 * A pod that answers with exact bytes: `script` gets each request head as text (up to the blank
 * line) and returns what to write, or null to close the connection. Records raw bytes too.
 */
export async function startScriptedPod(ip: string, script: (head: string, socket: Socket) => string | Buffer | null): Promise<RawPod> {
  const connections: string[] = [];
  const requests: RawPod['requests'] = [];
  const server = createServer((s) => {
    const i = connections.push('') - 1;
    let buf = '';
    s.on('data', (d: Buffer) => {
      connections[i] += d.toString('latin1');
      buf += d.toString('latin1');
      for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const [method = '', url = ''] = head.split(' ');
        requests.push({ method, url, headers: {} });
        const out = script(head, s);
        if (out === null) s.end();
        else s.write(out);
      }
    });
    s.on('error', () => undefined);
  });
  return rawPod(server, ip, { connections, requests });
}

async function rawPod(server: Server, ip: string, rec: Pick<RawPod, 'connections' | 'requests'>): Promise<RawPod> {
  const { port, close } = await listen(server, ip);
  return { ip, port, ...rec, all: () => rec.connections.join(''), close };
}
