/** A bounded closed-loop load: `concurrency` clients each sending requests until `stop()` or `maxMs`. */
import { get, type Reply } from './http.js';

export interface LoadResult {
  readonly total: number;
  readonly byStatus: Map<number, number>;
  readonly errors: string[];
  readonly bodies: Map<string, number>;
}

export function startLoad(port: number, path: string, host: string, opts: { concurrency?: number; maxMs?: number; key?: (r: Reply) => string } = {}): { stop(): Promise<LoadResult> } {
  const concurrency = opts.concurrency ?? 8;
  const deadline = Date.now() + (opts.maxMs ?? 20_000);
  const byStatus = new Map<number, number>();
  const bodies = new Map<string, number>();
  const errors: string[] = [];
  let total = 0;
  let stopped = false;
  const worker = async (): Promise<void> => {
    while (!stopped && Date.now() < deadline) {
      try {
        const r = await get(port, path, { host });
        byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
        const k = opts.key ? opts.key(r) : '';
        bodies.set(k, (bodies.get(k) ?? 0) + 1);
      } catch (err) {
        errors.push((err as Error).message);
      }
      total++;
    }
  };
  const workers = Array.from({ length: concurrency }, worker);
  return {
    async stop() {
      stopped = true;
      await Promise.all(workers);
      return { total, byStatus, errors, bodies };
    },
  };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
