/**
 * llhttp, the parser of Node's own HTTP server, as the WebAssembly build undici ships (undici is a
 * dependency; its `lib/llhttp/llhttp*-wasm.js` export the module bytes): request mode, no lenient
 * flags, the same state machine and the same accept/reject decisions as Node's C++ binding. One
 * instance per process; each connection allocates its own parser state in it. Callbacks are
 * dispatched to the parser being executed (execute() is never re-entered: handlers run after it
 * returns), with positions in the caller's Buffer, so nothing is copied out of wasm memory.
 */
import { createRequire } from 'node:module';

/** llhttp_errno values this module's callers look at (llhttp.h). */
export const enum Errno {
  OK = 0,
  /** Returned by a callback to stop after the current message (llhttp_resume() before going on). */
  PAUSED = 21,
  /** An Upgrade or CONNECT request's head is complete: the rest of the bytes are not HTTP. */
  PAUSED_UPGRADE = 22,
  /** `PRI * HTTP/2.0` with the preface: HTTP/2 on an HTTP/1 connection. */
  PAUSED_H2_UPGRADE = 23,
  /** A callback refused the message (the caller knows why). */
  USER = 24,
}

/** What the parser calls; each returns 0 to go on, or an Errno. Positions index `buf`. */
export interface ParserCallbacks {
  onMessageBegin(): number;
  /** A chunk-size line was read (llhttp's on_chunk_header). */
  onChunkHeader(): number;
  /** A chunk extension's name or value, or part of one (on_chunk_extension_name/value): its length. */
  onChunkExtension(length: number): number;
  onUrl(buf: Buffer, start: number, end: number): number;
  onHeaderField(buf: Buffer, start: number, end: number): number;
  onHeaderValue(buf: Buffer, start: number, end: number): number;
  /** 0: a body follows as framed; 1: no body; 2: an upgrade (no body, stop after the head). */
  onHeadersComplete(upgrade: boolean, keepAlive: boolean): number;
  onBody(buf: Buffer, start: number, end: number): number;
  onMessageComplete(): number;
}

/** The part of the WebAssembly JS API used here (the compiler's libraries here do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, (...args: number[]) => number>>) => { exports: unknown };
};

interface Exports {
  memory: { readonly buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  llhttp_alloc(type: number): number;
  llhttp_free(ptr: number): void;
  llhttp_execute(ptr: number, data: number, len: number): number;
  llhttp_finish(ptr: number): number;
  llhttp_resume(ptr: number): void;
  llhttp_get_error_pos(ptr: number): number;
  llhttp_get_error_reason(ptr: number): number;
  llhttp_errno_name(err: number): number;
  llhttp_get_method(ptr: number): number;
  llhttp_method_name(method: number): number;
  llhttp_get_http_major(ptr: number): number;
  llhttp_get_http_minor(ptr: number): number;
}

const TYPE_REQUEST = 1;

/** The parser whose execute() is running, the Buffer it reads and where that Buffer sits in wasm memory. */
let current: RequestParser | null = null;
let currentBuf: Buffer = Buffer.alloc(0);
/** currentBuf index = wasm address + delta. */
let delta = 0;

const at = (ptr: number): number => ptr + delta;

function load(): Exports {
  const require = createRequire(import.meta.url);
  let mod: object | undefined;
  try {
    mod = new WebAssembly.Module(require('undici/lib/llhttp/llhttp_simd-wasm.js') as Buffer);
  } catch {
    // no wasm SIMD on this CPU or runtime: the plain build is the same parser
  }
  mod ??= new WebAssembly.Module(require('undici/lib/llhttp/llhttp-wasm.js') as Buffer);
  const instance = new WebAssembly.Instance(mod, {
    env: {
      // within a message's body, the first two also carry chunk headers and chunk extensions (see patchSettings)
      wasm_on_message_begin: (): number => (current as RequestParser).messageBegin(),
      wasm_on_url: (_p: number, ptr: number, len: number): number => (current as RequestParser).url(ptr, len),
      wasm_on_status: (): number => 0,
      wasm_on_header_field: (_p: number, ptr: number, len: number): number => (current as RequestParser).callbacks.onHeaderField(currentBuf, at(ptr), at(ptr) + len),
      wasm_on_header_value: (_p: number, ptr: number, len: number): number => (current as RequestParser).callbacks.onHeaderValue(currentBuf, at(ptr), at(ptr) + len),
      wasm_on_headers_complete: (_p: number, _status: number, upgrade: number, keepAlive: number): number => (current as RequestParser).headersComplete(upgrade === 1, keepAlive === 1),
      wasm_on_body: (_p: number, ptr: number, len: number): number => (current as RequestParser).callbacks.onBody(currentBuf, at(ptr), at(ptr) + len),
      wasm_on_message_complete: (): number => (current as RequestParser).messageComplete(),
    },
  });
  return instance.exports as unknown as Exports;
}

/** llhttp_t.settings in the wasm32 build (llhttp 9.3: 80-byte llhttp_t, settings last but the padding). */
const SETTINGS_OFFSET = 56;
/** Slots of llhttp_settings_t (llhttp 9.3's order), 4 bytes each. */
const enum Slot {
  MessageBegin = 0,
  Url = 2,
  ChunkExtensionName = 8,
  ChunkExtensionValue = 9,
  ChunkHeader = 22,
  Count = 25,
}

/**
 * undici's build registers no chunk-extension or chunk-header callbacks, which Node's parser
 * binding uses to refuse more than 16 KiB of extensions on one chunk (HPE_CHUNK_EXTENSIONS_OVERFLOW,
 * CVE-2024-22019). A copy of its settings points those slots at two functions it already
 * registers with the same signatures: on_url (a span) and on_message_begin (no argument). The
 * parser tells them apart by where it is: after a message's head there is no URL and no new message.
 * Checked by a probe when loaded (selfTest); tests compare the result with Node's parser.
 */
function patchSettings(w: Exports): number {
  const probe = w.llhttp_alloc(TYPE_REQUEST);
  const words = new Uint32Array(w.memory.buffer);
  const original = words[(probe + SETTINGS_OFFSET) >> 2] as number;
  w.llhttp_free(probe);
  const copy = w.malloc(Slot.Count * 4);
  const m = new Uint32Array(w.memory.buffer);
  for (let i = 0; i < Slot.Count; i++) m[(copy >> 2) + i] = m[(original >> 2) + i] as number;
  m[(copy >> 2) + Slot.ChunkExtensionName] = m[(original >> 2) + Slot.Url] as number;
  m[(copy >> 2) + Slot.ChunkExtensionValue] = m[(original >> 2) + Slot.Url] as number;
  m[(copy >> 2) + Slot.ChunkHeader] = m[(original >> 2) + Slot.MessageBegin] as number;
  return copy;
}

let wasm: Exports | null = null;
/** The patched settings every parser uses. */
let settings = 0;
/** The input area in wasm memory, grown as needed. */
let area = 0;
let areaSize = 0;
/** A view of wasm memory (made again when the memory grows). */
let view = new Uint8Array(0);
/** llhttp's method numbers to names (llhttp_method_name), filled as they are met. */
const METHODS: string[] = [];

function cString(ptr: number): string {
  const mem = Buffer.from((wasm as Exports).memory.buffer);
  const end = mem.indexOf(0, ptr);
  return mem.toString('latin1', ptr, end === -1 ? ptr : end);
}

function instance(): Exports {
  if (wasm === null) {
    wasm = load();
    settings = patchSettings(wasm);
    selfTest();
  }
  return wasm;
}

/** The callbacks a chunked request with an extension must produce, in order, or this build is not the one verified. */
function selfTest(): void {
  const seen: string[] = [];
  const log = (what: string) => (): number => (seen.push(what), 0);
  const span = (what: string) => (buf: Buffer, start: number, end: number): number => (seen.push(`${what}=${buf.toString('latin1', start, end)}`), 0);
  const p = new RequestParser({
    onMessageBegin: log('begin'),
    onChunkHeader: log('chunk'),
    onChunkExtension: (n) => (seen.push(`ext${n}`), 0),
    onUrl: span('url'),
    onHeaderField: span('field'),
    onHeaderValue: span('value'),
    onHeadersComplete: () => (seen.push('head'), 0),
    onBody: span('body'),
    onMessageComplete: log('end'),
  });
  const err = p.execute(Buffer.from('POST /p HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3;ab=cde\r\nxyz\r\n0\r\n\r\n', 'latin1'), 0);
  p.free();
  const want = 'begin url=/p field=Transfer-Encoding value=chunked head ext2 ext3 chunk body=xyz chunk end';
  if (err !== Errno.OK || seen.join(' ') !== want) throw new Error(`undici's llhttp build does not behave as the one Portico's HTTP/1.1 server was verified with (got "${seen.join(' ')}", error ${err}); run with --http1-server=node`);
}

/** One connection's parser state inside the shared wasm instance. Call free() when the connection ends. */
export class RequestParser {
  private ptr: number;
  private readonly w: Exports;
  /** Index in the last executed Buffer where parsing stopped (on a pause or an error). */
  errorPos = 0;

  /** After a message's head and before its end: url and message-begin calls are chunk extensions and chunk headers. */
  private inBody = false;

  constructor(readonly callbacks: ParserCallbacks) {
    this.w = instance();
    this.ptr = this.w.llhttp_alloc(TYPE_REQUEST);
    new Uint32Array(this.w.memory.buffer)[(this.ptr + SETTINGS_OFFSET) >> 2] = settings;
  }

  messageBegin(): number {
    return this.inBody ? this.callbacks.onChunkHeader() : this.callbacks.onMessageBegin();
  }
  url(ptr: number, len: number): number {
    return this.inBody ? this.callbacks.onChunkExtension(len) : this.callbacks.onUrl(currentBuf, at(ptr), at(ptr) + len);
  }
  headersComplete(upgrade: boolean, keepAlive: boolean): number {
    this.inBody = true;
    return this.callbacks.onHeadersComplete(upgrade, keepAlive);
  }
  messageComplete(): number {
    this.inBody = false;
    return this.callbacks.onMessageComplete();
  }

  /** Parses buf[from..]; returns an Errno (OK: all consumed). Never re-entered. */
  execute(buf: Buffer, from: number): number {
    const w = this.w;
    const len = buf.length - from;
    if (len > areaSize) {
      if (area !== 0) w.free(area);
      areaSize = Math.max(len, 64 * 1024);
      area = w.malloc(areaSize);
    }
    if (view.buffer !== w.memory.buffer) view = new Uint8Array(w.memory.buffer);
    view.set(from === 0 ? buf : buf.subarray(from), area);
    current = this;
    currentBuf = buf;
    delta = from - area;
    let err: number;
    try {
      err = w.llhttp_execute(this.ptr, area, len);
    } finally {
      current = null;
      currentBuf = EMPTY;
    }
    this.errorPos = err === Errno.OK ? buf.length : w.llhttp_get_error_pos(this.ptr) - area + from;
    return err;
  }

  /** The connection ended: an Errno (OK when no message was cut short). */
  finish(): number {
    current = this;
    try {
      return this.w.llhttp_finish(this.ptr);
    } finally {
      current = null;
    }
  }

  /** Goes on after a pause (PAUSED returned by a callback). */
  resume(): void {
    this.w.llhttp_resume(this.ptr);
  }

  get method(): string {
    const m = this.w.llhttp_get_method(this.ptr);
    return (METHODS[m] ??= cString(this.w.llhttp_method_name(m)));
  }
  get versionMajor(): number {
    return this.w.llhttp_get_http_major(this.ptr);
  }
  get versionMinor(): number {
    return this.w.llhttp_get_http_minor(this.ptr);
  }

  /** Node's error code for an Errno, e.g. `HPE_INVALID_METHOD` (its `err.code`). */
  errorName(err: number): string {
    return cString(this.w.llhttp_errno_name(err));
  }
  /** llhttp's own reason text for the last error. */
  errorReason(): string {
    const p = this.w.llhttp_get_error_reason(this.ptr);
    return p === 0 ? '' : cString(p);
  }

  free(): void {
    if (this.ptr === 0) return;
    this.w.llhttp_free(this.ptr);
    this.ptr = 0;
  }
}

const EMPTY = Buffer.alloc(0);
