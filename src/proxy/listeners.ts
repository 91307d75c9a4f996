/**
 * The listening sockets of one HTTP or HTTPS port. libuv accepts one connection per listening
 * socket per event-loop turn (libuv#3696, Node 20.3 and later), and a turn of a busy proxy takes
 * milliseconds: a burst of new connections (a load balancer's pool opening, clients coming back
 * after a restart) waits in the backlog, one connection per turn. With SO_REUSEPORT (Node 22.12
 * and 23.1 on; the image's Node) a port gets several listening sockets in this process, the kernel
 * spreads new connections over them, and a turn accepts one from each: ingress-nginx's
 * `reuse-port`, there per worker process, here per socket.
 *
 * Binding with SO_REUSEPORT would also succeed next to another process of the same user that
 * holds the port the same way, and the two would share connections without a word. So a fixed
 * port is first claimed: bound exclusively for a moment, and a port in use fails as it does with
 * one socket.
 *
 * Under `--workers N` each worker binds its own sockets (nginx's reuseport with worker processes:
 * the kernel spreads connections over every worker's sockets, and node:cluster's primary accepts
 * nothing). There the probe cannot be each worker's own (the second worker's would find the
 * first's sockets), so workers claim a port from the primary ({@link createPortClaims}): it probes
 * a port once, while no worker holds it, and lets the others join.
 */
import type { Http2SecureServer } from 'node:http2';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';

/** Listening sockets per port where SO_REUSEPORT is available. */
export const REUSE_PORT_SOCKETS = 16;

/** Whether this Node takes `reusePort` in listen() (v22.12.0, v23.1.0); older versions ignore it, and a second bind fails. */
export function reusePortSupported(version: string = process.versions.node): boolean {
  const [major = 0, minor = 0] = version.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

/**
 * How many listening sockets each TCP port gets (in each `--workers` process): 1 with
 * `--reuse-port=false` and on a Node without SO_REUSEPORT (where, under `--workers`, node:cluster's
 * primary holds the socket and hands connections out).
 */
export function listenSockets(reusePort: boolean, version?: string): number {
  return reusePort && reusePortSupported(version) ? REUSE_PORT_SOCKETS : 1;
}

/**
 * Makes sure no other process holds `port` before this one binds it with SO_REUSEPORT; resolves
 * with the port to bind (0 stays 0: the first socket picks one) and a release for when the sockets
 * close. In one process: {@link probeClaim}; in a `--workers` process: a question to the primary.
 */
export type Claim = (port: number, host: string) => Promise<Claimed>;
export interface Claimed {
  readonly port: number;
  release(): void;
}

/** One process's claim: a fixed port is bound exclusively for a moment (EADDRINUSE if any process holds it). */
export const probeClaim: Claim = async (port, host) => {
  if (port !== 0) await probe(port, host);
  return { port, release: () => {} };
};

/** Takes or refuses an accepted connection, counting the ones open across every socket of a port. */
export type Admit = (socket: Socket) => boolean;

type Front = NetServer | Http2SecureServer;

export interface PortListener {
  /** How many sockets listen (1, or {@link REUSE_PORT_SOCKETS}). */
  readonly sockets: number;
  /** Binds every socket; resolves with the port (the one the first socket got, for port 0). */
  listen(port: number, host: string): Promise<number>;
  /** Whether `server` is itself the listening socket (no front of its own): closing it closes the listener. */
  is(server: unknown): boolean;
  /** Stops accepting on every socket. */
  close(): void;
}

/**
 * `make(admit)` builds one listening front; called once per socket. With several sockets and a
 * connection limit, `admit` counts connections across them (Node's `maxConnections` counts per
 * socket); a front that cannot be made again (`make` returns the same object) listens alone.
 * `claim`: how a port is made sure of before SO_REUSEPORT binds (a `--workers` process passes the
 * primary's); with one, even a lone socket binds with SO_REUSEPORT, next to the other workers'.
 */
export function portListener(make: (admit?: Admit) => Front, sockets: number, maxConnections: number, claim?: Claim): PortListener {
  let open = 0;
  const onClose = (): void => void open--;
  const admit: Admit | undefined =
    sockets > 1 && maxConnections > 0
      ? (socket) => {
          if (open >= maxConnections) {
            socket.destroy();
            return false;
          }
          open++;
          socket.once('close', onClose);
          return true;
        }
      : undefined;
  const first = make(admit);
  const fronts: Front[] = [first];
  for (let i = 1; i < sockets; i++) {
    const f = make(admit);
    if (f === first) break;
    fronts.push(f);
  }
  const reuse = fronts.length > 1 || (sockets > 1 && claim !== undefined);
  let held: Claimed | null = null;
  const closeAll = (): void => {
    for (const f of fronts) if (f.listening) f.close();
    held?.release();
    held = null;
  };
  return {
    sockets: fronts.length,
    async listen(port, host) {
      if (!reuse) return bind(first, { port, host });
      const claimed = await (claim ?? probeClaim)(port, host);
      held = claimed;
      try {
        // exclusive: a node:cluster worker binds the socket itself instead of asking the primary for a shared one
        const at = await bind(first, { port: claimed.port, host, reusePort: true, exclusive: true });
        for (const f of fronts.slice(1)) await bind(f, { port: at, host, reusePort: true, exclusive: true });
        return at;
      } catch (err) {
        closeAll();
        throw err;
      }
    },
    is: (server) => fronts.length === 1 && first === server,
    close: closeAll,
  };
}

function bind(front: Front, options: { port: number; host: string; reusePort?: boolean; exclusive?: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(options, () => {
      front.off('error', reject);
      resolve((front.address() as AddressInfo).port);
    });
  });
}

/** Binds `port` without SO_REUSEPORT and lets it go: EADDRINUSE if any process holds it; resolves with the port (port 0: the one the kernel picked). */
function probe(port: number, host: string): Promise<number> {
  const s = createServer();
  return bind(s, { port, host }).then((at) => new Promise<number>((r) => s.close(() => r(at))));
}

/**
 * The primary's side of `--workers` claims. A port no worker holds is probed, once however many
 * workers ask at the same moment (a second probe would find the first's socket); while a worker
 * holds it, others join without a probe (theirs would find the holder's sockets). Port 0 resolves
 * to the port the probe got. Holder 0 is the primary itself: the HTTP and HTTPS ports, claimed
 * before any worker starts, so that a port in use fails start-up and every worker binds the same.
 */
export interface PortClaims {
  /** Resolves with the port `holder` may bind with SO_REUSEPORT; rejects (EADDRINUSE) when another process holds it. */
  claim(holder: number, port: number, host: string): Promise<number>;
  release(holder: number, port: number, host: string): void;
  /** A worker that exited holds nothing. */
  forget(holder: number): void;
}

export function createPortClaims(check: (port: number, host: string) => Promise<number> = probe): PortClaims {
  const holders = new Map<string, Set<number>>();
  const probing = new Map<string, Promise<number>>();
  const keyOf = (port: number, host: string): string => `${host} ${port}`;
  const hold = (holder: number, key: string): void => {
    const set = holders.get(key);
    if (set === undefined) holders.set(key, new Set([holder]));
    else set.add(holder);
  };
  return {
    async claim(holder, port, host) {
      const key = keyOf(port, host);
      for (;;) {
        const pending = probing.get(key);
        if (pending === undefined) break;
        await pending.catch(() => undefined);
      }
      if ((holders.get(key)?.size ?? 0) > 0) {
        hold(holder, key);
        return port;
      }
      const probed = check(port, host);
      if (port !== 0) probing.set(key, probed);
      try {
        const at = await probed;
        hold(holder, keyOf(at, host));
        return at;
      } finally {
        if (probing.get(key) === probed) probing.delete(key);
      }
    },
    release(holder, port, host) {
      const key = keyOf(port, host);
      const set = holders.get(key);
      set?.delete(holder);
      if (set?.size === 0) holders.delete(key);
    },
    forget(holder) {
      for (const [key, set] of holders) {
        set.delete(holder);
        if (set.size === 0) holders.delete(key);
      }
    },
  };
}
