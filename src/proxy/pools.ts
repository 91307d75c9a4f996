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
import type { BackendProtocol, UpstreamTls } from '../model/types.js';
import { Http1Pool, type Upstream } from './upstream.js';

/** Per-Ingress settings of a dispatcher; each one in use makes a dispatcher of its own. */
export interface DispatcherOptions {
  /** Overrides the default (proxy-connect-timeout annotation). */
  readonly connectTimeout?: number | undefined;
  /** TLS server name (proxy-ssl-server-name). */
  readonly servername?: string | undefined;
  /** Verify the backend's certificate (proxy-ssl-verify). */
  readonly verify?: boolean | undefined;
  /** Trusted CAs and client certificate (proxy-ssl-secret). */
  readonly material?: UpstreamTls | undefined;
}

export interface PoolOptions {
  readonly connectTimeout: number;
  /** How long an idle upstream connection is kept open. */
  readonly keepAliveTimeout: number;
}

export interface Pools {
  get(ip: string, port: number, protocol: BackendProtocol, o?: DispatcherOptions): Upstream;
  /**
   * Closes the dispatchers whose endpoint (see {@link poolKey}) is not in `live`, or whose
   * per-Ingress settings (see {@link dispatcherSuffix}) no route uses any more: a rotated
   * proxy-ssl-secret or a changed timeout leaves no dispatcher behind.
   */
  retain(live: ReadonlySet<string>, suffixes: ReadonlySet<string>): void;
  size(): number;
  close(): Promise<void>;
}

export const endpointKey = (ip: string, port: number): string => `${ip}:${port}`;
export const poolKey = (protocol: BackendProtocol, ip: string, port: number): string => `${protocol} ${ip}:${port}`;
/**
 * The per-Ingress settings part of a dispatcher's key ('' for none): one dispatcher per
 * (protocol, endpoint) and settings. TLS settings count only for TLS backends.
 */
export function dispatcherSuffix(protocol: BackendProtocol, o: DispatcherOptions): string {
  const t = o.connectTimeout === undefined ? '' : ` t=${o.connectTimeout}`;
  if (protocol !== 'HTTPS' && protocol !== 'GRPCS') return t;
  return `${t}${o.servername === undefined ? '' : ` sni=${o.servername}`}${o.verify === true ? ' verify' : ''}${o.material === undefined ? '' : ` tls=${o.material.id}`}`;
}

/** Node TLS options for a dispatcher's settings. */
export function tlsOptions(o: DispatcherOptions): { rejectUnauthorized: boolean; servername?: string; ca?: string; cert?: string; key?: string } {
  const m = o.material;
  return {
    rejectUnauthorized: o.verify === true,
    ...(o.servername !== undefined ? { servername: o.servername } : {}),
    ...(m?.caPem !== undefined ? { ca: m.caPem } : {}),
    ...(m?.certPem !== undefined && m.keyPem !== undefined ? { cert: m.certPem, key: m.keyPem } : {}),
  };
}

export function createPools(opts: PoolOptions): Pools {
  const pools = new Map<string, Upstream>();
  const make = (ip: string, port: number, protocol: BackendProtocol, connectTimeout: number, o: DispatcherOptions): Upstream => {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const keepAlive = { keepAliveTimeout: opts.keepAliveTimeout, keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000) };
    switch (protocol) {
      case 'GRPC':
        return undiciUpstream(new H2CClient(`http://${host}:${port}`, { ...keepAlive, connect: { timeout: connectTimeout } }));
      case 'GRPCS':
        return undiciUpstream(new Pool(`https://${host}:${port}`, { ...keepAlive, allowH2: true, connect: { timeout: connectTimeout, ...tlsOptions(o) } }));
      default:
        // No connection cap: the idle pool must be able to grow to client concurrency, or the
        // proxy keeps opening new upstream connections under load (seen with nginx keepalive 64 at c=200).
        return new Http1Pool({ host: ip, port, tls: protocol === 'HTTPS' ? tlsOptions(o) : null, connectTimeout, idleTimeout: opts.keepAliveTimeout });
    }
  };
  return {
    get(ip, port, protocol, o = {}) {
      // TLS settings only matter to TLS backends: plain ones share one dispatcher whatever they say
      const d: DispatcherOptions = protocol === 'HTTPS' || protocol === 'GRPCS' ? o : { connectTimeout: o.connectTimeout };
      const key = `${poolKey(protocol, ip, port)}${dispatcherSuffix(protocol, d)}`;
      let pool = pools.get(key);
      if (pool === undefined) pools.set(key, (pool = make(ip, port, protocol, d.connectTimeout ?? opts.connectTimeout, d)));
      return pool;
    },
    retain(live, suffixes) {
      for (const [key, pool] of pools) {
        // "PROTOCOL ip:port" then the settings suffix
        const sp = key.indexOf(' ', key.indexOf(' ') + 1);
        if (live.has(sp === -1 ? key : key.slice(0, sp)) && suffixes.has(sp === -1 ? '' : key.slice(sp))) continue;
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
    // upgrades never reach here: they go over HTTP/1.1 (handler.ts)
    dispatch: (req, handler) => void d.dispatch({ path: req.path, method: req.method, headersTimeout: req.headersTimeout, bodyTimeout: req.bodyTimeout, body: req.body ?? null, headers: req.headers as string[] }, handler as unknown as Dispatcher.DispatchHandler),
    close: () => d.close(),
  };
}
