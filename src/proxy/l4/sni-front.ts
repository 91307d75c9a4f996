/**
 * TLS passthrough in front of a listener: the ClientHello is read (never answered), and its SNI
 * picks a passthrough route, whose connection is spliced, unterminated, to a pod with the hello
 * replayed first. Any other name (or none) is handed on, with every byte read so far, to
 * Portico's own TLS server, which sees the connection exactly as if it had accepted it; on a TLS
 * listener without one (a Gateway TLS listener of its own), it is closed. While a port has no
 * passthrough route nothing is read: connections go straight on.
 *
 * Bounded: a client that sends nothing, or too little, is closed after `timeout`; a hello larger
 * than MAX_CLIENT_HELLO, or bytes that are not a ClientHello, are closed at once.
 */
import type { Socket } from 'node:net';
import { MAX_CLIENT_HELLO, readClientHello } from './client-hello.js';
import { lookupSni, type L4Target, type SniTable } from './targets.js';

/** Whatever takes accepted connections: a net, TLS or HTTP/2 server. */
export interface ConnectionTarget {
  emit(event: 'connection', socket: Socket): boolean;
}

export interface SniFrontOptions {
  /** The live SNI table of this port (null: no passthrough route: connections go straight on). */
  readonly routes: () => SniTable | null;
  /** Portico's own TLS server on this port, or null (a TLS-only listener: unknown names are closed). */
  readonly fallback: ConnectionTarget | null;
  /** How long a client has to send its whole ClientHello. */
  readonly timeout: number;
  readonly splice: (socket: Socket, target: L4Target, hello: Buffer) => void;
  readonly record?: (result: 'passthrough' | 'terminated' | 'rejected' | 'invalid' | 'timeout') => void;
}

/** A connection target that reads the ClientHello, then splices or hands on. */
export function createSniFront(o: SniFrontOptions): ConnectionTarget {
  const handOn = (socket: Socket, buf: Buffer | null): void => {
    const next = o.fallback;
    if (next === null) {
      o.record?.('rejected');
      socket.destroy();
      return;
    }
    if (buf !== null && buf.length > 0) {
      // the TLS socket reads what is buffered before its handle (Node's TLSSocket initRead); resuming
      // here would hand those bytes to no listener
      socket.pause();
      socket.unshift(buf);
    }
    next.emit('connection', socket);
  };

  const handle = (socket: Socket): void => {
    socket.on('error', () => socket.destroy());
    const routes = o.routes();
    if (routes === null) {
      handOn(socket, null);
      return;
    }
    let buf: Buffer = Buffer.alloc(0);
    let settled = false;
    const settle = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.pause();
      socket.off('data', onData);
      socket.off('end', onEnd);
    };
    const timer = setTimeout(() => {
      if (settled) return;
      settle();
      o.record?.('timeout');
      socket.destroy();
    }, o.timeout);
    const onEnd = (): void => {
      if (settled) return;
      settle();
      o.record?.('invalid');
      socket.destroy();
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      const hello = readClientHello(buf);
      if (hello.kind === 'more') return;
      settle();
      if (hello.kind === 'invalid') {
        o.record?.('invalid');
        socket.destroy();
        return;
      }
      const name = hello.kind === 'hello' ? hello.sni : null;
      // the table of the moment the hello completed: a swap while it was read is taken into account
      const target = lookupSni(o.routes() ?? routes, name);
      if (target === null) {
        if (o.fallback !== null) o.record?.('terminated');
        handOn(socket, buf);
        return;
      }
      o.record?.('passthrough');
      o.splice(socket, target, buf);
    };
    socket.on('data', onData);
    socket.on('end', onEnd);
    // paused by a PROXY protocol front: read now
    socket.resume();
  };

  return {
    emit(_event, socket) {
      handle(socket);
      return true;
    },
  };
}

export { MAX_CLIENT_HELLO };
