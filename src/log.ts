/** The pino root logger. Components take `log.child({ component })`; the object comes first, a constant message second. */
import { write, writeSync } from 'node:fs';
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

/** At most this many characters go out in one write. */
const WRITE_MAX = 1024 * 1024;
/**
 * Lines wait at most this long for others to go out with (nginx's `access_log ... flush=`): a
 * thread-pool write costs tens of microseconds of CPU, so one per few hundred lines, not one per
 * event-loop turn.
 */
const FLUSH_MS = 10;
/** Or until this much is waiting. */
const FLUSH_CHARS = 64 * 1024;
/** Characters waiting past this (a reader that stopped reading) are dropped, counted, and reported when writing resumes. */
const PENDING_MAX = 16 * 1024 * 1024;

function flushLater(sink: LineSink): void {
  sink.flush();
}

/**
 * An asynchronous line writer on a file descriptor. Lines go out together, at most 10 ms after
 * the first of them (or once 64 KiB wait), in one write off the event loop (the thread pool): an
 * access log at tens of thousands of lines a second costs a write per few hundred lines, where a
 * write per line (pino's asynchronous destination when idle) cost a thread-pool round trip per
 * request. Writing never blocks the data path; a reader that stops reading costs at most 16 MiB
 * of lines, then lines are dropped and counted.
 */
export class LineSink implements DestinationStream {
  private pending = '';
  private writing = false;
  private timer: NodeJS.Timeout | null = null;
  private dropped = 0;
  private readonly done = (err: NodeJS.ErrnoException | null, written: number, buf: Buffer): void => {
    this.writing = false;
    if (err !== null) {
      if (err.code === 'EAGAIN') {
        // a non-blocking descriptor that is full: the same bytes again shortly
        this.writing = true;
        setTimeout(() => write(this.fd, buf, 0, buf.length, null, (e, n) => this.done(e, n, buf)), 10).unref();
      }
      // anything else (the reader is gone): these bytes are dropped, later lines still try
      return;
    }
    if (written < buf.length) {
      this.writing = true;
      const rest = buf.subarray(written);
      write(this.fd, rest, 0, rest.length, null, (e, n) => this.done(e, n, rest));
      return;
    }
    // what came meanwhile goes out with the next batch (or at once if a batch is already waiting)
    if (this.pending.length >= FLUSH_CHARS) this.flush();
    else if (this.pending !== '' && this.timer === null) this.timer = setTimeout(flushLater, FLUSH_MS, this).unref();
  };

  constructor(private readonly fd: number) {}

  /** A write is in flight (flushSync now would put later lines before it). */
  get busy(): boolean {
    return this.writing;
  }

  write(line: string): boolean {
    if (this.pending.length > PENDING_MAX) {
      this.dropped++;
      return true;
    }
    this.pending += line;
    if (this.writing) return true;
    if (this.pending.length >= FLUSH_CHARS) this.flush();
    else if (this.timer === null) this.timer = setTimeout(flushLater, FLUSH_MS, this).unref();
    return true;
  }

  /** What is waiting, up to WRITE_MAX characters of whole lines. */
  private take(): string {
    let s = this.pending;
    if (s.length > WRITE_MAX) {
      const cut = s.lastIndexOf('\n', WRITE_MAX) + 1;
      const at = cut > 0 ? cut : s.length;
      this.pending = s.slice(at);
      s = s.slice(0, at);
    } else this.pending = '';
    if (this.dropped > 0 && this.pending.length < PENDING_MAX / 2) {
      s += `{"level":"warn","time":"${new Date().toISOString()}","pid":${process.pid},"msg":"log lines dropped: stdout was not being read","dropped":${this.dropped}}\n`;
      this.dropped = 0;
    }
    return s;
  }

  /** Writes what is waiting (one write at a time; the rest follows when it completes). */
  flush(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.writing || this.pending === '') return;
    const buf = Buffer.from(this.take(), 'utf8');
    this.writing = true;
    write(this.fd, buf, 0, buf.length, null, (e, n) => this.done(e, n, buf));
  }

  /** Writes everything now, blocking (at exit). */
  flushSync(): void {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.pending !== '') {
      const buf = Buffer.from(this.take(), 'utf8');
      for (let at = 0, tries = 0; at < buf.length && tries < 1000; ) {
        try {
          at += writeSync(this.fd, buf, at);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
          tries++;
        }
      }
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
