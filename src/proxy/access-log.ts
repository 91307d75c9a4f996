/**
 * One line per request, JSON or ingress-nginx's default upstream log format, written to the
 * shared asynchronous stdout destination. Lines are formatted straight from the request, the
 * matched route and the outcome: building an intermediate object per request (with a spread)
 * cost more than the formatting itself.
 */
import type { IncomingMessage } from 'node:http';
import type { RouteLabels } from '../metrics/metrics.js';
import { clientAddress, requestHost } from './headers.js';

/** What only the proxy knows about a request's outcome; the rest is read from the request and route. */
export interface Outcome {
  readonly time: number;
  readonly status: number;
  readonly bytes: number;
  readonly requestLength: number;
  readonly durationMs: number;
  /** `ip:port` of the pod, or '' when none was tried. */
  readonly upstream: string;
  readonly upstreamStatus: number;
  readonly upstreamMs: number;
  readonly requestId: string;
  /** Why Portico answered itself ('' for a proxied response). */
  readonly cause: string;
  /** The client as trusted proxies report it; '' = the peer address. */
  readonly remote: string;
}

export type AccessLog = (req: IncomingMessage, t: RouteLabels | null, o: Outcome) => void;

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

/** A quoted field of the text format ('-' when empty). */
const q = (s: string): string => (s === '' ? '-' : s.replace(/["\\]/g, (c) => `\\${c}`));
/** What JSON.stringify would escape in a string: quote, backslash, control characters, lone surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;
/** A JSON string value: most values need no escaping, and quoting them is cheaper than JSON.stringify. */
const j = (s: string): string => (NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`);

/** toISOString() of the last time formatted: many requests start in the same millisecond. */
let isoAt = -1;
let isoText = '';
function iso(ms: number): string {
  if (ms !== isoAt) {
    isoAt = ms;
    isoText = new Date(ms).toISOString();
  }
  return isoText;
}

export function createAccessLog(format: 'json' | 'text', sink: Sink): AccessLog {
  if (format === 'text') {
    // ingress-nginx log-format-upstream: remote - user [time] "request" status bytes "referer" "ua"
    // request_length request_time [upstream_name] [alternative] upstream_addr upstream_bytes upstream_time upstream_status req_id
    return (req, t, o) => {
      // a canary's traffic: the main route's upstream, then the canary as the alternative (as ingress-nginx logs it)
      const canaryOf = t?.canaryOf;
      const upstreamName = t === null || t.service === '' ? '' : `${t.namespace}-${canaryOf ?? t.service}`;
      const alternative = t !== null && canaryOf !== undefined ? `${t.namespace}-${t.service}` : '';
      sink.write(
        `${o.remote || clientAddress(req)} - - [${clfTime(o.time)}] "${q(req.method ?? '')} ${q(req.url ?? '')} HTTP/${req.httpVersion}" ${o.status} ${o.bytes} "${q(req.headers.referer ?? '')}" "${q(req.headers['user-agent'] ?? '')}" ${o.requestLength} ${(o.durationMs / 1000).toFixed(3)} [${upstreamName}] [${alternative}] ${o.upstream || '-'} ${o.bytes} ${o.upstream ? (o.upstreamMs / 1000).toFixed(3) : '-'} ${o.upstreamStatus || '-'} ${o.requestId}\n`,
      );
    };
  }
  return (req, t, o) => {
    sink.write(
      `{"level":"info","time":"${iso(o.time)}","pid":${PID},"msg":"request","remote":${j(o.remote || clientAddress(req))},"host":${j(requestHost(req) ?? '')},"method":${j(req.method ?? '')},"path":${j(req.url ?? '')},"status":${o.status},"bytes":${o.bytes},"duration_ms":${Math.round(o.durationMs * 1000) / 1000},"upstream":${j(o.upstream)},"upstream_status":${o.upstreamStatus},"request_id":${j(o.requestId)},"namespace":${j(t?.namespace ?? '')},"ingress":${j(t?.ingress ?? '')},"service":${j(t?.service ?? '')},${t?.canaryOf === undefined ? '' : '"canary":true,'}"user_agent":${j(req.headers['user-agent'] ?? '')}${o.cause === '' ? '' : `,"cause":${j(o.cause)}`}}\n`,
    );
  };
}
