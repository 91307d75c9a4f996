/**
 * Request messages out of llhttp's callbacks, by the rules of Node's HTTP parser binding
 * (src/node_http_parser.cc): the request line and every field count toward the header size limit
 * (an error once the count reaches it, trailers counted again from the end of the head), a field
 * split across reads is joined, a field without a value is dropped, trailing whitespace is trimmed
 * from values, more than 16 KiB of chunk extensions on one chunk is an error, Upgrade and
 * CONNECT heads end the HTTP part. A subclass may stop the parser before
 * a message begins or after one ends (PAUSED), so the server decides when the next one is read.
 * Subclasses receive heads, body bytes and completions; the server (h1-server.ts) serves them, the
 * tests compare them with Node's.
 */
import { Errno, RequestParser, type ParserCallbacks } from './llhttp.js';

/** Node's kMaxChunkExtensionsSize. */
const MAX_CHUNK_EXTENSIONS = 16 * 1024;

export abstract class MessageReader implements ParserCallbacks {
  protected parser: RequestParser | null;
  /** Why the parser failed when a callback refused (Node's error code). */
  protected userError = '';
  private url = '';
  private raw: string[] = [];
  private fields = 0;
  private values = 0;
  private headerBytes = 0;
  /** Bytes of chunk extensions on the current chunk-size line. */
  private extensionBytes = 0;
  private inTrailers = false;
  private trailers: string[] | null = null;
  private upgrade = false;

  constructor(private readonly maxHeaderSize: number) {
    this.parser = new RequestParser(this);
  }

  /**
   * A head is complete (its body, if any, follows through onBodyBytes). `raw`: names and values as
   * sent, alternating; `upgrade`: an Upgrade (Connection: upgrade with Upgrade) or CONNECT request,
   * whose following bytes are not HTTP; `keepAlive`: llhttp_should_keep_alive.
   */
  protected abstract onHead(method: string, url: string, major: number, minor: number, raw: string[], upgrade: boolean, keepAlive: boolean): void;
  /** Body bytes of the current message (views of the Buffer being parsed). */
  protected abstract onBodyBytes(chunk: Buffer): void;
  /** The current message ended; `trailers` as sent, or null. True: stop parsing here (PAUSED; not after an upgrade's head, which stops anyway). */
  protected abstract onComplete(trailers: string[] | null): boolean;
  /** A message's first byte. True: stop before it (PAUSED); it is parsed after llhttp_resume(). */
  protected onBegin(): boolean {
    return false;
  }

  /** Node's error code for a parse result (USER: what the callback reported). */
  protected errorCode(err: number): string {
    if (err === Errno.USER) return this.userError;
    return this.parser === null ? 'HPE_INTERNAL' : this.parser.errorName(err);
  }

  // --- llhttp callbacks --------------------------------------------------------------------------

  onMessageBegin(): number {
    // Node resets its count at the end of every head and chunk, so each message starts from 0
    this.headerBytes = 0;
    this.url = '';
    this.raw = [];
    this.fields = 0;
    this.values = 0;
    this.inTrailers = false;
    this.trailers = null;
    this.upgrade = false;
    return this.onBegin() ? Errno.PAUSED : 0;
  }

  /** Node's TrackHeader: an error once the head's bytes reach the limit. */
  private track(n: number): number {
    this.headerBytes += n;
    if (this.headerBytes < this.maxHeaderSize) return 0;
    this.userError = 'HPE_HEADER_OVERFLOW';
    return Errno.USER;
  }

  /** Node's on_chunk_header: the extension count starts again on each chunk-size line. */
  onChunkHeader(): number {
    this.extensionBytes = 0;
    return 0;
  }

  /** Node's on_chunk_extension: more than 16 KiB of extensions on one chunk is an error (CVE-2024-22019). */
  onChunkExtension(length: number): number {
    this.extensionBytes += length;
    if (this.extensionBytes <= MAX_CHUNK_EXTENSIONS) return 0;
    this.userError = 'HPE_CHUNK_EXTENSIONS_OVERFLOW';
    return Errno.USER;
  }

  onUrl(buf: Buffer, start: number, end: number): number {
    if (this.track(end - start) !== 0) return Errno.USER;
    const s = buf.latin1Slice(start, end);
    this.url = this.url === '' ? s : this.url + s;
    return 0;
  }

  onHeaderField(buf: Buffer, start: number, end: number): number {
    if (this.track(end - start) !== 0) return Errno.USER;
    const s = buf.latin1Slice(start, end);
    const list = this.inTrailers ? (this.trailers ??= []) : this.raw;
    if (this.fields === this.values) {
      this.fields++;
      list.push(s);
    } else {
      const i = list.length - 1;
      list[i] = (list[i] as string) + s;
    }
    return 0;
  }

  onHeaderValue(buf: Buffer, start: number, end: number): number {
    if (this.track(end - start) !== 0) return Errno.USER;
    const s = buf.latin1Slice(start, end);
    const list = this.inTrailers ? (this.trailers ??= []) : this.raw;
    if (this.values !== this.fields) {
      this.values++;
      list.push(s);
    } else {
      const i = list.length - 1;
      list[i] = (list[i] as string) + s;
    }
    return 0;
  }

  onHeadersComplete(upgrade: boolean, keepAlive: boolean): number {
    this.headerBytes = 0;
    const raw = this.raw;
    finishFields(raw, this.values);
    const parser = this.parser as RequestParser;
    this.upgrade = upgrade;
    this.inTrailers = true;
    this.fields = 0;
    this.values = 0;
    this.onHead(parser.method, this.url, parser.versionMajor, parser.versionMinor, raw, upgrade, keepAlive);
    // as Node's server: an Upgrade (or CONNECT) head is all; the rest of the bytes are the new protocol's
    return upgrade ? 2 : 0;
  }

  onBody(buf: Buffer, start: number, end: number): number {
    if (end > start) this.onBodyBytes(buf.subarray(start, end));
    return 0;
  }

  onMessageComplete(): number {
    const trailers = this.trailers;
    if (trailers !== null) finishFields(trailers, this.values);
    const stop = this.onComplete(trailers);
    // an upgrade's head ends the HTTP part: llhttp stops with PAUSED_UPGRADE after this
    return stop && !this.upgrade ? Errno.PAUSED : 0;
  }
}

/** Node's CreateHeaders: pairs for the values seen (a field without a value is dropped), trailing whitespace trimmed. */
function finishFields(raw: string[], values: number): void {
  if (raw.length > values * 2) raw.length = values * 2;
  for (let i = 1; i < raw.length; i += 2) {
    const v = raw[i] as string;
    const last = v.charCodeAt(v.length - 1);
    if (last === 32 || last === 9) raw[i] = v.replace(/[ \t]+$/, '');
  }
}

declare global {
  interface Buffer {
    /** Node's latin1 decoder without toString()'s argument checks. */
    latin1Slice(start: number, end: number): string;
  }
}
