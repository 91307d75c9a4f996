/**
 * One line per request, JSON or ingress-nginx's default upstream log format, written to the
 * shared asynchronous stdout destination.
 */
import type { IncomingMessage } from 'node:http';
import type { Target } from '../router/compile.js';
import { clientAddress, requestHost } from './headers.js';

export interface AccessEntry {
  readonly time: number;
  readonly remote: string;
  readonly host: string;
  readonly method: string;
  readonly path: string;
  readonly protocol: string;
  readonly status: number;
  readonly bytes: number;
  readonly requestLength: number;
  readonly durationMs: number;
  readonly upstream: string;
  readonly upstreamStatus: number;
  readonly upstreamMs: number;
  readonly requestId: string;
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  readonly userAgent: string;
  readonly referer: string;
  readonly cause: string;
}

export type AccessLog = (e: AccessEntry) => void;

/** What only the proxy knows about a request's outcome; the rest is read from the request and route. */
export type Outcome = Pick<AccessEntry, 'time' | 'status' | 'bytes' | 'requestLength' | 'durationMs' | 'upstream' | 'upstreamStatus' | 'upstreamMs' | 'requestId' | 'cause'> & {
  /** The client as trusted proxies report it; default: the peer address. */
  readonly remote?: string;
};

/** Builds the access-log entry for a request, its matched route (or none) and its outcome. */
export function accessEntry(req: IncomingMessage, t: Target | null, o: Outcome): AccessEntry {
  return {
    ...o,
    remote: o.remote || clientAddress(req),
    host: requestHost(req) ?? '',
    method: req.method ?? '',
    path: req.url ?? '',
    protocol: `HTTP/${req.httpVersion}`,
    namespace: t?.namespace ?? '',
    ingress: t?.ingress ?? '',
    service: t?.service ?? '',
    userAgent: req.headers['user-agent'] ?? '',
    referer: req.headers.referer ?? '',
  };
}

interface Sink {
  write(line: string): unknown;
}

const PID = process.pid;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** `26/Nov/2026:05:42:07 +0000`, nginx's $time_local in UTC. */
function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;
}

const q = (s: string): string => (s === '' ? '-' : s.replace(/["\\]/g, (c) => `\\${c}`));

export function createAccessLog(format: 'json' | 'text', sink: Sink): AccessLog {
  if (format === 'text') {
    // ingress-nginx log-format-upstream: remote - user [time] "request" status bytes "referer" "ua"
    // request_length request_time [upstream_name] [alternative] upstream_addr upstream_bytes upstream_time upstream_status req_id
    return (e) => {
      const upstreamName = e.service === '' ? '' : `${e.namespace}-${e.service}`;
      sink.write(
        `${e.remote} - - [${clfTime(e.time)}] "${q(e.method)} ${q(e.path)} ${e.protocol}" ${e.status} ${e.bytes} "${q(e.referer)}" "${q(e.userAgent)}" ${e.requestLength} ${(e.durationMs / 1000).toFixed(3)} [${upstreamName}] [] ${e.upstream || '-'} ${e.bytes} ${e.upstream ? (e.upstreamMs / 1000).toFixed(3) : '-'} ${e.upstreamStatus || '-'} ${e.requestId}\n`,
      );
    };
  }
  return (e) => {
    sink.write(
      `${JSON.stringify({
        level: 'info',
        time: new Date(e.time).toISOString(),
        pid: PID,
        msg: 'request',
        remote: e.remote,
        host: e.host,
        method: e.method,
        path: e.path,
        status: e.status,
        bytes: e.bytes,
        duration_ms: Math.round(e.durationMs * 1000) / 1000,
        upstream: e.upstream,
        upstream_status: e.upstreamStatus,
        request_id: e.requestId,
        namespace: e.namespace,
        ingress: e.ingress,
        service: e.service,
        user_agent: e.userAgent,
        ...(e.cause === '' ? {} : { cause: e.cause }),
      })}\n`,
    );
  };
}
