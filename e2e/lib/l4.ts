/**
 * Layer 4 test pods and clients on loopback addresses: a TCP echo server (which records PROXY
 * protocol lines), a UDP echo server (answers prefixed with its name), a TLS server with its own
 * certificate, free ports, and a TCP exchange with a bounded wait.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

/** A port free for both TCP and UDP on `ip` (bound, then released). */
export async function freePort(ip: string): Promise<number> {
  for (;;) {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, ip, () => r()));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    const u = createSocket('udp4');
    const ok = await new Promise<boolean>((r) => {
      u.once('error', () => r(false));
      u.bind(port, ip, () => r(true));
    });
    u.close();
    if (ok) return port;
  }
}

export interface TcpPod {
  readonly ip: string;
  readonly port: number;
  readonly name: string;
  /** Connections accepted. */
  connections: number;
  /** PROXY protocol lines received at the start of connections. */
  readonly proxyLines: string[];
  /** Connections open now. */
  readonly sockets: Set<Socket>;
  /** The first word each open connection sent (after any PROXY line): which clients are here now. */
  tags(): string[];
  close(): Promise<void>;
}

/**
 * A TCP echo pod: echoes every byte, and ends its side once the client has ended its own (after
 * echoing everything). A connection starting with a PROXY v1 line has the line recorded and not echoed.
 */
export async function startTcpEcho(ip: string, name = ip): Promise<TcpPod> {
  const sockets = new Set<Socket>();
  const tags = new Map<Socket, string>();
  const pod: TcpPod = {
    ip,
    port: 0,
    name,
    connections: 0,
    proxyLines: [],
    sockets,
    tags: () => [...tags.values()],
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  const server: Server = createServer({ allowHalfOpen: true }, (s) => {
    pod.connections++;
    sockets.add(s);
    s.on('close', () => {
      sockets.delete(s);
      tags.delete(s);
    });
    s.on('error', () => s.destroy());
    let first = true;
    let pending = Buffer.alloc(0);
    s.on('data', (chunk: Buffer) => {
      if (first) {
        pending = Buffer.concat([pending, chunk]);
        if (pending.length < 6 && 'PROXY '.startsWith(pending.toString('latin1'))) return;
        first = false;
        let rest = pending;
        if (pending.subarray(0, 6).toString('latin1') === 'PROXY ') {
          const end = pending.indexOf('\r\n');
          if (end === -1) {
            first = true;
            return;
          }
          pod.proxyLines.push(pending.subarray(0, end).toString('latin1'));
          rest = pending.subarray(end + 2);
        }
        tags.set(s, rest.toString('latin1').split(/\s/)[0] ?? '');
        if (rest.length > 0) s.write(rest);
        return;
      }
      s.write(chunk);
    });
    s.on('end', () => s.end());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, ip, () => resolve());
  });
  (pod as { port: number }).port = (server.address() as AddressInfo).port;
  return pod;
}

/** Sends `payload` on a new connection, half-closes, and resolves with everything received until the server ends. */
export function tcpExchange(host: string, port: number, payload: Buffer | string, timeoutMs = 10_000): Promise<{ data: Buffer; ended: boolean }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect({ host, port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no end from ${host}:${port} within ${timeoutMs} ms (got ${Buffer.concat(chunks).length} bytes)`));
    }, timeoutMs);
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('end', () => {
      clearTimeout(timer);
      s.end();
      resolve({ data: Buffer.concat(chunks), ended: true });
    });
    s.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    s.on('connect', () => s.end(payload));
  });
}

/** Whether a connection to host:port is refused or closed before a byte comes back (a rejection). */
export function rejected(host: string, port: number, send: Buffer | string = 'hello', timeoutMs = 5000): Promise<'refused' | 'closed' | 'answered'> {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    const timer = setTimeout(() => {
      s.destroy();
      resolve('answered');
    }, timeoutMs);
    s.on('connect', () => s.write(send));
    s.on('data', () => {
      clearTimeout(timer);
      s.destroy();
      resolve('answered');
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve(err.code === 'ECONNREFUSED' ? 'refused' : 'closed');
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve('closed');
    });
  });
}

export interface UdpPod {
  readonly ip: string;
  readonly port: number;
  readonly name: string;
  /** Datagrams received, by sender `address:port`. */
  readonly senders: Map<string, number>;
  close(): void;
}

/** A UDP echo pod: answers each datagram with `<name>:<datagram>` to its sender. */
export async function startUdpEcho(ip: string, name = ip): Promise<UdpPod> {
  const socket: UdpSocket = createSocket('udp4');
  const senders = new Map<string, number>();
  socket.on('message', (msg, r) => {
    const k = `${r.address}:${r.port}`;
    senders.set(k, (senders.get(k) ?? 0) + 1);
    socket.send(Buffer.concat([Buffer.from(`${name}:`), msg]), r.port, r.address);
  });
  await new Promise<void>((r) => socket.bind(0, ip, () => r()));
  return { ip, port: socket.address().port, name, senders, close: () => socket.close() };
}

/** A UDP client on its own socket (one source port: one flow). */
export async function udpClient(ip = '127.0.210.250'): Promise<{ ask(port: number, host: string, msg: string, timeoutMs?: number): Promise<string | null>; close(): void }> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, ip, () => r()));
  const waiting: ((m: string) => void)[] = [];
  socket.on('message', (m) => waiting.shift()?.(m.toString()));
  return {
    ask: (port, host, msg, timeoutMs = 2000) =>
      new Promise((resolve) => {
        const timer = setTimeout(() => {
          const i = waiting.indexOf(done);
          if (i >= 0) waiting.splice(i, 1);
          resolve(null);
        }, timeoutMs);
        const done = (m: string): void => {
          clearTimeout(timer);
          resolve(m);
        };
        waiting.push(done);
        socket.send(msg, port, host);
      }),
    close: () => socket.close(),
  };
}

export interface TlsPod {
  readonly ip: string;
  readonly port: number;
  /** The server names (SNI) its clients asked for. */
  readonly names: string[];
  readonly sockets: Set<TLSSocket>;
  close(): Promise<void>;
}

/** A pod that terminates TLS itself with `cert`, then echoes, first saying `pod <name> sni=<servername>\n`. */
export async function startTlsPod(ip: string, name: string, cert: { certPem: string; keyPem: string }): Promise<TlsPod> {
  const names: string[] = [];
  const sockets = new Set<TLSSocket>();
  const server = createTlsServer({ cert: cert.certPem, key: cert.keyPem, allowHalfOpen: true }, (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    const sni = (s as TLSSocket & { servername?: string | false }).servername || '';
    names.push(sni);
    s.on('error', () => s.destroy());
    s.write(`pod ${name} sni=${sni}\n`);
    s.on('data', (c: Buffer) => s.write(c));
    s.on('end', () => s.end());
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  return {
    ip,
    port: (server.address() as AddressInfo).port,
    names,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
