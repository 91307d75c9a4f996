/** X-Request-ID values: 32 hex characters (as ingress-nginx's $request_id), from a refilled random pool. */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.allocUnsafe(4096);
/** The pool as hex: each id is a slice of it (V8 shares the characters), not an encoding of its own. */
let hex = '';
let offset = 0;

/** A new random request id; one crypto call and one hex encoding per 256 ids. */
export function nextRequestId(): string {
  if (offset === hex.length) {
    randomFillSync(POOL);
    hex = POOL.toString('hex');
    offset = 0;
  }
  const id = hex.slice(offset, offset + 32);
  offset += 32;
  return id;
}
