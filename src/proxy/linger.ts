/**
 * nginx's lingering close (`lingering_close on`, `lingering_time 30s`, `lingering_timeout 5s`), for
 * an HTTP/1 connection Portico answers and closes while the client is still sending a request body
 * Portico will not read (a 413 for a body over the limit, a refused client certificate on a POST).
 *
 * Node closes such a connection with `socket.destroySoon()` as soon as the answer is written. The
 * unread bytes then make the kernel send a reset, and a client still writing its body (browsers and
 * Node's client do not wait for `100 Continue`) often gets "connection reset" or EPIPE and never
 * reads the answer: about half of 10 MB uploads to a 1m route did, where ingress-nginx answers
 * every one with its 413. Lingering half-closes the connection after the answer and reads and drops
 * what the client still sends, until it closes its side, 5 s pass without data, or 30 s in all.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface LingerTimes {
  /** At most this long in all (nginx's lingering_time). */
  readonly totalMs: number;
  /** At most this long without data from the client (nginx's lingering_timeout). */
  readonly idleMs: number;
}

export const LINGER: LingerTimes = { totalMs: 30_000, idleMs: 5_000 };

/**
 * Makes the close that follows `req`'s answer a lingering one, when the client may still be
 * sending its body (HTTP/1 only; a request whose body has arrived closes at once, as before).
 */
export function lingerOnClose(req: IncomingMessage, times: LingerTimes = LINGER): void {
  if (req.httpVersionMajor >= 2 || req.complete) return;
  const socket = req.socket as Socket & { destroySoon?: () => void };
  // Node's HTTP server calls destroySoon() once the last answer of a closing connection is written
  socket.destroySoon = (): void => {
    if (socket.destroyed) return;
    const close = (): void => {
      clearTimeout(total);
      socket.destroy();
    };
    const total = setTimeout(close, times.totalMs);
    total.unref();
    socket.setTimeout(times.idleMs, close);
    socket.once('end', close);
    socket.once('close', () => clearTimeout(total));
    socket.end();
    // the rest of the body is read and dropped (the parser keeps reading while the request flows)
    req.resume();
  };
}
