/**
 * Upstream connections, one pool per (protocol, endpoint). They outlive table swaps: a pool is
 * closed (gracefully, after its in-flight requests) only when no table references its endpoint
 * with that protocol.
 *
 * HTTP: Portico's keep-alive HTTP/1.1 pool (upstream.ts). HTTPS: the same over TLS. GRPC: one
 * multiplexed h2c session (undici's H2CClient). GRPCS: an undici Pool over TLS with ALPN h2.
 * Upstream certificates are not verified, as with ingress-nginx's default (`proxy_ssl_verify
 * off`): pods present cluster-internal certs. `proxy-ssl-verify: on` verifies them (system CAs
 * plus NODE_EXTRA_CA_CERTS) and their name (the SNI name, else the address).
 */
import { H2CClient, Pool, type Dispatcher } from 'undici';
import type { BackendProtocol } from '../model/types.js';
import { Http1Pool, type Upstream } from './upstream.js';

export interface PoolOptions {
  readonly connectTimeout: number;
  /** How long an idle upstream connection is kept open. */
  readonly keepAliveTimeout: number;
}

export interface Pools {
  /** `connectTimeout` overrides the default (per-Ingress proxy-connect-timeout); `servername` is the TLS SNI (proxy-ssl-server-name). */
  get(ip: string, port: number, protocol: BackendProtocol, connectTimeout?: number, servername?: string, verify?: boolean): Upstream;
  /** Closes the dispatchers whose key (see {@link poolKey}) is not in `live`. */
  retain(live: ReadonlySet<string>): void;
  size(): number;
  close(): Promise<void>;
}

export const endpointKey = (ip: string, port: number): string => `${ip}:${port}`;
export const poolKey = (protocol: BackendProtocol, ip: string, port: number): string => `${protocol} ${ip}:${port}`;
/** One dispatcher per (protocol, endpoint) and per-Ingress connect timeout and SNI name: suffixes after the pool key. */
const dispatcherKey = (protocol: BackendProtocol, ip: string, port: number, connectTimeout: number | undefined, servername: string | undefined, verify: boolean): string =>
  `${poolKey(protocol, ip, port)}${connectTimeout === undefined ? '' : ` t=${connectTimeout}`}${servername === undefined ? '' : ` sni=${servername}`}${verify ? ' verify' : ''}`;

export function createPools(opts: PoolOptions): Pools {
  const pools = new Map<string, Upstream>();
  const make = (ip: string, port: number, protocol: BackendProtocol, connectTimeout: number, servername: string | undefined, verify: boolean): Upstream => {
    const sni = servername !== undefined ? { servername } : {};
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const keepAlive = { keepAliveTimeout: opts.keepAliveTimeout, keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000) };
    switch (protocol) {
      case 'GRPC':
        return undiciUpstream(new H2CClient(`http://${host}:${port}`, { ...keepAlive, connect: { timeout: connectTimeout } }));
      case 'GRPCS':
        return undiciUpstream(new Pool(`https://${host}:${port}`, { ...keepAlive, allowH2: true, connect: { timeout: connectTimeout, rejectUnauthorized: verify, ...sni } }));
      default:
        // No connection cap: the idle pool must be able to grow to client concurrency, or the
        // proxy keeps opening new upstream connections under load (seen with nginx keepalive 64 at c=200).
        return new Http1Pool({ host: ip, port, tls: protocol === 'HTTPS', ...sni, verify, connectTimeout, idleTimeout: opts.keepAliveTimeout });
    }
  };
  return {
    get(ip, port, protocol, connectTimeout, servername, verify = false) {
      const tls = protocol === 'HTTPS' || protocol === 'GRPCS';
      const sni = tls ? servername : undefined;
      const key = dispatcherKey(protocol, ip, port, connectTimeout, sni, tls && verify);
      let pool = pools.get(key);
      if (pool === undefined) pools.set(key, (pool = make(ip, port, protocol, connectTimeout ?? opts.connectTimeout, sni, tls && verify)));
      return pool;
    },
    retain(live) {
      for (const [key, pool] of pools) {
        // the live set names (protocol, endpoint); per-Ingress settings add suffixes
        const sp = key.indexOf(' ', key.indexOf(' ') + 1);
        if (live.has(sp === -1 ? key : key.slice(0, sp))) continue;
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

/** An undici dispatcher behind the {@link Upstream} interface (its handler shape is the same). */
function undiciUpstream(d: Dispatcher): Upstream {
  return {
    dispatch: (req, handler) => void d.dispatch({ ...req, body: req.body ?? null, headers: req.headers as string[] }, handler as unknown as Dispatcher.DispatchHandler),
    close: () => d.close(),
  };
}
