/**
 * HTTP/1.1 Upgrade (WebSocket and others): route like any request, send the rewritten request
 * head to the chosen pod, then splice the two sockets. The tunnel holds no reference to the table,
 * so table swaps never touch an established upgraded connection.
 */
import type { IncomingMessage } from 'node:http';
import { connect as netConnect, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { connect as tlsConnect } from 'node:tls';
import type { Metrics } from '../metrics/metrics.js';
import type { Target } from '../router/compile.js';
import { hostOf, match, pathOf } from '../router/match.js';
import type { AccessLog } from './access-log.js';
import type { Balancer } from './balance.js';
import { classify } from './errors.js';
import { forwardHeaders, requestHost, requestLength, type Trust } from './headers.js';
import type { ProxyState } from './handler.js';
import { endpointKey, tlsOptions } from './pools.js';
import type { EndpointStats } from './stats.js';
import { requestHead } from './upstream.js';

export interface UpgradeOptions {
  readonly state: ProxyState;
  readonly balancer: Balancer;
  readonly scheme: 'http' | 'https';
  readonly connectTimeout: number;
  readonly accessLog: AccessLog | null;
  readonly metrics: Metrics | null;
  readonly stats: EndpointStats;
  /** Open tunnels (client sockets), so shutdown can wait for them and then close them. */
  readonly tunnels: Set<Socket>;
  readonly trust: Trust;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 404: 'Not Found', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout' };

/** Answers an upgrade request that cannot be tunnelled, and closes the connection. */
function refuse(socket: Socket, status: number, text: string): void {
  if (!socket.writable) return void socket.destroy();
  const body = `${status} ${REASONS[status] ?? ''}: ${text}\n`;
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? ''}\r\nserver: portico\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** Creates the server's `upgrade` listener. */
export function createUpgradeHandler(opts: UpgradeOptions): (req: IncomingMessage, socket: Socket, head: Buffer) => void {
  return function upgrade(req, socket, firstBytes) {
    socket.on('error', () => socket.destroy());
    const path = pathOf(req.url ?? '/');
    if (path === null) return refuse(socket, 400, 'the request target is not a valid path');
    const target = match(opts.state.matcher, hostOf(requestHost(req)), path);
    if (target === null) return refuse(socket, 404, 'no Ingress rule matches this host and path');
    const ep = opts.balancer.pick(target.backend);
    if (ep === undefined) {
      opts.metrics?.upstreamError(target, 'no_endpoints');
      return refuse(socket, 503, 'the backend Service has no ready endpoints');
    }
    const start = performance.now();
    const fwd = forwardHeaders(req, opts.scheme, true, false, opts.trust, target.limits.upstreamVhost);
    const key = endpointKey(ep.ip, ep.port);
    const tlsUpstream = target.backend.protocol === 'HTTPS' || target.backend.protocol === 'GRPCS';
    const upstream: Socket = tlsUpstream ? tlsConnect({ ...tlsOptions({ servername: target.sni, verify: target.limits.sslVerify, material: target.upstreamTls }), host: ep.ip, port: ep.port, ALPNProtocols: ['http/1.1'] }) : netConnect(ep.port, ep.ip);
    let connected = false;
    let status = 0;
    upstream.setTimeout(opts.connectTimeout, () => upstream.destroy(Object.assign(new Error('connect timeout'), { code: 'UND_ERR_CONNECT_TIMEOUT' })));
    upstream.once(tlsUpstream ? 'secureConnect' : 'connect', () => {
      connected = true;
      upstream.setTimeout(0);
      upstream.setNoDelay(true);
      socket.setNoDelay(true);
      upstream.write(requestHead(req.method ?? 'GET', req.url ?? '/', fwd.headers, false));
      if (firstBytes.length > 0) upstream.write(firstBytes);
      upstream.once('data', (chunk: Buffer) => {
        status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(chunk.toString('latin1', 0, 16))?.[1] ?? 0);
        opts.stats.success(key);
        record(opts, req, target, status, start, `${ep.ip}:${ep.port}`, fwd.requestId, '');
      });
      upstream.pipe(socket);
      socket.pipe(upstream);
      opts.tunnels.add(socket);
    });
    upstream.on('error', (err) => {
      if (connected) return socket.destroy();
      const f = classify(err);
      opts.metrics?.upstreamError(target, f.cause);
      opts.stats.failure(key, f.cause);
      record(opts, req, target, f.status, start, `${ep.ip}:${ep.port}`, fwd.requestId, f.cause);
      refuse(socket, f.status, f.text);
    });
    upstream.on('close', () => socket.destroy());
    socket.on('close', () => {
      opts.tunnels.delete(socket);
      upstream.destroy();
    });
  };
}

function record(opts: UpgradeOptions, req: IncomingMessage, t: Target, status: number, start: number, upstream: string, requestId: string, cause: string): void {
  const durationMs = performance.now() - start;
  const length = requestLength(req);
  opts.metrics?.request(t, { method: req.method ?? 'GET', status, durationSec: durationMs / 1000, upstreamSec: cause === '' ? durationMs / 1000 : -1, requestBytes: length, responseBytes: 0 });
  opts.accessLog?.(req, t, { remote: '', time: Date.now(), status, bytes: 0, requestLength: length, durationMs, upstream, upstreamStatus: cause === '' ? status : 0, upstreamMs: durationMs, requestId, cause });
}
