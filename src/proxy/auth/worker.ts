/**
 * A hash-verification worker thread: bcrypt and the crypt(3) schemes take milliseconds of CPU
 * each, so they run here and never on the event loop that serves requests.
 */
import { parentPort } from 'node:worker_threads';
import { verifyHash } from './crypt.js';

parentPort?.on('message', (m: { id: number; hash: string; password: Uint8Array }) => {
  parentPort?.postMessage({ id: m.id, ok: verifyHash(m.hash, Buffer.from(m.password.buffer, m.password.byteOffset, m.password.byteLength)) });
});
