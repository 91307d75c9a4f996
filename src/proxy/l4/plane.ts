/**
 * The Layer 4 part of the data plane: the listeners a table asks for (TCP and UDP services,
 * TCPRoute listeners, TLS-only passthrough listeners) opened and closed as tables come and go,
 * SNI fronts for the HTTPS listeners, and every spliced connection and UDP flow, so that
 *
 * - an endpoint change never cuts a connection to an endpoint still listed, and one to an
 *   endpoint no longer listed is closed after --shutdown-timeout (unless it comes back);
 * - a listener that cannot bind is logged and counted, and bound again a few seconds later while
 *   the table still asks for it; it never stops the process;
 * - closing stops accepting, lets connections and flows finish up to the deadline, then cuts them.
 */
import { createServer, type Server, type Socket } from 'node:net';
import type { Config } from '../../config.js';
import type { Logger } from '../../log.js';
import type { Metrics } from '../../metrics/metrics.js';
import type { L4Listener, RouteTable, SniRoute } from '../../model/types.js';
import type { Balancer } from '../balance.js';
import type { EndpointState } from '../endpoints.js';
import { listenSockets, portListener, type Admit, type Claim, type PortListener } from '../listeners.js';
import { endpointKey } from '../pools.js';
import { proxyProtocolFront } from '../proxy-protocol.js';
import type { EndpointStats } from '../stats.js';
import { readProxyHeader } from './proxy-header.js';
import { createSniFront, type ConnectionTarget } from './sni-front.js';
import { compileL4, compileSni, type L4BackendTarget, type L4Target, type SniTable } from './targets.js';
import { splice, type Session, type SpliceContext } from './tcp.js';
import { createUdpService, type UdpService } from './udp.js';

/** How long a listener that could not bind waits before trying again. */
export const REBIND_MS = 5000;
/** Time a client has to send its PROXY protocol header. */
const PROXY_HEADER_MS = 5000;

export type L4Settings = Pick<Config, 'bindAddress' | 'proxyConnectTimeout' | 'proxyNextUpstreamTries' | 'proxyStreamTimeout' | 'udpMaxFlows' | 'shutdownTimeout' | 'sslHandshakeTimeout' | 'maxConnections' | 'useProxyProtocol' | 'reusePort'>;

export interface L4PlaneOptions {
  readonly config: L4Settings;
  readonly log: Logger;
  readonly metrics: Metrics | null;
  readonly stats: EndpointStats;
  readonly balancer: Balancer;
  readonly live: EndpointState;
  /** Serve the UDP services here: with --workers, exactly one process does (a flow must stay in one process). */
  readonly udp: boolean;
  /** A --workers process's claim on a port it binds with SO_REUSEPORT (listeners.ts); one process probes. */
  readonly claim?: Claim;
  /** Tests: how long a listener that could not bind waits. */
  readonly rebindMs?: number;
}

export interface L4Plane {
  /** Compiles a table's Layer 4 part and opens and closes listeners; call before the live endpoints take the table's lists. */
  apply(table: RouteTable): void;
  /** Endpoint lists changed (a table, a patch): connections to endpoints no longer listed are condemned, those listed again spared. */
  endpointsChanged(): void;
  /** A connection target for the HTTPS listener on `port` (443 = --https-port): passthrough names spliced, the rest handed to `tls`. */
  front(port: number, tls: ConnectionTarget): ConnectionTarget;
  /** The endpoints Layer 4 routes reach, for passive health's bookkeeping. */
  endpoints(): Set<string>;
  /** Spliced connections and UDP flows open now. */
  sessions(): number;
  startDraining(): void;
  /** Stops accepting, lets connections and flows finish until `deadline` (ms since the epoch), then cuts them. */
  close(deadline: number): Promise<void>;
}

type Open =
  | { readonly protocol: 'TCP'; readonly port: number; readonly decode: boolean; target: L4Target; readonly front: PortListener; retry: NodeJS.Timeout | null }
  | { readonly protocol: 'TLS'; readonly port: number; readonly front: PortListener; retry: NodeJS.Timeout | null }
  | { readonly protocol: 'UDP'; readonly port: number; target: L4Target; service: UdpService; retry: NodeJS.Timeout | null };

const listenerName = (protocol: string, port: number): string => `${protocol.toLowerCase()}/${port}`;

export function createL4Plane(o: L4PlaneOptions): L4Plane {
  const { config, log, metrics } = o;
  const host = config.bindAddress;
  const rebindMs = o.rebindMs ?? REBIND_MS;
  const sessions = new Set<Session>();
  const open = new Map<string, Open>();
  /** The live SNI tables by port. */
  let sni = new Map<number, SniTable>();
  let targets: L4Target[] = [];
  let closing = false;

  const recordError = (t: L4Target, b: L4BackendTarget | undefined, cause: string): void => {
    const ns = b?.namespace ?? t.route.source.namespace;
    const service = b?.service ?? '';
    if (t.listener.startsWith('udp/')) metrics?.udpError(ns, service, t.listener, cause);
    else metrics?.tcpError(ns, service, t.listener, cause);
  };
  const ctx: SpliceContext = {
    balancer: o.balancer,
    stats: o.stats,
    connectTimeout: config.proxyConnectTimeout,
    tries: config.proxyNextUpstreamTries,
    idleTimeout: config.proxyStreamTimeout,
    sessions,
    log,
    recordError,
  };
  const peerOf = (s: Socket): { address: string; port: number } => ({ address: s.remoteAddress ?? '', port: s.remotePort ?? 0 });
  const localOf = (s: Socket): { address: string; port: number } => ({ address: s.localAddress ?? '', port: s.localPort ?? 0 });

  const sniFront = (port: number, listener: string, fallback: ConnectionTarget | null): ConnectionTarget =>
    createSniFront({
      routes: () => sni.get(port) ?? null,
      fallback,
      timeout: config.sslHandshakeTimeout,
      splice: (socket, target, hello) => splice(socket, hello, target, ctx, peerOf(socket), localOf(socket)),
      ...(metrics !== null ? { record: (result: Parameters<Metrics['clientHello']>[1]) => metrics.clientHello(listener, result) } : {}),
    });

  const onTcp = (rec: Extract<Open, { protocol: 'TCP' }>, socket: Socket): void => {
    socket.on('error', () => socket.destroy());
    const local = localOf(socket);
    if (!rec.decode) return splice(socket, null, rec.target, ctx, peerOf(socket), local);
    readProxyHeader(socket, PROXY_HEADER_MS, (r) => {
      if (r === null) {
        recordError(rec.target, undefined, 'proxy_protocol');
        socket.destroy();
        return;
      }
      splice(socket, r.rest, rec.target, ctx, r.client, local);
    });
  };

  /** Binds `rec` (again after REBIND_MS when it cannot, while it is still wanted). */
  const bind = (key: string, rec: Open): void => {
    const name = listenerName(rec.protocol, rec.port);
    const failed = (err: NodeJS.ErrnoException): void => {
      metrics?.listenError(name);
      log.error({ listener: name, address: host, port: rec.port, err: err.message, retryInMs: rebindMs }, 'cannot listen on a Layer 4 port; trying again');
      rec.retry = setTimeout(() => {
        rec.retry = null;
        if (open.get(key) !== rec || closing) return;
        // a dgram socket cannot bind twice: a new one
        if (rec.protocol === 'UDP') rec.service = makeUdp(rec.port, () => rec.target, key);
        bind(key, rec);
      }, rebindMs);
      rec.retry.unref();
    };
    if (rec.protocol === 'UDP') {
      rec.service.listen().then((port) => log.info({ listener: name, address: host, port }, 'listening'), failed);
      return;
    }
    rec.front.listen(rec.port, host).then((port) => log.info({ listener: name, address: host, port, sockets: rec.front.sockets }, 'listening'), failed);
  };

  const makeUdp = (port: number, target: () => L4Target, key: string): UdpService =>
    createUdpService({
      port,
      host,
      target,
      balancer: o.balancer,
      stats: o.stats,
      idleTimeout: config.proxyStreamTimeout,
      maxFlows: config.udpMaxFlows,
      sessions,
      recordError,
      onError: (err) => {
        log.error({ listener: listenerName('UDP', port), err: err.message }, 'UDP listener failed; binding it again');
        const rec = open.get(key);
        if (rec?.protocol !== 'UDP' || closing) return;
        rec.service = makeUdp(port, () => rec.target, key);
        bind(key, rec);
      },
    });

  /** Listening sockets per port: several with SO_REUSEPORT, as the HTTP ports have (listeners.ts). */
  const sockets = listenSockets(config.reusePort);
  /** A port's listener: `make(admit)` is one socket's server; with several, `admit` counts --max-connections across them. */
  const tcpListener = (make: (admit?: Admit) => Server): PortListener =>
    portListener(
      (admit) => {
        const server = make(admit);
        if (admit === undefined && config.maxConnections > 0) server.maxConnections = config.maxConnections;
        return server;
      },
      sockets,
      config.maxConnections,
      o.claim,
    );
  const tcpServer = (handler: (s: Socket) => void, admit: Admit | undefined): Server => createServer({ allowHalfOpen: true }, admit === undefined ? handler : (s) => void (admit(s) && handler(s)));

  const openListener = (key: string, l: L4Listener, target: L4Target | null): void => {
    let rec: Open;
    if (l.protocol === 'TCP') {
      const decode = l.proxyProtocol?.decode ?? (l.route.source.kind !== 'ConfigMap' && config.useProxyProtocol);
      const tcp: Extract<Open, { protocol: 'TCP' }> = { protocol: 'TCP', port: l.port, decode, target: target as L4Target, front: tcpListener((admit) => tcpServer((s) => onTcp(tcp, s), admit)), retry: null };
      rec = tcp;
    } else if (l.protocol === 'TLS') {
      const passthrough = sniFront(l.port, listenerName('TLS', l.port), null);
      const front = tcpListener((admit) => (config.useProxyProtocol ? proxyProtocolFront(passthrough, false, admit) : tcpServer((s) => passthrough.emit('connection', s), admit)));
      rec = { protocol: 'TLS', port: l.port, front, retry: null };
    } else {
      const udp: Extract<Open, { protocol: 'UDP' }> = { protocol: 'UDP', port: l.port, target: target as L4Target, service: makeUdp(l.port, () => udp.target, key), retry: null };
      rec = udp;
    }
    open.set(key, rec);
    bind(key, rec);
  };

  const closeListener = (key: string, rec: Open): void => {
    open.delete(key);
    if (rec.retry !== null) clearTimeout(rec.retry);
    if (rec.protocol === 'UDP') rec.service.close();
    else rec.front.close();
    log.info({ listener: listenerName(rec.protocol, rec.port), port: rec.port }, 'listener closed');
  };

  let sweepPending = false;
  const sweep = (): void => {
    sweepPending = false;
    for (const s of sessions) {
      const listed = o.live.endpoints(s.backend)?.some((e) => endpointKey(e.ip, e.port) === s.endpoint) ?? false;
      if (listed) {
        if (s.cut !== null) {
          clearTimeout(s.cut);
          s.cut = null;
        }
      } else if (s.cut === null) {
        s.cut = setTimeout(() => s.close('endpoint_removed'), config.shutdownTimeout);
        s.cut.unref();
      }
    }
  };

  return {
    apply(table) {
      const l4 = table.l4;
      const compiled: L4Target[] = [];
      const want = new Map<string, { l: L4Listener; target: L4Target | null }>();
      for (const l of l4?.listeners ?? []) {
        if (l.protocol === 'UDP' && !o.udp) continue;
        const target = l.protocol === 'TLS' ? null : compileL4(l.route, table, listenerName(l.protocol, l.port), l.protocol, o.live, metrics, l.protocol === 'TCP' && l.proxyProtocol?.encode === true);
        if (target !== null) compiled.push(target);
        want.set(`${l.protocol}/${l.port}`, { l, target });
      }
      const tlsOnly = new Set((l4?.listeners ?? []).filter((l) => l.protocol === 'TLS').map((l) => l.port));
      sni = compileSni(l4?.sni ?? [], (r: SniRoute) => {
        const t = compileL4(r, table, r.port === 443 ? 'https' : tlsOnly.has(r.port) ? listenerName('TLS', r.port) : `https/${r.port}`, 'TCP', o.live, metrics);
        compiled.push(t);
        return t;
      });
      targets = compiled;
      if (closing) return;
      for (const [key, rec] of open) {
        const w = want.get(key);
        if (w === undefined || (rec.protocol === 'TCP' && w.l.protocol === 'TCP' && rec.decode !== (w.l.proxyProtocol?.decode ?? (w.l.route.source.kind !== 'ConfigMap' && config.useProxyProtocol)))) {
          closeListener(key, rec);
          continue;
        }
        // one assignment: new connections and flows take the new route
        if (rec.protocol !== 'TLS' && w.target !== null) rec.target = w.target;
      }
      for (const [key, w] of want) if (!open.has(key)) openListener(key, w.l, w.target);
    },
    endpointsChanged() {
      if (sweepPending || sessions.size === 0) return;
      sweepPending = true;
      setImmediate(sweep);
    },
    front: (port, tls) => sniFront(port, port === 443 ? 'https' : `https/${port}`, tls),
    endpoints() {
      const keys = new Set<string>();
      for (const t of targets) for (const b of t.backends) for (const e of b.slot.endpoints) keys.add(endpointKey(e.ip, e.port));
      return keys;
    },
    sessions: () => sessions.size,
    startDraining() {
      // the grace period: listeners keep accepting (as the HTTP ones do) while load balancers notice
    },
    async close(deadline) {
      closing = true;
      for (const [key, rec] of [...open]) {
        if (rec.protocol === 'UDP') {
          // the socket stays (replies go out through it) until the flows are done
          rec.service.startDraining();
          if (rec.retry !== null) clearTimeout(rec.retry);
          continue;
        }
        closeListener(key, rec);
      }
      while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const s of [...sessions]) s.close('shutdown');
      for (const [key, rec] of [...open]) closeListener(key, rec);
    },
  };
}
