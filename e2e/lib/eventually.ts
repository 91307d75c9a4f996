/** Polling for e2e tests: one helper, bounded in time, that says what it waited for. */
import { sleep } from './load.js';

export interface EventuallyOptions {
  /** Give up after this long (default 10 s). */
  readonly ms?: number;
  /** Pause between checks (default 20 ms). */
  readonly every?: number;
  /** What is awaited, for the error message. */
  readonly what?: string;
}

/**
 * Calls `check` until it returns a truthy value, and returns that value; throws after `ms`. The
 * last value seen is in the error, so a failure says how far things got.
 */
export async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, o: EventuallyOptions = {}): Promise<T> {
  const ms = o.ms ?? 10_000;
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    last = await check();
    if (last) return last as T;
    if (Date.now() - t0 > ms) throw new Error(`${o.what ?? 'condition'} not met within ${ms} ms (last: ${JSON.stringify(last)})`);
    await sleep(o.every ?? 20);
  }
}

/** Like {@link eventually}, for a check that may throw while the system is not there yet. */
export function eventuallyOk<T>(check: () => Promise<T>, o: EventuallyOptions = {}): Promise<T> {
  return eventually(async () => {
    try {
      return { value: await check() };
    } catch {
      return undefined;
    }
  }, o).then((r) => r.value);
}
