/**
 * A UDP service: datagrams from each client address (a flow) go to one endpoint, picked when the
 * flow starts, through a socket of the flow's own (connected to the endpoint, so the pod's port
 * unreachable comes back as an error and counts against it); replies go back to the client from
 * the listener's port. A flow idle for `idleTimeout` in both directions is closed; the table is
 * bounded (`maxFlows`: the least recently active flow gives way to a new one). Nothing throws
 * into the event loop.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Balancer } from '../balance.js';
import { endpointKey } from '../pools.js';
import type { EndpointStats } from '../stats.js';
import type { Session } from './tcp.js';
import { choose } from '../weighted.js';
import type { L4BackendTarget, L4Target } from './targets.js';

/** Flows at most per UDP listener (each holds a socket). */
export const MAX_FLOWS = 4096;
/** Datagrams held per flow while its socket connects. */
const QUEUE = 64;

export interface UdpServiceOptions {
  readonly port: number;
  readonly host: string;
  /** The listener's live route. */
  readonly target: () => L4Target;
  readonly balancer: Balancer;
  readonly stats: EndpointStats;
  readonly idleTimeout: number;
  readonly maxFlows?: number;
  /** Flows, as sessions: draining and endpoint removal find them here. */
  readonly sessions: Set<Session>;
  readonly recordError: (t: L4Target, b: L4BackendTarget | undefined, cause: string) => void;
  /** The socket failed after binding (it is closed; the caller may bind again). */
  readonly onError: (err: Error) => void;
}

export interface UdpService {
  /** Binds the port; rejects when it cannot. */
  listen(): Promise<number>;
  /** New clients are no longer given flows; existing flows go on. */
  startDraining(): void;
  /** Closes every flow and the socket. */
  close(): void;
  /** Flows open now. */
  readonly size: () => number;
}

interface Flow extends Session {
  readonly up: UdpSocket;
  readonly bt: L4BackendTarget;
  readonly target: L4Target;
  readonly t0: number;
  last: number;
  queue: Buffer[] | null;
  replied: boolean;
}

export function createUdpService(o: UdpServiceOptions): UdpService {
  const max = o.maxFlows ?? MAX_FLOWS;
  const server = createSocket({ type: isIP(o.host) === 6 ? 'udp6' : 'udp4' });
  /** By client `address|port`, least recently active first. */
  const flows = new Map<string, Flow>();
  let draining = false;
  let closed = false;

  const end = (key: string, f: Flow, cause: string | null): void => {
    if (flows.get(key) !== f) return;
    flows.delete(key);
    o.sessions.delete(f);
    if (f.cut !== null) clearTimeout(f.cut);
    if (cause !== null) o.recordError(f.target, f.bt, cause);
    f.bt.udp?.active.dec();
    f.bt.udp?.duration.observe((performance.now() - f.t0) / 1000);
    try {
      f.up.close();
    } catch {
      // already closed
    }
  };

  const open = (key: string, rinfo: RemoteInfo, msg: Buffer): void => {
    const target = o.target();
    const bt = choose(target);
    if (bt === undefined || bt.backend === undefined) return o.recordError(target, bt, 'rejected');
    const ep = o.balancer.pick(bt.backend.id, bt.slot.endpoints);
    if (ep === undefined) return o.recordError(target, bt, 'no_endpoints');
    if (flows.size >= max) {
      const [oldest, f] = flows.entries().next().value as [string, Flow];
      end(oldest, f, 'flow_evicted');
    }
    const endpoint = endpointKey(ep.ip, ep.port);
    const up = createSocket({ type: isIP(ep.ip) === 6 ? 'udp6' : 'udp4' });
    const flow: Flow = {
      backend: bt.backend.id,
      endpoint,
      cut: null,
      up,
      bt,
      target,
      t0: performance.now(),
      last: Date.now(),
      queue: [msg],
      replied: false,
      close: (cause) => end(key, flow, cause),
    };
    flows.set(key, flow);
    o.sessions.add(flow);
    bt.udp?.flows.inc();
    bt.udp?.active.inc();
    up.on('error', (err: NodeJS.ErrnoException) => {
      // on a connected socket, ICMP port unreachable arrives as ECONNREFUSED
      o.stats.failure(endpoint, err.code === 'ECONNREFUSED' ? 'unreachable' : (err.code ?? 'error'));
      end(key, flow, err.code === 'ECONNREFUSED' ? 'unreachable' : 'upstream_error');
    });
    up.on('message', (reply: Buffer) => {
      if (closed) return;
      flow.last = Date.now();
      if (!flow.replied) {
        flow.replied = true;
        o.stats.success(endpoint);
      }
      bt.udp?.sentDatagrams.inc();
      bt.udp?.sent.inc(reply.length);
      server.send(reply, rinfo.port, rinfo.address, () => {});
    });
    up.connect(ep.port, ep.ip, () => {
      const q = flow.queue ?? [];
      flow.queue = null;
      for (const m of q) up.send(m, () => {});
    });
  };

  server.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    if (closed) return;
    const key = `${rinfo.address}|${rinfo.port}`;
    const f = flows.get(key);
    if (f !== undefined) {
      // most recently active last: the first entry is the one to evict
      flows.delete(key);
      flows.set(key, f);
      f.last = Date.now();
      f.bt.udp?.receivedDatagrams.inc();
      f.bt.udp?.received.inc(msg.length);
      if (f.queue === null) f.up.send(msg, () => {});
      else if (f.queue.length < QUEUE) f.queue.push(msg);
      else o.recordError(f.target, f.bt, 'queue_full');
      return;
    }
    if (draining) return o.recordError(o.target(), undefined, 'draining');
    open(key, rinfo, msg);
    const made = flows.get(key);
    made?.bt.udp?.receivedDatagrams.inc();
    made?.bt.udp?.received.inc(msg.length);
  });

  const sweep = setInterval(() => {
    const idleBefore = Date.now() - o.idleTimeout;
    for (const [key, f] of flows) if (f.last <= idleBefore) end(key, f, null);
  }, Math.max(50, Math.min(1000, Math.floor(o.idleTimeout / 4))));
  sweep.unref();

  return {
    listen: () =>
      new Promise((resolve, reject) => {
        const onError = (err: Error): void => {
          server.off('listening', onListening);
          reject(err);
        };
        const onListening = (): void => {
          server.off('error', onError);
          server.on('error', (err) => {
            if (closed) return;
            close();
            o.onError(err);
          });
          resolve(server.address().port);
        };
        server.once('error', onError);
        server.once('listening', onListening);
        // exclusive: with --workers, one process binds it (node:cluster would share one socket among
        // workers, and a client's datagrams would reach different flows)
        server.bind({ port: o.port, address: o.host, exclusive: true });
      }),
    startDraining() {
      draining = true;
    },
    close,
    size: () => flows.size,
  };

  function close(): void {
    if (closed) return;
    closed = true;
    clearInterval(sweep);
    for (const [key, f] of [...flows]) end(key, f, null);
    try {
      server.close();
    } catch {
      // never bound, or closed
    }
  }
}
