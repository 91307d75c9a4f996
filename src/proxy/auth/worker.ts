/**
 * A hash-verification worker thread: bcrypt and the crypt(3) schemes take milliseconds of CPU
 * each, so they run here and never on the event loop that serves requests. On Linux the thread
 * lowers its own scheduling priority (nice 19), so under a burst of wrong passwords the event
 * loop still gets the CPU first (`npm run bench:auth` measures it).
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { verifyHash } from './crypt.js';

try {
  // "/proc/thread-self" links to "<pid>/task/<tid>": setpriority on a thread id is per thread on Linux
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (tid > 0) setPriority(tid, 19);
} catch {
  // not Linux, or not allowed: the default priority
}

parentPort?.on('message', (m: { id: number; hash: string; password: Uint8Array }) => {
  parentPort?.postMessage({ id: m.id, ok: verifyHash(m.hash, Buffer.from(m.password.buffer, m.password.byteOffset, m.password.byteLength)) });
});
