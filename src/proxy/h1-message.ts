/**
 * The request and response objects of Portico's HTTP/1.1 front end (h1-server.ts): what the front
 * door, the exchange, the policies and the access log read of Node's IncomingMessage and
 * ServerResponse, and nothing more. A request without a body is a plain object; one with a body is
 * a Readable (the upstream client streams it). The `headers` object is built once, on first use,
 * with Node's rules for repeated fields; the response head is one string, written with the first
 * body bytes (one socket write for a small response).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { STATUS_CODES } from '../node-http.js';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { isToken } from './upstream.js';
import { holdWrite, releaseWrites } from './write-batch.js';

/** Node's header-pair cap for the `headers` object (maxHeadersCount 1000 → parser.maxHeaderPairs 2000). */
const MAX_HEADER_PAIRS = 2000;

/**
 * Node's matchKnownFields (lib/_http_incoming.js, Node 20): the lower-case name, prefixed with
 * \0 for fields whose repeats are joined with ', ', \u0002 for Cookie (joined with '; '), \u0001
 * for Set-Cookie (an array); no prefix: the first value wins.
 */
function known(field: string, lowercased: boolean): string {
  switch (field.length) {
    case 3:
      if (field === 'Age' || field === 'age') return 'age';
      break;
    case 4:
      if (field === 'Host' || field === 'host') return 'host';
      if (field === 'From' || field === 'from') return 'from';
      if (field === 'ETag' || field === 'etag') return 'etag';
      if (field === 'Date' || field === 'date') return '\u0000date';
      if (field === 'Vary' || field === 'vary') return '\u0000vary';
      break;
    case 6:
      if (field === 'Server' || field === 'server') return 'server';
      if (field === 'Cookie' || field === 'cookie') return '\u0002cookie';
      if (field === 'Origin' || field === 'origin') return '\u0000origin';
      if (field === 'Expect' || field === 'expect') return '\u0000expect';
      if (field === 'Accept' || field === 'accept') return '\u0000accept';
      break;
    case 7:
      if (field === 'Referer' || field === 'referer') return 'referer';
      if (field === 'Expires' || field === 'expires') return 'expires';
      if (field === 'Upgrade' || field === 'upgrade') return '\u0000upgrade';
      break;
    case 8:
      if (field === 'Location' || field === 'location') return 'location';
      if (field === 'If-Match' || field === 'if-match') return '\u0000if-match';
      break;
    case 10:
      if (field === 'User-Agent' || field === 'user-agent') return 'user-agent';
      if (field === 'Set-Cookie' || field === 'set-cookie') return '\u0001';
      if (field === 'Connection' || field === 'connection') return '\u0000connection';
      break;
    case 11:
      if (field === 'Retry-After' || field === 'retry-after') return 'retry-after';
      break;
    case 12:
      if (field === 'Content-Type' || field === 'content-type') return 'content-type';
      if (field === 'Max-Forwards' || field === 'max-forwards') return 'max-forwards';
      break;
    case 13:
      if (field === 'Authorization' || field === 'authorization') return 'authorization';
      if (field === 'Last-Modified' || field === 'last-modified') return 'last-modified';
      if (field === 'Cache-Control' || field === 'cache-control') return '\u0000cache-control';
      if (field === 'If-None-Match' || field === 'if-none-match') return '\u0000if-none-match';
      break;
    case 14:
      if (field === 'Content-Length' || field === 'content-length') return 'content-length';
      break;
    case 15:
      if (field === 'Accept-Encoding' || field === 'accept-encoding') return '\u0000accept-encoding';
      if (field === 'Accept-Language' || field === 'accept-language') return '\u0000accept-language';
      if (field === 'X-Forwarded-For' || field === 'x-forwarded-for') return '\u0000x-forwarded-for';
      break;
    case 16:
      if (field === 'Content-Encoding' || field === 'content-encoding') return '\u0000content-encoding';
      if (field === 'X-Forwarded-Host' || field === 'x-forwarded-host') return '\u0000x-forwarded-host';
      break;
    case 17:
      if (field === 'If-Modified-Since' || field === 'if-modified-since') return 'if-modified-since';
      if (field === 'Transfer-Encoding' || field === 'transfer-encoding') return '\u0000transfer-encoding';
      if (field === 'X-Forwarded-Proto' || field === 'x-forwarded-proto') return '\u0000x-forwarded-proto';
      break;
    case 19:
      if (field === 'Proxy-Authorization' || field === 'proxy-authorization') return 'proxy-authorization';
      if (field === 'If-Unmodified-Since' || field === 'if-unmodified-since') return 'if-unmodified-since';
      break;
  }
  return lowercased ? `\u0000${field}` : known(field.toLowerCase(), true);
}

export type HeaderObject = Record<string, string | string[] | undefined>;

/** The `headers` object Node's IncomingMessage builds from a raw list (first 1000 pairs; repeats by {@link known}). */
export function headerObject(raw: readonly string[]): HeaderObject {
  const dst: HeaderObject = {};
  const n = Math.min(raw.length, MAX_HEADER_PAIRS);
  for (let i = 0; i < n; i += 2) {
    let field = known(raw[i] as string, false);
    const value = raw[i + 1] as string;
    const flag = field.charCodeAt(0);
    if (flag === 0 || flag === 2) {
      field = field.slice(1);
      const prev = dst[field];
      dst[field] = typeof prev === 'string' ? prev + (flag === 0 ? ', ' : '; ') + value : value;
    } else if (flag === 1) {
      const prev = dst['set-cookie'] as string[] | undefined;
      if (prev !== undefined) prev.push(value);
      else dst['set-cookie'] = [value];
    } else if (dst[field] === undefined) {
      dst[field] = value;
    }
  }
  return dst;
}

/** What the front end needs of its connection to serve a request's response. */
export interface ResponseSink {
  readonly socket: Socket;
  /** The response wrote its last byte (or gave up): the connection decides what comes next. */
  responseDone(res: H1Response): void;
  /** req.setTimeout(): an inactivity timeout on the connection while the request body arrives. */
  requestTimeout(ms: number): void;
  /** A request body's _read(): read the socket again. */
  readMore(): void;
}

/** The members of IncomingMessage this front end's requests have (checked against Node's types below). */
export interface FrontRequest {
  readonly method: string;
  readonly url: string;
  readonly httpVersion: string;
  readonly httpVersionMajor: number;
  readonly httpVersionMinor: number;
  readonly rawHeaders: string[];
  readonly rawTrailers: string[];
  readonly headers: HeaderObject;
  readonly socket: Socket;
  readonly upgrade: boolean;
  complete: boolean;
  readonly readableDidRead: boolean;
  setTimeout(ms: number, cb?: () => void): this;
}

const VERSIONS = ['1.0', '1.1'];
const versionText = (major: number, minor: number): string => (major === 1 && minor <= 1 ? (VERSIONS[minor] as string) : `${major}.${minor}`);

/** A request without a body (the common case): a plain object, no stream machinery. */
export class H1Request implements FrontRequest {
  readonly httpVersion: string;
  readonly rawTrailers: string[] = [];
  complete = true;
  readonly readableDidRead = false;
  private headers_: HeaderObject | null = null;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    readonly rawHeaders: string[],
    readonly socket: Socket,
    readonly upgrade: boolean,
    private readonly conn: ResponseSink,
  ) {
    this.httpVersion = versionText(httpVersionMajor, httpVersionMinor);
  }

  get headers(): HeaderObject {
    return (this.headers_ ??= headerObject(this.rawHeaders));
  }

  setTimeout(ms: number): this {
    this.conn.requestTimeout(ms);
    return this;
  }

  // what stream users may call on a body-less request
  once(_event: string, _fn: (...args: unknown[]) => void): this {
    return this;
  }
  on(_event: string, _fn: (...args: unknown[]) => void): this {
    return this;
  }
  resume(): this {
    return this;
  }
}

/** A request with a body: a Readable fed by the parser, with back-pressure on the socket. */
export class H1BodyRequest extends Readable implements FrontRequest {
  readonly httpVersion: string;
  rawTrailers: string[] = [];
  complete = false;
  private headers_: HeaderObject | null = null;

  constructor(
    readonly method: string,
    readonly url: string,
    readonly httpVersionMajor: number,
    readonly httpVersionMinor: number,
    readonly rawHeaders: string[],
    readonly socket: Socket,
    readonly upgrade: boolean,
    private readonly conn: ResponseSink,
  ) {
    super({ highWaterMark: socket.readableHighWaterMark });
    this.httpVersion = versionText(httpVersionMajor, httpVersionMinor);
  }

  get headers(): HeaderObject {
    return (this.headers_ ??= headerObject(this.rawHeaders));
  }

  setTimeout(ms: number, cb?: () => void): this {
    if (cb !== undefined) this.on('timeout', cb);
    this.conn.requestTimeout(ms);
    return this;
  }

  /** The parser stops reading the socket when push() says the buffer is full; reading lets it go on. */
  override _read(): void {
    this.conn.readMore();
  }

  /** As IncomingMessage: an abort emits 'error' only to listeners of it. */
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    cb(this.listenerCount('error') === 0 ? null : err);
  }
}

/** A field value with a character HTTP cannot carry (Node's _checkInvalidHeaderChar: /[^\t\x20-\x7e\x80-\xff]/). */
function invalidChar(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127 || c > 255) return true;
  }
  return false;
}
const CLOSE = /(?:^|\W)close(?:$|\W)/i;
const CHUNKED = /(?:^|\W)chunked(?:$|\W)/i;

function httpError(code: string, message: string): Error {
  return Object.assign(new TypeError(message), { code });
}

/** Node's Date header value, made once per second. */
let dateSecond = -1;
let dateText = '';
function utcDate(): string {
  const now = Date.now();
  const s = Math.floor(now / 1000);
  if (s !== dateSecond) {
    dateSecond = s;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** Fields of a response head that change how it is framed. */
const enum Seen {
  Length = 1,
  Te = 2,
  Connection = 4,
  KeepAlive = 8,
  Date = 16,
}

/** Larger bodies are written as a Buffer next to the head (writev) instead of joined into one string. */
const JOIN_LIMIT = 16 * 1024;

type Listener = (...args: unknown[]) => void;

/**
 * The events a response emits ('close', 'finish', 'drain'), without EventEmitter's per-object
 * set-up: one flat list of event, listener, once, made on the first subscription.
 */
class Events {
  private ls: (string | Listener | boolean)[] | null = null;

  on(event: string, fn: Listener): this {
    (this.ls ??= []).push(event, fn, false);
    return this;
  }
  addListener(event: string, fn: Listener): this {
    return this.on(event, fn);
  }
  once(event: string, fn: Listener): this {
    (this.ls ??= []).push(event, fn, true);
    return this;
  }
  off(event: string, fn: Listener): this {
    const ls = this.ls;
    if (ls === null) return this;
    for (let i = 0; i < ls.length; i += 3) {
      if (ls[i] === event && ls[i + 1] === fn) {
        ls.splice(i, 3);
        break;
      }
    }
    return this;
  }
  removeListener(event: string, fn: Listener): this {
    return this.off(event, fn);
  }
  listenerCount(event: string): number {
    let n = 0;
    const ls = this.ls;
    if (ls !== null) for (let i = 0; i < ls.length; i += 3) if (ls[i] === event) n++;
    return n;
  }
  /** Calls the event's listeners (a once listener is removed first); true if there was one. */
  emit(event: string, ...args: unknown[]): boolean {
    const ls = this.ls;
    if (ls === null) return false;
    let first: Listener | null = null;
    let more: Listener[] | null = null;
    for (let i = 0; i < ls.length; i += 3) {
      if (ls[i] !== event) continue;
      const fn = ls[i + 1] as Listener;
      if (first === null) first = fn;
      else (more ??= []).push(fn);
      if (ls[i + 2] === true) {
        ls.splice(i, 3);
        i -= 3;
      }
    }
    if (first === null) return false;
    first.apply(this, args);
    if (more !== null) for (const fn of more) fn.apply(this, args);
    return true;
  }
}

/**
 * The response of one request. Writes the same bytes Node's ServerResponse writes (status line,
 * the given fields, Date, Connection and Keep-Alive, chunked framing when no length is known, no
 * body for HEAD, 204, 304 and 1xx), straight to the connection's socket.
 */
export class H1Response extends Events {
  shouldKeepAlive: boolean;
  statusCode = 200;
  headersSent = false;
  writableEnded = false;
  writableFinished = false;
  destroyed = false;
  closed = false;
  /** Set when the request carried `Expect: 100-continue` (a final answer without 100 closes the connection). */
  expectContinue = false;
  /** The connection closes after this response. */
  last = false;
  /** write() returned false: 'drain' follows the socket's. */
  needDrain = false;
  private sent100 = false;
  private head: string | null = null;
  private hasBody: boolean;
  private chunked = false;
  private readonly useChunked: boolean;
  private trailer = '';

  constructor(
    private readonly conn: ResponseSink,
    req: FrontRequest,
    keepAlive: boolean,
    private readonly keepAliveSeconds: number,
  ) {
    super();
    this.shouldKeepAlive = keepAlive;
    this.hasBody = req.method !== 'HEAD';
    // HTTP/1.0 clients get chunked framing only when they ask for it (TE: chunked)
    this.useChunked = req.httpVersionMajor > 1 || req.httpVersionMinor >= 1 || CHUNKED.test(String(req.headers.te ?? ''));
  }

  get finished(): boolean {
    return this.writableEnded;
  }

  writeHead(status: number, reason?: string | readonly unknown[] | Record<string, unknown>, fields?: readonly unknown[] | Record<string, unknown>): this {
    if (this.head !== null || this.headersSent) throw httpError('ERR_HTTP_HEADERS_SENT', 'Cannot write headers after they are sent to the client');
    const code = status | 0;
    if (code < 100 || code > 999) throw Object.assign(new RangeError(`Invalid status code: ${status}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
    let text: string;
    let list: readonly unknown[] | Record<string, unknown> | undefined;
    if (typeof reason === 'string') {
      text = reason;
      list = fields;
    } else {
      text = STATUS_CODES[code] ?? 'unknown';
      list = reason;
    }
    if (invalidChar(text)) throw httpError('ERR_INVALID_CHAR', 'Invalid character in statusMessage');
    this.statusCode = code;
    if (code === 204 || code === 304 || (code >= 100 && code <= 199)) this.hasBody = false;
    if (this.expectContinue && !this.sent100) this.shouldKeepAlive = false;
    let s = `HTTP/1.1 ${code} ${text}\r\n`;
    this.seen = 0;
    if (Array.isArray(list)) {
      if (list.length % 2 !== 0) throw httpError('ERR_INVALID_ARG_VALUE', 'The argument \'headers\' is invalid');
      const checked = this.checked;
      for (let i = 0; i < list.length; i += 2) {
        const v = list[i + 1];
        if (i < checked) s += this.line(list[i] as string, v as string);
        else if (Array.isArray(v)) for (const x of v) s += this.field(String(list[i]), x);
        else s += this.field(String(list[i]), v);
      }
    } else if (list !== undefined && list !== null) {
      for (const [k, v] of Object.entries(list)) {
        if (Array.isArray(v)) for (const x of v) s += this.field(k, x);
        else if (v !== undefined) s += this.field(k, v);
      }
    }
    const seen = this.seen;
    const hasLength = (seen & Seen.Length) !== 0;
    const hasTe = (seen & Seen.Te) !== 0;
    if ((seen & Seen.Date) === 0) s += `Date: ${utcDate()}\r\n`;
    if ((seen & Seen.Connection) === 0) {
      if (this.shouldKeepAlive && (hasLength || this.useChunked)) {
        s += 'Connection: keep-alive\r\n';
        if ((seen & Seen.KeepAlive) === 0 && this.keepAliveSeconds >= 0) s += `Keep-Alive: timeout=${this.keepAliveSeconds}\r\n`;
      } else {
        this.last = true;
        s += 'Connection: close\r\n';
      }
    }
    if (!hasLength && !hasTe) {
      if (!this.hasBody) this.chunked = false;
      else if (!this.useChunked) this.last = true;
      else {
        s += 'Transfer-Encoding: chunked\r\n';
        this.chunked = true;
      }
    }
    this.head = `${s}\r\n`;
    return this;
  }

  /** Which framing fields writeHead saw (bits of Seen). */
  private seen = 0;
  /** Leading entries of writeHead's list (names and values) already checked (writeHeadChecked). */
  private checked = 0;

  /**
   * writeHead(status, fields) for a list whose first `checked` entries (names and values, strings)
   * are an upstream response's fields as readResponseHead (upstream.ts) read them: names are tokens
   * and values hold no control character but tab and no character past latin1, what writeHead
   * checks, so they are not checked again. The exchange passes 0 once anything edited the list.
   */
  writeHeadChecked(status: number, fields: readonly string[], checked: number): this {
    this.checked = checked;
    try {
      return this.writeHead(status, fields);
    } finally {
      this.checked = 0;
    }
  }

  /** One `name: value` line, validated as Node validates it; notes the fields that change the framing. */
  private field(name: string, value: unknown): string {
    if (!isToken(name)) throw httpError('ERR_INVALID_HTTP_TOKEN', `Header name must be a valid HTTP token ["${name}"]`);
    if (value === undefined) throw httpError('ERR_HTTP_INVALID_HEADER_VALUE', `Invalid value "undefined" for header "${name}"`);
    const v = typeof value === 'string' ? value : String(value);
    if (invalidChar(v)) throw httpError('ERR_INVALID_CHAR', `Invalid character in header content ["${name}"]`);
    return this.line(name, v);
  }

  /** One `name: value` line of a valid field; notes the fields that change the framing. */
  private line(name: string, v: string): string {
    const n = name.length;
    if (n === 14 || n === 17 || n === 10 || n === 4) {
      const lower = name.toLowerCase();
      if (lower === 'content-length') this.seen |= Seen.Length;
      else if (lower === 'transfer-encoding') {
        this.seen |= Seen.Te;
        if (CHUNKED.test(v)) this.chunked = true;
      } else if (lower === 'connection') {
        this.seen |= Seen.Connection;
        if (CLOSE.test(v)) this.last = true;
        else this.shouldKeepAlive = true;
      } else if (lower === 'keep-alive') this.seen |= Seen.KeepAlive;
      else if (lower === 'date') this.seen |= Seen.Date;
    }
    return `${name}: ${v}\r\n`;
  }

  writeContinue(): void {
    if (this.headersSent || this.head !== null || this.destroyed) return;
    // after a pipelined answer before this request, still held for the loop iteration's burst
    releaseWrites(this.conn.socket);
    this.conn.socket.write('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
    this.sent100 = true;
  }

  addTrailers(headers: Record<string, string>): void {
    let t = '';
    for (const [name, value] of Object.entries(headers)) {
      if (!isToken(name)) throw httpError('ERR_INVALID_HTTP_TOKEN', `Trailer name must be a valid HTTP token ["${name}"]`);
      if (invalidChar(String(value))) throw httpError('ERR_INVALID_CHAR', `Invalid character in trailer content ["${name}"]`);
      t += `${name}: ${value}\r\n`;
    }
    this.trailer += t;
  }

  /** Writes a body chunk; false when the socket's buffer is full ('drain' follows). */
  write(chunk: Buffer | string): boolean {
    if (this.writableEnded || this.destroyed) return false;
    if (this.head === null) this.writeHead(this.statusCode);
    const socket = this.conn.socket;
    if (socket.destroyed) return false;
    releaseWrites(socket); // a pipelined answer before this one goes first
    const head = this.takeHead();
    if (!this.hasBody || chunk.length === 0) {
      if (head !== '') socket.write(head, 'latin1');
      return true;
    }
    let ok: boolean;
    if (this.chunked) {
      const size = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
      socket.cork();
      socket.write(`${head}${size.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else if (head !== '') {
      ok = this.joined(socket, head, chunk, '');
    } else {
      ok = socket.write(chunk);
    }
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Ends the response, with a last body chunk (one socket write with the head when small). */
  end(chunk?: Buffer | string): this {
    if (this.writableEnded) return this;
    if (this.head === null) {
      if (chunk !== undefined && this.hasBody && !this.headersSent) {
        // Node's implicit head for end(data): the length is known
        this.writeHead(this.statusCode, ['Content-Length', typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length]);
      } else this.writeHead(this.statusCode);
    }
    this.writableEnded = true;
    const socket = this.conn.socket;
    if (!this.destroyed && !socket.destroyed) {
      // the last write of a response goes out with the loop iteration's others (write-batch.ts)
      const head = this.takeHead();
      const body = this.hasBody && chunk !== undefined && chunk.length > 0 ? chunk : null;
      if (this.chunked) {
        const tail = `0\r\n${this.trailer}\r\n`;
        if (body === null) holdWrite(socket, head + tail);
        else {
          const size = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
          held(socket, `${head}${size.toString(16)}\r\n`, body, `\r\n${tail}`);
        }
      } else if (body === null) {
        if (head !== '') holdWrite(socket, head);
      } else held(socket, head, body, '');
    }
    this.writableFinished = true;
    this.emit('finish');
    this.conn.responseDone(this);
    return this;
  }

  /** head + body + tail in one write: one latin1 string when small, else the Buffer between two strings, corked. */
  private joined(socket: Socket, head: string, body: Buffer | string, tail: string): boolean {
    if (typeof body === 'string' && joinable(body)) return socket.write(head + body + tail, 'latin1');
    if (typeof body !== 'string' && body.length <= JOIN_LIMIT) return socket.write(head + body.toString('latin1') + tail, 'latin1');
    socket.cork();
    if (head !== '') socket.write(head, 'latin1');
    let ok = socket.write(body);
    if (tail !== '') ok = socket.write(tail, 'latin1');
    socket.uncork();
    return ok;
  }

  /** The stored head, once: '' after it went out. */
  private takeHead(): string {
    if (this.headersSent) return '';
    this.headersSent = true;
    return this.head as string;
  }

  /** Cuts the response: the connection is destroyed (as ServerResponse.destroy()). */
  destroy(_err?: Error): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    releaseWrites(this.conn.socket);
    this.conn.socket.destroy();
    return this;
  }

  /** The response is over (finished or cut): 'close', once. */
  emitClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.destroyed = true;
    this.emit('close');
  }
}

/**
 * Whether `res.end(chunk)` is done with `chunk`'s bytes when it returns (a Portico HTTP/1.1
 * response whose end() is its own, not a pacing wrapper's, and a body it joins to its head at
 * once): a borrowed chunk need not be copied for it.
 */
export function endTakesAtOnce(res: object, chunk: Buffer): boolean {
  return res instanceof H1Response && res.end === H1Response.prototype.end && chunk.length <= JOIN_LIMIT;
}

/**
 * Whether a string body can join its latin1 head as one latin1 string: small, and ASCII only (a
 * string body goes out as UTF-8, as Node's ServerResponse writes it; a character past U+007F
 * written as latin1 would lose bytes, and the Content-Length counted its UTF-8 bytes).
 */
function joinable(body: string): boolean {
  return body.length <= JOIN_LIMIT && Buffer.byteLength(body) === body.length;
}

/** head + body + tail held for the loop iteration's burst: one latin1 string when small, else the Buffer between two strings. */
function held(socket: Socket, head: string, body: Buffer | string, tail: string): void {
  if (typeof body === 'string' && joinable(body)) return holdWrite(socket, head + body + tail);
  if (typeof body !== 'string' && body.length <= JOIN_LIMIT) return holdWrite(socket, head + body.toString('latin1') + tail);
  if (head !== '') holdWrite(socket, head);
  holdWrite(socket, body, 'utf8');
  if (tail !== '') holdWrite(socket, tail);
}

// The subsets of Node's types the exchange and front door read: these objects must provide them.
type RequestSubset = Pick<IncomingMessage, 'method' | 'url' | 'httpVersion' | 'httpVersionMajor' | 'httpVersionMinor' | 'rawHeaders' | 'rawTrailers' | 'complete' | 'readableDidRead'>;
type ResponseSubset = Pick<ServerResponse, 'shouldKeepAlive' | 'headersSent' | 'writableEnded' | 'writableFinished' | 'destroyed' | 'closed' | 'statusCode'>;
export const assertShapes = (r: H1Request, b: H1BodyRequest, s: H1Response): [RequestSubset, RequestSubset, ResponseSubset] => [r, b, s];
