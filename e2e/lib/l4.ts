/**
 * Layer 4 test pods and clients on loopback addresses: a TCP echo server (which records PROXY
 * protocol lines), a UDP echo server (answers prefixed with its name), a TLS server with its own
 * certificate, free ports, a TCP exchange with a bounded wait, and a backend's endpoints as
 * /debug/backends lists them.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { get } from './http.js';

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

/** The endpoint addresses of a backend in /debug/backends, sorted. */
export async function endpointsOf(adminPort: number, id: string): Promise<string[]> {
  const view = JSON.parse((await get(adminPort, '/debug/backends')).body) as { backends: { id: string; endpoints: { address: string }[] }[] };
  return (view.backends.find((b) => b.id === id)?.endpoints ?? []).map((e) => e.address).sort();
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
  // every connection, handshake done or not, is closed with the pod (close() would wait for one left mid-handshake)
  const raw = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    raw.add(s);
    s.on('close', () => raw.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  return {
    ip,
    port: (server.address() as AddressInfo).port,
    names,
    sockets,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        for (const s of raw) s.destroy();
        server.close(() => r());
      }),
  };
}

/** The first flight a TLS client sends (its ClientHello record(s)) for `servername`, captured by a throwaway server on `ip`. */
export async function captureClientHello(ip: string, servername: string | null, extra: Record<string, unknown> = {}): Promise<Buffer> {
  const { connect: tlsConnect } = await import('node:tls');
  return new Promise((resolve, reject) => {
    const server = createServer((s) => {
      s.once('data', (d: Buffer) => {
        // wait a moment for the rest of the flight (a large hello spans segments)
        const chunks = [d];
        s.on('data', (c: Buffer) => chunks.push(c));
        setTimeout(() => {
          s.destroy();
          server.close();
          resolve(Buffer.concat(chunks));
        }, 50);
      });
    });
    server.listen(0, ip, () => {
      const c = tlsConnect({ host: ip, port: (server.address() as AddressInfo).port, rejectUnauthorized: false, ...(servername !== null ? { servername } : {}), ...extra });
      c.on('error', () => {});
    });
    server.on('error', reject);
  });
}

/** Splits the first TLS record of `flight` into two records (a handshake message may span records, RFC 8446 section 5.1). */
export function reframe(flight: Buffer, at: number): Buffer {
  const len = flight.readUInt16BE(3);
  const body = flight.subarray(5, 5 + len);
  const head = (n: number): Buffer => Buffer.from([flight[0] as number, flight[1] as number, flight[2] as number, n >> 8, n & 0xff]);
  return Buffer.concat([head(at), body.subarray(0, at), head(len - at), body.subarray(at), flight.subarray(5 + len)]);
}

/**
 * A TCP relay on `ip` to `target`: the client's first TLS record is re-framed into two records
 * (`reframeAt`), and those first bytes go out in `chunk`-byte segments `delayMs` apart (a ClientHello
 * split across TCP segments and records); everything after is piped as it comes.
 */
export async function startSplitRelay(ip: string, target: { host: string; port: number }, o: { chunk: number; delayMs: number; reframeAt?: number }): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  // half-open both ways: a client's FIN must not cut the answer
  const server = createServer({ allowHalfOpen: true }, (client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    const up = connect({ ...target, allowHalfOpen: true });
    up.setNoDelay(true); // each chunk its own segment
    sockets.add(up);
    up.on('close', () => sockets.delete(up));
    client.on('error', () => up.destroy());
    up.on('error', () => client.destroy());
    let first = Buffer.alloc(0);
    let writing = true;
    const later: Buffer[] = [];
    const onData = (d: Buffer): void => {
      if (!writing) return void up.write(d);
      if (first.length >= 5 && first.length >= 5 + first.readUInt16BE(3)) return void later.push(d);
      first = Buffer.concat([first, d]);
      if (first.length < 5 || first.length < 5 + first.readUInt16BE(3)) return;
      const len = first.readUInt16BE(3);
      const out = o.reframeAt !== undefined ? reframe(first, Math.min(o.reframeAt, len - 1)) : first;
      void (async () => {
        for (let i = 0; i < out.length; i += o.chunk) {
          up.write(out.subarray(i, i + o.chunk));
          await new Promise((r) => setTimeout(r, o.delayMs));
        }
        writing = false;
        for (const b of later) up.write(b);
      })();
    };
    client.on('data', onData);
    up.on('data', (d: Buffer) => client.write(d));
    // the end follows every byte, including those still held back
    client.on('end', () => {
      const end = (): void => {
        if (writing) setTimeout(end, 5);
        else up.end();
      };
      end();
    });
    up.on('end', () => client.end());
  });
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** Opens a connection, writes `bytes` (if any), and says when and how it ended: closed by the peer (with what it sent), or still open after `waitMs`. */
export function probe(host: string, port: number, bytes: Buffer | string | null, waitMs: number): Promise<{ closedAfterMs: number | null; received: Buffer }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const chunks: Buffer[] = [];
    const s = connect({ host, port });
    let done = false;
    const finish = (closedAfterMs: number | null): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ closedAfterMs, received: Buffer.concat(chunks) });
    };
    const timer = setTimeout(() => finish(null), waitMs);
    s.on('connect', () => {
      if (bytes !== null) s.write(bytes);
    });
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', () => finish(Date.now() - t0));
    s.on('close', () => finish(Date.now() - t0));
  });
}
