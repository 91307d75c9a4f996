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
