/**
 * Reading an accepted TCP socket into one shared buffer, as `net.connect({ onread })` does for
 * the sockets a client opens: Node then hands each read to a callback, with no Buffer allocated
 * per read and no stream machinery in between. Node has no option for accepted sockets, but keeps
 * the buffer and callback of every socket under private symbols that the constructor sets; they
 * are found once, on a socket made with `onread`. On a Node where they are missing (or on a TLS
 * socket, or one with bytes already buffered) {@link borrowReads} says no and the caller keeps
 * 'data' events. What a callback keeps of the buffer past its return must be copied.
 */
import { Socket } from 'node:net';

type Keyed = Socket & Record<symbol, unknown>;

function findSymbols(): { buffer: symbol; callback: symbol; generator: symbol } | null {
  // the constructor takes `onread` (net.connect passes its options on); the types list it for connect only
  const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as ConstructorParameters<typeof Socket>[0]) as Keyed;
  const all = Object.getOwnPropertySymbols(probe);
  const by = (d: string): symbol | undefined => all.find((s) => s.description === d);
  const buffer = by('kBuffer');
  const callback = by('kBufferCb');
  const generator = by('kBufferGen');
  probe.destroy();
  return buffer !== undefined && callback !== undefined && generator !== undefined ? { buffer, callback, generator } : null;
}
const symbols = findSymbols();

/** Whether this Node lets accepted sockets read into a shared buffer. */
export const canBorrow = symbols !== null;

/**
 * From now on `socket` reads into `buffer` and calls `callback` (as a method of the socket) with
 * the count of bytes read; false from it stops reading (socket.resume() starts again). False
 * when the socket cannot (see the module's comment): nothing changed, 'data' events go on.
 */
export function borrowReads(socket: Socket, buffer: Buffer, callback: (this: Socket, n: number, buf: Buffer) => boolean): boolean {
  const handle = (socket as unknown as { _handle?: { useUserBuffer?: (b: Buffer) => void } | null })._handle;
  if (symbols === null || handle == null || typeof handle.useUserBuffer !== 'function') return false;
  if ((socket as { encrypted?: boolean }).encrypted === true || socket.readableLength !== 0) return false;
  const s = socket as Keyed;
  s[symbols.buffer] = buffer;
  s[symbols.callback] = callback;
  s[symbols.generator] = null;
  handle.useUserBuffer(buffer);
  return true;
}

/**
 * A borrowed socket given to code that reads it as a stream (an upgrade's tunnel): each read is
 * copied and pushed, so 'data', pipe() and back-pressure work as on any socket.
 */
export function returnReads(socket: Socket): void {
  if (symbols === null) return;
  const s = socket as Keyed;
  if (s[symbols.buffer] == null) return;
  s[symbols.callback] = pushCopy;
}

function pushCopy(this: Socket, n: number, buf: Buffer): boolean {
  return this.push(Buffer.from(buf.subarray(0, n)));
}
