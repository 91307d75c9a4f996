/**
 * Upstream connections. A dispatcher is one way of reaching pods (protocol, connect timeout, TLS
 * settings), interned by its key so every route with the same settings shares it; it holds one
 * pool per endpoint. Pools outlive table swaps: one is closed (gracefully, after its in-flight
 * requests) only when no live route reaches its endpoint with its dispatcher.
 *
 * HTTP: Portico's keep-alive HTTP/1.1 pool (upstream.ts). HTTPS: the same over TLS. GRPC and H2C:
 * one multiplexed h2c session (undici's H2CClient). GRPCS: an undici Pool over TLS with ALPN h2.
 * Upstream certificates are not verified, as with ingress-nginx's default (`proxy_ssl_verify
 * off`): pods present cluster-internal certs. `proxy-ssl-verify: on` verifies them (system CAs
 * plus NODE_EXTRA_CA_CERTS) and their name (the SNI name, else the address), and
 * proxy-ssl-verify-depth bounds the intermediate CAs; proxy-ssl-ciphers and proxy-ssl-protocols
 * set what is offered. A Gateway API BackendTLSPolicy always verifies: its CAs (or the system
 * ones), its hostname as SNI and name, or its subjectAltNames instead of the name. Settings
 * OpenSSL refuses make the dispatcher answer 502, never throw.
 */
import type { Dispatcher } from 'undici';
import { loadUndici } from './undici.js';
import type { BackendProtocol, UpstreamTls } from '../model/types.js';
import { checkServerIdentity, createSecureContext, type DetailedPeerCertificate, type PeerCertificate, type SecureVersion } from 'node:tls';
import { Http1Pool } from './http1-pool.js';
import { UpstreamError, type Upstream } from './upstream.js';

/** Per-route settings of a dispatcher; each distinct set in use makes a dispatcher of its own. */
export interface DispatcherOptions {
  /** Overrides the default (proxy-connect-timeout annotation). */
  readonly connectTimeout?: number | undefined;
  /** TLS server name (proxy-ssl-server-name). */
  readonly servername?: string | undefined;
  /** Verify the backend's certificate (proxy-ssl-verify). */
  readonly verify?: boolean | undefined;
  /** Trusted CAs and client certificate (proxy-ssl-secret). */
  readonly material?: UpstreamTls | undefined;
  /** With `verify`: at most this many intermediate CAs (proxy-ssl-verify-depth). */
  readonly verifyDepth?: number | undefined;
  /** OpenSSL cipher list (proxy-ssl-ciphers). */
  readonly ciphers?: string | undefined;
  /** TLS versions offered (proxy-ssl-protocols), sorted. */
  readonly protocols?: readonly ('TLSv1.2' | 'TLSv1.3')[] | undefined;
  /** With `verify`: the certificate must carry one of these instead of the SNI name (BackendTLSPolicy subjectAltNames). */
  readonly subjectAltNames?: readonly { readonly type: 'Hostname' | 'URI'; readonly value: string }[] | undefined;
}

/** An interned dispatcher: compiled once per table, shared by every route with the same settings. */
export interface Dispatch {
  /** `PROTOCOL` and the settings that matter for it. */
  readonly key: string;
  readonly protocol: BackendProtocol;
  /** Pools by endpoint address, then port: found per request without building an `ip:port` key. */
  readonly pools: Map<string, Map<number, Upstream>>;
  readonly make: (ip: string, port: number) => Upstream;
}

export interface PoolOptions {
  readonly connectTimeout: number;
  /** How long an idle upstream connection is kept open. */
  readonly keepAliveTimeout: number;
}

export interface Pools {
  /** The dispatcher for a protocol and settings (interned: same settings, same object). */
  dispatch(protocol: BackendProtocol, o?: DispatcherOptions): Dispatch;
  /** The pool of one endpoint of a dispatcher. */
  get(d: Dispatch, ip: string, port: number): Upstream;
  /** Closes the pools not in `live` (by dispatcher, the `ip:port`s it still reaches); forgets unused dispatchers. */
  retain(live: ReadonlyMap<Dispatch, { has(endpoint: string): boolean }>): void;
  /** Closes one endpoint's pool of a dispatcher, if it has one (gracefully, after its in-flight requests). */
  release(d: Dispatch, endpoint: string): void;
  /** Open pools, over every dispatcher. */
  size(): number;
  close(): Promise<void>;
}

export const endpointKey = (ip: string, port: number): string => `${ip}:${port}`;

/** Keys of endpoint objects, made once per object (an Endpoint is never changed): no key string built and hashed per request. */
const keys = new WeakMap<{ readonly ip: string; readonly port: number }, string>();
/** {@link endpointKey} of an endpoint. */
export function keyOf(ep: { readonly ip: string; readonly port: number }): string {
  let k = keys.get(ep);
  if (k === undefined) keys.set(ep, (k = endpointKey(ep.ip, ep.port)));
  return k;
}

const isTls = (p: BackendProtocol): boolean => p === 'HTTPS' || p === 'GRPCS';

/** The settings part of a dispatcher's key ('' for none). TLS settings count only for TLS backends. */
export function dispatcherSuffix(protocol: BackendProtocol, o: DispatcherOptions): string {
  const t = o.connectTimeout === undefined ? '' : ` t=${o.connectTimeout}`;
  if (!isTls(protocol)) return t;
  const depth = o.verify === true && o.verifyDepth !== undefined ? ` depth=${o.verifyDepth}` : '';
  const sans = o.verify === true && o.subjectAltNames !== undefined && o.subjectAltNames.length > 0 ? ` san=${o.subjectAltNames.map((x) => `${x.type}:${x.value}`).join(',')}` : '';
  return `${t}${o.servername === undefined ? '' : ` sni=${o.servername}`}${o.verify === true ? ' verify' : ''}${depth}${sans}${o.material === undefined ? '' : ` tls=${o.material.id}`}${o.ciphers === undefined ? '' : ` ciphers=${o.ciphers}`}${o.protocols === undefined ? '' : ` protocols=${o.protocols.join(',')}`}`;
}

/** The intermediate CAs between a verified peer certificate and its trust anchor (OpenSSL's verify depth counts these). */
export function intermediates(cert: DetailedPeerCertificate): number {
  let n = 0;
  let c: DetailedPeerCertificate = cert;
  // the chain ends at a self-issued certificate (its issuerCertificate is itself) or where Node's chain stops
  while (c.issuerCertificate !== undefined && c.issuerCertificate !== null && c.issuerCertificate !== c && c.issuerCertificate.fingerprint256 !== c.fingerprint256) {
    c = c.issuerCertificate;
    n++;
  }
  // n counts every certificate above the leaf; the last is the trust anchor unless the chain was cut short
  const anchored = c.issuerCertificate === c || c.issuerCertificate?.fingerprint256 === c.fingerprint256;
  return anchored ? Math.max(0, n - 1) : n;
}

/** Node TLS options for a dispatcher's settings. */
/** Node TLS options of a dispatcher (what Portico's HTTP/1.1 pool and undici take). */
export interface UpstreamTlsOptions {
  readonly rejectUnauthorized: boolean;
  readonly servername?: string;
  readonly ca?: string;
  readonly cert?: string;
  readonly key?: string;
  readonly ciphers?: string;
  readonly minVersion?: SecureVersion;
  readonly maxVersion?: SecureVersion;
  readonly checkServerIdentity?: typeof checkServerIdentity;
}

/**
 * Whether a certificate carries one of `sans` (BackendTLSPolicy subjectAltNames): a Hostname as
 * TLS matches DNS names (wildcards included), or written exactly as the certificate has it; a URI
 * exactly. An Error (as checkServerIdentity returns) when none matches.
 */
export function sanProblem(sans: NonNullable<DispatcherOptions['subjectAltNames']>, cert: PeerCertificate): Error | undefined {
  const names = (cert.subjectaltname ?? '').split(/,\s*/).map((x) => x.trim().replace(/^(DNS|URI):"?(.*?)"?$/, '$1:$2'));
  for (const s of sans) {
    if (s.type === 'URI' ? names.includes(`URI:${s.value}`) : names.some((n) => n.toLowerCase() === `dns:${s.value.toLowerCase()}`) || (!s.value.startsWith('*') && checkServerIdentity(s.value, cert) === undefined)) return undefined;
  }
  return Object.assign(new Error(`the backend's certificate has none of the subjectAltNames ${sans.map((x) => `${x.type}:${x.value}`).join(', ')} (it has ${cert.subjectaltname ?? 'none'})`), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}

export function tlsOptions(o: DispatcherOptions): UpstreamTlsOptions {
  const m = o.material;
  const depth = o.verify === true ? o.verifyDepth : undefined;
  const sans = o.verify === true && o.subjectAltNames !== undefined && o.subjectAltNames.length > 0 ? o.subjectAltNames : undefined;
  const p = o.protocols;
  return {
    rejectUnauthorized: o.verify === true,
    ...(o.servername !== undefined ? { servername: o.servername } : {}),
    ...(m?.caPem !== undefined ? { ca: m.caPem } : {}),
    ...(m?.certPem !== undefined && m.keyPem !== undefined ? { cert: m.certPem, key: m.keyPem } : {}),
    ...(o.ciphers !== undefined ? { ciphers: o.ciphers } : {}),
    ...(p !== undefined && p.length > 0 ? { minVersion: p[0], maxVersion: p[p.length - 1] } : {}),
    ...(depth !== undefined || sans !== undefined
      ? {
          checkServerIdentity(host: string, cert: PeerCertificate): Error | undefined {
            const err = sans !== undefined ? sanProblem(sans, cert) : checkServerIdentity(host, cert);
            if (err !== undefined || depth === undefined) return err;
            // Node passes the detailed certificate, with its chain
            const n = intermediates(cert as DetailedPeerCertificate);
            return n > depth ? Object.assign(new Error(`the backend's certificate chain has ${n} intermediate CAs, more than proxy-ssl-verify-depth ${depth}`), { code: 'CERT_CHAIN_TOO_LONG' }) : undefined;
          },
        }
      : {}),
  };
}

/**
 * Settings OpenSSL refuses (a cipher list that selects nothing): checked once per dispatcher, so
 * a connection attempt never throws on the data path; null when they are usable.
 */
function tlsProblem(tls: UpstreamTlsOptions): string | null {
  if (tls.ciphers === undefined) return null;
  try {
    createSecureContext({ ciphers: tls.ciphers, ...(tls.minVersion !== undefined ? { minVersion: tls.minVersion, maxVersion: tls.maxVersion } : {}) });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/** An upstream whose TLS settings cannot be used: every request fails before connecting (502, cause tls_settings). */
function refusedUpstream(problem: string): Upstream {
  return {
    dispatch(_req, handler) {
      handler.onError(new UpstreamError('PORTICO_TLS_SETTINGS', `the route's backend TLS settings cannot be used: ${problem}`));
    },
    close: () => Promise.resolve(),
  };
}

export function createPools(opts: PoolOptions): Pools {
  const dispatchers = new Map<string, Dispatch>();
  const keepAlive = { keepAliveTimeout: opts.keepAliveTimeout, keepAliveMaxTimeout: Math.max(opts.keepAliveTimeout, 60_000) };
  const maker = (protocol: BackendProtocol, o: DispatcherOptions): Dispatch['make'] => {
    const connectTimeout = o.connectTimeout ?? opts.connectTimeout;
    const tls = isTls(protocol) ? tlsOptions(o) : null;
    const problem = tls === null ? null : tlsProblem(tls);
    return (ip, port) => {
      if (problem !== null) return refusedUpstream(problem);
      const host = ip.includes(':') ? `[${ip}]` : ip;
      switch (protocol) {
        case 'GRPC':
        case 'H2C':
          return undiciUpstream(new (loadUndici().H2CClient)(`http://${host}:${port}`, { ...keepAlive, connect: { timeout: connectTimeout } }));
        case 'GRPCS':
          return undiciUpstream(new (loadUndici().Pool)(`https://${host}:${port}`, { ...keepAlive, allowH2: true, connect: { timeout: connectTimeout, ...tls } }));
        default:
          // No connection cap: the idle pool must be able to grow to client concurrency, or the
          // proxy keeps opening new upstream connections under load (seen with nginx keepalive 64 at c=200).
          return new Http1Pool({ host: ip, port, tls, connectTimeout, idleTimeout: opts.keepAliveTimeout });
      }
    };
  };
  return {
    dispatch(protocol, o = {}) {
      // TLS settings only matter to TLS backends: plain ones share one dispatcher whatever they say
      const d: DispatcherOptions = isTls(protocol) ? o : { connectTimeout: o.connectTimeout };
      const key = `${protocol}${dispatcherSuffix(protocol, d)}`;
      let found = dispatchers.get(key);
      if (found === undefined) dispatchers.set(key, (found = { key, protocol, pools: new Map(), make: maker(protocol, d) }));
      return found;
    },
    get(d, ip, port) {
      let ports = d.pools.get(ip);
      if (ports === undefined) d.pools.set(ip, (ports = new Map()));
      let pool = ports.get(port);
      if (pool === undefined) ports.set(port, (pool = d.make(ip, port)));
      return pool;
    },
    retain(live) {
      for (const [key, d] of dispatchers) {
        const keep = live.get(d);
        for (const [ip, ports] of d.pools) {
          for (const [port, pool] of ports) {
            if (keep?.has(endpointKey(ip, port)) === true) continue;
            ports.delete(port);
            pool.close().catch(() => {});
          }
          if (ports.size === 0) d.pools.delete(ip);
        }
        // a dispatcher no route uses is forgotten; a route that comes back interns a new one
        if (keep === undefined && d.pools.size === 0) dispatchers.delete(key);
      }
    },
    release(d, k) {
      // `ip:port`: the port after the last colon (IPv6 addresses hold colons of their own)
      const colon = k.lastIndexOf(':');
      const ports = d.pools.get(k.slice(0, colon));
      const port = Number(k.slice(colon + 1));
      const pool = ports?.get(port);
      if (ports === undefined || pool === undefined) return;
      ports.delete(port);
      if (ports.size === 0) d.pools.delete(k.slice(0, colon));
      pool.close().catch(() => {});
    },
    size() {
      let n = 0;
      for (const d of dispatchers.values()) for (const ports of d.pools.values()) n += ports.size;
      return n;
    },
    async close() {
      const all = [...dispatchers.values()].flatMap((d) => [...d.pools.values()].flatMap((ports) => [...ports.values()]));
      dispatchers.clear();
      await Promise.allSettled(all.map((p) => p.close()));
    },
  };
}

/** A dispatcher's pools by endpoint (`ip:port`): a view for inspection (tests, debugging), built on each call. */
export function poolsByEndpoint(d: Dispatch): Map<string, Upstream> {
  const m = new Map<string, Upstream>();
  for (const [ip, ports] of d.pools) for (const [port, pool] of ports) m.set(endpointKey(ip, port), pool);
  return m;
}

/** An undici dispatcher behind the {@link Upstream} interface (its handler shape is the same). */
function undiciUpstream(d: Dispatcher): Upstream {
  return {
    // upgrades never reach here: they go over HTTP/1.1 (handler.ts)
    dispatch: (req, handler) => void d.dispatch({ path: req.path, method: req.method, headersTimeout: req.headersTimeout, bodyTimeout: req.bodyTimeout, body: req.body ?? null, headers: req.headers as string[] }, handler as unknown as Dispatcher.DispatchHandler),
    close: () => d.close(),
  };
}
