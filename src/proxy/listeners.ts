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
 * port is first bound exclusively for a moment: a port in use fails as it does with one socket.
 */
import cluster from 'node:cluster';
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
 * How many listening sockets each HTTP/HTTPS port gets: 1 with `--reuse-port=false`, on a Node
 * without SO_REUSEPORT, and in a `--workers` process (node:cluster's primary holds the socket and
 * hands connections out).
 */
export function listenSockets(reusePort: boolean, version?: string, worker: boolean = cluster.isWorker): number {
  return reusePort && !worker && reusePortSupported(version) ? REUSE_PORT_SOCKETS : 1;
}

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
 */
export function portListener(make: (admit?: Admit) => Front, sockets: number, maxConnections: number): PortListener {
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
  const many = fronts.length > 1;
  return {
    sockets: fronts.length,
    async listen(port, host) {
      if (!many) return bind(first, { port, host });
      if (port !== 0) await probe(port, host);
      const at = await bind(first, { port, host, reusePort: true });
      try {
        for (const f of fronts.slice(1)) await bind(f, { port: at, host, reusePort: true });
      } catch (err) {
        for (const f of fronts) if (f.listening) f.close();
        throw err;
      }
      return at;
    },
    is: (server) => fronts.length === 1 && first === server,
    close() {
      for (const f of fronts) if (f.listening) f.close();
    },
  };
}

function bind(front: Front, options: { port: number; host: string; reusePort?: boolean }): Promise<number> {
  return new Promise((resolve, reject) => {
    front.once('error', reject);
    front.listen(options, () => {
      front.off('error', reject);
      resolve((front.address() as AddressInfo).port);
    });
  });
}

/** Binds `port` without SO_REUSEPORT and lets it go: EADDRINUSE if any process holds it. */
function probe(port: number, host: string): Promise<void> {
  const s = createServer();
  return bind(s, { port, host }).then(() => new Promise<void>((r) => s.close(() => r())));
}
