/** A plain HTTP/1.1 client for tests, on its own keep-alive agent; a raw GET over TLS with a chosen SNI name. */
import { Agent, request } from 'node:http';
import { connect as tlsConnect } from 'node:tls';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly rawHeaders: string[];
  readonly body: string;
}

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

export function get(port: number, path: string, opts: { host?: string; method?: string; headers?: Record<string, string>; body?: string | Buffer; agent?: Agent | false } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent ?? agent, headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers }, setHost: opts.host === undefined },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** One request on a fresh connection from the loopback address `from` (source ranges and per-client limits judge it). */
export function getFrom(from: string, port: number, host: string, o: { path?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, localAddress: from, path: o.path ?? '/', agent: false, headers: { host, ...o.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers, rawHeaders: res.rawHeaders }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET over TLS (HTTP/1.1 by ALPN) to `address` with a chosen SNI name and Host header: status, headers (lower-case names), body, and the served certificate's names. */
export function httpsGet(port: number, servername: string, host: string, path = '/', address = '127.0.0.1'): Promise<{ status: number; headers: Record<string, string>; body: string; san: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: address, port, servername, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => {
      s.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    });
    let data = '';
    s.on('data', (d) => (data += d.toString()));
    s.on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n'), san: s.getPeerCertificate().subjectaltname ?? '' });
    });
    s.on('error', reject);
  });
}
