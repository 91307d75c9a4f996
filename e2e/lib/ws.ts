/** A minimal WebSocket echo pod (RFC 6455 framing, unfragmented frames), enough to test tunnels. */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { listen } from './listen.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, len]) : Buffer.from([0x80 | opcode, 126, len >> 8, len & 0xff]);
  return Buffer.concat([head, payload]);
}

export interface WsPod {
  readonly ip: string;
  readonly port: number;
  /** Upgrade requests seen (their headers), for header assertions. */
  readonly upgrades: Record<string, string | string[] | undefined>[];
  close(): Promise<void>;
}

export async function startWsPod(ip: string): Promise<WsPod> {
  const upgrades: WsPod['upgrades'] = [];
  const server: Server = createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' });
    res.end('upgrade required\n');
  });
  server.on('upgrade', (req, socket: Socket) => {
    upgrades.push(req.headers);
    const accept = createHash('sha1').update(`${req.headers['sec-websocket-key'] as string}${GUID}`).digest('base64');
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
    let buf = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        if (buf.length < 2) return;
        const opcode = buf[0]! & 0x0f;
        let len = buf[1]! & 0x7f;
        let off = 2;
        if (len === 126) {
          if (buf.length < 4) return;
          len = buf.readUInt16BE(2);
          off = 4;
        }
        const masked = (buf[1]! & 0x80) !== 0;
        if (buf.length < off + (masked ? 4 : 0) + len) return;
        const mask = masked ? buf.subarray(off, off + 4) : null;
        off += masked ? 4 : 0;
        const payload = Buffer.from(buf.subarray(off, off + len));
        if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
        buf = buf.subarray(off + len);
        if (opcode === 8) {
          socket.end(frame(8, payload));
          return;
        }
        if (opcode === 9) socket.write(frame(10, payload));
        else if (opcode === 1 || opcode === 2) socket.write(frame(opcode, payload));
      }
    });
  });
  const { port, close } = await listen(server, ip);
  return { ip, port, upgrades, close };
}
