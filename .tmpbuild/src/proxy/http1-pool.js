/**
 * Portico's own HTTP/1.1 client for HTTP and HTTPS upstreams: a keep-alive socket pool per
 * endpoint (connections: http1-conn.ts). No connection cap, so the idle pool grows to client
 * concurrency. Sockets are reused only after a complete response to a fully sent request, newest
 * first, dropped after the idle timeout or the upstream's own `Keep-Alive: timeout` (less a
 * second, so a socket the upstream is about to close is never reused).
 */
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { Conn } from './http1-conn.js';
/** Keep-alive connections to one endpoint; no cap, so the idle pool grows to client concurrency. */
export class Http1Pool {
    opts;
    idle = [];
    active = 0;
    closing = false;
    closed = null;
    idleTimeout;
    constructor(opts) {
        this.opts = opts;
        this.idleTimeout = opts.idleTimeout;
    }
    dispatch(req, handler) {
        this.active++;
        let conn;
        // an upgrade gets a connection of its own: it may become a tunnel
        if (req.upgrade === undefined)
            while ((conn = this.idle.pop()) !== undefined && (conn.socket.destroyed || !conn.socket.writable))
                ;
        if (conn === undefined) {
            const o = this.opts;
            const socket = o.tls !== null ? tlsConnect({ ...o.tls, host: o.host, port: o.port }) : netConnect({ host: o.host, port: o.port });
            conn = new Conn(socket, this, o.connectTimeout, o.tls !== null);
        }
        conn.start(req, handler);
    }
    /** A connection finished its request cleanly and may carry another. */
    release(conn) {
        if (this.closing)
            conn.socket.destroy();
        else
            this.idle.push(conn);
    }
    /** A request ended (complete or failed). */
    settled() {
        this.active--;
        if (this.active === 0 && this.closed !== null)
            this.closed();
    }
    /** A connection closed: it may be idle in the pool. */
    forget(conn) {
        const i = this.idle.indexOf(conn);
        if (i !== -1)
            this.idle.splice(i, 1);
    }
    idleCount() {
        return this.idle.length;
    }
    close() {
        this.closing = true;
        for (const c of this.idle.splice(0))
            c.socket.destroy();
        if (this.active === 0)
            return Promise.resolve();
        return new Promise((resolve) => (this.closed = resolve));
    }
}
//# sourceMappingURL=http1-pool.js.map