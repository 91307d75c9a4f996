/**
 * The data-plane listeners: plain HTTP/1.1, and HTTPS with ALPN (h2 and http/1.1 on one port),
 * SNI from the live table, socket-level limits and safe handling of malformed requests.
 */
import { EventEmitter as EventEmitterClass, type EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from '../node-http.js';
import { createSecureServer, createServer as createH2cServer, type Http2SecureServer, type Http2Server, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { proxyProtocolFront } from './proxy-protocol.js';
import type { TLSSocket } from 'node:tls';
import type { Metrics } from '../metrics/metrics.js';
import type { FrontDoor } from './front.js';
import { baseOptions, type Selected, type ServedCert, type TlsSettings } from '../tls/contexts.js';
import { requestClientCertificate } from '../tls/client-cert.js';
import { createH1Front, type H1Front, type H1Handler } from './h1-server.js';
import type { Admit } from './listeners.js';

/** Socket-level limits shared by both listeners. */
export interface ListenerOptions {
  /** Idle keep-alive timeout for client connections (nginx keepalive_timeout default 75 s). */
  readonly keepAliveTimeout: number;
  /** Time to receive the request headers (408 after). */
  readonly headersTimeout: number;
  /** 0 = no limit. */
  readonly maxConnections: number;
  readonly proxyProtocol: boolean;
  /** Which HTTP/1.1 server side reads requests: Portico's own (h1-server.ts) or Node's http server. */
  readonly http1Server: 'portico' | 'node';
}

/** The largest request head (request line and fields), as Node counts it: 431 at this size. */
const MAX_HEADER_SIZE = 16 * 1024;

/**
 * What to call listen() on: the server itself, or a front that feeds it (PROXY protocol, the h2c
 * sniffer of a plain listener); `via` (TLS passthrough by SNI, proxy/l4) takes each connection
 * first and hands the rest to the server. `admit` (several sockets on one port, listeners.ts)
 * counts connections across them in place of Node's per-socket `maxConnections`; the server
 * itself as the front counts its own.
 */
export function frontOf(server: PlainServer | Http2SecureServer, o: ListenerOptions, via?: { emit(event: 'connection', socket: Socket): boolean }, admit?: Admit): Http2SecureServer | NetServer {
  const target = via ?? ('accept' in server ? { emit: (_event: 'connection', socket: Socket): boolean => (server.accept(socket), true) } : server);
  // Portico's HTTP/1.1 server answers a client that half-closes after its request (nginx does);
  // Node's closed such a connection before the answer
  const allowHalfOpen = o.http1Server === 'portico' && 'accept' in server;
  const front = o.proxyProtocol ? proxyProtocolFront(target, allowHalfOpen, admit) : via !== undefined || 'accept' in server ? createNetServer({ allowHalfOpen }, admit === undefined ? (socket) => target.emit('connection', socket) : (socket) => admit(socket) && target.emit('connection', socket)) : server;
  if (o.maxConnections > 0 && (admit === undefined || front === server)) front.maxConnections = o.maxConnections;
  return front;
}

/**
 * HTTP/2 sessions of one listener: one idle for the keep-alive timeout (no open stream) is closed
 * with a GOAWAY, as nginx does; drain() sends every session a GOAWAY, cut() destroys them.
 */
function trackSessions(server: Http2Server | Http2SecureServer, keepAliveTimeout: number): { drain(): void; cut(): void } {
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    let open = 0;
    session.on('stream', (stream: ServerHttp2Stream) => {
      open++;
      stream.once('close', () => open--);
    });
    session.setTimeout(keepAliveTimeout, () => {
      if (open === 0) session.close();
    });
  });
  return {
    drain: () => {
      for (const s of sessions) s.close();
    },
    cut: () => {
      for (const s of sessions) s.destroy();
    },
  };
}

/** The connection preface every HTTP/2 client sends first (RFC 9113 3.4). */
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Which protocol a plain connection speaks, from its first bytes: HTTP/2 with prior knowledge
 * (h2c, as gRPC clients and the Gateway API's h2c backends use it) starts with the preface;
 * anything else is HTTP/1.x. 'more' while the bytes so far are a proper prefix of the preface.
 */
export function sniffPlain(first: Buffer): 'h2c' | 'http/1.1' | 'more' {
  const n = Math.min(first.length, PREFACE.length);
  if (first.compare(PREFACE, 0, n, 0, n) !== 0) return 'http/1.1';
  return n === PREFACE.length ? 'h2c' : 'more';
}


/** A request the parser rejects gets a 400 (431, 408) and a closed connection; never an exception. */
function onClientError(err: { readonly code?: string | undefined }, socket: Socket): void {
  if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET') {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${status}\r\nserver: portico\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    return;
  }
  socket.destroy();
}

/** The front door as Portico's HTTP/1.1 server calls it: its request and response objects stand in for Node's. */
function h1Handler(front: FrontDoor): H1Handler {
  return front as unknown as H1Handler;
}

/** Portico's HTTP/1.1 server side for one listener (`--http1-server=portico`). */
function h1FrontOf(front: FrontDoor, o: ListenerOptions): H1Front {
  return createH1Front(h1Handler(front), {
    keepAliveTimeout: o.keepAliveTimeout,
    headersTimeout: o.headersTimeout,
    maxHeaderSize: MAX_HEADER_SIZE,
    clientError: (code, socket) => onClientError({ code }, socket),
  });
}

/** The plain listener: HTTP/1.1 and HTTP/2 with prior knowledge (h2c) on one port. */
export interface PlainServer extends EventEmitter {
  /** Hands an accepted connection to the HTTP/1.1 or the h2c side, by its first bytes. */
  accept(socket: Socket): void;
  /** The h2c side. */
  readonly h2c: Http2Server;
  /** For shutdown: GOAWAY to HTTP/2 sessions, close idle HTTP/1.1 connections. */
  drain(): void;
  /** For shutdown after the timeout: destroys every remaining connection. */
  cut(): void;
  /** Stops: calls back once the HTTP/1.1 side has no connection left. */
  close(cb?: () => void): unknown;
}

/**
 * Reads a plain connection's first bytes and hands it to the HTTP/1.1 side (with those bytes) or
 * to the h2c side (with them put back). A client that sends nothing is closed after the headers
 * timeout.
 */
function sniff(socket: Socket, headersTimeout: number, h1: (socket: Socket, first: Buffer, since: number) => void, h2c: Http2Server): void {
  let buf: Buffer | null = null;
  // the headers timeout runs from the connection's start, not from the first byte
  const since = performance.now();
  const timer = setTimeout(() => socket.destroy(), headersTimeout);
  const onError = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  const onData = (chunk: Buffer): void => {
    buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
    const kind = sniffPlain(buf);
    if (kind === 'more') return;
    socket.off('data', onData);
    socket.off('error', onError);
    socket.off('end', onError);
    clearTimeout(timer);
    socket.pause();
    if (kind === 'h2c') {
      // the HTTP/2 session reads what is buffered, then consumes the socket natively: no resume().
      // The listener allows half-open sockets for the HTTP/1.1 side; an h2c client's FIN ends ours, as before.
      socket.once('end', () => socket.end());
      socket.unshift(buf);
      h2c.emit('connection', socket);
      return;
    }
    h1(socket, buf, since);
  };
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('end', onError);
}

function createH2c(front: FrontDoor, o: ListenerOptions & { readonly maxConcurrentStreams: number }): { h2c: Http2Server; sessions: ReturnType<typeof trackSessions> } {
  const h2c = createH2cServer({ settings: { maxConcurrentStreams: o.maxConcurrentStreams } });
  h2c.on('request', front.request as never);
  h2c.on('checkContinue', front.request as never);
  return { h2c, sessions: trackSessions(h2c, o.keepAliveTimeout) };
}

export function createProxyServer(front: FrontDoor, o: ListenerOptions & { readonly maxConcurrentStreams: number }): PlainServer {
  return o.http1Server === 'portico' ? createPorticoPlain(front, o) : createNodePlain(front, o);
}

/** The plain listener on Portico's HTTP/1.1 server side. */
function createPorticoPlain(front: FrontDoor, o: ListenerOptions & { readonly maxConcurrentStreams: number }): PlainServer {
  const h1 = h1FrontOf(front, o);
  const { h2c, sessions } = createH2c(front, o);
  const server = new EventEmitterClass() as PlainServer;
  const toH1 = (socket: Socket, first: Buffer, since: number): void => {
    server.emit('connection', socket);
    h1.accept(socket, first, since);
  };
  return Object.assign(server, {
    h2c,
    accept: (socket: Socket): void => sniff(socket, o.headersTimeout, toH1, h2c),
    drain(): void {
      h1.drain();
      sessions.drain();
    },
    cut(): void {
      h1.cut();
      sessions.cut();
    },
    close(cb?: () => void): void {
      h1.close(cb ?? (() => {}));
    },
  });
}

/**
 * Node's HTTP/1.1 server hands every pipelined request to its handler as soon as it is parsed,
 * while the response before it is still being decided: a request behind one that admission
 * refuses (400, connection closed: a smuggling shape) would still reach a pod. Here each request
 * of a connection waits until the response before it is done, as on Portico's own server side and
 * in nginx; one behind a response that closes the connection is never handled.
 */
export function oneAtATime(request: FrontDoor['request']): FrontDoor['request'] {
  const waiting = new WeakMap<Socket, [IncomingMessage, ServerResponse][]>();
  const serve = (req: IncomingMessage, res: ServerResponse): void => {
    const socket = req.socket;
    res.once('close', () => {
      const queue = waiting.get(socket);
      const next = queue?.shift();
      if (next === undefined) return void waiting.delete(socket);
      // Node sets _last when the response closes the connection (Connection: close; shouldKeepAlive false)
      if (!res.shouldKeepAlive || (res as { _last?: boolean })._last === true || socket.destroyed) {
        waiting.delete(socket);
        return;
      }
      serve(...next);
    });
    request(req, res);
  };
  return (req, res) => {
    const queue = waiting.get(req.socket);
    if (queue !== undefined) return void queue.push([req, res]);
    waiting.set(req.socket, []);
    serve(req, res);
  };
}

/** The plain listener on Node's HTTP server (`--http1-server=node`). */
function createNodePlain(front: FrontDoor, o: ListenerOptions & { readonly maxConcurrentStreams: number }): PlainServer {
  const request = oneAtATime(front.request);
  // connectionsCheckingInterval: how often Node enforces headersTimeout (its default, 30 s, would
  // let a slow-headers client hold a connection up to 30 s past the timeout).
  const server = createServer(
    { keepAliveTimeout: o.keepAliveTimeout, headersTimeout: o.headersTimeout, requestTimeout: 0, maxHeaderSize: MAX_HEADER_SIZE, connectionsCheckingInterval: Math.min(1000, o.headersTimeout) },
    request,
  );
  // Expect: 100-continue is answered by the front door once nothing refuses the request
  server.on('checkContinue', request);
  server.on('clientError', onClientError);
  server.on('upgrade', front.upgrade);
  // The socket that listens is a front (the h2c sniffer, or the PROXY protocol reader), never this
  // server: start the connection tracking Node starts on 'listening', which enforces headersTimeout
  // and keepAliveTimeout and makes closeIdleConnections() work (close() stops it again).
  server.emit('listening');
  const { h2c, sessions } = createH2c(front, o);
  const toH1 = (socket: Socket, first: Buffer): void => {
    socket.unshift(first);
    server.emit('connection', socket);
    socket.resume();
  };
  return Object.assign(server, {
    h2c,
    accept: (socket: Socket): void => sniff(socket, o.headersTimeout, toH1, h2c),
    drain(): void {
      server.closeIdleConnections();
      sessions.drain();
    },
    cut(): void {
      server.closeAllConnections();
      sessions.cut();
    },
  });
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
  /** The context for an SNI name, and the CAs to verify a client certificate against (null: ask for none). */
  readonly sni: (servername: string) => Selected;
  readonly metrics: Metrics | null;
}

export function createHttpsServer(front: FrontDoor, opts: HttpsOptions): HttpsServer {
  const h1 = new Map<Socket, number>();
  const portico = opts.http1Server === 'portico' ? h1FrontOf(front, opts) : null;
  let draining = false;
  const server = createSecureServer({
    ...baseOptions(opts.settings),
    allowHTTP1: true,
    handshakeTimeout: opts.handshakeTimeout,
    settings: { maxConcurrentStreams: opts.maxConcurrentStreams },
    cert: opts.defaultCert.certPem,
    key: opts.defaultCert.keyPem,
    // a client certificate is asked for per connection, never by the listener (tls/client-cert.ts)
    rejectUnauthorized: false,
    // called as a method of the connection's TLSSocket: `this` is what asks for a client certificate
    SNICallback(this: TLSSocket, servername: string, cb: (err: Error | null, ctx?: Selected['context']) => void) {
      try {
        const s = opts.sni(servername);
        if (s.clientCa !== null && !requestClientCertificate(this, s.clientCa)) throw new Error('this Node.js cannot ask for a client certificate per connection');
        cb(null, s.context);
      } catch (err) {
        cb(err as Error);
      }
    },
  }) as HttpsServer;
  const sessions = trackSessions(server, opts.keepAliveTimeout);
  if (portico !== null) {
    // HTTP/2 (ALPN h2) stays with node:http2's own connection listener (the first one the server
    // registered); HTTP/1.1 (ALPN http/1.1, or no ALPN) goes to Portico's HTTP/1.1 server side
    const [http2Listener] = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
    if (http2Listener === undefined) throw new Error('node:http2 registered no connection listener');
    server.removeListener('secureConnection', http2Listener);
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol === 'h2') return void http2Listener.call(server, socket);
      if (draining) return void socket.end();
      portico.accept(socket);
    });
    // what reaches these now is HTTP/2 streams only
    server.on('request', front.request);
    server.on('checkContinue', front.request);
  } else {
    const h1Request = oneAtATime(front.request);
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      if (req.httpVersionMajor === 1) {
        const s = req.socket;
        h1.set(s, (h1.get(s) ?? 0) + 1);
        res.once('close', () => {
          const n = (h1.get(s) ?? 1) - 1;
          h1.set(s, n);
          if (draining && n === 0) s.end();
        });
        return h1Request(req, res);
      }
      front.request(req, res);
    };
    server.on('request', onRequest);
    server.on('checkContinue', onRequest);
    server.on('upgrade', front.upgrade);
  }
  server.on('secureConnection', (socket: TLSSocket) => {
    opts.metrics?.handshake('https', socket.getProtocol() ?? 'unknown');
    if (portico === null && socket.alpnProtocol !== 'h2') {
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
    sessions.drain();
    portico?.drain();
    for (const [socket, n] of h1) if (n === 0) socket.end();
  };
  server.cut = () => {
    sessions.cut();
    portico?.cut();
    for (const socket of h1.keys()) socket.destroy();
  };
  return server;
}
