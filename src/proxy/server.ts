/**
 * The data-plane listeners: plain HTTP/1.1, and HTTPS with ALPN (h2 and http/1.1 on one port),
 * SNI from the live table, socket-level limits and safe handling of malformed requests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer, type Http2SecureServer, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { proxyProtocolFront } from './proxy-protocol.js';
import type { SecureContext, TLSSocket } from 'node:tls';
import type { Metrics } from '../metrics/metrics.js';
import type { FrontDoor } from './front.js';
import { baseOptions, type ServedCert, type TlsSettings } from '../tls/contexts.js';

/** Socket-level limits shared by both listeners. */
export interface ListenerOptions {
  /** Idle keep-alive timeout for client connections (nginx keepalive_timeout default 75 s). */
  readonly keepAliveTimeout: number;
  /** Time to receive the request headers (408 after). */
  readonly headersTimeout: number;
  /** 0 = no limit. */
  readonly maxConnections: number;
  readonly proxyProtocol: boolean;
}

/**
 * What to call listen() on: the server itself, or a PROXY protocol front that feeds it; `via`
 * (TLS passthrough by SNI, proxy/l4) takes each connection first and hands the rest to the server.
 */
export function frontOf(server: Server | Http2SecureServer, o: ListenerOptions, via?: { emit(event: 'connection', socket: Socket): boolean }): Server | Http2SecureServer | NetServer {
  const front = o.proxyProtocol ? proxyProtocolFront(via ?? server) : via !== undefined ? createNetServer((s) => via.emit('connection', s)) : server;
  if (o.maxConnections > 0) front.maxConnections = o.maxConnections;
  return front;
}


/** A request the parser rejects gets a 400 (431, 408) and a closed connection; never an exception. */
function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET') {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nserver: portico\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    return;
  }
  socket.destroy();
}

export function createProxyServer(front: FrontDoor, o: ListenerOptions): Server {
  // connectionsCheckingInterval: how often Node enforces headersTimeout (its default, 30 s, would
  // let a slow-headers client hold a connection up to 30 s past the timeout).
  const server = createServer(
    { keepAliveTimeout: o.keepAliveTimeout, headersTimeout: o.headersTimeout, requestTimeout: 0, maxHeaderSize: 16 * 1024, connectionsCheckingInterval: Math.min(1000, o.headersTimeout) },
    front.request,
  );
  // Expect: 100-continue is answered by the front door once nothing refuses the request
  server.on('checkContinue', front.request);
  server.on('clientError', onClientError);
  server.on('upgrade', front.upgrade);
  return server;
}

export interface HttpsServer extends Http2SecureServer {
  /** For shutdown: GOAWAY to HTTP/2 sessions, close idle HTTP/1.1 connections (busy ones close after their response). */
  drain(): void;
  /** For shutdown after the timeout: destroys every remaining connection. */
  cut(): void;
}

export interface HttpsOptions extends ListenerOptions {
  readonly settings: TlsSettings;
  /** A TLS handshake must complete within this (ms), or the connection is closed. */
  readonly handshakeTimeout: number;
  /** HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS: more streams at once on a connection are refused. */
  readonly maxConcurrentStreams: number;
  readonly defaultCert: ServedCert;
  readonly sni: (servername: string) => SecureContext;
  readonly metrics: Metrics | null;
}

export function createHttpsServer(front: FrontDoor, opts: HttpsOptions): HttpsServer {
  const sessions = new Set<Http2Session>();
  const h1 = new Map<Socket, number>();
  let draining = false;
  const server = createSecureServer({
    ...baseOptions(opts.settings),
    allowHTTP1: true,
    handshakeTimeout: opts.handshakeTimeout,
    settings: { maxConcurrentStreams: opts.maxConcurrentStreams },
    cert: opts.defaultCert.certPem,
    key: opts.defaultCert.keyPem,
    SNICallback: (servername, cb) => {
      try {
        cb(null, opts.sni(servername));
      } catch (err) {
        cb(err as Error);
      }
    },
  }) as HttpsServer;
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.httpVersionMajor === 1) {
      const s = req.socket;
      h1.set(s, (h1.get(s) ?? 0) + 1);
      res.once('close', () => {
        const n = (h1.get(s) ?? 1) - 1;
        h1.set(s, n);
        if (draining && n === 0) s.end();
      });
    }
    front.request(req, res);
  };
  server.on('request', onRequest);
  server.on('checkContinue', onRequest);
  server.on('upgrade', front.upgrade);
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // an idle session (no open stream for the keep-alive timeout) is closed with a GOAWAY, as nginx does
    let open = 0;
    session.on('stream', (stream: ServerHttp2Stream) => {
      open++;
      stream.once('close', () => open--);
    });
    session.setTimeout(opts.keepAliveTimeout, () => {
      if (open === 0) session.close();
    });
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    opts.metrics?.handshake('https', socket.getProtocol() ?? 'unknown');
    if (socket.alpnProtocol !== 'h2') {
      if (draining) return void socket.end();
      h1.set(socket, 0);
      socket.once('close', () => h1.delete(socket));
      socket.setTimeout(opts.keepAliveTimeout, () => socket.destroy());
    }
  });
  server.on('tlsClientError', (_err: Error, socket: TLSSocket) => {
    opts.metrics?.handshakeError('https');
    socket.destroy();
  });
  server.drain = () => {
    draining = true;
    for (const s of sessions) s.close();
    for (const [socket, n] of h1) if (n === 0) socket.end();
  };
  server.cut = () => {
    for (const s of sessions) s.destroy();
    for (const socket of h1.keys()) socket.destroy();
  };
  return server;
}
