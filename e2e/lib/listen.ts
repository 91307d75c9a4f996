/** Test servers ("pods") listening on a loopback address, with every connection tracked so that close() ends them. */
import type { AddressInfo, Server, Socket } from 'node:net';

export interface Listening {
  /** The port it got (it asked for any free one). */
  readonly port: number;
  /** The open connections. */
  readonly sockets: ReadonlySet<Socket>;
  /** Destroys every open connection, then closes the server. */
  close(): Promise<void>;
}

/** Tracks `server`'s connections and listens on `ip`, port 0; rejects when it cannot listen. */
export async function listen(server: Server, ip: string): Promise<Listening> {
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, ip, () => resolve());
  });
  return {
    port: (server.address() as AddressInfo).port,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
