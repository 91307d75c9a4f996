/**
 * The per-request data path: match, pick an endpoint, forward through the endpoint's upstream pool
 * (callbacks, no promises or per-chunk closures), stream both ways with back-pressure, answer errors.
 */
import { ServerResponse, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Transform, type Readable } from 'node:stream';
import type { Endpoint } from '../model/types.js';
import type { Matcher, Target } from '../router/compile.js';
import { hostOf, match } from '../router/match.js';
import type { AccessLog } from './access-log.js';
import type { Balancer } from './balance.js';
import { classify, errorBody, NO_ENDPOINTS, type Failure } from './errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { endpointKey, type Pools } from './pools.js';
import type { UpstreamHandler } from './upstream.js';
import type { EndpointStats } from './stats.js';
import { connectionListed, forwardHeaders, requestHost, requestLength, type ForwardOptions } from './headers.js';
import { parseTarget } from './target.js';
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
    /** Idle time after which an upgraded tunnel is closed; 0 = the route's read timeout. */
    readonly upgradeIdleTimeout: number;
  };
  readonly forward: ForwardOptions;
  /** Open tunnels (client sockets), so shutdown can wait for them and then close them. */
  readonly tunnels: Set<Socket>;
}

/** The listener callbacks of the front door: every request, whatever its shape, goes through `admit`. */
export interface FrontDoor {
  /** `request` and `checkContinue` of HTTP/1.1 and HTTP/2 servers. */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** `upgrade` of HTTP/1.1 servers: the same admission, then a tunnel only on the pod's `101`. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
}

/** Methods safe to send again after a reset before any response byte (RFC 9110 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Failures that count against an endpoint's health (passive health checks). */
const UNHEALTHY = new Set(['connect_refused', 'connect_timeout', 'connect_error', 'reset', 'timeout', 'protocol']);

const isHttp2 = (req: IncomingMessage): boolean => req.httpVersionMajor === 2 && (req as { stream?: unknown }).stream !== undefined;

/**
 * Request shapes the HTTP parser lets through but RFC 9112 rejects: an HTTP/1 connection naming
 * another major version (505), several Host headers (3.2), Transfer-Encoding in HTTP/1.0 (6.1),
 * more header fields than allowed (431), and an HTTP/2 request whose Host differs from its
 * :authority (RFC 9113 8.3.1: malformed). Returns [status, why] or null.
 */
function hygiene(req: IncomingMessage, maxHeaders: number): readonly [number, string] | null {
  const raw = req.rawHeaders;
  if (raw.length > maxHeaders * 2) return [431, 'too many header fields'];
  if (isHttp2(req)) {
    const authority = req.headers[':authority'] as string | undefined;
    const host = req.headers.host;
    if (authority !== undefined && host !== undefined && authority.toLowerCase() !== host.toLowerCase()) return [400, 'the Host header differs from :authority'];
    return null;
  }
  if (req.httpVersionMajor !== 1 || req.httpVersionMinor > 1) return [505, 'only HTTP/1.0 and HTTP/1.1 are spoken on this connection'];
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
  }
  if (hosts > 1) return [400, 'the request framing is ambiguous'];
  if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) return [400, 'the request framing is ambiguous'];
  return null;
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
function httpsLocation(host: string | undefined, forward: string, port: number): string {
  let h = host ?? '';
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else if (h.includes(':')) h = h.slice(0, h.lastIndexOf(':'));
  return `https://${h}${port === 443 ? '' : `:${port}`}${forward}`;
}

/** A response on the raw socket of an upgrade request, for every answer that is not a tunnel. */
function upgradeResponse(req: IncomingMessage, socket: Socket): ServerResponse {
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  // no server drives this response's socket: close it once the answer is written
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.destroySoon();
  });
  return res;
}

const TEXT = 'text/plain; charset=utf-8';

/** Creates the front door of one listener (plain HTTP or HTTPS). */
export function createHandler(opts: HandlerOptions): FrontDoor {
  /**
   * Admission, the same for every request shape: hygiene, the request target, the routing host,
   * match, HTTPS redirect, the body limit. Answers locally and returns false, or sets the
   * exchange's target and returns true.
   */
  function admit(ex: Exchange, req: IncomingMessage, res: ServerResponse): boolean {
    if (opts.state.draining && req.httpVersionMajor < 2) res.shouldKeepAlive = false;
    const bad = hygiene(req, opts.limits.maxHeaders);
    if (bad !== null) {
      res.shouldKeepAlive = false;
      ex.local(bad[0], errorBody(bad[0], bad[1]), TEXT, 'protocol');
      return false;
    }
    const t = parseTarget(req.url ?? '');
    if (t === null) {
      res.shouldKeepAlive = false;
      ex.local(400, errorBody(400, 'the request target is not a valid path'), TEXT, 'protocol');
      return false;
    }
    // RFC 9112 3.2.2: an absolute-form target's authority wins over the Host header
    const host = t.authority ?? requestHost(req);
    ex.host = host;
    ex.forwardPath = t.forward;
    const target = match(opts.state.matcher, hostOf(host), t.path);
    if (target === null) {
      ex.local(404, NOT_FOUND_PAGE, 'text/html; charset=utf-8', '');
      return false;
    }
    ex.target = target;
    if (target.redirect && opts.scheme === 'http' && !t.path.startsWith(ACME_PREFIX)) {
      const location = httpsLocation(host, t.forward, opts.httpsRedirectPort);
      ex.local(308, `308 Permanent Redirect: ${location}\n`, TEXT, 'redirect', ['location', location]);
      return false;
    }
    const limit = target.limits.bodySize ?? opts.limits.bodySize;
    const declared = req.headers['content-length'];
    if (limit > 0 && declared !== undefined && Number(declared) > limit) {
      // Not reading a body we will refuse (and no 100 Continue): answer at once and close the connection.
      res.shouldKeepAlive = false;
      ex.local(413, errorBody(413, `the request body is larger than ${limit} bytes`), TEXT, 'body_too_large');
      return false;
    }
    return true;
  }

  return {
    request(req, res) {
      const ex = new Exchange(req, res, opts, null);
      if (admit(ex, req, res)) ex.send(undefined);
    },
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      const res = upgradeResponse(req, socket);
      const ex = new Exchange(req, res, opts, { socket, head });
      if (!admit(ex, req, res)) return;
      if (requestHasBody(req)) {
        // the bytes after the head would be both a body and the tunnel's first bytes
        ex.local(400, errorBody(400, 'an upgrade request must not carry a body'), TEXT, 'protocol');
        return;
      }
      ex.send(undefined);
    },
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
  /** Origin-form target as received: what the upstream request line carries. */
  forwardPath = '/';
  /** The authority the request was routed by. */
  host: string | undefined = undefined;
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
    /** For an upgrade request: the client socket and the bytes that followed its head. */
    private readonly upgrade: { readonly socket: Socket; readonly head: Buffer } | null,
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
    const up = this.upgrade;
    const protocol = target.backend.protocol;
    if (this.headers === null) {
      const f = forwardHeaders(req, this.host, this.opts.forward, up !== null, up === null && (protocol === 'GRPC' || protocol === 'GRPCS'), target.limits.upstreamVhost);
      this.headers = f.headers;
      this.requestId = f.requestId;
      this.clientIp = f.clientIp;
      (this.res as ExchangeResponse)[EXCHANGE] = this;
      this.res.on('close', onResponseClose);
      if (requestHasBody(req)) {
        this.body = this.watchBody(target);
        // 100 Continue only now, once nothing refuses the request (checkContinue listeners)
        if (req.httpVersionMajor === 1 && req.httpVersionMinor === 1 && /^100-continue$/i.test(req.headers.expect ?? '')) this.res.writeContinue();
      }
    }
    this.upstreamStart = performance.now();
    const read = target.limits.readTimeout ?? this.opts.readTimeout;
    // an upgrade always goes over HTTP/1.1 (plain, or TLS for TLS backends)
    const via = up === null ? protocol : protocol === 'HTTPS' || protocol === 'GRPCS' ? 'HTTPS' : 'HTTP';
    this.opts.pools.get(ep.ip, ep.port, via, { connectTimeout: target.limits.connectTimeout, servername: target.sni, verify: target.limits.sslVerify, material: target.upstreamTls }).dispatch(
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
    this.opts.stats.success(endpointKey(ep.ip, ep.port));
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
    const idle = this.opts.limits.upgradeIdleTimeout || (this.target?.limits.readTimeout ?? this.opts.readTimeout);
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
      // a head the client side cannot carry: Portico answers 502 itself (the abort must not read as the client's)
      this.abandon();
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
      this.upgrade?.socket.destroy();
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
