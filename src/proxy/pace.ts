/**
 * limit-rate / limit-rate-after: nginx's `limit_rate` and `limit_rate_after`, the pace of one
 * response body toward the client. As nginx's write filter: by time t after the first body byte
 * at most `after + rate x (t + 1 s)` bytes have gone out (the first second's worth goes at once),
 * written in slices as the allowance grows (at most about 50 timers a second).
 *
 * Per request, as nginx's `limit_rate` is (its docs: "the limit is set per a request"): each
 * HTTP/2 stream has its own, so a connection carrying n streams can reach n x rate, as with nginx.
 *
 * It sits between the exchange and its response (ServerResponse, Http2ServerResponse, or any
 * object with their write/end/once('drain') contract): write() queues and answers false while
 * anything waits, and the 'drain' the exchange waits for is given once the queue is out, so the
 * pod is read no faster than the client is paced. What waits is bounded by what the exchange
 * writes after a false (the rest of one upstream read). The client's own back-pressure pauses the
 * pacing (the socket's real 'drain' resumes it). A response that closes (the client went away)
 * clears the timer and drops what waits.
 */

/** What pacing needs of a response. */
export interface Paceable {
  write(chunk: never, ...rest: never[]): boolean;
  end(...args: never[]): unknown;
  once(event: string, listener: (...args: never[]) => void): unknown;
}

type Listener = () => void;
type Patched = {
  write: (chunk: unknown, encoding?: unknown, cb?: unknown) => boolean;
  end: (...args: unknown[]) => unknown;
  once: (event: string, fn: Listener) => unknown;
};

/** Responses already paced (a retry or an error page writes a second head on the same one). */
const paced = new WeakSet<object>();

/** Compiles a route's pacing: `rate` bytes per second after the first `after` bytes. */
export function createPacing(rate: number, after: number): (res: Paceable) => void {
  const quantum = Math.max(1024, Math.ceil(rate / 50));
  return (target) => {
    if (paced.has(target)) return;
    paced.add(target);
    const res = target as unknown as Patched;
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    const once = res.once.bind(res);
    let queue: Buffer[] = [];
    let sent = 0;
    let start = -1;
    let timer: NodeJS.Timeout | null = null;
    /** The underlying write said false: the socket's 'drain' resumes. */
    let blocked = false;
    let closed = false;
    /** end() was called while bytes waited: its callback (or true without one). */
    let ending: (() => void) | true | null = null;
    /** 'drain' listeners of the exchange: called once the queue is out. */
    let waiters: Listener[] = [];

    const idle = (): boolean => queue.length === 0 && !blocked;

    function pump(): void {
      while (!closed && queue.length > 0 && !blocked) {
        const head = queue[0] as Buffer;
        const now = performance.now();
        if (start < 0) start = now;
        const room = Math.floor(after + rate * (1 + (now - start) / 1000) - sent);
        const want = Math.min(head.length, quantum);
        if (room < want) {
          timer ??= setTimeout(
            () => {
              timer = null;
              pump();
            },
            Math.max(1, Math.ceil(((want - room) * 1000) / rate)),
          );
          return;
        }
        const n = Math.min(head.length, room);
        if (n === head.length) queue.shift();
        else queue[0] = head.subarray(n);
        sent += n;
        if (!write(n === head.length ? head : head.subarray(0, n))) {
          blocked = true;
          once('drain', () => {
            blocked = false;
            pump();
          });
        }
      }
      if (closed || !idle()) return;
      if (ending !== null) {
        const cb = ending;
        ending = null;
        if (cb === true) end();
        else end(cb);
        return;
      }
      const w = waiters;
      waiters = [];
      for (const fn of w) fn();
    }

    const enqueue = (chunk: unknown, encoding: unknown): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      if (buf.length === 0) return;
      queue.push(buf);
      pump();
    };
    res.write = (chunk, encoding, cb) => {
      if (closed || ending !== null) return write(chunk, encoding, cb);
      const done = typeof encoding === 'function' ? encoding : cb;
      if (typeof done === 'function') process.nextTick(done as () => void);
      enqueue(chunk, encoding);
      return idle();
    };
    res.end = (...args) => {
      if (closed || ending !== null) return end(...args);
      const cb = args.find((a) => typeof a === 'function') as (() => void) | undefined;
      const chunk = args[0];
      if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') enqueue(chunk, args[1]);
      if (idle()) return cb === undefined ? end() : end(cb);
      ending = cb ?? true;
      return res;
    };
    res.once = (event, fn) => {
      if (event !== 'drain' || closed) return once(event, fn);
      waiters.push(fn);
      return res;
    };
    once('close', () => {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      queue = [];
      waiters = [];
    });
  };
}
