/** X-Request-ID values: 32 hex characters (as ingress-nginx's $request_id), from a refilled random pool. */
import { randomFillSync } from 'node:crypto';

const POOL = Buffer.allocUnsafe(4096);
let offset = POOL.length;

/** A new random request id; one crypto call per 256 ids. */
export function nextRequestId(): string {
  if (offset + 16 > POOL.length) {
    randomFillSync(POOL);
    offset = 0;
  }
  const id = POOL.toString('hex', offset, offset + 16);
  offset += 16;
  return id;
}
