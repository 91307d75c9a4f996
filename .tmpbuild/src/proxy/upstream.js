import { unsafeTarget } from './request-target.js';
/** Errors carry a code that {@link classify} (errors.ts) maps to a status and cause. */
export class UpstreamError extends Error {
    code;
    constructor(code, message) {
        super(message);
        this.code = code;
    }
}
/** RFC 9110 5.6.2 tchar, by character code: what a method or a header name may be made of. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
    TCHAR[c.charCodeAt(0)] = 1;
/** s[from, to) is a token: one or more tchar (a loop over a table: faster than a regular expression on short names). */
export function isToken(s, from = 0, to = s.length) {
    if (to <= from)
        return false;
    for (let i = from; i < to; i++) {
        const c = s.charCodeAt(i);
        if (c > 255 || TCHAR[c] === 0)
            return false;
    }
    return true;
}
/** A control character other than tab (what UNSAFE_VALUE matches). */
function unsafeValue(v) {
    for (let i = 0; i < v.length; i++) {
        const c = v.charCodeAt(i);
        if ((c < 32 && c !== 9) || c === 127)
            return true;
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
export function requestHead(method, path, headers, chunked) {
    if (!isToken(method))
        throw new UpstreamError('PORTICO_UNSAFE_REQUEST', 'the request method cannot be forwarded');
    if (path.charCodeAt(0) !== 47 || unsafeTarget(path))
        throw new UpstreamError('PORTICO_UNSAFE_REQUEST', 'the request target cannot be forwarded');
    let s = `${method} ${path} HTTP/1.1\r\n`;
    for (let i = 0; i < headers.length; i += 2) {
        const n = headers[i];
        const v = headers[i + 1];
        if (!isToken(n) || unsafeValue(v))
            continue;
        s += `${n}: ${v}\r\n`;
    }
    return chunked ? `${s}transfer-encoding: chunked\r\n\r\n` : `${s}\r\n`;
}
/** Whitespace String.prototype.trim() removes from a latin1 field line that passed badHeadByte. */
const isSpace = (c) => c === 32 || c === 9 || c === 0xa0;
/** A control byte other than tab, or a CR or LF that is not part of a CRLF pair. */
function badHeadByte(text) {
    for (let i = 0; i < text.length; i++) {
        const c = text.charCodeAt(i);
        if (c >= 32) {
            if (c === 127)
                return true;
        }
        else if (c === 13 && text.charCodeAt(i + 1) === 10) {
            i++;
        }
        else if (c !== 9) {
            return true;
        }
    }
    return false;
}
export function hasHeader(headers, lower) {
    for (let i = 0; i < headers.length; i += 2) {
        const n = headers[i];
        if (n.length === lower.length && n.toLowerCase() === lower)
            return true;
    }
    return false;
}
export const invalid = (why) => new UpstreamError('PORTICO_UPSTREAM_INVALID', `invalid upstream response: ${why}`);
/**
 * Reads a response head (status line and fields, without the blank line), strictly: a bad status
 * line, a control byte, obs-fold, whitespace before a colon, a bad field name, a malformed or
 * conflicting Content-Length, or a 101 to a protocol `upgrade` did not ask for is an error (the
 * returned string). `headOnly`: the request was HEAD (no body whatever the fields say).
 */
export function readResponseHead(text, headOnly, upgrade) {
    // HTTP/1.x NNN[ reason]
    if (!(text.startsWith('HTTP/1.1 ') || text.startsWith('HTTP/1.0 ')))
        return 'bad status line';
    const status = Number(text.slice(9, 12));
    const after = text.charCodeAt(12);
    if (!(status >= 100 && status <= 999) || !(Number.isNaN(after) || after === 32 || after === 13))
        return 'bad status code';
    // a bare CR or LF, NUL or another control byte in the head is not HTTP: never forwarded (RFC 9112 2.2)
    if (badHeadByte(text))
        return 'control character in the response head';
    let keepAlive = text.charCodeAt(7) !== 48; // HTTP/1.0 ends the connection
    const raw = [];
    let length = -1;
    let chunked = false;
    let te = false;
    let upgradeTo = '';
    let keepAliveMs = -1;
    // each field line by its indices in `text` (no per-line copy); only names and values are sliced out
    let lineStart = text.indexOf('\r\n');
    while (lineStart !== -1) {
        const from = lineStart + 2;
        const next = text.indexOf('\r\n', from);
        const end = next === -1 ? text.length : next;
        lineStart = next;
        const colon = text.indexOf(':', from);
        const c0 = from < end ? text.charCodeAt(from) : -1;
        if (colon === -1 || colon >= end || colon === from || c0 === 32 || c0 === 9)
            return c0 === 32 || c0 === 9 ? 'obsolete line folding' : 'bad header line';
        const last = text.charCodeAt(colon - 1);
        if (last === 32 || last === 9)
            return 'whitespace before colon';
        if (!isToken(text, from, colon))
            return 'bad header name';
        const name = text.slice(from, colon);
        // the value without surrounding whitespace (what String.prototype.trim() removes here: SP, HTAB, NBSP)
        let vs = colon + 1;
        let ve = end;
        while (vs < ve && isSpace(text.charCodeAt(vs)))
            vs++;
        while (ve > vs && isSpace(text.charCodeAt(ve - 1)))
            ve--;
        const value = text.slice(vs, ve);
        raw.push(name, value);
        switch (name.length) {
            case 14:
                if (name.toLowerCase() === 'content-length') {
                    if (!/^\d{1,15}$/.test(value))
                        return 'bad content-length';
                    const n = Number(value);
                    if (length !== -1 && length !== n)
                        return 'conflicting content-length';
                    length = n;
                }
                break;
            case 17:
                if (name.toLowerCase() === 'transfer-encoding') {
                    te = true;
                    chunked = value.toLowerCase().split(',').pop()?.trim() === 'chunked';
                }
                break;
            case 10: {
                const lower = name.toLowerCase();
                if (lower === 'connection') {
                    if (/(^|,)\s*close\s*(,|$)/i.test(value))
                        keepAlive = false;
                }
                else if (lower === 'keep-alive') {
                    const m = /timeout\s*=\s*(\d+)/i.exec(value);
                    if (m)
                        keepAliveMs = Number(m[1]) * 1000;
                }
                break;
            }
            case 7:
                if (name.toLowerCase() === 'upgrade')
                    upgradeTo = value;
                break;
        }
    }
    if (status === 101) {
        // a tunnel only for the protocol the client asked for (RFC 9110 7.8, 15.2.2); anything else is not HTTP
        const proto = upgradeTo.split(',')[0]?.trim().toLowerCase() ?? '';
        if (upgrade === null)
            return 'unexpected 101 Switching Protocols';
        if (proto === '' || !upgrade.has(proto))
            return '101 Switching Protocols to a protocol the client did not ask for';
        return { status, raw, body: 'length', length: 0, keepAlive: false, keepAliveMs };
    }
    if (headOnly || status === 204 || status === 304 || status < 200)
        return { status, raw, body: 'length', length: 0, keepAlive, keepAliveMs };
    if (te) {
        // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, which is removed before forwarding;
        // such a message ends the connection, and so does a final coding other than chunked
        if (length !== -1)
            for (let i = raw.length - 2; i >= 0; i -= 2)
                if (raw[i].length === 14 && raw[i].toLowerCase() === 'content-length')
                    raw.splice(i, 2);
        return { status, raw, body: chunked ? 'chunked' : 'close', length: -1, keepAlive: keepAlive && length === -1 && chunked, keepAliveMs };
    }
    if (length !== -1)
        return { status, raw, body: 'length', length, keepAlive, keepAliveMs };
    return { status, raw, body: 'close', length: -1, keepAlive: false, keepAliveMs };
}
//# sourceMappingURL=upstream.js.map