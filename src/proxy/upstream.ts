/**
 * The upstream client's interface (what a request's handler implements, what a dispatcher
 * takes), its errors, and the HTTP/1.1 wire rules it writes and reads by. Portico's own HTTP/1.1
 * client is http1-pool.ts and http1-conn.ts.
 *
 * Why not undici here: on the benchmark layout of `npm run bench` a Node proxy forwarding over raw
 * sockets (bench/reference.ts `raw-socket`) reached 0.52-0.79 of nginx where undici's `stream`
 * reached 0.50-0.54 and Portico on undici's dispatcher 0.49 in the same runs; Portico on this client
 * is within 6% of the raw forwarder (docs/performance.md). undici's generality (a wasm parser
 * behind a request queue, per-request option validation and header objects) is the difference.
 * undici stays for gRPC (h2c and h2), which needs HTTP/2.
 *
 * The parser is strict where leniency is a smuggling risk: one Content-Length value, digits only;
 * no obs-fold; Transfer-Encoding wins over Content-Length and ends the connection's reuse; a head
 * or trailer section over 64 KiB or a chunk-size line over 4 KiB is an invalid response. 
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { unsafeTarget } from './request-target.js';
import { holdWrite } from './write-batch.js';

/** What the handler of one request implements (the shape of undici's dispatch handler). */
export interface UpstreamHandler {
  /** Called once, before connecting: `abort` ends the attempt with {@link UpstreamHandler.onError}. */
  onConnect(abort: (err?: Error) => void): void;
  /**
   * Final response head; header names and values as sent. Return false to pause reading.
   * `checked`: read by {@link readResponseHead} (names are tokens, values hold no control character but tab).
   */
  onHeaders(status: number, rawHeaders: (string | Buffer)[], resume: () => void, checked?: boolean): boolean;
  /**
   * A body chunk; return false to pause reading until `resume`. `last` marks the final chunk of
   * a Content-Length body (the handler may end its response with it; no trailers follow).
   * `borrowed`: the chunk is a view of a read buffer that is reused once the call returns (only
   * ever with `last`): what the handler keeps past the call, it copies.
   */
  onData(chunk: Buffer, last?: boolean, borrowed?: boolean): boolean;
  /** The response is complete; trailers as a flat name/value list, or null. */
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
  /**
   * An upgrade request was answered `101` with an `Upgrade` the client asked for: the socket is
   * the handler's from now on (the pool forgot it), with `rest` the bytes that followed the head.
   */
  onUpgrade?(rawHeaders: string[], socket: Socket, rest: Buffer): void;
}

export interface UpstreamRequest {
  readonly path: string;
  readonly method: string;
  /** Flat name/value list, already rewritten for the upstream (hop-by-hop headers removed). */
  readonly headers: readonly string[];
  readonly body: Readable | null | undefined;
  /** ms from the end of the request to the response head. */
  readonly headersTimeout: number;
  /** ms between response body reads. */
  readonly bodyTimeout: number;
  /**
   * The client's `Upgrade` value for an upgrade request: sent on a connection of its own, which
   * becomes a tunnel only on a `101` naming one of these protocols; any other answer is a normal
   * response and the connection is closed after it.
   */
  readonly upgrade?: string | undefined;
}

/** Anything requests can be dispatched to: this pool, or an undici dispatcher for HTTP/2. */
export interface Upstream {
  dispatch(req: UpstreamRequest, handler: UpstreamHandler): void;
  /** Stops reuse; resolves once in-flight requests are done. */
  close(): Promise<void>;
}

/** Errors carry a code that {@link classify} (errors.ts) maps to a status and cause. */
export class UpstreamError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** RFC 9110 5.6.2 tchar, by character code: what a method or a header name may be made of. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** s[from, to) is a token: one or more tchar (a loop over a table: faster than a regular expression on short names). */
export function isToken(s: string, from = 0, to = s.length): boolean {
  if (to <= from) return false;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** A control character other than tab (what UNSAFE_VALUE matches). */
function unsafeValue(v: string): boolean {
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}
/** A field value may hold visible characters, obs-text, space and tab: no other control byte (RFC 9110 5.5). */
// eslint-disable-next-line no-control-regex
export const UNSAFE_VALUE = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Serialises a request head. Defence in depth behind the front end's checks: a method or target
 * that cannot appear on the wire throws (nothing is written), and a header whose name is not a
 * token or whose value holds a control byte is never forwarded.
 */
export function requestHead(method: string, path: string, headers: readonly string[], chunked: boolean): string {
  if (!isToken(method)) throw new UpstreamError('PORTICO_UNSAFE_REQUEST', 'the request method cannot be forwarded');
  if (path.charCodeAt(0) !== 47 || unsafeTarget(path)) throw new UpstreamError('PORTICO_UNSAFE_REQUEST', 'the request target cannot be forwarded');
  let s = `${method} ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i] as string;
    const v = headers[i + 1] as string;
    if (!isToken(n) || unsafeValue(v)) continue;
    s += `${n}: ${v}\r\n`;
  }
  return chunked ? `${s}transfer-encoding: chunked\r\n\r\n` : `${s}\r\n`;
}

/**
 * A token equals `lower` (lower-case letters and '-') in any case, without a lower-cased copy:
 * `| 0x20` maps A-Z onto a-z and leaves '-' alone; no other tchar maps onto a letter or '-'.
 * Only for tokens: a CR (0x0d) would compare equal to '-'. Callers pass names a parser has
 * already held to the token rule (this module's, or llhttp's for undici's responses).
 */
export function sameLower(token: string, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((token.charCodeAt(i) | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Whitespace String.prototype.trim() removes from a latin1 field line that passed badHeadByte. */
const isSpace = (c: number): boolean => c === 32 || c === 9 || c === 0xa0;

/**
 * The request head requestHead() makes, written as UTF-8 (what `socket.write(string)` sends) into a
 * reused buffer and written to `socket` from it: no head string, no copy of it in the socket
 * layer. When the socket keeps the buffer (not connected yet, or its buffer is full) the next
 * head gets a new one. `hold`: the head is held for the loop iteration's burst (write-batch.ts),
 * as a view of the buffer that later heads are written after, not over (a full buffer is replaced).
 * Throws as requestHead() does, before anything is written.
 */
export function writeRequestHead(socket: { write(b: Buffer): boolean; readonly writableLength: number }, method: string, path: string, headers: readonly string[], chunked: boolean, hold = false): void {
  if (!isToken(method)) throw new UpstreamError('PORTICO_UNSAFE_REQUEST', 'the request method cannot be forwarded');
  if (path.charCodeAt(0) !== 47 || unsafeTarget(path)) throw new UpstreamError('PORTICO_UNSAFE_REQUEST', 'the request target cannot be forwarded');
  let at = put(method, base);
  at = putByte(32, at);
  at = put(path, at);
  at = put(' HTTP/1.1\r\n', at);
  for (let i = 0; i < headers.length; i += 2) {
    // each field is checked as it is copied (one pass over it); a bad one is taken back and skipped
    const line = at;
    at = putName(headers[i] as string, at);
    if (at !== -1) at = putValue(headers[i + 1] as string, at);
    at = at === -1 ? line : put('\r\n', at);
  }
  at = put(chunked ? 'transfer-encoding: chunked\r\n\r\n' : '\r\n', at);
  const bytes = head.subarray(base, at);
  if (hold) {
    holdWrite(socket as unknown as Socket, bytes);
    // the held view is sent at the burst: the next head goes after it, or into a new buffer
    if (head.length - at >= HEAD_ROOM) base = at;
    else {
      head = Buffer.allocUnsafe(HEAD_SIZE);
      base = 0;
    }
    return;
  }
  socket.write(bytes);
  // the socket holds on to bytes it could not send yet: they are not to be overwritten
  if (socket.writableLength > 0) {
    head = Buffer.allocUnsafe(HEAD_SIZE);
    base = 0;
  }
}

const HEAD_SIZE = 16 * 1024;
/** Room left after a held head below which the next head starts a new buffer. */
const HEAD_ROOM = 2 * 1024;
/** Where request heads are written (from {@link base}); replaced when a socket keeps it or it fills. */
let head = Buffer.allocUnsafe(HEAD_SIZE);
/** Where the next head starts in {@link head}: after the heads held for the current burst. */
let base = 0;

/** Grows the head buffer (keeping what is written, at the same offsets) to hold `need` more bytes at `at`. Returns `at`. */
function room(at: number, need: number): number {
  if (at + need <= head.length) return at;
  const bigger = Buffer.allocUnsafe(Math.max(head.length * 2, at + need));
  head.copy(bigger, base, base, at);
  head = bigger;
  return at;
}
function putByte(b: number, at: number): number {
  at = room(at, 1);
  head[at] = b;
  return at + 1;
}
/** Writes `s` as UTF-8 at `at`; returns the end. ASCII, the common case, byte by byte. */
function put(s: string, at: number): number {
  at = room(at, s.length * 3);
  const h = head;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) return at + h.write(s.slice(i), at, 'utf8');
    h[at++] = c;
  }
  return at;
}
/** Writes a field name and `: ` at `at`; -1 when it is not a token (isToken's rule). */
function putName(s: string, at: number): number {
  if (s.length === 0) return -1;
  at = room(at, s.length + 2);
  const h = head;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 255 || TCHAR[c] === 0) return -1;
    h[at++] = c;
  }
  h[at++] = 58;
  h[at++] = 32;
  return at;
}
/** Writes a field value as UTF-8 at `at`; -1 when it holds a control byte other than tab (unsafeValue's rule). */
function putValue(s: string, at: number): number {
  at = room(at, s.length * 3);
  const h = head;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 ? c !== 9 : c === 127) return -1;
    if (c >= 0x80) return unsafeValue(s) ? -1 : at + h.write(s.slice(i), at, 'utf8');
    h[at++] = c;
  }
  return at;
}

/** In [from, to), a control byte other than tab, or a CR or LF that is not part of a CRLF pair. */
function badHeadByte(text: string, from = 0, to = text.length): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    if (c >= 32) {
      if (c === 127) return true;
    } else if (c === 13 && text.charCodeAt(i + 1) === 10) {
      i++;
    } else if (c !== 9) {
      return true;
    }
  }
  return false;
}

const CONTROL = 'control character in the response head';

export function hasHeader(headers: readonly string[], lower: string): boolean {
  for (let i = 0; i < headers.length; i += 2) {
    const n = headers[i] as string;
    if (n.length === lower.length && n.toLowerCase() === lower) return true;
  }
  return false;
}

export const invalid = (why: string): UpstreamError => new UpstreamError('PORTICO_UPSTREAM_INVALID', `invalid upstream response: ${why}`);

/** A field's error, unless a control byte past it (from `at`) comes first: that error outranks every field's. */
const fieldError = (text: string, at: number, why: string): string => (badHeadByte(text, at) ? CONTROL : why);

/** A response head, read: what the connection needs to read the body and whether to reuse it. */
export interface ResponseHead {
  readonly status: number;
  /** Header names and values as sent (Content-Length removed next to Transfer-Encoding). */
  readonly raw: string[];
  /** How the body is delimited: none (length 0), a Content-Length, chunked, or the connection's end. */
  readonly body: 'length' | 'chunked' | 'close';
  readonly length: number;
  /** False when the response ends the connection (HTTP/1.0, Connection: close, CL with TE, no length). */
  readonly keepAlive: boolean;
  /** The upstream's `Keep-Alive: timeout`, in ms; -1 when absent. */
  readonly keepAliveMs: number;
}

/**
 * Reads a response head (status line and fields, without the blank line), strictly: a bad status
 * line, a control byte, obs-fold, whitespace before a colon, a bad field name, a malformed or
 * conflicting Content-Length, or a 101 to a protocol `upgrade` did not ask for is an error (the
 * returned string). `headOnly`: the request was HEAD (no body whatever the fields say).
 */
export function readResponseHead(text: string, headOnly: boolean, upgrade: ReadonlySet<string> | null): ResponseHead | string {
  // HTTP/1.x NNN[ reason]
  if (!(text.startsWith('HTTP/1.1 ') || text.startsWith('HTTP/1.0 '))) return 'bad status line';
  const status = Number(text.slice(9, 12));
  const after = text.charCodeAt(12);
  if (!(status >= 100 && status <= 999) || !(Number.isNaN(after) || after === 32 || after === 13)) return 'bad status code';
  // a bare CR or LF, NUL or another control byte in the head is not HTTP: never forwarded (RFC 9112
  // 2.2). Each line is checked as it is read; that error comes before any other of the head's
  // fields, so a field's error is returned only once the rest of the head is known to be clean.
  const n = text.length;
  let lineStart = text.indexOf('\r\n');
  if (badHeadByte(text, 0, lineStart === -1 ? n : lineStart)) return CONTROL;
  let keepAlive = text.charCodeAt(7) !== 48; // HTTP/1.0 ends the connection
  const raw: string[] = [];
  let length = -1;
  let chunked = false;
  let te = false;
  let upgradeTo = '';
  let keepAliveMs = -1;
  // each field line by its indices in `text` (no per-line copy), in one pass: the name up to the
  // colon (its bytes checked as a token's), then the value up to the CRLF (no control byte but tab)
  while (lineStart !== -1) {
    const from = lineStart + 2;
    let i = from;
    let colon = -1;
    let token = true;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c === 58) {
        colon = i;
        break;
      }
      if (c === 13 && text.charCodeAt(i + 1) === 10) break;
      if (c > 255 || TCHAR[c] === 0) {
        if ((c < 32 && c !== 9) || c === 127) return CONTROL;
        token = false;
      }
    }
    let end = n;
    for (let j = colon === -1 ? i : colon + 1; j < n; j++) {
      const c = text.charCodeAt(j);
      if (c < 32) {
        if (c === 13 && text.charCodeAt(j + 1) === 10) {
          end = j;
          break;
        }
        if (c !== 9) return CONTROL;
      } else if (c === 127) return CONTROL;
    }
    lineStart = end === n ? -1 : end;
    const c0 = from < end ? text.charCodeAt(from) : -1;
    const bad = colon === -1 || colon === from || c0 === 32 || c0 === 9 ? (c0 === 32 || c0 === 9 ? 'obsolete line folding' : 'bad header line') : text.charCodeAt(colon - 1) === 32 || text.charCodeAt(colon - 1) === 9 ? 'whitespace before colon' : token ? '' : 'bad header name';
    if (bad !== '') return fieldError(text, end, bad);
    const name = text.slice(from, colon);
    // the value without surrounding whitespace (what String.prototype.trim() removes here: SP, HTAB, NBSP)
    let vs = colon + 1;
    let ve = end;
    while (vs < ve && isSpace(text.charCodeAt(vs))) vs++;
    while (ve > vs && isSpace(text.charCodeAt(ve - 1))) ve--;
    const value = text.slice(vs, ve);
    raw.push(name, value);
    switch (name.length) {
      case 14:
        if (sameLower(name, 'content-length')) {
          if (!/^\d{1,15}$/.test(value)) return fieldError(text, end, 'bad content-length');
          const cl = Number(value);
          if (length !== -1 && length !== cl) return fieldError(text, end, 'conflicting content-length');
          length = cl;
        }
        break;
      case 17:
        if (sameLower(name, 'transfer-encoding')) {
          te = true;
          chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
        }
        break;
      case 10: {
        if (sameLower(name, 'connection')) {
          if (/(^|,)\s*close\s*(,|$)/i.test(value)) keepAlive = false;
        } else if (sameLower(name, 'keep-alive')) {
          const m = /timeout\s*=\s*(\d+)/i.exec(value);
          if (m) keepAliveMs = Number(m[1]) * 1000;
        }
        break;
      }
      case 7:
        if (sameLower(name, 'upgrade')) upgradeTo = value;
        break;
    }
  }
  if (status === 101) {
    // a tunnel only for the protocol the client asked for (RFC 9110 7.8, 15.2.2); anything else is not HTTP
    const proto = upgradeTo.split(',')[0]?.trim().toLowerCase() ?? '';
    if (upgrade === null) return 'unexpected 101 Switching Protocols';
    if (proto === '' || !upgrade.has(proto)) return '101 Switching Protocols to a protocol the client did not ask for';
    return { status, raw, body: 'length', length: 0, keepAlive: false, keepAliveMs };
  }
  if (headOnly || status === 204 || status === 304 || status < 200) return { status, raw, body: 'length', length: 0, keepAlive, keepAliveMs };
  if (te) {
    // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which is removed before forwarding;
    // such a message ends the connection, and so does a final coding other than chunked
    if (length !== -1) for (let i = raw.length - 2; i >= 0; i -= 2) if ((raw[i] as string).length === 14 && (raw[i] as string).toLowerCase() === 'content-length') raw.splice(i, 2);
    return { status, raw, body: chunked ? 'chunked' : 'close', length: -1, keepAlive: keepAlive && length === -1 && chunked, keepAliveMs };
  }
  if (length !== -1) return { status, raw, body: 'length', length, keepAlive, keepAliveMs };
  return { status, raw, body: 'close', length: -1, keepAlive: false, keepAliveMs };
}
