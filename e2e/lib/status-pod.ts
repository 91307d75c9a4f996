/**
 * A test "pod" that answers with the status it is asked for, as httpbun's /status/NNN and
 * ingress-nginx's custom-error-pages backend do: `/status/NNN` answers NNN, `/big/NNN` answers
 * NNN with a 100 kB body; `code: 'x-code'` answers the status an error request names in X-Code;
 * anything else is echoed as JSON (method, url, headers, body length) with `code` (default 200).
 * It counts the connections it accepted, so tests can see whether Portico reused them.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { listen } from './listen.js';

export interface Echo {
  readonly pod: string;
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly bodyLength: number;
}

export interface StatusPod {
  readonly ip: string;
  readonly port: number;
  readonly name: string;
  readonly seen: Echo[];
  /** Connections accepted so far. */
  connections: number;
  /** The status of echoed answers, or 'x-code' to answer the X-Code the request carries. */
  code: number | 'x-code';
  close(): Promise<void>;
}

export async function startStatusPod(ip: string, name: string, code: number | 'x-code' = 200): Promise<StatusPod> {
  const server = createServer((req, res) => {
    let bodyLength = 0;
    req.on('data', (c: Buffer) => (bodyLength += c.length));
    req.on('end', () => {
      const seen: Echo = { pod: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength };
      pod.seen.push(seen);
      const m = /^\/(status|big)\/(\d{3})/.exec(req.url ?? '');
      const common = { 'x-pod': name, 'x-powered-by': 'test-framework', 'x-upstream-secret': 'hunter2' };
      if (m) {
        const body = m[1] === 'big' ? 'x'.repeat(100_000) : JSON.stringify({ pod: name, status: Number(m[2]) });
        res.writeHead(Number(m[2]), { ...common, 'content-type': m[1] === 'big' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
        return;
      }
      const status = pod.code === 'x-code' ? Number(req.headers['x-code'] ?? 200) : pod.code;
      const out = JSON.stringify(seen);
      res.writeHead(status, { ...common, 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
      res.end(req.method === 'HEAD' ? undefined : out);
    });
  });
  server.on('connection', () => pod.connections++);
  const { port, close } = await listen(server, ip);
  // the handlers above read pod: connections come only after this (listen resolved, no I/O yet)
  const pod: StatusPod = { ip, port, name, seen: [], connections: 0, code, close };
  return pod;
}

/** The echo a status pod answered with. */
export const echoOf = (body: string): Echo => JSON.parse(body) as Echo;
