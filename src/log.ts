/** The pino root logger. Components take `log.child({ component })`; the object comes first, a constant message second. */
import { write, writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/**
 * Lines wait at most this long for others to go out with (nginx's `access_log ... flush=`): a
 * thread-pool write costs tens of microseconds of CPU, so one per few hundred lines, not one per
 * event-loop turn.
 */
const FLUSH_MS = 10;
/** Or until this many bytes wait. */
const FLUSH_BYTES = 64 * 1024;
/** The buffers lines are written into: a batch (64 KiB and its last line) fits one. */
const CHUNK = 128 * 1024;
/** Buffers kept for reuse once written: one being filled while another is written. */
const SPARE_MAX = 2;
/** Bytes waiting past this (a reader that stopped reading) make later lines dropped, counted, and reported when writing resumes. */
const PENDING_MAX = 16 * 1024 * 1024;

function flushLater(sink: LineSink): void {
  sink.flush();
}

/**
 * An asynchronous line writer on a file descriptor. Lines go out together, at most 10 ms after
 * the first of them (or once 64 KiB wait), in one write off the event loop (the thread pool): an
 * access log at tens of thousands of lines a second costs a write per few hundred lines, where a
 * write per line (pino's asynchronous destination when idle) cost a thread-pool round trip per
 * request. Lines are bytes from the start: the access log formats straight into the buffer being
 * filled ({@link room}, {@link commit}), other lines (pino's) are encoded into it as they come, so
 * a batch is never joined or converted; while one buffer is written another is filled, and
 * written buffers are reused. Writing never blocks the data path; a reader that stops reading
 * costs at most 16 MiB of lines, then lines are dropped and counted.
 */
export class LineSink implements DestinationStream {
  /** The buffer being filled, and how many of its bytes are lines. */
  private buf: Buffer = Buffer.allocUnsafeSlow(CHUNK);
  private len = 0;
  /** Filled buffers waiting for their write (oldest first), their lengths, and their bytes in all. */
  private readonly queue: Buffer[] = [];
  private readonly lengths: number[] = [];
  private queued = 0;
  private readonly spare: Buffer[] = [];
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private dropped = 0;

  /** `io`: how bytes are written (node:fs; the tests hold writes in flight). */
  constructor(
    private readonly fd: number,
    private readonly io: { write: typeof write; writeSync: typeof writeSync } = { write, writeSync },
  ) {}

  /** A write is in flight (flushSync now would put later lines before it). */
  get busy(): boolean {
    return this.writing;
  }

  /** Where the next line starts in the buffer {@link room} returned. */
  get filled(): number {
    return this.len;
  }

  /**
   * The buffer to write a line of at most `max` bytes into, from {@link filled}; then
   * {@link commit} with where it ended. Null when lines are being dropped (16 MiB wait).
   */
  room(max: number): Buffer | null {
    if (this.queued + this.len > PENDING_MAX) {
      this.dropped++;
      return null;
    }
    if (this.len + max > this.buf.length) this.seal(max);
    return this.buf;
  }

  /** The line written into the buffer from {@link room} ends at `end`. */
  commit(end: number): void {
    this.len = end;
    if (this.writing) return;
    if (end + this.queued >= FLUSH_BYTES) this.flush();
    else if (this.timer === null) this.timer = setTimeout(flushLater, FLUSH_MS, this).unref();
  }

  write(line: string): boolean {
    // UTF-8 takes at most 3 bytes a UTF-16 unit; a long line is measured rather than over-reserved
    const buf = this.room(line.length <= 4096 ? line.length * 3 : Buffer.byteLength(line));
    if (buf !== null) this.commit(this.len + buf.write(line, this.len));
    return true;
  }

  /** Queues the buffer being filled and starts another, with room for `max` bytes. */
  private seal(max: number): void {
    if (this.len > 0) {
      this.queue.push(this.buf);
      this.lengths.push(this.len);
      this.queued += this.len;
    }
    // a line larger than the buffers gets one of its own, and goes out whole
    this.buf = max > CHUNK ? Buffer.allocUnsafeSlow(max) : (this.spare.pop() ?? Buffer.allocUnsafeSlow(CHUNK));
    this.len = 0;
  }

  /** The warning that lines were dropped, once what waits has come down to half the cap. */
  private reportDropped(): void {
    if (this.dropped === 0 || this.queued + this.len >= PENDING_MAX / 2) return;
    const line = `{"level":"warn","time":"${new Date().toISOString()}","pid":${process.pid},"msg":"log lines dropped: stdout was not being read","dropped":${this.dropped}}\n`;
    this.dropped = 0;
    if (this.len + line.length > this.buf.length) this.seal(line.length);
    this.len += this.buf.write(line, this.len, 'latin1');
  }

  /** A written buffer back for reuse (one of its own for a large line is left to the GC). */
  private release(buf: Buffer): void {
    if (buf.length === CHUNK && buf !== this.buf && this.spare.length < SPARE_MAX) this.spare.push(buf);
  }

  /** Writes what is waiting (one write at a time; the rest follows when it completes). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing) return;
    this.reportDropped();
    if (this.queue.length === 0) {
      if (this.len === 0) return;
      this.seal(0);
    }
    const buf = this.queue.shift() as Buffer;
    const n = this.lengths.shift() as number;
    this.queued -= n;
    this.writing = true;
    this.send(buf, 0, n);
  }

  private send(buf: Buffer, at: number, end: number): void {
    this.io.write(this.fd, buf, at, end - at, null, (err, written) => this.done(err, written, buf, at, end));
  }

  private done(err: NodeJS.ErrnoException | null, written: number, buf: Buffer, at: number, end: number): void {
    if (err !== null && err.code === 'EAGAIN') {
      // a non-blocking descriptor that is full: the same bytes again shortly
      setTimeout(() => this.send(buf, at, end), 10).unref();
      return;
    }
    if (err === null && at + written < end) return this.send(buf, at + written, end);
    // written, or the reader is gone (any other error): these bytes are dropped, later lines still try
    this.writing = false;
    this.release(buf);
    // what came meanwhile goes out with the next batch (or at once if a batch is already waiting)
    if (this.queued + this.len >= FLUSH_BYTES) this.flush();
    else if ((this.len > 0 || this.queued > 0 || this.dropped > 0) && this.timer === null) this.timer = setTimeout(flushLater, FLUSH_MS, this).unref();
  }

  /** Writes everything now, blocking (at exit). */
  flushSync(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.reportDropped();
    if (this.len > 0) this.seal(0);
    while (this.queue.length > 0) {
      const buf = this.queue.shift() as Buffer;
      const n = this.lengths.shift() as number;
      this.queued -= n;
      for (let at = 0, tries = 0; at < n && tries < 1000; ) {
        try {
          at += this.io.writeSync(this.fd, buf, at, n - at);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
          tries++;
        }
      }
      this.release(buf);
    }
  }
}

let out: LineSink | null = null;

/** The one asynchronous stdout stream that control-plane logs and access logs share. */
export function stdoutSink(): LineSink {
  return (out ??= new LineSink(1));
}

/** JSON lines on stdout, written asynchronously so logging never blocks the data path. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, stdoutSink());
}

/**
 * Writes out everything logged so far, in order (for the exit line, before process.exit). A write
 * in flight is waited for (at most `ms`): a synchronous write past it would put later lines first.
 */
export async function flushLogs(ms = 1000): Promise<void> {
  const sink = out;
  if (sink === null) return;
  const until = Date.now() + ms;
  while (sink.busy && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
  try {
    sink.flushSync();
  } catch {
    // nothing more can be done for the log on the way out
  }
}
