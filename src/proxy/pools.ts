/**
 * Keep-alive connection pools, one per endpoint (`ip:port`). They outlive table swaps: a pool is
 * closed (gracefully, after its in-flight requests) only when no table references its endpoint.
 */
import { Pool } from 'undici';

export interface PoolOptions {
  readonly connectTimeout: number;
  /** How long an idle upstream connection is kept open. */
  readonly keepAliveTimeout: number;
}

export interface Pools {
  get(ip: string, port: number): Pool;
  /** Closes the pools of endpoints not in `live` (keys `ip:port`). */
  retain(live: ReadonlySet<string>): void;
  size(): number;
  close(): Promise<void>;
}

export const endpointKey = (ip: string, port: number): string => `${ip}:${port}`;

export function createPools(opts: PoolOptions): Pools {
  const pools = new Map<string, Pool>();
  return {
    get(ip, port) {
      const key = endpointKey(ip, port);
      let pool = pools.get(key);
      if (pool === undefined) {
        const origin = `http://${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
        // No connection cap: the idle pool must be able to grow to client concurrency, or the
        // proxy keeps opening new upstream connections under load (seen with nginx keepalive 64 at c=200).
        pool = new Pool(origin, {
          connections: null,
          pipelining: 1,
          connect: { timeout: opts.connectTimeout },
          keepAliveTimeout: opts.keepAliveTimeout,
          keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000),
        });
        pools.set(key, pool);
      }
      return pool;
    },
    retain(live) {
      for (const [key, pool] of pools) {
        if (live.has(key)) continue;
        pools.delete(key);
        pool.close().catch(() => {});
      }
    },
    size: () => pools.size,
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.allSettled(all.map((p) => p.close()));
    },
  };
}
