/** The data-plane HTTP listener: socket-level settings and safe handling of malformed requests. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/** Idle keep-alive timeout for client connections (nginx keepalive_timeout default 75 s). */
const KEEP_ALIVE_MS = 75_000;

export function createProxyServer(handler: (req: IncomingMessage, res: ServerResponse) => void): Server {
  const server = createServer({ keepAliveTimeout: KEEP_ALIVE_MS, headersTimeout: 60_000, requestTimeout: 0, maxHeaderSize: 16 * 1024 }, handler);
  // A request the parser rejects gets a 400 and a closed connection; never an exception.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (socket.writable && !socket.destroyed && err.code !== 'ECONNRESET') {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${status}\r\nserver: portico\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      return;
    }
    socket.destroy();
  });
  return server;
}
