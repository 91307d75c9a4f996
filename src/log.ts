/** The pino root logger. Components take `log.child({ component })`; the object comes first, a constant message second. */
import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger };

let out: (DestinationStream & { flushSync?(): void }) | null = null;

/** The one asynchronous stdout stream that control-plane logs and access logs share. */
export function stdoutSink(): DestinationStream & { flushSync?(): void } {
  return (out ??= pino.destination({ dest: 1, sync: false }));
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
  const sink = out as (DestinationStream & { flushSync?(): void; _writing?: boolean }) | null;
  if (sink === null) return;
  const until = Date.now() + ms;
  while (sink._writing === true && Date.now() < until) await new Promise((r) => setTimeout(r, 1));
  try {
    sink.flushSync?.();
  } catch {
    // nothing more can be done for the log on the way out
  }
}
