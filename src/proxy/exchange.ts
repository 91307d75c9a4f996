/**
 * One client request and its upstream attempts: runs the route's policies, picks a backend and an
 * endpoint, forwards through the endpoint's upstream pool (callbacks, no promises or per-chunk
 * closures), streams both ways with back-pressure, splices an agreed upgrade, answers errors,
 * records the outcome. Implements the upstream handler, the policies' view of a request and the
 * router's (conditions read headers and query lazily).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable, Transform } from 'node:stream';
import type { Endpoint } from '../model/types.js';
import type { MatchInput } from '../router/match.js';
import { classify, errorBody, NO_ENDPOINTS, type Failure } from './errors.js';
import type { Metrics, RouteLabels } from '../metrics/metrics.js';
import type { Matcher } from '../router/compile.js';
import type { AccessLog } from './access-log.js';
import type { Balancer, StickyRequest } from './balance.js';
import { cookieValue } from './sticky.js';
import type { TLSSocket } from 'node:tls';
import { clientIpOf, connectionListed, dropHeader, forwardHeaders, requestLength, type ForwardOptions } from './headers.js';
import type { Pools } from './pools.js';
import type { EndpointStats } from './stats.js';
import { Verdict, type PolicyExchange, type ResponsePolicy } from './policies/index.js';
import type { ResponseEdit } from './policies/types.js';
import { afterRetries, keepsBody, REPLAY_LIMIT, shouldRetry } from './policies/retry.js';
import { ERROR_PAGE_404, errorHeaders, errorPath } from './policies/error-pages.js';
import { keyOf } from './pools.js';
import { endTakesAtOnce, H1Response } from './h1-message.js';
import { http2Response, mayBeTrailersOnly, respondTrailersOnly } from './grpc-head.js';
import { lingerOnClose } from './linger.js';
import { nextRequestId } from './request-id.js';
import { queryOf } from './request-target.js';
import { runBackendPolicies, stickyBackend, type BackendTarget, type ErrorPlan, type Target } from './route.js';
import { sameLower, type UpstreamHandler } from './upstream.js';
import { choose } from './weighted.js';

/** The live table. Swapping is one assignment; a request keeps the matcher it started with. */
export interface ProxyState {
  matcher: Matcher<Target>;
  /** While shutting down, responses close their connection (`Connection: close`). */
  draining: boolean;
}

export interface HandlerOptions {
  readonly state: ProxyState;
  readonly pools: Pools;
  readonly balancer: Balancer;
  readonly scheme: 'http' | 'https';
  /** The listener's port as Gateways name it: 80 for the HTTP port, 443 for the HTTPS port, else the port itself. */
  readonly listenerPort: number;
  /** Upstream headers and between-reads timeout, ms. */
  readonly readTimeout: number;
  readonly accessLog: AccessLog | null;
  readonly metrics: Metrics | null;
  readonly stats: EndpointStats;
  /** `Strict-Transport-Security` value for HTTPS responses, or null. */
  readonly hsts: string | null;
  /** Global limits; a route's annotations override them. Bytes and milliseconds. */
  readonly limits: {
    /** --proxy-body-size, for chunked bodies (declared ones are the bodyLimit policy's). */
    readonly bodySize: number;
    readonly clientBodyTimeout: number;
    readonly sendTimeout: number;
    readonly maxHeaders: number;
    /** Idle time after which an upgraded tunnel is closed; 0 = the route's read timeout. */
    readonly upgradeIdleTimeout: number;
  };
  readonly forward: ForwardOptions;
  /** Open tunnels (client sockets), so shutdown can wait for them and then close them. */
  readonly tunnels: Set<Socket>;
}

/** Failures that count against an endpoint's health (passive health checks). */
const UNHEALTHY = new Set(['connect_refused', 'connect_timeout', 'connect_error', 'reset', 'timeout', 'protocol']);

/** Response headers never forwarded: hop-by-hop, and `server` (we add our own). */
/**
 * Response fields never forwarded: hop-by-hop fields and Server (Portico sends its own). 1 to drop,
 * 2 for Connection (dropped, and the fields it lists with it), 0 to keep; by length, then compared
 * case-insensitively without a lower-cased copy (a response head's names are tokens).
 */
export function dropResponseField(name: string): number {
  switch (name.length) {
    case 2:
      return sameLower(name, 'te') ? 1 : 0;
    case 6:
      return sameLower(name, 'server') ? 1 : 0;
    case 7:
      return sameLower(name, 'trailer') || sameLower(name, 'upgrade') ? 1 : 0;
    case 10:
      return sameLower(name, 'connection') ? 2 : sameLower(name, 'keep-alive') ? 1 : 0;
    case 16:
      return sameLower(name, 'proxy-connection') ? 1 : 0;
    case 17:
      return sameLower(name, 'transfer-encoding') ? 1 : 0;
    default:
      return 0;
  }
}

export const TEXT = 'text/plain; charset=utf-8';
/** The statuses nginx's add_header (without `always`) adds headers to. */
const ADD_HEADER_STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);
export { NOT_FOUND_PAGE } from './errors.js';

/** A discarded answer (a retried status, an intercepted error) is drained for connection reuse up to this size and time, else its connection is closed. */
const DRAIN_LIMIT = 64 * 1024;
const DRAIN_MS = 1000;
/** What a discarded answer leads to. */
const enum Next {
  None,
  Retry,
  ErrorPage,
}

/** Sends a short local answer (404 page, redirect, 4xx/5xx with its cause); type '' sends no Content-Type. */
function reply(res: ServerResponse, status: number, body: string, type: string, extra: readonly string[] = []): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const length = ['content-length', String(Buffer.byteLength(body)), 'server', 'portico'];
  res.writeHead(status, type === '' ? [...length, ...extra] : ['content-type', type, ...length, ...extra]);
  res.end(body);
}

/** Sends a local answer whose head (content-type included) the route's response edits already saw. */
function replyEdited(res: ServerResponse, status: number, body: string, headers: string[]): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  dropHeader(headers, 'content-length');
  headers.push('content-length', String(Buffer.byteLength(body)));
  try {
    res.writeHead(status, headers);
  } catch {
    res.writeHead(status, ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'server', 'portico']);
  }
  res.end(body);
}

/** HTTP/1.1 frames a body with Content-Length or Transfer-Encoding; HTTP/2 has one unless the headers ended the stream. */
export function requestHasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  if (req.httpVersionMajor >= 2) return (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === false;
  return req.headers['transfer-encoding'] !== undefined;
}

/** Applies a response header edit to a flat name/value list: remove, set (replacing), add (appending with ","). */
function applyEdit(list: string[], e: ResponseEdit): void {
  const drop = new Set<string>([...e.remove, ...e.set.map(([n]) => n)]);
  if (drop.size > 0) for (let i = list.length - 2; i >= 0; i -= 2) if (drop.has((list[i] as string).toLowerCase())) list.splice(i, 2);
  for (const [n, v] of e.set) list.push(n, v);
  for (const [n, v] of e.add) {
    let found = -1;
    for (let i = 0; i < list.length; i += 2) if ((list[i] as string).toLowerCase() === n) found = i;
    if (found === -1) list.push(n, v);
    else list[found + 1] = `${list[found + 1] as string},${v}`;
  }
}

const EXCHANGE = Symbol('portico.exchange');
type ExchangeResponse = ServerResponse & { [EXCHANGE]?: Exchange };

/** `close` of a response: one shared listener instead of a closure per request. */
function onResponseClose(this: ExchangeResponse): void {
  this[EXCHANGE]?.onClientClose();
}

/** The Content-Length of a raw header list, or -1 (chunked, or read to the connection's end). */
function declaredLength(raw: readonly (string | Buffer)[]): number {
  for (let i = 0; i < raw.length; i += 2) {
    const n = raw[i] as string | Buffer;
    if (n.length === 14 && String(n).toLowerCase() === 'content-length') return Number(String(raw[i + 1]));
  }
  return -1;
}

/**
 * One client request and its upstream attempts. Implements the upstream handler
 * (onConnect/onHeaders/onData/onComplete/onError) so the response is streamed without promises.
 */
export class Exchange implements UpstreamHandler, PolicyExchange, MatchInput, StickyRequest {
  target: Target | null = null;
  /** The decoded, normalised path the request was matched with. */
  path = '/';
  /** Origin-form target as received: what the upstream request line carries. */
  forwardPath = '/';
  /** The authority the request was routed by. */
  host: string | undefined = undefined;
  /** Capture groups of a Regex route that matched (set by the router). */
  captures: string[] | null = null;
  private choice: BackendTarget | undefined = undefined;
  /** The canary's labels when the canary was chosen: what the request is recorded under. */
  private canaryLabels: RouteLabels | null = null;
  /** Set-Cookie of a new sticky session (replaced when a retry picks again). */
  private affinityCookie: string | null = null;
  private step = 0;
  private query_: URLSearchParams | null = null;
  private endpoint: Endpoint | undefined;
  private attempt = 0;
  private bytes = 0;
  private upstreamStatus = 0;
  private upstreamStart = 0;
  private upstreamMs = 0;
  private readonly start = performance.now();
  private readonly startTime = Date.now();
  private abortUpstream: ((err?: Error) => void) | null = null;
  private resumeUpstream: (() => void) | null = null;
  private requestId_ = '';
  private cause = '';
  private done = false;
  private headers: string[] | null = null;
  private clientIp_ = '';
  /** The target as received, once a rewrite replaced it. */
  private original: string | null = null;
  /** The client's headers as edited by policies (null: as received). */
  private input: string[] | null = null;
  /** Headers policies set (value) or remove (null) on the upstream request, in order; headers they add to the response. */
  private upstreamEdits: (string | null)[] | null = null;
  private responseExtra: string[] | null = null;
  /** Gateway API response header edits (PolicyExchange.editResponse). */
  private responseEdits: ResponseEdit[] | null = null;
  /** Response headers only for nginx's add_header statuses (2xx and redirects). */
  private responseIfOk: string[] | null = null;
  /** Set when Portico itself aborts the upstream request and answers on its own. */
  private abandoned = false;
  private body: Readable | null = null;
  /** The request body kept for a replay (null: not kept, or over the limit), and whether it is whole. */
  private replay: Buffer[] | null = null;
  private replayDone = false;
  /** The response was ended with its last body chunk. */
  private ended = false;
  /** What the answer being discarded leads to, its bytes so far and the drain timer. */
  private next = Next.None;
  private discarded = 0;
  private drainTimer: NodeJS.Timeout | null = null;
  /** The status an error page replaces (0: the request is not an error page's). */
  private errorCode = 0;
  /** The route's backend when the default-backend annotation's serves the request instead. */
  private primary: BackendTarget | undefined = undefined;
  private watching = false;
  /** A gRPC head held back over HTTP/2 until the body shows whether it is trailers-only (grpc-head.ts). */
  private heldHead: { status: number; head: string[] } | null = null;
  /** What policies asked to run once the exchange is over (PolicyExchange.onDone). */
  private doneFns: (() => void)[] | null = null;

  constructor(
    readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly opts: HandlerOptions,
    /** For an upgrade request: the client socket and the bytes that followed its head. */
    private readonly upgrade: { readonly socket: Socket; readonly head: Buffer } | null,
  ) {}

  // --- what policies and the router see -------------------------------------------------

  get listenerPort(): number {
    return this.opts.listenerPort;
  }
  get scheme(): 'http' | 'https' {
    return this.opts.scheme;
  }

  get method(): string {
    return this.req.method ?? 'GET';
  }

  header(name: string): string | undefined {
    const input = this.input;
    if (input === null) {
      const v = this.req.headers[name];
      return Array.isArray(v) ? v.join(', ') : v;
    }
    // several Cookie fields are one list joined by "; " (RFC 9113 8.2.3; nginx's $http_cookie)
    const sep = name === 'cookie' ? '; ' : ', ';
    let out: string | undefined;
    for (let i = 0; i < input.length; i += 2) {
      if ((input[i] as string).toLowerCase() === name) out = out === undefined ? (input[i + 1] as string) : `${out}${sep}${input[i + 1] as string}`;
    }
    return out;
  }

  query(name: string): string | undefined {
    if (this.query_ === null) {
      this.query_ = new URLSearchParams(queryOf(this.forwardPath));
    }
    return this.query_.get(name) ?? undefined;
  }

  get clientIp(): string {
    return (this.clientIp_ ||= clientIpOf(this.req, this.opts.forward.trust));
  }

  get requestUri(): string {
    return this.original ?? this.forwardPath;
  }

  get requestId(): string {
    if (this.requestId_ === '') {
      const v = this.header('x-request-id');
      // the first value, as forwardHeaders takes it
      this.requestId_ = v === undefined || v === '' ? nextRequestId() : (v.split(', ')[0] as string);
    }
    return this.requestId_;
  }

  get names(): Target | null {
    return this.target;
  }

  get tlsSocket(): TLSSocket | null {
    const s = ((this.req as { stream?: { session?: { socket?: unknown } } }).stream?.session?.socket ?? this.req.socket) as TLSSocket;
    return s.encrypted === true ? s : null;
  }

  get servername(): string | undefined {
    const name = this.tlsSocket?.servername;
    return typeof name === 'string' ? name : undefined;
  }

  cookie(name: string): string | undefined {
    return cookieValue(this.header('cookie'), name);
  }

  setAffinityCookie(setCookie: string): void {
    this.affinityCookie = setCookie;
  }

  /** What the request is recorded under: the route, or its canary. */
  private get recorded(): RouteLabels | null {
    return this.canaryLabels ?? this.target;
  }

  setForwardPath(target: string): void {
    this.original ??= this.forwardPath;
    this.forwardPath = target;
    this.query_ = null;
  }

  setRequestHeader(name: string, value: string, onlyExisting = false): void {
    const input = (this.input ??= [...this.req.rawHeaders]);
    if (!dropHeader(input, name.toLowerCase()) && onlyExisting) return;
    input.push(name, value);
  }

  removeRequestHeader(name: string, prefix = false): void {
    dropHeader((this.input ??= [...this.req.rawHeaders]), name.toLowerCase(), prefix);
  }

  editResponse(edit: ResponseEdit): void {
    (this.responseEdits ??= []).push(edit);
  }

  setUpstreamHeader(name: string, value: string): void {
    (this.upstreamEdits ??= []).push(name, value);
  }

  removeUpstreamHeader(name: string): void {
    (this.upstreamEdits ??= []).push(name, null);
  }

  addResponseHeader(name: string, value: string, always = true): void {
    if (always) (this.responseExtra ??= []).push(name, value);
    else (this.responseIfOk ??= []).push(name, value);
  }

  answer(status: number, body: string, type: string, cause: string, headers: readonly string[] = []): void {
    this.local(status, body, type, cause, headers);
  }

  closeAfter(): void {
    if (this.req.httpVersionMajor < 2) {
      this.res.shouldKeepAlive = false;
      lingerOnClose(this.req);
    }
  }

  /** Runs the route's policies from where they stopped; then sends the request on. */
  runPolicies(): void {
    const ps = (this.target as Target).policies;
    while (this.step < ps.length) {
      const v = (ps[this.step++] as (typeof ps)[number]).run(this);
      if (v !== Verdict.Continue) return;
    }
    this.send(undefined);
  }

  resume(): void {
    if (!this.done) this.runPolicies();
  }

  onDone(fn: () => void): void {
    if (this.doneFns === null) {
      this.doneFns = [];
      // a tunnel lives on the client socket past its 101; everything else ends with its response:
      // its last byte handed to the connection ('finish', before the client can read it and send
      // another request), or the exchange cut short ('close')
      const up = this.upgrade;
      const gone = up !== null ? up.socket.destroyed : this.res.closed || this.res.destroyed || this.res.writableFinished;
      const run = (): void => this.runDone();
      if (gone) queueMicrotask(run);
      else if (up !== null) up.socket.once('close', run);
      else this.res.once('finish', run).once('close', run);
    }
    this.doneFns.push(fn);
  }

  private runDone(): void {
    const fns = this.doneFns;
    if (fns === null || fns.length === 0) return;
    this.doneFns = [];
    for (const fn of fns) {
      try {
        fn();
      } catch {
        // a policy's clean-up must never break the exchange
      }
    }
  }

  // --- forwarding --------------------------------------------------------------------------

  /** The client's going away aborts the upstream request: listened for once per exchange. */
  private watchClient(): void {
    if (this.watching) return;
    this.watching = true;
    (this.res as ExchangeResponse)[EXCHANGE] = this;
    this.res.on('close', onResponseClose);
  }

  /**
   * Picks a backend, then an endpoint (avoiding the one that just failed), and dispatches to it.
   * A route whose backends have no endpoint goes to its default-backend annotation's Service.
   */
  send(avoid: Endpoint | undefined): void {
    const target = this.target as Target;
    let bt = this.choice;
    if (bt === undefined) {
      bt = (target.sticky ? stickyBackend(target, this) : undefined) ?? choose(target);
      const c = target.canary;
      if (c !== null && bt !== undefined && c.rule(this, bt, c.target)) {
        bt = c.target;
        this.canaryLabels = c.labels;
      }
      this.choice = bt;
      // a Gateway API backendRef's own filters, once, for the backend chosen (a redirect answers)
      if (bt?.policies != null && !runBackendPolicies(bt.policies, this)) return;
    }
    if (bt !== undefined && bt.backend.id === '') {
      // a Gateway API backendRef that is invalid: its share of the traffic answers 500, as the spec requires
      this.local(500, errorBody(500, 'the route\'s backend reference is invalid (see the route\'s ResolvedRefs condition)'), TEXT, 'invalid_backend');
      return;
    }
    if (this.requestTimer === null && target.settings.requestTimeout !== undefined) this.armRequestTimeout(target.settings.requestTimeout);
    let ep = bt === undefined ? undefined : bt.pick === null ? this.opts.balancer.pick(bt.backend.id, bt.slot.endpoints, avoid) : bt.pick.pick(this, avoid);
    const empty = target.errors?.whenEmpty;
    if (ep === undefined && empty != null && this.attempt === 0 && this.upgrade === null) {
      const alt = this.opts.balancer.pick(empty.backend.id, empty.slot.endpoints);
      if (alt !== undefined) {
        // ingress-nginx sends the request itself there, with the error headers but no X-Original-URI
        this.primary = bt;
        this.choice = bt = empty;
        ep = alt;
        const h = this.errorHeaders(503, false);
        for (let i = 0; i < h.length; i += 2) this.setUpstreamHeader(h[i] as string, h[i + 1] as string);
      }
    }
    if (bt === undefined || ep === undefined) {
      this.recordFailure(NO_ENDPOINTS);
      this.fail(NO_ENDPOINTS);
      return;
    }
    this.endpoint = ep;
    this.attempt++;
    const req = this.req;
    const up = this.upgrade;
    const protocol = bt.backend.protocol;
    if (this.headers === null) {
      const f = forwardHeaders(req, this.host, this.opts.forward, up !== null, up === null && (protocol === 'GRPC' || protocol === 'GRPCS'), target.settings.upstreamVhost, this.input ?? req.rawHeaders, this.requestId_);
      this.headers = f.headers;
      this.requestId_ = f.requestId;
      this.clientIp_ = f.clientIp;
      const edits = this.upstreamEdits;
      if (edits !== null) {
        for (let i = 0; i < edits.length; i += 2) {
          const name = edits[i] as string;
          dropHeader(this.headers, name.toLowerCase());
          if (edits[i + 1] !== null) this.headers.push(name, edits[i + 1] as string);
        }
      }
      this.watchClient();
      if (requestHasBody(req)) {
        this.body = this.watchBody(target);
        // 100 Continue only now, once nothing refuses the request (checkContinue listeners)
        if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && /^100-continue$/i.test(req.headers.expect ?? '')) this.res.writeContinue();
      }
      // mirrors: copies of the request as it is sent, the body teed as it streams (mirror.ts)
      if (target.mirror !== null && up === null) this.body = target.mirror.start(this, this.forwardPath, this.headers, this.body);
    } else if (this.body !== null && this.body.readableDidRead) {
      // a retry after the body was read: only with the whole body kept (shouldRetry checked it)
      this.body = Readable.from([Buffer.concat(this.replay ?? [])], { objectMode: false });
    }
    this.upstreamStart = performance.now();
    const read = target.settings.readTimeout ?? this.opts.readTimeout;
    this.opts.pools.get(up === null ? bt.dispatch : bt.upgrade, ep.ip, ep.port).dispatch(
      {
        path: this.forwardPath,
        method: req.method ?? 'GET',
        headers: this.headers,
        body: this.body,
        headersTimeout: read,
        bodyTimeout: read,
        upgrade: up === null ? undefined : (req.headers.upgrade ?? ''),
      },
      this,
    );
  }

  /** ingress-nginx's error headers for this request, of the route's own backend. */
  private errorHeaders(code: number, originalUri: boolean): string[] {
    const t = this.target as Target;
    const b = this.primary ?? (this.choice === t.errors?.whenEmpty ? undefined : this.choice) ?? t.backends[0];
    return errorHeaders(code, originalUri, this, t.route.source, b?.backend);
  }

  /**
   * Serves an error page: the first error backend with endpoints answers `GET /` (HEAD for HEAD;
   * the original query kept, as nginx's `rewrite (.*) / break`) with the error headers, and its
   * answer (status included) is the client's. No error backend has endpoints: the built-in 404.
   */
  private errorPage(e: ErrorPlan, code: number): void {
    this.errorCode = code;
    this.abortUpstream = null;
    this.watchClient();
    let bt: BackendTarget | undefined;
    let ep: Endpoint | undefined;
    for (const b of e.backends) {
      ep = this.opts.balancer.pick(b.backend.id, b.slot.endpoints);
      if (ep !== undefined) {
        bt = b;
        break;
      }
    }
    if (bt === undefined || ep === undefined) {
      this.local(404, ERROR_PAGE_404, 'text/html; charset=utf-8', 'error_page');
      return;
    }
    const f = forwardHeaders(this.req, this.host, this.opts.forward, false, false, undefined, this.input ?? this.req.rawHeaders, this.requestId);
    const headers = f.headers;
    const h = this.errorHeaders(code, true);
    for (let i = 0; i < h.length; i += 2) {
      dropHeader(headers, h[i] as string);
      headers.push(h[i] as string, h[i + 1] as string);
    }
    this.endpoint = ep;
    this.choice = bt;
    this.attempt++;
    const read = this.target?.settings.readTimeout ?? this.opts.readTimeout;
    this.upstreamStart = performance.now();
    this.opts.pools.get(bt.dispatch, ep.ip, ep.port).dispatch(
      { path: errorPath(this.requestUri), method: this.req.method === 'HEAD' ? 'HEAD' : 'GET', headers, body: null, headersTimeout: read, bodyTimeout: read },
      this,
    );
  }

  /**
   * The pod agreed to the upgrade: its 101 goes to the client, then the two sockets are spliced.
   * The tunnel holds no reference to the table, so table swaps never touch it.
   */
  onUpgrade(rawHeaders: string[], upstream: Socket, rest: Buffer): void {
    const up = this.upgrade as { socket: Socket; head: Buffer };
    const client = up.socket;
    this.upstreamStatus = 101;
    this.upstreamMs = performance.now() - this.upstreamStart;
    const ep = this.endpoint as Endpoint;
    this.opts.stats.success(keyOf(ep));
    this.res.detachSocket(client);
    if (client.destroyed) {
      upstream.destroy();
      this.finish(499);
      return;
    }
    let head = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < rawHeaders.length; i += 2) head += `${rawHeaders[i] as string}: ${rawHeaders[i + 1] as string}\r\n`;
    client.write(`${head}\r\n`);
    if (rest.length > 0) client.write(rest);
    if (up.head.length > 0) upstream.write(up.head);
    upstream.setNoDelay(true);
    client.setNoDelay(true);
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => {
      this.opts.tunnels.delete(client);
      upstream.destroy();
    });
    // idle in both directions: the client socket sees every byte either way (reads and writes)
    const idle = this.opts.limits.upgradeIdleTimeout || (this.target?.settings.readTimeout ?? this.opts.readTimeout);
    client.setTimeout(idle, () => {
      client.destroy();
      upstream.destroy();
    });
    this.opts.tunnels.add(client);
    upstream.pipe(client);
    client.pipe(upstream);
    upstream.resume();
    this.finish(101);
  }

  /**
   * Guards a request body: a stall longer than the client body timeout is a 408 when the client
   * stopped sending, a 504 when the pod stopped reading (the proxy-send-timeout case); a chunked
   * body over the size limit is a 413. When the route may retry the request after it reached a
   * pod, a body of at most {@link REPLAY_LIMIT} bytes is kept for a replay. Returns what the
   * upstream client should read.
   */
  private watchBody(target: Target): Readable {
    const req = this.req;
    const lim = this.opts.limits;
    const stall = Math.min(lim.clientBodyTimeout, target.settings.sendTimeout ?? lim.sendTimeout);
    req.setTimeout(stall, () => {
      if (req.complete || this.done) return;
      const upstreamStalled = req.readableFlowing === false || req.readableLength > 0;
      this.abandon();
      if (upstreamStalled) this.fail(classify({ code: 'PORTICO_SEND_TIMEOUT' }));
      else {
        this.res.shouldKeepAlive = false;
        this.local(408, errorBody(408, 'the request body did not arrive in time'), TEXT, 'client_timeout');
      }
    });
    req.once('end', () => req.setTimeout(0));
    const declared = req.headers['content-length'];
    const limit = declared !== undefined ? 0 : (target.settings.bodySize ?? lim.bodySize);
    const keep = this.upgrade === null && keepsBody(target.retry, this.method) && (declared === undefined || Number(declared) <= REPLAY_LIMIT);
    if (limit <= 0 && !keep) return req; // Node's parser delivers exactly the declared length
    let seen = 0;
    if (keep) this.replay = [];
    const counted = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        seen += chunk.length;
        if (limit > 0 && seen > limit) {
          this.abandon();
          this.res.shouldKeepAlive = false;
          lingerOnClose(this.req);
          this.local(413, errorBody(413, `the request body is larger than ${limit} bytes`), TEXT, 'body_too_large');
          cb(new Error('request body too large'));
          return;
        }
        if (this.replay !== null) {
          if (seen <= REPLAY_LIMIT) this.replay.push(chunk);
          else this.replay = null;
        }
        cb(null, chunk);
      },
      flush: (cb) => {
        this.replayDone = this.replay !== null;
        cb();
      },
    });
    req.pipe(counted);
    return counted;
  }

  private requestTimer: NodeJS.Timeout | null = null;

  /** The whole request's deadline (Gateway API timeouts.request): 504 when it passes before the response is complete. */
  private armRequestTimeout(ms: number): void {
    this.requestTimer = setTimeout(() => {
      if (this.done) return;
      this.abandon();
      this.fail(classify({ code: 'PORTICO_REQUEST_TIMEOUT' }));
    }, ms - (performance.now() - this.start));
    this.requestTimer.unref();
  }

  /** Aborts the upstream request without answering its error: the caller answers. */
  private abandon(): void {
    this.abandoned = true;
    this.abortUpstream?.();
  }

  onClientClose(): void {
    if (this.done) return;
    this.cause = 'client_abort';
    this.next = Next.None;
    this.stopDrain();
    this.abortUpstream?.();
  }

  private stopDrain(): void {
    if (this.drainTimer === null) return;
    clearTimeout(this.drainTimer);
    this.drainTimer = null;
  }

  // --- upstream handler ----------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed) abort();
  }

  /** Whether the body can be sent again: none, not read yet, or kept whole. */
  private replayable(): boolean {
    return this.body === null || !this.body.readableDidRead || this.replayDone;
  }

  onHeaders(status: number, rawHeaders: (string | Buffer)[], resume: () => void, checked?: boolean): boolean {
    if (status < 200) return true; // 1xx informational: the final response follows
    this.upstreamStatus = status;
    this.upstreamMs = performance.now() - this.upstreamStart;
    this.resumeUpstream = resume;
    const pick = (this.choice as BackendTarget).pick;
    if (pick !== null && pick.observe !== undefined) pick.observe(this.endpoint as Endpoint, this.upstreamMs);
    const t = this.target as Target;
    if (this.errorCode === 0 && this.upgrade === null) {
      // proxy_next_upstream http_xxx, then proxy_intercept_errors: the answer is discarded
      const r = t.retry;
      const retry =
        r.statuses !== null &&
        r.statuses.has(status) &&
        shouldRetry(r, { cause: 'status', sent: true, method: this.method, attempts: this.attempt, elapsed: performance.now() - this.start, replayable: this.replayable(), endpoints: this.choice?.slot.endpoints.length ?? 0 });
      const e = t.errors;
      if (retry || (e !== null && e.intercept && e.codes.has(status))) {
        this.next = retry ? Next.Retry : Next.ErrorPage;
        this.discarded = 0;
        const length = declaredLength(rawHeaders);
        if (length >= 0 && length <= DRAIN_LIMIT) {
          // small enough to read to its end: the connection stays reusable
          this.drainTimer = setTimeout(() => this.abortUpstream?.(), DRAIN_MS);
          this.drainTimer.unref();
        } else {
          this.abortUpstream?.();
        }
        return true;
      }
    }
    const out: string[] = [];
    let listed: Set<string> | null = null;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const n = rawHeaders[i] as string | Buffer;
      const v = rawHeaders[i + 1] as string | Buffer;
      // strings from Portico's HTTP/1.1 client, Buffers from undici (gRPC)
      const name = typeof n === 'string' ? n : n.toString('latin1');
      const value = typeof v === 'string' ? v : v.toString('latin1');
      const drop = dropResponseField(name);
      if (drop === 0) out.push(name, value);
      else if (drop === 2) listed = connectionListed(value);
    }
    if (listed !== null) {
      for (let i = out.length - 2; i >= 0; i -= 2) if (listed.has((out[i] as string).toLowerCase())) out.splice(i, 2);
    }
    // the upstream's fields, as its reader checked them, lead the list until an edit changes it
    let fromUpstream = checked === true ? out.length : 0;
    out.push('server', 'portico');
    if (this.affinityCookie !== null) out.push('set-cookie', this.affinityCookie);
    if (this.responseExtra !== null) out.push(...this.responseExtra);
    if (this.responseEdits !== null) {
      for (const e of this.responseEdits) applyEdit(out, e);
      fromUpstream = 0;
    }
    if (this.responseIfOk !== null && ADD_HEADER_STATUSES.has(status)) out.push(...this.responseIfOk);
    if (this.opts.hsts !== null) out.push('strict-transport-security', this.opts.hsts);
    if (this.responsePolicy !== null) {
      fromUpstream = 0;
      try {
        this.applyDirectives(status, out, true);
      } catch {
        return this.cannotForward();
      }
    }
    if (this.req.httpVersionMajor === 2 && mayBeTrailersOnly(out)) {
      this.heldHead = { status, head: out };
      return true;
    }
    return this.writeHead(status, out, fromUpstream);
  }

  /** `checked`: leading entries of `out` as the upstream's reader checked them (H1Response.writeHeadChecked). */
  private writeHead(status: number, out: string[], checked = 0): boolean {
    if (this.target?.pace != null) this.target.pace(this.res); // limit-rate (pace.ts)
    try {
      const res = this.res;
      if (checked > 0 && res instanceof H1Response) res.writeHeadChecked(status, out, checked);
      else res.writeHead(status, out);
    } catch {
      return this.cannotForward();
    }
    return true;
  }

  /** A head the client side cannot carry: Portico answers 502 itself (the abort must not read as the client's). */
  private cannotForward(): false {
    this.abandon();
    const f = classify({ code: 'UND_ERR_RESPONSE_STATUS_CODE' });
    this.recordFailure(f);
    this.fail(f);
    return false;
  }

  /** The route's header-directive response edits (an error page's answer gets only the server's and global ones). */
  private applyDirectives(status: number, headers: string[], proxied: boolean): void {
    const r = this.responsePolicy;
    if (r !== null) r.edit(status, headers, this, proxied);
  }

  /** The route's header-directive response edits for this answer, if it has any. */
  private get responsePolicy(): ResponsePolicy | null {
    const t = this.target;
    if (t === null) return null;
    return this.errorCode === 0 ? t.response : t.outer;
  }

  onData(chunk: Buffer, last?: boolean, borrowed?: boolean): boolean {
    if (this.next !== Next.None) {
      this.discarded += chunk.length;
      if (this.discarded > DRAIN_LIMIT) this.abortUpstream?.();
      return true;
    }
    this.bytes += chunk.length;
    if (this.heldHead !== null) {
      const h = this.heldHead;
      this.heldHead = null;
      if (!this.writeHead(h.status, h.head)) return false;
    }
    if (last === true) {
      // head and body in one write; a borrowed chunk is copied unless the response is done with it at once
      this.ended = true;
      this.res.end(borrowed === true && !endTakesAtOnce(this.res, chunk) ? Buffer.from(chunk) : chunk);
      return true;
    }
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resumeUpstream as () => void);
    return false;
  }

  /** Trailers come as a flat raw array over HTTP/1.1 and as an object over HTTP/2 (gRPC's grpc-status lives here). */
  onComplete(rawTrailers: string[] | Buffer[] | Record<string, string | string[]> | null): void {
    if (this.next !== Next.None) {
      // the discarded answer was read to its end: the pod answered, and the connection is reusable
      const ep = this.endpoint as Endpoint;
      this.opts.stats.success(keyOf(ep));
      this.proceed();
      return;
    }
    // An object, because HTTP/2's compat response only takes that form.
    const trailers: Record<string, string> = {};
    let any = false;
    if (Array.isArray(rawTrailers)) {
      for (let i = 0; i < rawTrailers.length; i += 2) {
        trailers[String(rawTrailers[i]).toLowerCase()] = String(rawTrailers[i + 1]);
        any = true;
      }
    } else if (rawTrailers) {
      for (const [k, v] of Object.entries(rawTrailers)) {
        if (k.charCodeAt(0) === 58) continue;
        trailers[k] = Array.isArray(v) ? v.join(', ') : String(v);
        any = true;
      }
    }
    const held = this.heldHead;
    const h2 = held === null ? null : http2Response(this.res);
    if (held !== null && h2 !== null) {
      this.heldHead = null;
      try {
        respondTrailersOnly(h2, held.status, held.head, trailers);
      } catch {
        h2.stream.close();
      }
    } else {
      if (any) {
        try {
          this.res.addTrailers(trailers);
        } catch {
          // a trailer the client side cannot carry is dropped, not fatal
        }
      }
      if (!this.ended) this.res.end();
    }
    const ep = this.endpoint as Endpoint;
    this.opts.stats.success(keyOf(ep));
    this.finish(this.upstreamStatus);
  }

  /** A discarded answer is done with (read to its end, or its connection closed): retry, or serve the error page. */
  private proceed(): void {
    const next = this.next;
    this.next = Next.None;
    this.stopDrain();
    this.abortUpstream = null;
    if (this.done || this.cause === 'client_abort') return;
    const t = this.target as Target;
    if (next === Next.Retry) {
      this.opts.metrics?.retry(this.recorded as RouteLabels);
      this.retry();
    } else if (t.errors !== null) {
      this.errorPage(t.errors, this.upstreamStatus);
    }
  }

  onError(err: Error): void {
    if (this.next !== Next.None) {
      // the discarded answer's connection closed (or was closed): the decision stands
      this.proceed();
      return;
    }
    if (this.done || this.abandoned) return;
    const f = classify(err);
    if (this.cause === 'client_abort') {
      this.finish(499);
      return;
    }
    const t = this.target;
    const retry =
      t !== null &&
      this.errorCode === 0 &&
      !this.res.headersSent &&
      shouldRetry(t.retry, { cause: f.cause, sent: !f.neverSent, method: this.method, attempts: this.attempt, elapsed: performance.now() - this.start, replayable: this.replayable(), endpoints: this.choice?.slot.endpoints.length ?? 0 });
    this.recordFailure(f);
    if (retry) {
      this.opts.metrics?.retry(this.recorded as RouteLabels);
      this.abortUpstream = null;
      this.retry();
      return;
    }
    this.fail(t === null ? f : afterRetries(t.retry, f));
  }

  /** Sends the request again, after the route's backoff (Gateway API retry.backoff) if it has one. */
  private retry(): void {
    const wait = (this.target as Target).retry.backoff;
    if (wait <= 0) {
      this.send(this.endpoint);
      return;
    }
    setTimeout(() => {
      if (this.done) return;
      if (this.cause === 'client_abort') this.finish(499);
      else this.send(this.endpoint);
    }, wait);
  }

  // --- answers --------------------------------------------------------------------------

  /** Answers an upstream failure: an error status if nothing was sent yet, else a cut connection. */
  private recordFailure(f: Failure): void {
    this.opts.metrics?.upstreamError(this.recorded, f.cause);
    const ep = this.endpoint;
    if (ep !== undefined && UNHEALTHY.has(f.cause) && this.opts.stats.failure(keyOf(ep), f.cause)) {
      this.opts.metrics?.ejection(this.recorded);
    }
  }

  private fail(f: Failure): void {
    this.cause = f.cause;
    if (this.res.headersSent) {
      this.res.destroy();
      this.upgrade?.socket.destroy();
      this.finish(this.upstreamStatus);
      return;
    }
    // error_page applies to Portico's own 502/503/504 too (nginx's), whatever disable-proxy-intercept-errors says
    const e = this.target?.errors;
    if (e != null && this.errorCode === 0 && this.upgrade === null && e.codes.has(f.status)) {
      this.errorPage(e, f.status);
      return;
    }
    this.local(f.status, errorBody(f.status, f.text), TEXT, f.cause);
  }

  /** Answers locally (404 page, redirect, 400, 5xx). */
  private local(status: number, body: string, type: string, cause: string, extra: readonly string[] = []): void {
    this.cause = cause;
    if (this.requestId_ === '') this.requestId_ = (this.req.headers['x-request-id'] as string | undefined) ?? nextRequestId();
    this.bytes = Buffer.byteLength(body);
    const more = this.responseExtra === null ? [...extra] : [...extra, ...this.responseExtra];
    if (this.affinityCookie !== null) more.push('set-cookie', this.affinityCookie);
    if (this.responseEdits !== null) for (const e of this.responseEdits) applyEdit(more, e);
    if (this.responseIfOk !== null && ADD_HEADER_STATUSES.has(status)) more.push(...this.responseIfOk);
    const headers = this.opts.hsts === null ? more : [...more, 'strict-transport-security', this.opts.hsts];
    if (this.target !== null && (this.errorCode === 0 ? this.target.response : this.target.outer) !== null) {
      const h = [...(type === '' ? [] : ['content-type', type]), 'server', 'portico', ...headers];
      try {
        this.applyDirectives(status, h, false);
        replyEdited(this.res, status, body, h);
      } catch {
        // never reached by the edits Portico compiles; Portico's own answer goes without them
        reply(this.res, status, body, type, headers);
      }
    } else reply(this.res, status, body, type, headers);
    this.finish(status);
  }

  private finish(status: number): void {
    if (this.done) return;
    this.done = true;
    this.stopDrain();
    if (this.requestTimer !== null) clearTimeout(this.requestTimer);
    const req = this.req;
    const t = this.recorded;
    const durationMs = performance.now() - this.start;
    // a walk over the request's headers: only when something records it
    const log = this.target?.settings.accessLog === false ? null : this.opts.accessLog;
    const length = this.opts.metrics || log ? requestLength(req) : 0;
    this.opts.metrics?.request(t, {
      method: req.method ?? '',
      status,
      durationSec: durationMs / 1000,
      upstreamSec: this.upstreamStatus === 0 ? -1 : this.upstreamMs / 1000,
      requestBytes: length,
      responseBytes: this.bytes,
    });
    if (log === null) return;
    const ep = this.endpoint;
    log(req, t, {
        remote: this.clientIp_,
        time: this.startTime,
        status,
        bytes: this.bytes,
        requestLength: length,
        durationMs,
        upstream: ep === undefined ? '' : `${ep.ip}:${ep.port}`,
        upstreamStatus: this.upstreamStatus,
        upstreamMs: this.upstreamMs,
        requestId: this.requestId_,
        cause: this.cause,
      });
  }
}
