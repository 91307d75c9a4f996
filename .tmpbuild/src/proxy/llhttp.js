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
export var Errno;
(function (Errno) {
    Errno[Errno["OK"] = 0] = "OK";
    /** Returned by a callback to stop after the current message (llhttp_resume() before going on). */
    Errno[Errno["PAUSED"] = 21] = "PAUSED";
    /** An Upgrade or CONNECT request's head is complete: the rest of the bytes are not HTTP. */
    Errno[Errno["PAUSED_UPGRADE"] = 22] = "PAUSED_UPGRADE";
    /** `PRI * HTTP/2.0` with the preface: HTTP/2 on an HTTP/1 connection. */
    Errno[Errno["PAUSED_H2_UPGRADE"] = 23] = "PAUSED_H2_UPGRADE";
    /** A callback refused the message (the caller knows why). */
    Errno[Errno["USER"] = 24] = "USER";
})(Errno || (Errno = {}));
const TYPE_REQUEST = 1;
/** The parser whose execute() is running, the Buffer it reads and where that Buffer sits in wasm memory. */
let current = null;
let currentBuf = Buffer.alloc(0);
/** currentBuf index = wasm address + delta. */
let delta = 0;
const at = (ptr) => ptr + delta;
function load() {
    const require = createRequire(import.meta.url);
    let mod;
    try {
        mod = new WebAssembly.Module(require('undici/lib/llhttp/llhttp_simd-wasm.js'));
    }
    catch {
        // no wasm SIMD on this CPU or runtime: the plain build is the same parser
    }
    mod ??= new WebAssembly.Module(require('undici/lib/llhttp/llhttp-wasm.js'));
    const instance = new WebAssembly.Instance(mod, {
        env: {
            // within a message's body, the first two also carry chunk headers and chunk extensions (see patchSettings)
            wasm_on_message_begin: () => current.messageBegin(),
            wasm_on_url: (_p, ptr, len) => current.url(ptr, len),
            wasm_on_status: () => 0,
            wasm_on_header_field: (_p, ptr, len) => current.callbacks.onHeaderField(currentBuf, at(ptr), at(ptr) + len),
            wasm_on_header_value: (_p, ptr, len) => current.callbacks.onHeaderValue(currentBuf, at(ptr), at(ptr) + len),
            wasm_on_headers_complete: (_p, _status, upgrade, keepAlive) => current.headersComplete(upgrade === 1, keepAlive === 1),
            wasm_on_body: (_p, ptr, len) => current.callbacks.onBody(currentBuf, at(ptr), at(ptr) + len),
            wasm_on_message_complete: () => current.messageComplete(),
        },
    });
    return instance.exports;
}
/** llhttp_t.settings in the wasm32 build (llhttp 9.3: 80-byte llhttp_t, settings last but the padding). */
const SETTINGS_OFFSET = 56;
/** Slots of llhttp_settings_t (llhttp 9.3's order), 4 bytes each. */
var Slot;
(function (Slot) {
    Slot[Slot["MessageBegin"] = 0] = "MessageBegin";
    Slot[Slot["Url"] = 2] = "Url";
    Slot[Slot["ChunkExtensionName"] = 8] = "ChunkExtensionName";
    Slot[Slot["ChunkExtensionValue"] = 9] = "ChunkExtensionValue";
    Slot[Slot["ChunkHeader"] = 22] = "ChunkHeader";
    Slot[Slot["Count"] = 25] = "Count";
})(Slot || (Slot = {}));
/**
 * undici's build registers no chunk-extension or chunk-header callbacks, which Node's parser
 * binding uses to refuse more than 16 KiB of extensions on one chunk (HPE_CHUNK_EXTENSIONS_OVERFLOW,
 * CVE-2024-22019). A copy of its settings points those slots at two functions it already
 * registers with the same signatures: on_url (a span) and on_message_begin (no argument). The
 * parser tells them apart by where it is: after a message's head there is no URL and no new message.
 * Checked by a probe when loaded (selfTest); tests compare the result with Node's parser.
 */
function patchSettings(w) {
    const probe = w.llhttp_alloc(TYPE_REQUEST);
    const words = new Uint32Array(w.memory.buffer);
    const original = words[(probe + SETTINGS_OFFSET) >> 2];
    w.llhttp_free(probe);
    const copy = w.malloc(Slot.Count * 4);
    const m = new Uint32Array(w.memory.buffer);
    for (let i = 0; i < Slot.Count; i++)
        m[(copy >> 2) + i] = m[(original >> 2) + i];
    m[(copy >> 2) + Slot.ChunkExtensionName] = m[(original >> 2) + Slot.Url];
    m[(copy >> 2) + Slot.ChunkExtensionValue] = m[(original >> 2) + Slot.Url];
    m[(copy >> 2) + Slot.ChunkHeader] = m[(original >> 2) + Slot.MessageBegin];
    return copy;
}
let wasm = null;
/** The patched settings every parser uses. */
let settings = 0;
/** The input area in wasm memory, grown as needed. */
let area = 0;
let areaSize = 0;
/** A view of wasm memory (made again when the memory grows). */
let view = new Uint8Array(0);
/** llhttp's method numbers to names (llhttp_method_name), filled as they are met. */
const METHODS = [];
function cString(ptr) {
    const mem = Buffer.from(wasm.memory.buffer);
    const end = mem.indexOf(0, ptr);
    return mem.toString('latin1', ptr, end === -1 ? ptr : end);
}
function instance() {
    if (wasm === null) {
        wasm = load();
        settings = patchSettings(wasm);
        selfTest();
    }
    return wasm;
}
/** The callbacks a chunked request with an extension must produce, in order, or this build is not the one verified. */
function selfTest() {
    const seen = [];
    const log = (what) => () => (seen.push(what), 0);
    const span = (what) => (buf, start, end) => (seen.push(`${what}=${buf.toString('latin1', start, end)}`), 0);
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
    if (err !== Errno.OK || seen.join(' ') !== want)
        throw new Error(`undici's llhttp build does not behave as the one Portico's HTTP/1.1 server was verified with (got "${seen.join(' ')}", error ${err}); run with --http1-server=node`);
}
/** One connection's parser state inside the shared wasm instance. Call free() when the connection ends. */
export class RequestParser {
    callbacks;
    ptr;
    w;
    /** Index in the last executed Buffer where parsing stopped (on a pause or an error). */
    errorPos = 0;
    /** After a message's head and before its end: url and message-begin calls are chunk extensions and chunk headers. */
    inBody = false;
    constructor(callbacks) {
        this.callbacks = callbacks;
        this.w = instance();
        this.ptr = this.w.llhttp_alloc(TYPE_REQUEST);
        new Uint32Array(this.w.memory.buffer)[(this.ptr + SETTINGS_OFFSET) >> 2] = settings;
    }
    messageBegin() {
        return this.inBody ? this.callbacks.onChunkHeader() : this.callbacks.onMessageBegin();
    }
    url(ptr, len) {
        return this.inBody ? this.callbacks.onChunkExtension(len) : this.callbacks.onUrl(currentBuf, at(ptr), at(ptr) + len);
    }
    headersComplete(upgrade, keepAlive) {
        this.inBody = true;
        return this.callbacks.onHeadersComplete(upgrade, keepAlive);
    }
    messageComplete() {
        this.inBody = false;
        return this.callbacks.onMessageComplete();
    }
    /** Parses buf[from..]; returns an Errno (OK: all consumed). Never re-entered. */
    execute(buf, from) {
        const w = this.w;
        const len = buf.length - from;
        if (len > areaSize) {
            if (area !== 0)
                w.free(area);
            areaSize = Math.max(len, 64 * 1024);
            area = w.malloc(areaSize);
        }
        if (view.buffer !== w.memory.buffer)
            view = new Uint8Array(w.memory.buffer);
        view.set(from === 0 ? buf : buf.subarray(from), area);
        current = this;
        currentBuf = buf;
        delta = from - area;
        let err;
        try {
            err = w.llhttp_execute(this.ptr, area, len);
        }
        finally {
            current = null;
            currentBuf = EMPTY;
        }
        this.errorPos = err === Errno.OK ? buf.length : w.llhttp_get_error_pos(this.ptr) - area + from;
        return err;
    }
    /** The connection ended: an Errno (OK when no message was cut short). */
    finish() {
        current = this;
        try {
            return this.w.llhttp_finish(this.ptr);
        }
        finally {
            current = null;
        }
    }
    /** Goes on after a pause (PAUSED returned by a callback). */
    resume() {
        this.w.llhttp_resume(this.ptr);
    }
    get method() {
        const m = this.w.llhttp_get_method(this.ptr);
        return (METHODS[m] ??= cString(this.w.llhttp_method_name(m)));
    }
    get versionMajor() {
        return this.w.llhttp_get_http_major(this.ptr);
    }
    get versionMinor() {
        return this.w.llhttp_get_http_minor(this.ptr);
    }
    /** Node's error code for an Errno, e.g. `HPE_INVALID_METHOD` (its `err.code`). */
    errorName(err) {
        return cString(this.w.llhttp_errno_name(err));
    }
    /** llhttp's own reason text for the last error. */
    errorReason() {
        const p = this.w.llhttp_get_error_reason(this.ptr);
        return p === 0 ? '' : cString(p);
    }
    free() {
        if (this.ptr === 0)
            return;
        this.w.llhttp_free(this.ptr);
        this.ptr = 0;
    }
}
const EMPTY = Buffer.alloc(0);
//# sourceMappingURL=llhttp.js.map