/**
 * The PROXY protocol on Layer 4 listeners (HAProxy's spec): reading the header a load balancer
 * sends (v1 or v2, the `:PROXY` field of a TCP services entry, or --use-proxy-protocol), and
 * writing a v1 header to the pods (the second `:PROXY`), as nginx's `proxy_protocol on` does.
 */
import { isIP, type Socket } from 'node:net';
import { unmapped } from '../../model/cidr.js';
import { parseProxyHeader } from '../proxy-protocol.js';

/** One end of a connection. */
export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** A v1 header naming `src` as the client and `dst` as the address it connected to; UNKNOWN when their families differ. */
export function proxyV1(src: Peer, dst: Peer): string {
  const s = unmapped(src.address);
  const d = unmapped(dst.address);
  const family = isIP(s);
  if (family === 0 || family !== isIP(d)) return 'PROXY UNKNOWN\r\n';
  return `PROXY TCP${family} ${s} ${d} ${src.port} ${dst.port}\r\n`;
}

/**
 * Reads a PROXY header from a fresh socket, bounded in time and (by the parser) in bytes. Calls
 * `done` once: with the client it names (the socket's peer for LOCAL or UNKNOWN) and the bytes
 * that followed the header, the socket paused; or with null for an invalid header or a timeout
 * (the caller closes the socket).
 */
export function readProxyHeader(socket: Socket, timeoutMs: number, done: (r: { client: Peer; rest: Buffer } | null) => void): void {
  let buf: Buffer = Buffer.alloc(0);
  let finished = false;
  const finish = (r: { client: Peer; rest: Buffer } | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.pause();
    socket.off('data', onData);
    socket.off('end', onEnd);
    done(r);
  };
  const timer = setTimeout(() => finish(null), timeoutMs);
  const onEnd = (): void => finish(null);
  const onData = (chunk: Buffer): void => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    const h = parseProxyHeader(buf);
    if (h === 'more') return;
    if (h === null) return finish(null);
    const client = h.address !== null ? { address: h.address, port: h.port ?? 0 } : { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    finish({ client, rest: buf.subarray(h.length) });
  };
  socket.on('data', onData);
  socket.on('end', onEnd);
}
