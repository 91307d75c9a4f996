/**
 * PROXY protocol v1 and v2 (HAProxy's spec) in front of a listener: read the header a load
 * balancer sends first, remember the client address it names, and hand the socket on. A
 * connection without a valid header is closed.
 */
import { createServer, isIP, type Server, type Socket } from 'node:net';
import { unmapped } from '../model/cidr.js';
import { setProxiedAddress } from './headers.js';

const V2_SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const HEADER_TIMEOUT_MS = 5000;

/** Parses a header at the start of `buf`: its length and source address (and port), 'more' if incomplete, null if invalid. */
export function parseProxyHeader(buf: Buffer): { length: number; address: string | null; port?: number } | 'more' | null {
  if (buf.length >= 12 && buf.subarray(0, 12).equals(V2_SIG)) {
    if (buf.length < 16) return 'more';
    const verCmd = buf[12] as number;
    const fam = buf[13] as number;
    const len = buf.readUInt16BE(14);
    if (verCmd >> 4 !== 2) return null;
    if (buf.length < 16 + len) return 'more';
    if ((verCmd & 0x0f) === 0) return { length: 16 + len, address: null }; // LOCAL: a health check from the balancer itself
    if (fam >> 4 === 1 && len >= 12) return { length: 16 + len, address: [...buf.subarray(16, 20)].join('.'), port: buf.readUInt16BE(24) };
    if (fam >> 4 === 2 && len >= 36) return { length: 16 + len, address: ipv6Text(buf.subarray(16, 32)), port: buf.readUInt16BE(48) };
    return { length: 16 + len, address: null };
  }
  const probe = buf.subarray(0, Math.min(buf.length, 6)).toString('latin1');
  if (!'PROXY '.startsWith(probe)) return null;
  const end = buf.indexOf('\r\n');
  if (end === -1) return buf.length > 107 ? null : 'more';
  const line = buf.subarray(0, end).toString('latin1').split(' ');
  if (line[1] === 'UNKNOWN') return { length: end + 2, address: null };
  if ((line[1] !== 'TCP4' && line[1] !== 'TCP6') || line.length !== 6) return null;
  const src = line[2] as string;
  if (isIP(src) !== (line[1] === 'TCP4' ? 4 : 6)) return null;
  const port = /^\d{1,5}$/.test(line[4] as string) ? Number(line[4]) : NaN;
  return { length: end + 2, address: unmapped(line[1] === 'TCP6' ? canonicalIpv6(src) : src), ...(port <= 65535 ? { port } : {}) };
}

/** RFC 5952 text of a 16-byte IPv6 address, by the platform (compression, lower case, mapped IPv4 dotted). */
function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return unmapped(canonicalIpv6(groups.join(':')));
}

/** The canonical form of an IPv6 address, as the URL parser writes hosts. */
function canonicalIpv6(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

/** A net server that strips PROXY headers and passes each connection to `target` (`allowHalfOpen`: as net.Server's). */
export function proxyProtocolFront(target: { emit(event: 'connection', socket: Socket): boolean }, allowHalfOpen = false, admit?: (socket: Socket) => boolean): Server {
  return createServer({ allowHalfOpen }, (socket) => {
    if (admit !== undefined && !admit(socket)) return;
    let buf: Buffer = Buffer.alloc(0);
    const timer = setTimeout(() => socket.destroy(), HEADER_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const h = parseProxyHeader(buf);
      if (h === 'more') return;
      socket.off('data', onData);
      socket.off('end', onEnd);
      clearTimeout(timer);
      if (h === null) return void socket.destroy();
      if (h.address !== null) setProxiedAddress(socket, h.address);
      socket.pause();
      const rest = buf.subarray(h.length);
      if (rest.length > 0) socket.unshift(rest);
      target.emit('connection', socket);
      // an HTTP server (or the TLS passthrough front) reads with a 'data' listener; a TLS server reads
      // the buffered bytes itself, and resuming would hand them to no one
      if (socket.listenerCount('data') > 0) socket.resume();
    };
    // a FIN before the header is complete: nothing more can come
    const onEnd = (): void => void socket.destroy();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', () => socket.destroy());
  });
}
