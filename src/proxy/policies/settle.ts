/**
 * Finishing an auth check that answers later (a hash worker's verdict, an auth service's response,
 * one of satisfy-any's checks): whatever goes wrong there answers 500, never lets the request through.
 */
import type { PolicyExchange } from './types.js';

const TEXT = 'text/plain; charset=utf-8';

/** Runs `f`; a throw answers 500 (`auth_error`) with `body`, and a throw of that answer (the client is gone) is dropped. */
export function settle(ex: PolicyExchange, body: string, f: () => void): void {
  try {
    f();
  } catch {
    try {
      ex.answer(500, body, TEXT, 'auth_error');
    } catch {
      // the client is gone
    }
  }
}
