/**
 * Raw JSON access to the API server over the kubeconfig's transport and credentials
 * (client-node's KubeConfig builds the agent and auth headers), plus client-node's Watch for
 * streams. Raw JSON keeps objects in their wire shape (timestamps stay strings), which is what
 * the translator reads.
 */
import { request as httpsRequest, type RequestOptions } from 'node:https';
import { request as httpRequest } from 'node:http';
import { Watch, type KubeConfig } from '@kubernetes/client-node';

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

export function createKubeClient(kc: KubeConfig): KubeClient {
  const server = kc.getCurrentCluster()?.server ?? '';
  const watcher = new Watch(kc);
  return {
    server,
    async request<T>(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<T> {
      const opts: RequestOptions = { method, headers: {} };
      await kc.applyToHTTPSOptions(opts);
      const url = new URL(server + path);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const headers = { ...(opts.headers as Record<string, string>), accept: 'application/json', ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}) };
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      return new Promise<T>((resolve, reject) => {
        const req = send(url, { ...opts, headers, timeout: TIMEOUT_MS }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown = undefined;
            try {
              json = text ? JSON.parse(text) : undefined;
            } catch {
              // a non-JSON error body is reported by status below
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) return resolve(json as T);
            const st = json as { message?: string; reason?: string } | undefined;
            reject(new ApiError(status, `${method} ${path}: ${status} ${st?.message ?? text.slice(0, 200)}`, st?.reason ?? ''));
          });
          res.on('error', reject);
        });
        req.on('timeout', () => req.destroy(new ApiError(0, `${method} ${path}: timed out after ${TIMEOUT_MS} ms`)));
        req.on('error', (err) => reject(err instanceof ApiError ? err : new ApiError(0, `${method} ${path}: ${err.message}`)));
        req.end(payload);
      });
    },
    async watch(path, params, onEvent, onDone) {
      const controller = await watcher.watch(path, params, onEvent, onDone);
      return () => controller.abort();
    },
  };
}
