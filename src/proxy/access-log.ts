/**
 * One line per request, JSON or ingress-nginx's default upstream log format, written to the
 * shared asynchronous stdout destination. Lines are formatted straight from the request, the
 * matched route and the outcome into the destination's buffer, as bytes: no string per line, no
 * batch converted to UTF-8 at the write (the two cost as much as the rest of the line's CPU).
 */
import type { IncomingMessage } from 'node:http';
import type { RouteLabels } from '../metrics/metrics.js';
import { clientAddress, requestHost } from './headers.js';

/** What only the proxy knows about a request's outcome; the rest is read from the request and route. */
export interface Outcome {
  readonly time: number;
  readonly status: number;
  readonly bytes: number;
  readonly requestLength: number;
  readonly durationMs: number;
  /** `ip:port` of the pod, or '' when none was tried. */
  readonly upstream: string;
  readonly upstreamStatus: number;
  readonly upstreamMs: number;
  readonly requestId: string;
  /** Why Portico answered itself ('' for a proxied response). */
  readonly cause: string;
  /** The client as trusted proxies report it; '' = the peer address. */
  readonly remote: string;
}

export type AccessLog = (req: IncomingMessage, t: RouteLabels | null, o: Outcome) => void;

/**
 * Where lines are formatted: the stdout writer's buffer (`LineSink` in src/log.ts). `room` gives
 * a buffer with at least `max` bytes free from `filled` (null: the line is dropped), `commit`
 * says where the line ended.
 */
export interface ByteSink {
  readonly filled: number;
  room(max: number): Buffer | null;
  commit(end: number): void;
}

/** Lines as strings (the tests' sinks). */
interface Sink {
  write(line: string): unknown;
}

/** A {@link ByteSink} that hands each line on as a string. */
class StringSink implements ByteSink {
  private buf = Buffer.allocUnsafe(16 * 1024);
  readonly filled = 0;
  constructor(private readonly sink: Sink) {}
  room(max: number): Buffer {
    if (max > this.buf.length) this.buf = Buffer.allocUnsafe(max);
    return this.buf;
  }
  commit(end: number): void {
    this.sink.write(this.buf.toString('utf8', 0, end));
  }
}

const PID = process.pid;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `26/Nov/2026:05:42:07 +0000`, nginx's $time_local in UTC. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

/** A quoted field of the text format ('-' when empty). */
const q = (s: string): string => (s === '' ? '-' : s.replace(/["\\]/g, (c) => `\\${c}`));

// Fields are written as bytes into the sink's buffer: characters are copied one by one while
// nothing needs escaping (a loop is cheaper than a native call for strings this short), and
// anything else (escapes, non-ASCII) takes the slow path, which writes what the string
// formatting wrote (JSON.stringify, the text format's quoting) as UTF-8.

/** A JSON string value, as JSON.stringify writes it. Room: 6 bytes a character, and 2. */
function jsonString(buf: Buffer, p: number, s: string): number {
  const start = p;
  buf[p++] = 0x22;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return start + buf.write(JSON.stringify(s), start);
    buf[p++] = c;
  }
  buf[p++] = 0x22;
  return p;
}

/** A quoted field of the text format (see {@link q}), without its quotes. Room: 3 bytes a character. */
function textQuoted(buf: Buffer, p: number, s: string): number {
  if (s === '') {
    buf[p] = 0x2d;
    return p + 1;
  }
  const start = p;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return start + buf.write(q(s), start);
    if (c === 0x22 || c === 0x5c) buf[p++] = 0x5c;
    buf[p++] = c;
  }
  return p;
}

/** A string as it is, in UTF-8. Room: 3 bytes a character. */
function text(buf: Buffer, p: number, s: string): number {
  const start = p;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return start + buf.write(s, start);
    buf[p++] = c;
  }
  return p;
}

/** The decimal digits of an integer 0 ≤ n < 2^53. */
function digits(buf: Buffer, p: number, n: number): number {
  let end = p + 1;
  for (let m = n; m >= 10; m = Math.floor(m / 10)) end++;
  for (let at = end; ; ) {
    const r = n % 10;
    buf[--at] = 0x30 + r;
    n = (n - r) / 10;
    if (n === 0) return end;
  }
}

/** A number as a template literal writes it (String(n)). Room: 25 bytes. */
function num(buf: Buffer, p: number, n: number): number {
  return Number.isSafeInteger(n) && n >= 0 ? digits(buf, p, n) : p + buf.write(String(n), p, 'latin1');
}

/** `${Math.round(ms * 1000) / 1000}`: milliseconds to the microsecond. Room: 25 bytes. */
function millis(buf: Buffer, p: number, ms: number): number {
  const us = Math.round(ms * 1000);
  // below 2^40 µs a double tells apart every decimal with 3 decimals: String() writes them as they are
  if (!(us >= 0 && us < 2 ** 40)) return p + buf.write(String(us / 1000), p, 'latin1');
  const whole = Math.floor(us / 1000);
  const frac = us - whole * 1000;
  p = digits(buf, p, whole);
  if (frac === 0) return p;
  buf[p++] = 0x2e;
  buf[p++] = 0x30 + Math.floor(frac / 100);
  const rest = frac % 100;
  if (rest !== 0) {
    buf[p++] = 0x30 + Math.floor(rest / 10);
    if (rest % 10 !== 0) buf[p++] = 0x30 + (rest % 10);
  }
  return p;
}

/** `x.toFixed(3)`. Room: 25 bytes. */
function fixed3(buf: Buffer, p: number, x: number): number {
  const y = x * 1000;
  const whole = Math.floor(y);
  // y is within 1e-7 of x × 1000 here: only a near tie needs toFixed's exact rounding
  if (!(x >= 0 && y < 1e9 && Math.abs(y - whole - 0.5) > 1e-6)) return p + buf.write(x.toFixed(3), p, 'latin1');
  const n = y - whole > 0.5 ? whole + 1 : whole;
  const frac = n % 1000;
  p = digits(buf, p, (n - frac) / 1000);
  buf[p] = 0x2e;
  buf[p + 1] = 0x30 + Math.floor(frac / 100);
  buf[p + 2] = 0x30 + (Math.floor(frac / 10) % 10);
  buf[p + 3] = 0x30 + (frac % 10);
  return p + 4;
}

/** Bytes written as they are. */
function put(buf: Buffer, p: number, b: Buffer): number {
  buf.set(b, p);
  return p + b.length;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'utf8');
/** Numbers, constants and quotes of a line; its strings are counted apart. */
const LINE_ROOM = 400;

/**
 * Everything of a JSON line up to the remote address, for the last second formatted: its
 * milliseconds are written into it per line (toISOString per millisecond cost as much as the rest
 * of the line).
 */
let jsonHeadAt = NaN;
let jsonHead: Buffer = Buffer.alloc(0);
/** Where in {@link jsonHead} the milliseconds are. */
let jsonHeadMs = 0;
/** Of a text line, what follows the remote address up to the request, for the last second formatted. */
let textTimeAt = -1;
let textTime: Buffer = Buffer.alloc(0);

const J_HOST = bytes(',"host":');
const J_TIME_END = `Z","pid":${PID},"msg":"request","remote":`;
/** `,"status":N,"bytes":` and `,"upstream_status":N,"request_id":` by status code, as they are first needed. */
const J_STATUS_BYTES: Array<Buffer | undefined> = [];
const J_UPSTREAM_STATUS_ID: Array<Buffer | undefined> = [];
const J_METHOD = bytes(',"method":');
const J_PATH = bytes(',"path":');
const J_DURATION = bytes(',"duration_ms":');
const J_UPSTREAM = bytes(',"upstream":');
const J_CAUSE = bytes(',"cause":');
const T_VERSION = bytes(' HTTP/');

/** `,"status":N,"bytes":` (N as String(N)). */
function statusBytes(n: number): Buffer {
  if (!(n >= 0 && n < 1000 && n % 1 === 0)) return bytes(`,"status":${n},"bytes":`);
  return (J_STATUS_BYTES[n] ??= bytes(`,"status":${n},"bytes":`));
}

/** `,"upstream_status":N,"request_id":`. */
function upstreamStatusId(n: number): Buffer {
  if (!(n >= 0 && n < 1000 && n % 1 === 0)) return bytes(`,"upstream_status":${n},"request_id":`);
  return (J_UPSTREAM_STATUS_ID[n] ??= bytes(`,"upstream_status":${n},"request_id":`));
}

/** What a JSON line says of its route: from the request id's comma to the user agent's name. */
function jsonRoute(t: RouteLabels | null): Buffer {
  const canary = t?.canaryOf === undefined ? '' : '"canary":true,';
  return bytes(`,"namespace":${JSON.stringify(t?.namespace ?? '')},"ingress":${JSON.stringify(t?.ingress ?? '')},"service":${JSON.stringify(t?.service ?? '')},${canary}"user_agent":`);
}

/** What a text line says of its route: `[upstream_name] [alternative] `. */
function textRoute(t: RouteLabels | null): Buffer {
  // a canary's traffic: the main route's upstream, then the canary as the alternative (as ingress-nginx logs it)
  const canaryOf = t?.canaryOf;
  const upstreamName = t === null || t.service === '' ? '' : `${t.namespace}-${canaryOf ?? t.service}`;
  const alternative = t !== null && canaryOf !== undefined ? `${t.namespace}-${t.service}` : '';
  return bytes(`[${upstreamName}] [${alternative}] `);
}

export function createAccessLog(format: 'json' | 'text', to: ByteSink | Sink): AccessLog {
  const sink: ByteSink = 'room' in to ? to : new StringSink(to);
  // a route's part of the line, encoded once per compiled route, when it first logs a request
  const routes = new WeakMap<RouteLabels, Buffer>();
  const unrouted = format === 'text' ? textRoute(null) : jsonRoute(null);
  const routeBytes = format === 'text' ? textRoute : jsonRoute;
  const route = (t: RouteLabels | null): Buffer => {
    if (t === null) return unrouted;
    let b = routes.get(t);
    if (b === undefined) routes.set(t, (b = routeBytes(t)));
    return b;
  };

  if (format === 'text') {
    // ingress-nginx log-format-upstream: remote - user [time] "request" status bytes "referer" "ua"
    // request_length request_time [upstream_name] [alternative] upstream_addr upstream_bytes upstream_time upstream_status req_id
    return (req, t, o) => {
      const remote = o.remote || clientAddress(req);
      const method = req.method ?? '';
      const url = req.url ?? '';
      const version = req.httpVersion;
      const referer = req.headers.referer ?? '';
      const ua = req.headers['user-agent'] ?? '';
      const r = route(t);
      // new Date() truncates a fractional time
      const second = Math.floor((o.time - (o.time % 1)) / 1000);
      if (second !== textTimeAt) {
        textTime = bytes(` - - [${clfTime(second * 1000)}] "`);
        textTimeAt = second;
      }
      const buf = sink.room(LINE_ROOM + textTime.length + r.length + 6 * (remote.length + method.length + url.length + version.length + referer.length + ua.length + o.upstream.length + o.requestId.length));
      if (buf === null) return;
      let p = text(buf, sink.filled, remote);
      p = put(buf, p, textTime);
      p = textQuoted(buf, p, method);
      buf[p++] = 0x20;
      p = textQuoted(buf, p, url);
      p = put(buf, p, T_VERSION);
      p = text(buf, p, version);
      buf[p++] = 0x22;
      buf[p++] = 0x20;
      p = num(buf, p, o.status);
      buf[p++] = 0x20;
      p = num(buf, p, o.bytes);
      buf[p++] = 0x20;
      buf[p++] = 0x22;
      p = textQuoted(buf, p, referer);
      buf[p++] = 0x22;
      buf[p++] = 0x20;
      buf[p++] = 0x22;
      p = textQuoted(buf, p, ua);
      buf[p++] = 0x22;
      buf[p++] = 0x20;
      p = num(buf, p, o.requestLength);
      buf[p++] = 0x20;
      p = fixed3(buf, p, o.durationMs / 1000);
      buf[p++] = 0x20;
      p = put(buf, p, r);
      if (o.upstream === '') buf[p++] = 0x2d;
      else p = text(buf, p, o.upstream);
      buf[p++] = 0x20;
      p = num(buf, p, o.bytes);
      buf[p++] = 0x20;
      if (o.upstream === '') buf[p++] = 0x2d;
      else p = fixed3(buf, p, o.upstreamMs / 1000);
      buf[p++] = 0x20;
      if (o.upstreamStatus) p = num(buf, p, o.upstreamStatus);
      else buf[p++] = 0x2d;
      buf[p++] = 0x20;
      p = text(buf, p, o.requestId);
      buf[p++] = 0x0a;
      sink.commit(p);
    };
  }
  return (req, t, o) => {
    const remote = o.remote || clientAddress(req);
    const host = requestHost(req) ?? '';
    const method = req.method ?? '';
    const url = req.url ?? '';
    const ua = req.headers['user-agent'] ?? '';
    const r = route(t);
    // new Date() truncates a fractional time
    const ms = o.time - (o.time % 1);
    const second = Math.floor(ms / 1000);
    if (second !== jsonHeadAt) {
      const iso = new Date(second * 1000).toISOString();
      jsonHead = bytes(`{"level":"info","time":"${iso.slice(0, -4)}000${J_TIME_END}`);
      jsonHeadMs = jsonHead.length - J_TIME_END.length - 3;
      jsonHeadAt = second;
    }
    const milli = ms - second * 1000;
    jsonHead[jsonHeadMs] = 0x30 + Math.floor(milli / 100);
    jsonHead[jsonHeadMs + 1] = 0x30 + (Math.floor(milli / 10) % 10);
    jsonHead[jsonHeadMs + 2] = 0x30 + (milli % 10);
    const buf = sink.room(LINE_ROOM + jsonHead.length + r.length + 6 * (remote.length + host.length + method.length + url.length + o.upstream.length + o.requestId.length + ua.length + o.cause.length));
    if (buf === null) return;
    let p = put(buf, sink.filled, jsonHead);
    p = jsonString(buf, p, remote);
    p = put(buf, p, J_HOST);
    p = jsonString(buf, p, host);
    p = put(buf, p, J_METHOD);
    p = jsonString(buf, p, method);
    p = put(buf, p, J_PATH);
    p = jsonString(buf, p, url);
    p = put(buf, p, statusBytes(o.status));
    p = num(buf, p, o.bytes);
    p = put(buf, p, J_DURATION);
    p = millis(buf, p, o.durationMs);
    p = put(buf, p, J_UPSTREAM);
    p = jsonString(buf, p, o.upstream);
    p = put(buf, p, upstreamStatusId(o.upstreamStatus));
    p = jsonString(buf, p, o.requestId);
    p = put(buf, p, r);
    p = jsonString(buf, p, ua);
    if (o.cause !== '') {
      p = put(buf, p, J_CAUSE);
      p = jsonString(buf, p, o.cause);
    }
    buf[p++] = 0x7d;
    buf[p++] = 0x0a;
    sink.commit(p);
  };
}
