/**
 * Writes held until the event loop's I/O callbacks are done, then sent one after another.
 *
 * On loopback (and on any host where the peer runs on another core) a write to a socket whose
 * reader sleeps wakes that reader, and in a VM the wake-up of a process on another core is an
 * inter-processor interrupt, paid by the writer (`_raw_spin_unlock_irqrestore` under
 * `sock_def_readable` in a profile). A proxy slower than its peers finds them asleep at nearly
 * every write: at c=200 Portico paid a wake-up per response and per upstream request. Held
 * until the poll phase's callbacks have all run (one `setImmediate` per loop iteration), the
 * responses and upstream requests of one iteration go out in a burst: the first write wakes the
 * peer, the rest find it awake. Each socket still gets one write (two writes to one socket in an
 * iteration become one `writev`), in order, and the delay is the rest of the iteration.
 *
 * A held socket is corked: `write` returns what it would (the buffer's size against its
 * high-water mark), `end` flushes, but `destroy` would drop what is held: whoever destroys a
 * socket that may hold a finished answer calls {@link releaseWrites} first.
 */
import type { Socket } from 'node:net';

let held: Socket[] = [];
let spare: Socket[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  // a socket held while this batch is sent (a write callback that ends another answer) joins the next batch
  const batch = held;
  held = spare;
  for (let i = 0; i < batch.length; i++) releaseWrites(batch[i] as Socket);
  batch.length = 0;
  spare = batch;
}

/** Holds `socket`'s writes from now to the end of this event-loop iteration's callbacks. */
export function holdWrites(socket: Socket): void {
  if (socket.writableCorked !== 0) return; // held already (or corked by its writer, who uncorks)
  socket.cork();
  held.push(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flush);
  }
}

/** Sends what `socket` holds now (before it is ended or destroyed); nothing when it holds nothing. */
export function releaseWrites(socket: Socket): void {
  if (socket.writableCorked > 0) socket.uncork();
}
