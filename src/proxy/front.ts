/**
 * The front door of the data plane: plain requests, upgrades (WebSocket) and HTTP/2 streams all
 * go through one admission step (hygiene, request target, routing host, match), then the route's
 * policies in their fixed order, then the backend (exchange.ts).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { http } from '../node-http.js';
import type { Socket } from 'node:net';
import { hostOf, match } from '../router/match.js';
import { errorBody } from './errors.js';
import { Exchange, NOT_FOUND_PAGE, requestHasBody, TEXT, type HandlerOptions } from './exchange.js';

export type { HandlerOptions, ProxyState } from './exchange.js';
import { requestHost } from './headers.js';
import { parseTarget } from './request-target.js';

/** The listener callbacks of the front door: every request, whatever its shape, goes through `admit`. */
export interface FrontDoor {
  /** `request` and `checkContinue` of HTTP/1.1 and HTTP/2 servers. */
  request(req: IncomingMessage, res: ServerResponse): void;
  /** `upgrade` of HTTP/1.1 servers: the same admission, then a tunnel only on the pod's `101`. */
  upgrade(req: IncomingMessage, socket: Socket, head: Buffer): void;
}

const OWS_ONLY = /^[ \t]*$/;

const isHttp2 = (req: IncomingMessage): boolean => req.httpVersionMajor === 2 && (req as { stream?: unknown }).stream !== undefined;

/**
 * Request shapes the HTTP parser lets through but RFC 9112 rejects: an HTTP/1 connection naming
 * another major version (505), several Host headers (3.2), Transfer-Encoding in HTTP/1.0 (6.1),
 * a Transfer-Encoding field with no coding in it (6.1: `1#transfer-coding`; llhttp refuses it
 * from 9.4.3 on, nodejs/llhttp#874, but the undici build the front end parses with and Node 20's
 * take it as absent), more header fields than allowed (431), and an HTTP/2 request whose Host
 * differs from its :authority (RFC 9113 8.3.1: malformed). Returns [status, why] or null.
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
  let emptyTe = false;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') hosts++;
    else if (name.length === 17 && name.toLowerCase() === 'transfer-encoding' && OWS_ONLY.test(raw[i + 1] as string)) emptyTe = true;
  }
  if (hosts > 1 || emptyTe) return [400, 'the request framing is ambiguous'];
  if (req.httpVersionMinor === 0 && req.headers['transfer-encoding'] !== undefined) return [400, 'the request framing is ambiguous'];
  return null;
}


/** A response on the raw socket of an upgrade request, for every answer that is not a tunnel. */
function upgradeResponse(req: IncomingMessage, socket: Socket): ServerResponse {
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  // no server drives this response's socket: close it once the answer is written
  res.once('finish', () => {
    res.detachSocket(socket);
    socket.destroySoon();
  });
  return res;
}

/** Creates the front door of one listener (plain HTTP or HTTPS). */
export function createHandler(opts: HandlerOptions): FrontDoor {
  /**
   * Admission, the same for every request shape: hygiene, the request target, the routing host,
   * match; then the route's policies (in their fixed order) and the backend. Answers locally when
   * something refuses the request.
   */
  function admit(ex: Exchange, req: IncomingMessage, res: ServerResponse, upgrade: boolean): void {
    if (opts.state.draining && req.httpVersionMajor < 2) res.shouldKeepAlive = false;
    const bad = hygiene(req, opts.limits.maxHeaders);
    if (bad !== null) {
      res.shouldKeepAlive = false;
      ex.answer(bad[0], errorBody(bad[0], bad[1]), TEXT, 'protocol');
      return;
    }
    const t = parseTarget(req.url ?? '');
    if (t === null) {
      res.shouldKeepAlive = false;
      ex.answer(400, errorBody(400, 'the request target is not a valid path'), TEXT, 'protocol');
      return;
    }
    // RFC 9112 3.2.2: an absolute-form target's authority wins over the Host header
    const host = t.authority ?? requestHost(req);
    ex.host = host;
    ex.path = t.path;
    ex.forwardPath = t.forward;
    const hit = match(opts.state.matcher, hostOf(host), t.path, ex);
    if (hit === null) {
      ex.answer(404, NOT_FOUND_PAGE, 'text/html; charset=utf-8', '');
      return;
    }
    ex.target = hit.action;
    if (upgrade && requestHasBody(req)) {
      // the bytes after the head would be both a body and the tunnel's first bytes
      ex.answer(400, errorBody(400, 'an upgrade request must not carry a body'), TEXT, 'protocol');
      return;
    }
    ex.runPolicies();
  }

  return {
    request(req, res) {
      admit(new Exchange(req, res, opts, null), req, res, false);
    },
    upgrade(req, socket, head) {
      socket.on('error', () => socket.destroy());
      const res = upgradeResponse(req, socket);
      admit(new Exchange(req, res, opts, { socket, head }), req, res, true);
    },
  };
}
