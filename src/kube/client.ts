/**
 * Raw JSON access to the API server with the connection's TLS settings and credentials, and watch
 * streams (one JSON event per line). Raw JSON keeps objects in their wire shape (timestamps stay
 * strings), which is what the translator reads.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import type { ClientRequest } from 'node:http';
import { request as httpRequest } from '../node-http.js';
import type { ApiCredentials } from './credentials.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    message: string,
    readonly reason: string = '',
  ) {
    super(message);
  }
}

export interface KubeClient {
  /** One request; resolves with the parsed body of a 2xx, rejects with ApiError otherwise. */
  request<T = unknown>(method: string, path: string, body?: unknown, contentType?: string): Promise<T>;
  /** Starts a watch; events and the end (error or close) go to the callbacks. Returns a stop function. */
  watch(path: string, params: Record<string, string | number | boolean | undefined>, onEvent: (type: string, obj: unknown) => void, onDone: (err: unknown) => void): Promise<() => void>;
  readonly server: string;
}

const TIMEOUT_MS = 30_000;

export function createKubeClient(creds: ApiCredentials): KubeClient {
  const server = creds.server;
  /** The URL, the credentials' TLS options and headers (JSON accepted), and the transport for one call. */
  const prepare = async (method: string, path: string): Promise<{ url: URL; opts: RequestOptions; headers: Record<string, string>; send: typeof httpsRequest }> => {
    const opts: RequestOptions = { method, headers: {} };
    await creds.apply(opts);
    const url = new URL(server + path);
    return { url, opts, headers: { ...(opts.headers as Record<string, string>), accept: 'application/json' }, send: url.protocol === 'https:' ? httpsRequest : httpRequest };
  };
  return {
    server,
    async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const { url, opts, headers: base, send } = await prepare(method, path);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers = { ...base, ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}) };
      return new Promise<T>((resolve, reject) => {
        const req = send(url, { ...opts, headers, timeout: TIMEOUT_MS }, (res) => {
          // Decoded chunk by chunk into the JS heap: one Buffer the size of a list page (half a
          // megabyte at 500 Ingresses) would come from malloc, which keeps the freed memory
          // (about 6 MiB of resident set after a 10,000-Ingress start; docs/performance.md).
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (c: string) => (text += c));
          res.on('end', () => {
            // This listener outlives the call (a keep-alive connection keeps its last response):
            // the closure must not keep the page's text (client.test.ts).
            const body = text;
            text = '';
            let json: unknown = undefined;
            try {
              json = body ? JSON.parse(body) : undefined;
            } catch {
              // a non-JSON error body is reported by status below
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(json as T);
            const st = json as { message?: string; reason?: string } | undefined;
            reject(new ApiError(status, `${method} ${path}: ${status} ${st?.message ?? body.slice(0, 200)}`, st?.reason ?? ''));
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new ApiError(0, `${method} ${path}: timed out after ${TIMEOUT_MS} ms`)));
        req.on('error', (err) => reject(err instanceof ApiError ? err : new ApiError(0, `${method} ${path}: ${err.message}`)));
        req.end(payload);
      });
    },
    async watch(path, params, onEvent, onDone) {
      const { url, opts, headers, send } = await prepare('GET', path);
      url.searchParams.set('watch', 'true');
      for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
      let finished = false;
      const done = (err: unknown): void => {
        if (finished) return;
        finished = true;
        onDone(err);
      };
      const req: ClientRequest = send(url, { ...opts, headers }, (res) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          res.resume();
          return done(new ApiError(status, `watch ${path}: ${status} ${res.statusMessage ?? ''}`.trim()));
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while ((nl = buf.indexOf('\n')) !== -1) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line === '') continue;
            let ev: { type?: unknown; object?: unknown };
            try {
              ev = JSON.parse(line) as { type?: unknown; object?: unknown };
            } catch {
              req.destroy();
              return done(new ApiError(0, `watch ${path}: a line that is not JSON`));
            }
            onEvent(String(ev.type), ev.object);
          }
        });
        res.on('end', () => done(null));
        res.on('error', done);
      });
      req.on('error', done);
      req.end();
      return () => {
        finished = true;
        req.destroy();
      };
    },
  };
}
