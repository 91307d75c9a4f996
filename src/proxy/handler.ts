/**
 * The per-request data path: match, pick an endpoint, forward through the endpoint's upstream pool
 * (callbacks, no promises or per-chunk closures), stream both ways with back-pressure, answer errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';
import type { Endpoint } from '../model/types.js';
import type { Matcher, Target } from '../router/compile.js';
import { hostOf, match, pathOf } from '../router/match.js';
import type { AccessLog } from './access-log.js';
import type { Balancer } from './balance.js';
import { classify, errorBody, NO_ENDPOINTS, type Failure } from './errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { endpointKey, type Pools } from './pools.js';
import type { UpstreamHandler } from './upstream.js';
import type { EndpointStats } from './stats.js';
import { connectionListed, forwardHeaders, requestHost, requestLength, type Trust } from './headers.js';
import { nextRequestId } from './request-id.js';

/** The live table. Swapping is one assignment; a request keeps the matcher it started with. */
export interface ProxyState {
  matcher: Matcher;
  /** While shutting down, responses close their connection (`Connection: close`). */
  draining: boolean;
}

export interface HandlerOptions {
  readonly state: ProxyState;
  readonly pools: Pools;
  readonly balancer: Balancer;
  readonly scheme: 'http' | 'https';
  /** Upstream headers and between-reads timeout, ms. */
  readonly readTimeout: number;
  /** Attempts for a request that never reached a pod. */
  readonly tries: number;
  readonly accessLog: AccessLog | null;
  readonly metrics: Metrics | null;
  readonly stats: EndpointStats;
  /** `Strict-Transport-Security` value for HTTPS responses, or null. */
  readonly hsts: string | null;
  /** Port in the Location of HTTP-to-HTTPS redirects (443 is left out). */
  readonly httpsRedirectPort: number;
  /** Global limits; a route's annotations override them. Bytes and milliseconds. */
  readonly limits: {
    readonly bodySize: number;
    readonly clientBodyTimeout: number;
    readonly sendTimeout: number;
    readonly maxHeaders: number;
    /** 0 = retry until the tries run out. */
    readonly nextUpstreamTimeout: number;
  };
  readonly trust: Trust;
}

/** Methods safe to send again after a reset before any response byte (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Failures that count against an endpoint's health (passive health checks). */
const UNHEALTHY = new Set(['connect_refused', 'connect_timeout', 'connect_error', 'reset', 'timeout', 'protocol']);

/**
 * Request shapes the HTTP parser lets through but RFC 9112 rejects: several Host headers (3.2),
 * Transfer-Encoding in HTTP/1.0 (6.1), and more header fields than allowed. Returns a status or 0.
 */
function hygiene(req: IncomingMessage, maxHeaders: number): number {
  const raw = req.rawHeaders;
  if (raw.length > maxHeaders * 2) return 431;
  if (req.httpVersionMajor !== 1) return 0;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return 400;
  if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) return 400;
  return 0;
}

/** ACME HTTP-01 challenges must stay reachable over plain HTTP (as ingress-nginx does). */
const ACME_PREFIX = '/.well-known/acme-challenge/';

/** Response headers never forwarded: hop-by-hop, and `server` (we add our own). */
const DROP_RESPONSE = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'server']);

const NOT_FOUND_PAGE = '<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1><p>No Ingress rule matches this host and path.</p><hr><small>portico</small>\n';

/** Sends a short local answer (404 page, redirect, 4xx/5xx with its cause). */
function reply(res: ServerResponse, status: number, body: string, type: string, extra: readonly string[] = []): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, ['content-type', type, 'content-length', String(Buffer.byteLength(body)), 'server', 'portico', ...extra]);
  res.end(body);
}

/** HTTP/1.1 frames a body with Content-Length or Transfer-Encoding; HTTP/2 has one unless the headers ended the stream. */
function requestHasBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  if (req.httpVersionMajor >= 2) return (req as unknown as { stream?: { endAfterHeaders?: boolean } }).stream?.endAfterHeaders === false;
  return req.headers['transfer-encoding'] !== undefined;
}

/** `https://host[:port]/original-target` for a 308 from plain HTTP. */
function httpsLocation(host: string | undefined, url: string, port: number): string {
  let h = host ?? '';
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.lastIndexOf(':'));
  return `https://${h}${port === 443 ? '' : `:${port}`}${url.charCodeAt(0) === 47 ? url : '/'}`;
}

/** Creates the `request` listener of an HTTP server. */
export function createHandler(opts: HandlerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  return function handle(req, res) {
    if (opts.state.draining && req.httpVersionMajor < 2) res.shouldKeepAlive = false;
    const ex = new Exchange(req, res, opts);
    const bad = hygiene(req, opts.limits.maxHeaders);
    if (bad !== 0) {
      res.shouldKeepAlive = false;
      ex.local(bad, errorBody(bad, bad === 431 ? 'too many header fields' : 'the request framing is ambiguous'), 'text/plain; charset=utf-8', 'protocol');
      return;
    }
    const url = req.url ?? '/';
    const path = pathOf(url);
    if (path === null) {
      ex.local(400, errorBody(400, 'the request target is not a valid path'), 'text/plain; charset=utf-8', 'protocol');
      return;
    }
    const host = requestHost(req);
    const target = match(opts.state.matcher, hostOf(host), path);
    if (target === null) {
      ex.local(404, NOT_FOUND_PAGE, 'text/html; charset=utf-8', '');
      return;
    }
    ex.target = target;
    if (target.redirect && opts.scheme === 'http' && !path.startsWith(ACME_PREFIX)) {
      const location = httpsLocation(host, url, opts.httpsRedirectPort);
      ex.local(308, `308 Permanent Redirect: ${location}\n`, 'text/plain; charset=utf-8', 'redirect', ['location', location]);
      return;
    }
    const limit = target.limits.bodySize ?? opts.limits.bodySize;
    const declared = req.headers['content-length'];
    if (limit > 0 && declared !== undefined && Number(declared) > limit) {
      // Not reading a body we will refuse: answer at once and close the connection.
      res.shouldKeepAlive = false;
      ex.local(413, errorBody(413, `the request body is larger than ${limit} bytes`), 'text/plain; charset=utf-8', 'body_too_large');
      return;
    }
    ex.forwardPath = url.charCodeAt(0) === 47 ? url : path;
    ex.send(undefined);
  };
}

const EXCHANGE = Symbol('portico.exchange');
type ExchangeResponse = ServerResponse & { [EXCHANGE]?: Exchange };

/** `close` of a response: one shared listener instead of a closure per request. */
function onResponseClose(this: ExchangeResponse): void {
  this[EXCHANGE]?.onClientClose();
}

/**
 * One client request and its upstream attempts. Implements the upstream handler
 * (onConnect/onHeaders/onData/onComplete/onError) so the response is streamed without promises.
 */
class Exchange implements UpstreamHandler {
  target: Target | null = null;
  forwardPath = '/';
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
  private requestId = '';
  private cause = '';
  private done = false;
  private headers: string[] | null = null;
  private clientIp = '';
  /** Set when Portico itself aborts the upstream request and answers on its own. */
  private abandoned = false;
  private body: Readable | null = null;
  /** The response was ended with its last body chunk. */
  private ended = false;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly opts: HandlerOptions,
  ) {}

  /** Picks an endpoint (avoiding the one that just failed) and dispatches to it. */
  send(avoid: Endpoint | undefined): void {
    const target = this.target as Target;
    const ep = this.opts.balancer.pick(target.backend, avoid);
    if (ep === undefined) {
      this.recordFailure(NO_ENDPOINTS);
      this.fail(NO_ENDPOINTS);
      return;
    }
    this.endpoint = ep;
    this.attempt++;
    const req = this.req;
    if (this.headers === null) {
      const f = forwardHeaders(req, this.opts.scheme, false, target.backend.protocol === 'GRPC' || target.backend.protocol === 'GRPCS', this.opts.trust, target.limits.upstreamVhost);
      this.headers = f.headers;
      this.requestId = f.requestId;
      this.clientIp = f.clientIp;
      (this.res as ExchangeResponse)[EXCHANGE] = this;
      this.res.on('close', onResponseClose);
      if (requestHasBody(req)) this.body = this.watchBody(target);
    }
    this.upstreamStart = performance.now();
    const read = target.limits.readTimeout ?? this.opts.readTimeout;
    this.opts.pools.get(ep.ip, ep.port, target.backend.protocol, { connectTimeout: target.limits.connectTimeout, servername: target.sni, verify: target.limits.sslVerify, material: target.upstreamTls }).dispatch(
      {
        path: this.forwardPath,
        method: req.method ?? 'GET',
        headers: this.headers,
        body: this.body,
        headersTimeout: read,
        bodyTimeout: read,
      },
      this,
    );
  }

  /**
   * Guards a request body: a stall longer than the client body timeout is a 408 when the client
   * stopped sending, a 504 when the pod stopped reading (the proxy-send-timeout case); a chunked
   * body over the size limit is a 413. Returns what the upstream client should read.
   */
  private watchBody(target: Target): Readable {
    const req = this.req;
    const lim = this.opts.limits;
    const stall = Math.min(lim.clientBodyTimeout, target.limits.sendTimeout ?? lim.sendTimeout);
    req.setTimeout(stall, () => {
      if (req.complete || this.done) return;
      const upstreamStalled = req.readableFlowing === false || req.readableLength > 0;
      this.abandon();
      if (upstreamStalled) this.fail(classify({ code: 'PORTICO_SEND_TIMEOUT' }));
      else {
        this.res.shouldKeepAlive = false;
        this.local(408, errorBody(408, 'the request body did not arrive in time'), 'text/plain; charset=utf-8', 'client_timeout');
      }
    });
    req.once('end', () => req.setTimeout(0));
    const limit = target.limits.bodySize ?? lim.bodySize;
    if (limit <= 0 || req.headers['content-length'] !== undefined) return req; // Node's parser delivers exactly the declared length
    let seen = 0;
    const counted = new Transform({
      transform: (chunk: Buffer, _enc, cb) => {
        seen += chunk.length;
        if (seen <= limit) return cb(null, chunk);
        this.abandon();
        this.res.shouldKeepAlive = false;
        this.local(413, errorBody(413, `the request body is larger than ${limit} bytes`), 'text/plain; charset=utf-8', 'body_too_large');
        cb(new Error('request body too large'));
      },
    });
    req.pipe(counted);
    return counted;
  }

  /** Aborts the upstream request without answering its error: the caller answers. */
  private abandon(): void {
    this.abandoned = true;
    this.abortUpstream?.();
  }

  onClientClose(): void {
    if (this.done) return;
    this.cause = 'client_abort';
    this.abortUpstream?.();
  }

  // --- upstream handler ----------------------------------------------------------------

  onConnect(abort: (err?: Error) => void): void {
    this.abortUpstream = abort;
    if (this.res.destroyed) abort();
  }

  onHeaders(status: number, rawHeaders: (string | Buffer)[], resume: () => void): boolean {
    if (status < 200) return true; // 1xx informational: the final response follows
    this.upstreamStatus = status;
    this.upstreamMs = performance.now() - this.upstreamStart;
    this.resumeUpstream = resume;
    const out: string[] = [];
    let listed: Set<string> | null = null;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const n = rawHeaders[i] as string | Buffer;
      const v = rawHeaders[i + 1] as string | Buffer;
      // strings from Portico's HTTP/1.1 client, Buffers from undici (gRPC)
      const name = typeof n === 'string' ? n : n.toString('latin1');
      const lower = name.toLowerCase();
      const value = typeof v === 'string' ? v : v.toString('latin1');
      if (lower === 'connection') listed = connectionListed(value);
      if (DROP_RESPONSE.has(lower)) continue;
      out.push(name, value);
    }
    if (listed !== null) {
      for (let i = out.length - 2; i >= 0; i -= 2) if (listed.has((out[i] as string).toLowerCase())) out.splice(i, 2);
    }
    out.push('server', 'portico');
    if (this.opts.hsts !== null) out.push('strict-transport-security', this.opts.hsts);
    try {
      this.res.writeHead(status, out);
    } catch {
      this.abortUpstream?.();
      const f = classify({ code: 'UND_ERR_RESPONSE_STATUS_CODE' });
      this.recordFailure(f);
      this.fail(f);
      return false;
    }
    return true;
  }

  onData(chunk: Buffer, last?: boolean): boolean {
    this.bytes += chunk.length;
    if (last === true) {
      // head and body in one write
      this.ended = true;
      this.res.end(chunk);
      return true;
    }
    if (this.res.write(chunk)) return true;
    this.res.once('drain', this.resumeUpstream as () => void);
    return false;
  }

  /** Trailers come as a flat raw array over HTTP/1.1 and as an object over HTTP/2 (gRPC's grpc-status lives here). */
  onComplete(rawTrailers: string[] | Buffer[] | Record<string, string | string[]> | null): void {
    if (rawTrailers) {
      // An object, because HTTP/2's compat response only takes that form.
      const trailers: Record<string, string> = {};
      let any = false;
      if (Array.isArray(rawTrailers)) {
        for (let i = 0; i < rawTrailers.length; i += 2) {
          trailers[String(rawTrailers[i]).toLowerCase()] = String(rawTrailers[i + 1]);
          any = true;
        }
      } else {
        for (const [k, v] of Object.entries(rawTrailers)) {
          if (k.charCodeAt(0) === 58) continue;
          trailers[k] = Array.isArray(v) ? v.join(', ') : String(v);
          any = true;
        }
      }
      if (any) {
        try {
          this.res.addTrailers(trailers);
        } catch {
          // a trailer the client side cannot carry is dropped, not fatal
        }
      }
    }
    if (!this.ended) this.res.end();
    const ep = this.endpoint as Endpoint;
    this.opts.stats.success(endpointKey(ep.ip, ep.port));
    this.finish(this.upstreamStatus);
  }

  onError(err: Error): void {
    if (this.done || this.abandoned) return;
    const f = classify(err);
    if (this.cause === 'client_abort') {
      this.finish(499);
      return;
    }
    const lim = this.opts.limits;
    const retry =
      (f.neverSent || (f.cause === 'reset' && IDEMPOTENT.has(this.req.method ?? ''))) &&
      !this.res.headersSent &&
      this.attempt < this.opts.tries &&
      !this.req.readableDidRead &&
      this.target !== null &&
      // another endpoint, or the same one again after a reset (often a stale keep-alive connection)
      (this.target.backend.endpoints.length > 1 || f.cause === 'reset') &&
      (lim.nextUpstreamTimeout === 0 || performance.now() - this.start < lim.nextUpstreamTimeout);
    this.recordFailure(f);
    if (retry) {
      this.opts.metrics?.retry(this.target as Target);
      this.abortUpstream = null;
      this.send(this.endpoint);
      return;
    }
    this.fail(f);
  }

  // --- answers --------------------------------------------------------------------------

  /** Answers an upstream failure: an error status if nothing was sent yet, else a cut connection. */
  private recordFailure(f: Failure): void {
    this.opts.metrics?.upstreamError(this.target, f.cause);
    const ep = this.endpoint;
    if (ep !== undefined && UNHEALTHY.has(f.cause) && this.opts.stats.failure(endpointKey(ep.ip, ep.port), f.cause)) {
      this.opts.metrics?.ejection(this.target);
    }
  }

  private fail(f: Failure): void {
    this.cause = f.cause;
    if (this.res.headersSent) {
      this.res.destroy();
      this.finish(this.upstreamStatus);
      return;
    }
    this.local(f.status, errorBody(f.status, f.text), 'text/plain; charset=utf-8', f.cause);
  }

  /** Answers locally (404 page, redirect, 400, 5xx). */
  local(status: number, body: string, type: string, cause: string, extra: readonly string[] = []): void {
    this.cause = cause;
    if (this.requestId === '') this.requestId = (this.req.headers['x-request-id'] as string | undefined) ?? nextRequestId();
    this.bytes = Buffer.byteLength(body);
    reply(this.res, status, body, type, this.opts.hsts === null ? extra : [...extra, 'strict-transport-security', this.opts.hsts]);
    this.finish(status);
  }

  private finish(status: number): void {
    if (this.done) return;
    this.done = true;
    const req = this.req;
    const t = this.target;
    const durationMs = performance.now() - this.start;
    // a walk over the request's headers: only when something records it
    const length = this.opts.metrics || this.opts.accessLog ? requestLength(req) : 0;
    this.opts.metrics?.request(t, {
      method: req.method ?? '',
      status,
      durationSec: durationMs / 1000,
      upstreamSec: this.upstreamStatus === 0 ? -1 : this.upstreamMs / 1000,
      requestBytes: length,
      responseBytes: this.bytes,
    });
    const log = this.opts.accessLog;
    if (log === null) return;
    const ep = this.endpoint;
    log(req, t, {
        remote: this.clientIp,
        time: this.startTime,
        status,
        bytes: this.bytes,
        requestLength: length,
        durationMs,
        upstream: ep === undefined ? '' : `${ep.ip}:${ep.port}`,
        upstreamStatus: this.upstreamStatus,
        upstreamMs: this.upstreamMs,
        requestId: this.requestId,
        cause: this.cause,
      });
  }
}
