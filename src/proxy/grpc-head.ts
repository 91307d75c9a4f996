/**
 * gRPC's trailers-only responses over HTTP/2: a status without a body (an error, or an empty
 * unary reply) is one HEADERS frame carrying grpc-status with END_STREAM. Node's compatibility
 * response sends headers at writeHead and ends the stream with an empty DATA frame, which gRPC
 * clients read as "headers, then a stream without trailers" (INTERNAL). So the head of a response
 * that already carries grpc-status is held until a body chunk shows it is not trailers-only, and
 * otherwise sent with END_STREAM on the stream itself.
 */
import type { ServerResponse } from 'node:http';
import type { Http2ServerResponse, OutgoingHttpHeaders } from 'node:http2';

/** Whether a response head (flat name/value list) could be a trailers-only gRPC response. */
export function mayBeTrailersOnly(head: readonly string[]): boolean {
  for (let i = 0; i < head.length; i += 2) if ((head[i] as string).toLowerCase() === 'grpc-status') return true;
  return false;
}

/** The HTTP/2 response behind a compat response, or null over HTTP/1.1. */
export function http2Response(res: ServerResponse | Http2ServerResponse): Http2ServerResponse | null {
  return 'stream' in res && res.stream !== undefined ? res : null;
}

/** Sends the head, with any trailers folded in, as the whole response (one HEADERS frame, END_STREAM). */
export function respondTrailersOnly(res: Http2ServerResponse, status: number, head: readonly string[], trailers: Readonly<Record<string, string>>): void {
  const headers: OutgoingHttpHeaders = { ':status': status };
  const put = (name: string, value: string): void => {
    const k = name.toLowerCase();
    const prev = headers[k];
    headers[k] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [String(prev), value];
  };
  for (let i = 0; i < head.length; i += 2) put(head[i] as string, head[i + 1] as string);
  for (const [k, v] of Object.entries(trailers)) put(k, v);
  res.stream.respond(headers, { endStream: true });
}
