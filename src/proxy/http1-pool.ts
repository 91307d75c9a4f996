/**
 * Portico's own HTTP/1.1 client for HTTP and HTTPS upstreams: a keep-alive socket pool per
 * endpoint (connections: http1-conn.ts). No connection cap, so the idle pool grows to client
 * concurrency. Sockets are reused only after a complete response to a fully sent request, newest
 * first, dropped after the idle timeout or the upstream's own `Keep-Alive: timeout` (less a
 * second, so a socket the upstream is about to close is never reused).
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Conn, type ConnPool } from './http1-conn.js';
import type { Upstream, UpstreamHandler, UpstreamRequest } from './upstream.js';

export interface Http1PoolOptions {
  readonly host: string;
  readonly port: number;
  /** TLS options (null: plain TCP): SNI, verification, CAs and client certificate (pools.ts tlsOptions). */
  readonly tls: ConnectionOptions | null;
  readonly connectTimeout: number;
  /** How long an idle connection is kept. */
  readonly idleTimeout: number;
}

/** Where plain upstream connections read (`onread`): used synchronously, never kept. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);

/** Keep-alive connections to one endpoint; no cap, so the idle pool grows to client concurrency. */
export class Http1Pool implements Upstream, ConnPool {
  private readonly idle: Conn[] = [];
  private active = 0;
  closing = false;
  private closed: (() => void) | null = null;
  readonly idleTimeout: number;

  constructor(private readonly opts: Http1PoolOptions) {
    this.idleTimeout = opts.idleTimeout;
  }

  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.active++;
    let conn: Conn | undefined;
    // an upgrade gets a connection of its own: it may become a tunnel
    if (req.upgrade === undefined) while ((conn = this.idle.pop()) !== undefined && (conn.socket.destroyed || !conn.socket.writable));
    if (conn === undefined) {
      const o = this.opts;
      if (o.tls !== null) conn = new Conn(tlsConnect({ ...o.tls, host: o.host, port: o.port }), this, o.connectTimeout, true, false);
      else if (req.upgrade !== undefined) conn = new Conn(netConnect({ host: o.host, port: o.port }), this, o.connectTimeout, false, false);
      else {
        // plain keep-alive connections read into one shared buffer (Conn copies what it keeps):
        // no buffer allocated per read and no stream machinery between the socket and the parser
        let c: Conn | null = null;
        const socket = netConnect({ host: o.host, port: o.port, onread: { buffer: readBuffer, callback: (n, buf) => (c as Conn).read(buf as Buffer, n) } });
        conn = c = new Conn(socket, this, o.connectTimeout, false, true);
      }
    }
    conn.start(req, handler);
  }

  /** A connection finished its request cleanly and may carry another. */
  release(conn: Conn): void {
    if (this.closing) conn.socket.destroy();
    else this.idle.push(conn);
  }

  /** A request ended (complete or failed). */
  settled(): void {
    this.active--;
    if (this.active === 0 && this.closed !== null) this.closed();
  }

  /** A connection closed: it may be idle in the pool. */
  forget(conn: Conn): void {
    const i = this.idle.indexOf(conn);
    if (i !== -1) this.idle.splice(i, 1);
  }

  idleCount(): number {
    return this.idle.length;
  }

  close(): Promise<void> {
    this.closing = true;
    for (const c of this.idle.splice(0)) c.socket.destroy();
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => (this.closed = resolve));
  }
}
