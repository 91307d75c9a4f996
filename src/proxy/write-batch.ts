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
 * peer, the rest find it awake. Each socket still gets one write (two held pieces for one socket
 * in an iteration become one `writev`), in order, and the delay is the rest of the iteration.
 *
 * What is held is kept here, next to the socket, not in the socket (a corked socket buffers each
 * write as a request object and sends it through the stream's buffered-request chain, about 2% of
 * a request's CPU): the socket sees one plain `write` at the flush. So whoever writes to, ends or
 * destroys a socket that may hold something calls {@link releaseWrites} first: held bytes go out
 * before anything written after them, and a destroy would drop them.
 */
import type { Socket } from 'node:net';

const DATA = Symbol('portico.held');
const ENCODING = Symbol('portico.heldEncoding');
const MORE = Symbol('portico.heldMore');
/** A socket's held bytes: the first piece, its encoding, and any pieces held after it (piece, encoding, ...). */
interface Holder {
  [DATA]?: string | Buffer | null;
  [ENCODING]?: BufferEncoding;
  [MORE]?: (string | Buffer)[] | null;
}
type Held = Socket & Holder;

let held: Held[] = [];
let spare: Held[] = [];
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

/**
 * Holds `data` for `socket` until the end of this event-loop iteration's callbacks (after what it
 * holds already). A Buffer held here must not change before it is sent.
 */
export function holdWrite(socket: Socket, data: string | Buffer, encoding: BufferEncoding = 'latin1'): void {
  const s = socket as Held;
  if (s[DATA] == null) {
    s[DATA] = data;
    s[ENCODING] = encoding;
    held.push(s);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  } else {
    (s[MORE] ??= []).push(data, encoding);
  }
}

/** Whether `socket` holds bytes not yet sent. */
export function holds(socket: Socket): boolean {
  return (socket as Held)[DATA] != null;
}

/** Sends what `socket` holds now (before it is written to otherwise, ended or destroyed); nothing when it holds nothing. */
export function releaseWrites(socket: Socket): void {
  const s = socket as Held;
  const data = s[DATA];
  if (data == null) return;
  s[DATA] = null;
  const more = s[MORE];
  if (more != null) s[MORE] = null;
  // a socket destroyed (or ended) meanwhile drops what it held, as a corked one would
  if (s.destroyed || s.writableEnded) return;
  if (more == null || more.length === 0) {
    s.write(data, s[ENCODING] as BufferEncoding);
    return;
  }
  s.cork();
  s.write(data, s[ENCODING] as BufferEncoding);
  for (let i = 0; i < more.length; i += 2) s.write(more[i] as string | Buffer, more[i + 1] as BufferEncoding);
  s.uncork();
}
