/**
 * One keep-alive connection of Portico's HTTP/1.1 client (http1-pool.ts): writes a request head
 * and body, parses the response (strict where leniency is a smuggling risk: one Content-Length
 * value, no obs-fold, Transfer-Encoding wins and ends reuse, bounded heads, chunk lines and
 * trailers) and hands status, headers and body bytes straight to the request's handler; hands the
 * socket over on an agreed upgrade.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';
import { CONNECT_CHANNEL } from '../metrics/connect-timing.js';
import { returnReads } from './borrow.js';
import { hasHeader, invalid, readResponseHead, UpstreamError, writeRequestHead, type UpstreamHandler, type UpstreamRequest } from './upstream.js';

/** What a connection needs of its pool. */
export interface ConnPool {
  /** How long an idle connection is kept. */
  readonly idleTimeout: number;
  readonly closing: boolean;
  /** A connection finished its request cleanly and may carry another. */
  release(conn: Conn): void;
  /** A request ended (complete or failed). */
  settled(): void;
  /** A connection closed: it may be idle in the pool. */
  forget(conn: Conn): void;
}

const MAX_HEAD = 64 * 1024;
const MAX_LINE = 4 * 1024;
const CRLFCRLF = Buffer.from('\r\n\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');
const CRLF = '\r\n';
/** Connection durations, for `portico_upstream_connect_duration_seconds` (metrics/connect-timing.ts). */
const connectChannel = diagnostics.channel(CONNECT_CHANNEL);

const enum S {
  Head,
  Length,
  ChunkSize,
  ChunkData,
  ChunkEnd,
  Trailers,
  UntilClose,
}

/** One upstream connection; carries at most one request at a time. */
export class Conn {
  handler: UpstreamHandler | null = null;
  private state = S.Head;
  /** Unparsed bytes of a head, chunk-size line or trailer section split across reads. */
  private partial: Buffer | null = null;
  private remaining = 0;
  private keepAlive = true;
  private headOnly = false;
  private bodySent = true;
  private body: Readable | null = null;
  private chunked = false;
  private pumping = false;
  private trailers: string[] | null = null;
  /** Lower-case protocols of the Upgrade request in flight, or null. */
  private upgrade: Set<string> | null = null;
  /** Bytes of the trailer section so far (bounded like a head). */
  private trailerBytes = 0;
  private readTimeout = 0;
  private bodyTimeout = 0;
  /** Idle lifetime, from the pool or the upstream's Keep-Alive hint. */
  idleTimeout: number;
  private connectStart = 0;
  readonly abort = (err?: Error): void => this.fail(err ?? new UpstreamError('PORTICO_UPSTREAM_ABORTED', 'request aborted'));
  /** Complete but paused by the handler's back-pressure: joins the idle pool when resumed. */
  private parked = false;
  readonly resume = (): void => {
    this.socket.resume();
    if (!this.parked) return;
    this.parked = false;
    if (!this.socket.destroyed) this.pool.release(this);
  };

  constructor(
    readonly socket: Socket,
    private readonly pool: ConnPool,
    connectTimeout: number,
    secure: boolean,
    /**
     * The socket reads into a buffer shared by connections (`onread`) and hands it to {@link read}:
     * what is kept past the call (a partial head, body bytes) is copied.
     */
    private readonly borrowed: boolean,
  ) {
    this.idleTimeout = pool.idleTimeout;
    this.connectStart = performance.now();
    socket.setTimeout(connectTimeout);
    socket.once(secure ? 'secureConnect' : 'connect', () => {
      if (connectChannel.hasSubscribers) connectChannel.publish({ seconds: (performance.now() - this.connectStart) / 1000 });
      this.connectStart = 0;
      socket.setNoDelay(true);
      socket.setTimeout(this.handler === null ? this.idleTimeout : this.bodySent ? this.readTimeout : 0);
      if (this.body !== null && this.handler !== null) this.pumpBody(this.body);
    });
    if (!borrowed) socket.on('data', (d: Buffer) => this.read(d, d.length));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err) => this.onClose(err));
    socket.on('close', () => this.onClose(null));
  }

  /** Sends a request on this connection. */
  start(req: UpstreamRequest, handler: UpstreamHandler): void {
    this.handler = handler;
    this.state = S.Head;
    this.partial = null;
    this.keepAlive = true;
    this.trailers = null;
    this.trailerBytes = 0;
    this.headOnly = req.method === 'HEAD';
    this.upgrade = req.upgrade === undefined ? null : new Set(req.upgrade.split(',').map((p) => p.trim().toLowerCase()).filter(Boolean));
    this.pumping = false;
    this.readTimeout = req.headersTimeout;
    this.bodyTimeout = req.bodyTimeout;
    handler.onConnect(this.abort);
    if (this.handler !== handler) return; // aborted at once
    const body = req.body ?? null;
    const chunked = body !== null && !hasHeader(req.headers, 'content-length');
    try {
      // a head without a body goes with the loop iteration's other requests (write-batch.ts); while
      // connecting, Node holds it anyway; a body is written after its head, straight to the socket
      writeRequestHead(this.socket, req.method, req.path, req.headers, chunked, this.connectStart === 0 && body === null);
    } catch (err) {
      return this.fail(err as Error);
    }
    if (body === null) {
      this.bodySent = true;
      if (this.connectStart === 0) this.setTimer(this.readTimeout);
      return;
    }
    // While the body streams, the client side's timers govern (handler.ts); the read timeout
    // starts once it is sent. The body is read only once connected, so a request whose connection
    // failed has not consumed its body and can go to another endpoint.
    this.bodySent = false;
    this.body = body;
    this.chunked = chunked;
    if (this.connectStart === 0) {
      this.setTimer(0);
      this.pumpBody(body);
    }
  }

  private pumpBody(body: Readable): void {
    this.pumping = true;
    const socket = this.socket;
    const chunked = this.chunked;
    const onDrain = (): void => void body.resume();
    body.on('data', (chunk: Buffer) => {
      if (this.body !== body || chunk.length === 0) return;
      const ok = chunked ? socket.write(`${chunk.length.toString(16)}\r\n`) && socket.write(chunk) && socket.write(CRLF) : socket.write(chunk);
      if (!ok) {
        body.pause();
        socket.once('drain', onDrain);
      }
    });
    body.once('end', () => {
      if (this.body !== body) return;
      if (chunked) socket.write(LAST_CHUNK);
      this.body = null;
      this.bodySent = true;
      if (this.handler !== null) this.setTimer(this.state === S.Head ? this.readTimeout : this.bodyTimeout);
    });
    body.once('error', (err) => {
      if (this.body === body) this.fail(err);
    });
  }

  private setTimer(ms: number): void {
    if (this.socket.timeout !== ms) this.socket.setTimeout(ms);
  }

  // --- response parsing ---------------------------------------------------------------

  /** `n` bytes read into `buf` (shared when {@link borrowed}). True: go on reading (back-pressure pauses the socket itself). */
  read(buf: Buffer, n: number): true {
    // the data path never takes the process down: a throw in parsing or in a handler fails the request
    try {
      this.onData(n === buf.length ? buf : buf.subarray(0, n));
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)));
    }
    return true;
  }

  /** `b` itself, or a copy of it when the read buffer is shared. */
  private keep(b: Buffer): Buffer {
    return this.borrowed ? Buffer.from(b) : b;
  }

  private onData(d: Buffer): void {
    if (this.handler === null) {
      // bytes on an idle connection: the upstream is not speaking HTTP/1.1 with us any more
      this.socket.destroy();
      return;
    }
    let buf = d;
    let at = 0;
    if (this.partial !== null) {
      buf = Buffer.concat([this.partial, d]);
      this.partial = null;
    }
    while (at < buf.length && this.handler !== null) {
      switch (this.state) {
        case S.Head: {
          const end = buf.indexOf(CRLFCRLF, at);
          if (end === -1) {
            if (buf.length - at > MAX_HEAD) return this.fail(invalid('head too large'));
            this.partial = this.keep(buf.subarray(at));
            return;
          }
          if (end - at > MAX_HEAD) return this.fail(invalid('head too large'));
          const text = buf.toString('latin1', at, end);
          at = end + 4;
          if (this.parseHead(text)) {
            // 101 to an upgrade: the socket is the handler's now, with whatever followed the head
            this.tunnel(buf.subarray(at));
            return;
          }
          // a final head without a body (HEAD, 204, 304, Content-Length: 0) completes the response
          if (this.handler !== null && (this.state as S) === S.Length && this.remaining === 0) return this.complete(at < buf.length);
          break;
        }
        case S.Length: {
          const n = Math.min(this.remaining, buf.length - at);
          const chunk = buf.subarray(at, at + n);
          at += n;
          this.remaining -= n;
          if (this.remaining === 0) {
            this.deliver(chunk, true);
            this.complete(at < buf.length);
            return;
          }
          this.deliver(chunk, false);
          break;
        }
        case S.UntilClose:
          this.deliver(at === 0 ? buf : buf.subarray(at));
          return;
        case S.ChunkSize: {
          const eol = this.lineEnd(buf, at, MAX_LINE, 'chunk size line');
          if (eol === -1) return;
          const line = buf.toString('latin1', at, eol);
          at = eol + 2;
          const semi = line.indexOf(';');
          const hex = (semi === -1 ? line : line.slice(0, semi)).trim();
          if (!/^[0-9a-fA-F]{1,12}$/.test(hex)) return this.fail(invalid('bad chunk size'));
          const size = parseInt(hex, 16);
          if (size === 0) {
            this.state = S.Trailers;
          } else {
            this.remaining = size;
            this.state = S.ChunkData;
          }
          break;
        }
        case S.ChunkData: {
          const n = Math.min(this.remaining, buf.length - at);
          this.remaining -= n;
          const chunk = buf.subarray(at, at + n);
          at += n;
          if (this.remaining === 0) {
            this.state = S.ChunkEnd;
            this.remaining = 2;
          }
          this.deliver(chunk);
          break;
        }
        case S.ChunkEnd: {
          // the CRLF after chunk data, possibly split across reads
          while (this.remaining > 0 && at < buf.length) {
            if (buf[at] !== (this.remaining === 2 ? 13 : 10)) return this.fail(invalid('chunk not followed by CRLF'));
            at++;
            this.remaining--;
          }
          if (this.remaining === 0) this.state = S.ChunkSize;
          break;
        }
        case S.Trailers: {
          const eol = this.lineEnd(buf, at, MAX_HEAD - this.trailerBytes, 'trailer section');
          if (eol === -1) return;
          if (eol === at) {
            this.complete(eol + 2 < buf.length);
            return;
          }
          this.trailerBytes += eol + 2 - at;
          if (this.trailerBytes > MAX_HEAD) return this.fail(invalid('trailer section too long'));
          const line = buf.toString('latin1', at, eol);
          at = eol + 2;
          const colon = line.indexOf(':');
          if (colon <= 0 || line.charCodeAt(0) === 32 || line.charCodeAt(0) === 9) return this.fail(invalid('bad trailer line'));
          (this.trailers ??= []).push(line.slice(0, colon), line.slice(colon + 1).trim());
          break;
        }
      }
    }
  }

  /** Where the CRLF-terminated line at `at` ends, or -1 after keeping the partial line (failing past `max` bytes). */
  private lineEnd(buf: Buffer, at: number, max: number, what: string): number {
    const eol = buf.indexOf(CRLF, at);
    if (eol !== -1) return eol;
    if (buf.length - at > max) this.fail(invalid(`${what} too long`));
    else this.partial = this.keep(buf.subarray(at));
    return -1;
  }

  /**
   * Hands a final response head to the handler and sets up reading its body. Returns true for a
   * `101` that accepts the upgrade the request asked for (the caller hands the socket over).
   */
  private parseHead(text: string): boolean {
    const h = readResponseHead(text, this.headOnly, this.upgrade);
    if (typeof h === 'string') return this.reject(h);
    if (h.keepAliveMs >= 0) this.idleTimeout = Math.min(this.pool.idleTimeout, Math.max(0, h.keepAliveMs - 1000));
    if (h.status === 101) {
      this.pendingHead = h.raw;
      return true;
    }
    if (h.status < 200) return false; // 100 Continue, 103 Early Hints: the final response follows
    // a connection that carried an upgrade request is never reused (RFC 9110 7.8)
    if (!h.keepAlive || this.upgrade !== null) this.keepAlive = false;
    if (h.body === 'chunked') this.state = S.ChunkSize;
    else if (h.body === 'close') this.state = S.UntilClose;
    else {
      this.state = S.Length;
      this.remaining = h.length;
    }
    if (this.bodySent) this.setTimer(this.bodyTimeout);
    if (!(this.handler as UpstreamHandler).onHeaders(h.status, h.raw, this.resume, true)) this.socket.pause();
    return false;
  }

  /** The head of a 101 being handed over with its socket. */
  private pendingHead: string[] = [];

  /** An invalid response head: the request fails with a 502 (returns false for parseHead). */
  private reject(why: string): false {
    this.fail(invalid(why));
    return false;
  }

  /** Hands the socket of an accepted upgrade to the handler; this connection and its pool forget it. */
  private tunnel(rest: Buffer): void {
    const handler = this.handler as UpstreamHandler;
    const socket = this.socket;
    if (this.borrowed) {
      // the tunnel keeps these bytes and reads the socket as a stream: neither may be the shared buffer
      rest = Buffer.from(rest);
      returnReads(socket);
    }
    this.handler = null;
    this.partial = null;
    this.body = null;
    socket.pause();
    socket.removeAllListeners('data');
    socket.removeAllListeners('timeout');
    socket.removeAllListeners('error');
    socket.removeAllListeners('close');
    socket.setTimeout(0);
    this.pool.forget(this);
    this.pool.settled();
    if (handler.onUpgrade === undefined) {
      socket.destroy();
      handler.onError(invalid('unexpected 101 Switching Protocols'));
      return;
    }
    handler.onUpgrade(this.pendingHead, socket, rest);
  }

  private deliver(chunk: Buffer, last = false): void {
    if (chunk.length === 0) return;
    const handler = this.handler as UpstreamHandler;
    // the last chunk is lent (the handler copies what it keeps: a small response's body is joined to its head at once)
    const ok = last && this.borrowed ? handler.onData(chunk, true, true) : handler.onData(this.keep(chunk), last);
    if (!ok) this.socket.pause();
  }

  /** The response is complete: reuse the connection if it is clean, then tell the handler. */
  private complete(extraBytes: boolean): void {
    const handler = this.handler;
    if (handler === null) return; // the handler aborted while taking the last bytes
    const trailers = this.trailers;
    this.handler = null;
    this.trailers = null;
    this.partial = null;
    if (this.keepAlive && this.bodySent && !extraBytes && !this.pool.closing && this.idleTimeout > 0) {
      this.setTimer(this.idleTimeout);
      // a pending `resume` from this handler must not touch the next request: reuse after it
      if (this.socket.isPaused()) this.parked = true;
      else this.pool.release(this);
    } else {
      this.detachBody();
      this.socket.destroy();
    }
    this.pool.settled();
    handler.onComplete(trailers);
  }

  private detachBody(): void {
    const body = this.body;
    if (body === null) return;
    this.body = null;
    // once read from, let the rest of the client's body drain; an unread body stays untouched
    // for a retry on another endpoint
    if (this.pumping) body.resume();
  }

  /** Ends the current request with an error; the connection is not reused. */
  private fail(err: Error): void {
    const handler = this.handler;
    this.handler = null;
    this.detachBody();
    this.socket.destroy();
    if (handler === null) return;
    this.pool.settled();
    handler.onError(err);
  }

  private onTimeout(): void {
    if (this.handler === null) return void this.socket.destroy(); // idle past its lifetime
    if (this.connectStart !== 0) this.fail(new UpstreamError('PORTICO_CONNECT_TIMEOUT', 'connect timeout'));
    else if (this.state === S.Head) this.fail(new UpstreamError('PORTICO_HEADERS_TIMEOUT', 'upstream response head timeout'));
    else this.fail(new UpstreamError('PORTICO_BODY_TIMEOUT', 'upstream response body timeout'));
  }

  private onClose(err: Error | null): void {
    this.pool.forget(this);
    if (this.handler === null) return;
    if (err === null && this.state === S.UntilClose) return this.complete(false);
    this.fail(err ?? new UpstreamError('PORTICO_UPSTREAM_CLOSED', 'the upstream closed the connection'));
  }
}
