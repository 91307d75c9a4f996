/**
 * Portico's HTTP/1.1 server side (`--http1-server=portico`): requests read off `net`/`tls` sockets
 * by llhttp (llhttp.ts, the parser of Node's own server) and handed to the front door as
 * request/response objects (h1-message.ts), without Node's HTTP server. It keeps what Node's server
 * does for a client: the header size limit counted as Node counts it (431), the headers timeout
 * (408) and the keep-alive timeout, `Host` required in HTTP/1.1, `Expect` (100-continue to the
 * front door, anything else 417), Upgrade and CONNECT, back-pressure on request bodies, an
 * unread body drained for keep-alive, and a parse error answered 400 with the connection closed.
 *
 * Pipelined requests are served one after another (as nginx does): the parser stops before the
 * next message and goes on once the response before it is written, so responses are in order by
 * construction and nothing of a later request is read ahead of an earlier answer; after a request
 * that ends the connection nothing more is read. Timeouts are one sweep per listener over its
 * connections, not timers per request.
 */
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { borrowReads, returnReads } from './borrow.js';
import { releaseWrites } from './write-batch.js';
import { Errno, type RequestParser } from './llhttp.js';
import { MessageReader } from './h1-reader.js';
import { H1BodyRequest, H1Request, H1Response, type FrontRequest, type ResponseSink } from './h1-message.js';

/** What a listener serves requests with: the front door's callbacks. */
export interface H1Handler {
  request(req: FrontRequest, res: H1Response): void;
  upgrade(req: FrontRequest, socket: Socket, head: Buffer): void;
}

export interface H1Options {
  /** Idle time after a response before the connection is closed (0: never). */
  readonly keepAliveTimeout: number;
  /** Time from a message's first byte (or the connection's start) to the end of its head: 408 after. */
  readonly headersTimeout: number;
  /** Bytes of request line and header fields (and of trailers), as Node counts them: 431 at this size. */
  readonly maxHeaderSize: number;
  /** How a parse error or a timeout is answered (the listener's clientError). */
  readonly clientError: (code: string, socket: Socket) => void;
}

/** Node's continueExpression. */
const CONTINUE = /(?:^|\W)100-continue(?:$|\W)/i;
/** Unparsed pipelined bytes kept while a request is served; past this the socket stops being read. */
const PENDING_LIMIT = 64 * 1024;
/**
 * Body bytes read and dropped after an early answer (a 401 or 403 to an upload) before the
 * connection is closed instead: a client must not keep a connection busy with an endless body
 * (nginx discards a little, then closes too).
 */
const DUMP_LIMIT = 256 * 1024;
const NO_HOST = 'HTTP/1.1 400 Bad Request\r\nserver: portico\r\nconnection: close\r\ncontent-length: 0\r\n\r\n';

/** One listener's HTTP/1.1 connections. */
export interface H1Front {
  /** Serves a connection; `first`: bytes already read from it (by the h2c sniffer). */
  /** `since`: when the connection was accepted (performance.now()), if something read it before: the headers timeout runs from then. */
  accept(socket: Socket, first?: Buffer, since?: number): void;
  /** For shutdown: idle connections close now, busy ones after their response. */
  drain(): void;
  /** For shutdown after the timeout: every connection destroyed. */
  cut(): void;
  /** Calls back once every connection has closed (after drain() or cut()). */
  close(cb: () => void): void;
  /** Open connections. */
  readonly size: number;
}

export function createH1Front(handler: H1Handler, o: H1Options): H1Front {
  const conns = new Set<Conn>();
  const shared: Shared = { handler, o, conns, draining: false, keepAliveSeconds: o.keepAliveTimeout > 0 ? Math.floor(o.keepAliveTimeout / 1000) : -1 };
  let sweeper: NodeJS.Timeout | null = null;
  let closed: (() => void) | null = null;
  const every = Math.max(20, Math.min(1000, Math.min(o.headersTimeout || Infinity, o.keepAliveTimeout || Infinity) / 4));
  const sweep = (): void => {
    const now = performance.now();
    for (const c of conns) c.check(now);
  };
  shared.closed = (c: Conn): void => {
    conns.delete(c);
    if (conns.size === 0) {
      if (sweeper !== null) clearInterval(sweeper);
      sweeper = null;
      const cb = closed;
      closed = null;
      cb?.();
    }
  };
  return {
    accept(socket, first, since) {
      const c = new Conn(socket, shared, since);
      conns.add(c);
      if (sweeper === null && Number.isFinite(every)) sweeper = setInterval(sweep, every).unref();
      c.start(first);
    },
    drain() {
      shared.draining = true;
      for (const c of conns) c.drain();
    },
    cut() {
      for (const c of conns) destroy(c.socket);
    },
    close(cb) {
      if (conns.size === 0) return void process.nextTick(cb);
      closed = cb;
    },
    get size() {
      return conns.size;
    },
  };
}

interface Shared {
  readonly handler: H1Handler;
  readonly o: H1Options;
  readonly conns: Set<Conn>;
  draining: boolean;
  readonly keepAliveSeconds: number;
  closed?: (c: Conn) => void;
}

// socket listeners shared by every connection (no closures per connection or request)
const CONN = Symbol('portico.h1');
type Owned = Socket & { [CONN]?: Conn | undefined };
function onData(this: Owned, chunk: Buffer): void {
  this[CONN]?.onData(chunk);
}
/** Plain connections read into one buffer (borrow.ts): what a connection keeps of it is copied. */
const readBuffer = Buffer.allocUnsafe(64 * 1024);
function onBorrowed(this: Owned, n: number, buf: Buffer): boolean {
  this[CONN]?.onData(buf.subarray(0, n));
  return true;
}
function onEnd(this: Owned): void {
  this[CONN]?.onEnd();
}
function onClose(this: Owned): void {
  this[CONN]?.onClose();
}
function onError(this: Owned): void {
  this.destroy();
}
/** Destroys a connection after sending what it holds (write-batch.ts): an answer already ended is not dropped. */
function destroy(s: Socket): void {
  releaseWrites(s);
  s.destroy();
}
function onDrain(this: Owned): void {
  this[CONN]?.onDrain();
}
function onTimeout(this: Owned): void {
  this[CONN]?.onSocketTimeout();
}
function continueParsing(c: Conn): void {
  c.parsePending();
}
function emitClose(res: H1Response): void {
  res.emitClose();
}

/** One client connection: the parser, the request being served, its timers. */
class Conn extends MessageReader implements ResponseSink {
  private keepAlive = false;
  // --- the request being served
  private req: H1Request | H1BodyRequest | null = null;
  private res: H1Response | null = null;
  /** The request's head is parsed and not yet handed to the front door. */
  private toDispatch = false;
  /** Its response is done but its body is still arriving: read and dropped. */
  private dumping = false;
  private dumped = 0;
  /** The parser stopped after a message; `pending` holds the bytes it has not read. */
  private paused = false;
  private pending: Buffer | null = null;
  // --- timers (performance.now() ms; 0 = off)
  /** When the head being awaited started (the connection's start for the first): the headers timeout runs from it. */
  private messageStart: number;
  /** Since when the connection has been idle after a response (the keep-alive timeout runs from the last read). */
  private idleSince = 0;
  private socketTimeout = false;
  /** The client sent FIN. */
  private eof = false;
  private closing = false;
  /** Reads arrive in the shared buffer (borrow.ts): kept bytes are copied. */
  private borrowed = false;

  constructor(
    readonly socket: Socket,
    private readonly shared: Shared,
    since = performance.now(),
  ) {
    super(shared.o.maxHeaderSize);
    this.messageStart = since;
  }

  start(first: Buffer | undefined): void {
    const s = this.socket as Owned;
    s[CONN] = this;
    this.borrowed = borrowReads(s, readBuffer, onBorrowed);
    if (!this.borrowed) s.on('data', onData);
    s.on('end', onEnd);
    s.on('close', onClose);
    s.on('error', onError);
    s.on('drain', onDrain);
    s.on('timeout', onTimeout);
    s.setNoDelay(true);
    if (first !== undefined && first.length > 0) this.onData(first);
    // an Upgrade head among the first bytes handed the socket over (paused): it is the upgrade
    // path's to resume once it reads it; resumed here, what the client sent next would be lost
    if (!s.destroyed && s[CONN] === this) s.resume();
  }

  // --- socket events ------------------------------------------------------------------------

  onData(chunk: Buffer): void {
    if (this.idleSince !== 0) this.idleSince = performance.now();
    if (this.closing || this.parser === null) return;
    if (this.paused) {
      this.pending = this.pending === null ? this.keep(chunk) : Buffer.concat([this.pending, chunk]);
      if (this.pending.length > PENDING_LIMIT) this.socket.pause();
      return;
    }
    this.parse(chunk);
  }

  /**
   * The client's FIN: a message cut short is a parse error (400); a request being served (and any
   * pipelined after it) is answered first, then the connection closes.
   */
  onEnd(): void {
    this.eof = true;
    if (this.closing || this.parser === null || this.paused) return;
    const req = this.req;
    if (req !== null && req.complete) return;
    const err = this.parser.finish();
    if (err !== Errno.OK) return this.fail(this.errorCode(err));
    if (req === null) this.close();
  }

  onClose(): void {
    const s = this.socket as Owned;
    s[CONN] = undefined;
    this.parser?.free();
    this.parser = null;
    const req = this.req;
    const res = this.res;
    this.req = null;
    this.res = null;
    if (req instanceof H1BodyRequest && !req.complete) req.destroy(aborted());
    res?.emitClose();
    this.shared.closed?.(this);
  }

  onDrain(): void {
    const res = this.res;
    if (res !== null && res.needDrain) {
      res.needDrain = false;
      res.emit('drain');
    }
  }

  /** The inactivity timeout a request body asked for (req.setTimeout). */
  onSocketTimeout(): void {
    const req = this.req;
    if (req instanceof H1BodyRequest && !req.complete && req.emit('timeout', this.socket)) return;
    destroy(this.socket);
  }

  requestTimeout(ms: number): void {
    this.socketTimeout = ms > 0;
    this.socket.setTimeout(ms);
  }

  /** The sweep: headers timeout (408) and keep-alive timeout (closed). */
  check(now: number): void {
    const o = this.shared.o;
    if (this.messageStart !== 0 && o.headersTimeout > 0 && now - this.messageStart > o.headersTimeout) {
      this.messageStart = 0;
      this.fail('ERR_HTTP_REQUEST_TIMEOUT');
    } else if (this.idleSince !== 0 && o.keepAliveTimeout > 0 && now - this.idleSince > o.keepAliveTimeout) {
      this.socket.destroy();
    }
  }

  drain(): void {
    if (this.req === null && !this.paused && this.messageStart === 0) this.close();
  }

  // --- parsing ------------------------------------------------------------------------------

  /** `b`, or a copy when it is a view of the shared read buffer. */
  private keep(b: Buffer): Buffer {
    return this.borrowed ? Buffer.from(b) : b;
  }

  private parse(buf: Buffer): void {
    const parser = this.parser as RequestParser;
    let err: number;
    try {
      err = parser.execute(buf, 0);
    } catch {
      err = Errno.USER;
      this.userError = 'HPE_INTERNAL';
    }
    if (err === Errno.OK) {
      if (this.toDispatch) this.dispatch();
      return;
    }
    if (err === Errno.PAUSED) {
      // before a pipelined message (parsed once the response before it is out), or after the
      // connection's last one (what follows is never read)
      this.paused = true;
      if (parser.errorPos < buf.length) this.pending = this.keep(buf.subarray(parser.errorPos));
      if (this.toDispatch) this.dispatch();
      return;
    }
    if (err === Errno.PAUSED_UPGRADE && this.toDispatch) return this.handOver(this.keep(buf.subarray(parser.errorPos)));
    this.fail(this.errorCode(err));
  }

  /** Pipelined bytes, once the previous response is out: the message llhttp stopped before begins now. */
  parsePending(): void {
    if (this.parser === null || this.closing || this.req !== null || !this.paused) return;
    this.parser.resume();
    this.paused = false;
    this.messageStart = performance.now();
    const p = this.pending;
    this.pending = null;
    if (this.socket.isPaused()) this.socket.resume();
    if (p !== null) this.parse(p);
    const req = this.req as H1Request | H1BodyRequest | null;
    if (this.eof && !this.paused && (req === null || !req.complete)) this.onEnd();
  }

  /** A parse error or timeout: the listener answers (400, 408, 431) and the connection closes; a request being served is cut. */
  private fail(code: string): void {
    if (this.closing) return;
    this.closing = true;
    this.toDispatch = false;
    const req = this.req;
    const res = this.res;
    if (req instanceof H1BodyRequest && !req.complete) req.destroy(aborted());
    if (res !== null) {
      if (res.headersSent) return void destroy(this.socket);
      // the exchange's own answer can no longer be written
      res.destroyed = true;
      res.emitClose();
    }
    releaseWrites(this.socket); // an answer before this message goes out before the error's
    this.shared.o.clientError(code, this.socket);
  }

  // --- messages -----------------------------------------------------------------------------

  /** A pipelined message waits (PAUSED before its first byte) until the request before it is answered. */
  protected override onBegin(): boolean {
    if (this.req !== null) return true;
    // a connection's first message keeps the connection's start (a client dribbling its first byte
    // late must not get the headers timeout twice); a later one starts its own
    if (this.messageStart === 0) this.messageStart = performance.now();
    return false;
  }

  protected onHead(method: string, url: string, major: number, minor: number, raw: string[], upgrade: boolean, keepAlive: boolean): void {
    this.keepAlive = keepAlive;
    this.messageStart = 0;
    this.idleSince = 0;
    this.toDispatch = true;
    this.req = !upgrade && declaresBody(raw) ? new H1BodyRequest(method, url, major, minor, raw, this.socket, upgrade, this) : new H1Request(method, url, major, minor, raw, this.socket, upgrade, this);
  }

  protected onBodyBytes(chunk: Buffer): void {
    const req = this.req;
    if (this.dumping) {
      this.dumped += chunk.length;
      if (this.dumped > DUMP_LIMIT && !this.closing) this.close();
      return;
    }
    if (!(req instanceof H1BodyRequest) || req.destroyed) return;
    if (!req.push(this.keep(chunk))) this.socket.pause();
  }

  /** True (stop parsing) after a message that ends the connection: what follows it is never read. */
  protected onComplete(trailers: string[] | null): boolean {
    const req = this.req;
    this.messageStart = 0;
    if (req === null) return !this.keepAlive;
    req.complete = true;
    if (req instanceof H1BodyRequest) {
      if (trailers !== null) req.rawTrailers = trailers;
      if (!this.dumping && !req.destroyed) req.push(null);
    }
    if (this.dumping) {
      // the response went out before the body was read: the connection is idle, the next request may follow
      this.dumping = false;
      this.req = null;
      this.res = null;
      this.idleSince = performance.now();
    }
    return !this.keepAlive;
  }

  /** A request body wants more (its _read): the socket is read again unless pipelined bytes are held. */
  readMore(): void {
    if (!this.paused && !this.closing && this.socket.isPaused()) this.socket.resume();
  }

  // --- serving --------------------------------------------------------------------------------

  /** Hands a parsed request head to the front door, as Node's server would emit it. */
  private dispatch(): void {
    this.toDispatch = false;
    // closing (a body dropped past its limit, say): what was parsed after it is never served
    if (this.closing) return;
    const req = this.req as H1Request | H1BodyRequest;
    // HTTP/2's preface on an HTTP/1 connection, or CONNECT: Node's server closes (no 'connect' listener)
    if (req.method === 'PRI' || req.method === 'CONNECT') return void destroy(this.socket);
    const res = new H1Response(this, req, this.keepAlive, this.shared.keepAliveSeconds);
    this.res = res;
    if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1) {
      // RFC 9112 3.2: a server MUST answer 400 to an HTTP/1.1 request without Host
      if (!hasField(req.rawHeaders, 'host')) {
        this.closing = true;
        releaseWrites(this.socket); // a pipelined answer before it goes first
        this.socket.end(NO_HOST, 'latin1');
        return;
      }
      const expect = hasField(req.rawHeaders, 'expect') ? req.headers.expect : undefined;
      if (expect !== undefined) {
        if (CONTINUE.test(String(expect))) res.expectContinue = true;
        else {
          res.writeHead(417, ['content-length', '0']);
          res.end();
          return;
        }
      }
    }
    try {
      this.shared.handler.request(req, res);
    } catch {
      // the data path never throws; if it did, the client gets an answer or a cut connection
      if (!res.headersSent && !res.writableEnded) {
        res.shouldKeepAlive = false;
        res.writeHead(500, ['content-length', '0']);
        res.end();
      } else destroy(this.socket);
    }
  }

  /** An Upgrade request: the socket is the upgrade path's from now on, with the bytes that followed the head. */
  private handOver(head: Buffer): void {
    const req = this.req as H1Request;
    const s = this.socket as Owned;
    releaseWrites(s); // an answer before the upgrade goes out before whatever the upgrade path writes
    this.toDispatch = false;
    this.closing = true;
    s.off('data', onData);
    if (this.borrowed) returnReads(s);
    s.off('end', onEnd);
    s.off('close', onClose);
    s.off('error', onError);
    s.off('drain', onDrain);
    s.off('timeout', onTimeout);
    s.pause();
    s[CONN] = undefined;
    this.parser?.free();
    this.parser = null;
    this.req = null;
    this.res = null;
    this.shared.closed?.(this);
    if (req.method === 'CONNECT') return void s.destroy();
    try {
      this.shared.handler.upgrade(req, s, head);
    } catch {
      // the data path never throws; if it did, the tunnel is cut, never the process
      s.destroy();
    }
  }

  /** The response is written (or cut): the next request, the end of the body, or the end of the connection. */
  responseDone(res: H1Response): void {
    if (res !== this.res) return;
    process.nextTick(emitClose, res);
    if (this.socketTimeout) {
      this.socketTimeout = false;
      this.socket.setTimeout(0);
    }
    if (res.last || this.shared.draining || this.closing) return this.close();
    const req = this.req as H1Request | H1BodyRequest;
    if (!req.complete) {
      // the answer went out before the body was read (Node's _dump): read it and drop it
      this.dumping = true;
      this.dumped = 0;
      if (req instanceof H1BodyRequest) req.resume();
      this.readMore();
      return;
    }
    this.next();
  }

  /** Ready for the next request: keep-alive timer on, pipelined bytes parsed on the next tick. */
  private next(): void {
    this.req = null;
    this.res = null;
    this.idleSince = performance.now();
    if (this.paused) process.nextTick(continueParsing, this);
    else {
      // a body whose last push filled its buffer left the socket paused, and an ended body never
      // asks to be read again (_read): the next request is read from here
      if (this.socket.isPaused()) this.socket.resume();
      if (this.eof) this.onEnd();
    }
  }

  /** Closes after what was written. */
  private close(): void {
    this.closing = true;
    const s = this.socket;
    if (s.destroyed) return;
    releaseWrites(s);
    if (s.writableLength === 0) s.destroySoon();
    else s.end();
  }
}

const aborted = (): Error => Object.assign(new Error('aborted'), { code: 'ECONNRESET' });

/** A field's presence among the first 1000 pairs (what Node's `headers` object holds). */
function hasField(raw: readonly string[], lower: string): boolean {
  const n = Math.min(raw.length, 2000);
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] as string;
    if (name.length === lower.length && name.toLowerCase() === lower) return true;
  }
  return false;
}

/**
 * Whether the exchange will see a body (its requestHasBody on Node's `headers`): a Content-Length
 * other than "0" (the first one: Node drops repeats), else any Transfer-Encoding.
 */
function declaresBody(raw: readonly string[]): boolean {
  let te = false;
  const n = Math.min(raw.length, 2000);
  for (let i = 0; i < n; i += 2) {
    const name = raw[i] as string;
    if (name.length === 14 && name.toLowerCase() === 'content-length') return raw[i + 1] !== '0';
    if (name.length === 17 && name.toLowerCase() === 'transfer-encoding') te = true;
  }
  return te;
}
