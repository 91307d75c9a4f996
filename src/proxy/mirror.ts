/**
 * Request mirroring, one capability for both sources: the Gateway API's RequestMirror filter (a
 * Service backend; each copy goes to one of its endpoints, through the same upstream pools as
 * requests) and ingress-nginx's mirror-target (a URL, through an undici agent of its own, names
 * resolved by the system resolver, certificates not verified as with nginx's proxy_pass).
 *
 * A copy is fire-and-forget. The exchange starts the copies of a request at one point: when it
 * sends the request on for the first time (every policy has let it through), with the method,
 * path and headers it sends; mirror-target copies take their own path and Host. The answer to a
 * copy is read and discarded; its failure is counted, never seen by the client. A copy never
 * holds the request back:
 * - the request body is copied as it streams: a tee between the client's body and the upstream
 *   request hands each chunk to the copies as the request itself reads it (so a copy's body goes
 *   at the request's pace, never the other way round); a copy that holds back more than
 *   `bodyBuffer` bytes (read from the client, not yet taken by its connection) beyond the chunk
 *   being passed is dropped, and one whose body cannot be completed (the request ended or was cut
 *   before its body was read to the end) too;
 * - at most `maxInFlight` copies per destination (a Service port, or a mirror-target origin) are
 *   in flight per process: past that, copies are dropped, not queued;
 * - a copy that has not been answered within `timeout` is aborted.
 * So a slow or dead mirror costs at most maxInFlight sockets and maxInFlight x (bodyBuffer + one
 * chunk) bytes per destination, for at most `timeout` each. Every outcome is counted
 * (portico_mirror_requests_total, portico_mirror_dropped_total).
 */
import { Readable, Transform } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { Backend, MirrorPolicy } from '../model/types.js';
import { AUTH_VARIABLES } from '../model/nginx-vars.js';
import type { Balancer } from './balance.js';
import { compileTemplate, expander } from './nginx-vars.js';
import { DROPS, type MirrorDrop, type MirrorResult, type MirrorState } from './mirror-state.js';
import type { PolicyExchange } from './policies/types.js';
import type { EndpointSlot } from './endpoints.js';
import type { Dispatch, Pools } from './pools.js';
import { queryOf, unsafeTarget } from './request-target.js';
import type { UpstreamHandler } from './upstream.js';

export { createMirrorState, defaultMirrorState, DEFAULT_MIRROR_LIMITS, type MirrorLimits, type MirrorMetrics, type MirrorState } from './mirror-state.js';

/** A mirror backend as route.ts compiles it. */
export interface MirrorBackend {
  readonly backend: Backend;
  readonly slot: EndpointSlot;
  readonly dispatch: Dispatch;
}

export interface MirrorContext {
  readonly state: MirrorState;
  readonly pools: Pools;
  readonly balancer: Balancer;
  /** Compiles a backend of the table (its live endpoints, its dispatcher). */
  readonly target: (id: string) => MirrorBackend;
  /** The route's namespace: what its copies are counted under. */
  readonly namespace: string;
}

/** A route's mirrors, compiled once per table. */
export interface MirrorPlan {
  /** The Service backends copies go to (their pools stay open while the route lives). */
  readonly backends: readonly MirrorBackend[];
  /**
   * Starts the copies of one request: `path` and `headers` as the request is sent upstream, `body`
   * what the upstream request would read. Returns what it must read instead (the tee), or `body`.
   */
  start(ex: PolicyExchange, path: string, headers: readonly string[], body: Readable | null): Readable | null;
}

/** One mirror of a route. */
interface Copy {
  /** The metric label: `namespace/service:port`, or the mirror-target's origin. */
  readonly destination: string;
  /** Whether this request gets a copy (the share numerator / denominator). */
  readonly take: () => boolean;
  readonly body: boolean;
  /** Sends a copy; returns why it cannot be sent, or null. */
  send(ex: PolicyExchange, path: string, headers: string[], body: Readable | null, call: MirrorCall): MirrorDrop | 'failed' | null;
}

/**
 * The requests a share (numerator / denominator) of them picks: evenly spaced and exact over every
 * run of `denominator` requests (20% is every fifth), where a random draw per request strays (35%
 * of 500 requests came out as 141 copies in a test run, 3 standard deviations off).
 */
export function sampler(numerator: number, denominator: number, phase = Math.random()): () => boolean {
  if (numerator >= denominator) return () => true;
  if (numerator <= 0) return () => false;
  // a random phase: a sampler is compiled anew with every table, and one always starting at 0
  // would copy nothing of a 1% share if the table changed every 50 requests
  let n = Math.floor(phase * denominator) % denominator;
  return () => {
    const before = Math.floor((n * numerator) / denominator);
    n = n + 1 === denominator ? 0 : n + 1;
    return (n === 0 ? numerator : Math.floor((n * numerator) / denominator)) > before;
  };
}

/** A copy's body: chunks pushed by the tee, read by the copy's connection. */
class Sink extends Readable {
  override _read(): void {
    // chunks are pushed as the request's own body is read
  }
}

/** One copy in flight: the handler of its upstream request, which reads and discards the answer. */
class MirrorCall implements UpstreamHandler {
  sink: Sink | null = null;
  /** The copy's body was handed over whole. */
  bodyDone = false;
  ended = false;
  private abortFn: ((err?: Error) => void) | null = null;
  private why: MirrorResult | MirrorDrop | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly state: MirrorState,
    private readonly namespace: string,
    readonly destination: string,
  ) {}

  arm(): void {
    this.timer = setTimeout(() => this.cancel('timeout'), this.state.limits.timeout);
    this.timer.unref();
  }

  onConnect(abort: (err?: Error) => void): void {
    this.abortFn = abort;
    if (this.why !== null) abort(new Error(`mirror ${this.why}`));
  }

  onHeaders(): boolean {
    return true;
  }

  onData(): boolean {
    return true;
  }

  onComplete(): void {
    this.end('answered');
  }

  onError(): void {
    this.end(this.why ?? 'failed');
  }

  /** Ends the copy early: its request is aborted (onError ends it) and its body released. */
  cancel(why: MirrorResult | MirrorDrop): void {
    if (this.ended || this.why !== null) return;
    this.why = why;
    const sink = this.sink;
    this.sink = null;
    sink?.destroy();
    if (this.abortFn !== null) this.abortFn(new Error(`mirror ${why}`));
  }

  /** Counts the outcome once and frees the in-flight slot. */
  end(result: MirrorResult | MirrorDrop): void {
    if (this.ended) return;
    this.ended = true;
    if (this.timer !== null) clearTimeout(this.timer);
    const sink = this.sink;
    this.sink = null;
    if (sink !== null && !sink.destroyed) sink.destroy();
    this.state.release(this.destination);
    const m = this.state.metrics;
    if (m === null) return;
    if (DROPS.has(result)) m.dropped(this.namespace, this.destination, result as MirrorDrop);
    else m.mirrored(this.namespace, this.destination, result as MirrorResult);
  }
}

/** Headers of a copy: the request's, with `host` replaced when given, and without the body's when it has none. */
function copyHeaders(headers: readonly string[], host: string | undefined, body: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const lower = (headers[i] as string).toLowerCase();
    if (host !== undefined && lower === 'host') continue;
    if (!body && (lower === 'content-length' || lower === 'transfer-encoding')) continue;
    out.push(headers[i] as string, headers[i + 1] as string);
  }
  if (host !== undefined) out.push('host', host);
  return out;
}

function backendCopy(p: MirrorPolicy, ctx: MirrorContext): { copy: Copy; backend: MirrorBackend } {
  const bt = ctx.target(p.backend as string);
  const b = bt.backend;
  const destination = `${b.namespace}/${b.service}:${b.port}`;
  const { pools, balancer, state } = ctx;
  return {
    backend: bt,
    copy: {
      destination,
      take: sampler(p.numerator, p.denominator),
      body: p.body,
      send(ex, path, headers, body, call) {
        const ep = balancer.pick(b.id, bt.slot.endpoints);
        if (ep === undefined) return 'no_endpoints';
        const t = state.limits.timeout;
        pools.get(bt.dispatch, ep.ip, ep.port).dispatch({ path, method: ex.req.method ?? 'GET', headers: copyHeaders(headers, undefined, body !== null), body, headersTimeout: t, bodyTimeout: t }, call);
        return null;
      },
    },
  };
}

/** A literal mirror path keeps the request's query, as nginx's proxy_pass does. */
const withQuery = (path: string, query: string): string => (query === '' ? path : `${path}?${query}`);

function urlCopy(p: MirrorPolicy, ctx: MirrorContext): Copy {
  const origin = p.origin as string;
  const template = p.path ?? '';
  // '' is the client's request URI; a literal path keeps the request's query, as nginx's proxy_pass does
  const expand = template === '' ? (ex: PolicyExchange) => ex.requestUri : template.includes('$') ? expander(compileTemplate(template, AUTH_VARIABLES)) : (ex: PolicyExchange) => withQuery(template, queryOf(ex.requestUri));
  const host = p.host;
  const { state } = ctx;
  return {
    destination: origin,
    take: sampler(p.numerator, p.denominator),
    body: p.body,
    send(ex, _path, headers, body, call) {
      const path = expand(ex);
      if (path.charCodeAt(0) !== 47 /* / */ || unsafeTarget(path)) return 'failed';
      const t = state.limits.timeout;
      state.agent().dispatch({ origin, path, method: (ex.req.method ?? 'GET') as Dispatcher.HttpMethod, headers: copyHeaders(headers, host, body !== null), body, headersTimeout: t, bodyTimeout: t }, call as unknown as Dispatcher.DispatchHandler);
      return null;
    },
  };
}

/**
 * The tee: the request's body passes through unchanged, and each chunk is pushed to the copies'
 * bodies as it goes by. A copy holding back more than `limit` bytes is dropped; at the body's end
 * the copies' bodies end.
 */
function tee(source: Readable, calls: readonly MirrorCall[], limit: number): Readable {
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      for (const c of calls) {
        const s = c.sink;
        if (s === null) continue;
        if (c.ended) {
          c.sink = null;
          s.destroy();
        } else if (s.readableLength > limit) c.cancel('body_buffer');
        else s.push(chunk);
      }
      cb(null, chunk);
    },
    flush(cb) {
      for (const c of calls) {
        const s = c.sink;
        if (s === null) continue;
        c.bodyDone = true;
        s.push(null);
      }
      cb();
    },
  });
  source.pipe(t);
  // the request's upstream reads the tee: a failure of the body reaches it as it would without one
  source.once('error', (err) => t.destroy(err));
  return t;
}

/** Compiles a route's mirror policies; null when it has none. */
export function compileMirrors(policies: readonly MirrorPolicy[], ctx: MirrorContext): MirrorPlan | null {
  if (policies.length === 0) return null;
  const copies: Copy[] = [];
  const backends: MirrorBackend[] = [];
  for (const p of policies) {
    if (p.backend !== undefined) {
      const c = backendCopy(p, ctx);
      copies.push(c.copy);
      backends.push(c.backend);
    } else if (p.origin !== undefined) copies.push(urlCopy(p, ctx));
  }
  if (copies.length === 0) return null;
  const { state, namespace } = ctx;
  return {
    backends,
    start(ex, path, headers, body) {
      let calls: MirrorCall[] | null = null;
      let bodies = false;
      for (const c of copies) {
        if (!c.take()) continue;
        if (!state.acquire(c.destination)) {
          state.metrics?.dropped(namespace, c.destination, 'in_flight');
          continue;
        }
        const call = new MirrorCall(state, namespace, c.destination);
        const withBody = c.body && body !== null;
        if (withBody) {
          call.sink = new Sink();
          bodies = true;
        }
        let why: MirrorDrop | 'failed' | null;
        try {
          why = c.send(ex, path, headers as string[], withBody ? call.sink : null, call);
        } catch {
          why = 'failed';
        }
        if (why !== null) {
          call.end(why);
          continue;
        }
        call.arm();
        (calls ??= []).push(call);
      }
      if (calls === null || !bodies || body === null) return body;
      const list = calls;
      // a copy whose body did not come whole by the time the request is over never will: dropped
      ex.onDone(() =>
        setImmediate(() => {
          for (const c of list) if (c.sink !== null && !c.bodyDone) c.cancel('body_incomplete');
        }),
      );
      return tee(body, list, state.limits.bodyBuffer);
    },
  };
}
