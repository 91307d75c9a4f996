/**
 * Splicing one TCP connection to a pod: a backend by weight, an endpoint round-robin (passive
 * health skips ejected ones), a connect with a timeout, retried on another endpoint when refused
 * or timed out (passive ejection counts the failure), then bytes both ways with back-pressure
 * (pipe), half-close kept (a client's FIN reaches the pod, which may still answer), an idle
 * timeout, and any error closing both sides. Nothing here throws into the event loop: every
 * socket has an error handler. Live sessions are registered so that draining and endpoint removal
 * can find them.
 */
import { connect, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import type { Endpoint } from '../../model/types.js';
import type { Balancer } from '../balance.js';
import { endpointKey } from '../pools.js';
import type { EndpointStats } from '../stats.js';
import { proxyV1, type Peer } from './proxy-header.js';
import { choose } from '../weighted.js';
import type { L4BackendTarget, L4Target } from './targets.js';

/** A spliced connection, as draining and endpoint removal see it. */
export interface Session {
  /** The backend id and endpoint (`ip:port`) it reached. */
  readonly backend: string;
  readonly endpoint: string;
  /** Closes both sides (`cause` is recorded). */
  close(cause: string): void;
  /** Set while the session is condemned (its endpoint left the live list): the cut, unless it comes back. */
  cut: NodeJS.Timeout | null;
}

export interface SpliceContext {
  readonly balancer: Balancer;
  readonly stats: EndpointStats;
  readonly connectTimeout: number;
  /** Endpoints tried at most, per connection. */
  readonly tries: number;
  /** Both directions idle this long: closed. */
  readonly idleTimeout: number;
  readonly sessions: Set<Session>;
  readonly log: Logger;
  readonly recordError: (t: L4Target, b: L4BackendTarget | undefined, cause: string) => void;
}

const causeOf = (err: NodeJS.ErrnoException): string =>
  err.code === 'ECONNREFUSED' ? 'connect_refused' : err.code === 'ETIMEDOUT' ? 'connect_timeout' : err.code === 'ECONNRESET' ? 'reset' : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH' ? 'unreachable' : 'connect_error';

/**
 * Splices `client` (paused, or not yet read) to an endpoint of `target`. `head`: bytes already
 * read from the client (a ClientHello, what followed a PROXY header), written first. `peer`: the
 * client as a PROXY header named it, else its socket's peer; `local`: the address it connected to.
 */
export function splice(client: Socket, head: Buffer | null, target: L4Target, ctx: SpliceContext, peer: Peer, local: Peer): void {
  client.allowHalfOpen = true; // a client's FIN must not end the pod's answer
  let closed = false;
  let upstream: Socket | null = null;
  const onClientError = (): void => {
    closed = true;
    upstream?.destroy();
    client.destroy();
  };
  client.on('error', onClientError);
  client.once('close', () => {
    closed = true;
    if (upstream !== null && !upstream.destroyed && !connected) upstream.destroy();
  });
  let connected = false;

  const bt = choose(target);
  if (bt === undefined || bt.backend === undefined) {
    // an invalid backendRef's share, or no backend: rejected as the Gateway API asks (a reset, not a TLS alert)
    ctx.recordError(target, bt, 'rejected');
    client.resetAndDestroy();
    return;
  }
  const backend = bt.backend;
  const tried: Endpoint[] = [];

  const fail = (cause: string): void => {
    ctx.recordError(target, bt, cause);
    if (!client.destroyed) client.resetAndDestroy();
  };

  const attempt = (): void => {
    if (closed) return;
    const all = bt.slot.endpoints;
    const candidates = tried.length === 0 ? all : all.filter((e) => !tried.some((t) => t.ip === e.ip && t.port === e.port));
    const ep = ctx.balancer.pick(backend.id, candidates);
    if (ep === undefined) return fail(tried.length === 0 ? 'no_endpoints' : 'all_endpoints_failed');
    tried.push(ep);
    const key = endpointKey(ep.ip, ep.port);
    const up = connect({ host: ep.ip, port: ep.port, allowHalfOpen: true });
    upstream = up;
    const timer = setTimeout(() => up.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), ctx.connectTimeout);
    const onConnectError = (err: NodeJS.ErrnoException): void => {
      clearTimeout(timer);
      up.destroy();
      if (closed) return;
      const cause = causeOf(err);
      ctx.stats.failure(key, cause);
      ctx.recordError(target, bt, cause);
      if (tried.length < ctx.tries && bt.slot.endpoints.length > tried.length) attempt();
      else if (!client.destroyed) client.resetAndDestroy();
    };
    up.once('error', onConnectError);
    up.once('connect', () => {
      clearTimeout(timer);
      up.off('error', onConnectError);
      if (closed) return void up.destroy();
      connected = true;
      ctx.stats.success(key);
      established(up, key);
    });
  };

  const established = (up: Socket, key: string): void => {
    const t0 = performanceNow();
    const series = bt.tcp;
    series?.connections.inc();
    series?.open.inc();
    const session: Session = {
      backend: backend.id,
      endpoint: key,
      cut: null,
      close(cause) {
        if (client.destroyed && up.destroyed) return;
        ctx.recordError(target, bt, cause);
        client.destroy();
        up.destroy();
      },
    };
    ctx.sessions.add(session);
    let ended = 0;
    const done = (): void => {
      if (++ended < 2) return;
      ctx.sessions.delete(session);
      if (session.cut !== null) clearTimeout(session.cut);
      series?.open.dec();
      series?.duration.observe((performanceNow() - t0) / 1000);
      series?.received.inc(client.bytesRead);
      series?.sent.inc(client.bytesWritten);
    };
    client.once('close', done);
    up.once('close', done);
    up.on('error', (err: NodeJS.ErrnoException) => {
      // the pod reset or failed: the client gets a reset too, as it would talking to the pod
      if (err.code === 'ECONNRESET') ctx.recordError(target, bt, 'reset');
      if (!client.destroyed) client.resetAndDestroy();
    });
    client.off('error', onClientError);
    client.on('error', () => {
      if (!up.destroyed) up.resetAndDestroy();
    });
    client.setTimeout(ctx.idleTimeout, () => session.close('idle'));
    if (target.encode) up.write(proxyV1(peer, local));
    if (head !== null && head.length > 0) up.write(head);
    client.pipe(up);
    up.pipe(client);
    client.resume();
  };

  attempt();
}

const performanceNow = (): number => performance.now();
