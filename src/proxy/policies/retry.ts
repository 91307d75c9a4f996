/**
 * proxy-next-upstream, -tries, -timeout (and their global flags): when a request goes to another
 * endpoint, with nginx's semantics: `error` (connection refused or reset, a TLS failure), `timeout`
 * (connecting, sending, or waiting for the response head), `invalid_header` (an invalid response),
 * `http_500`... (a response with that status, which is then discarded), `off` (never). A request
 * that may have reached the pod is sent again only if its method is idempotent or `non_idempotent`
 * is listed, and only if its body can be sent again: untouched, or kept in full for replay (at
 * most {@link REPLAY_LIMIT} bytes; Portico streams bodies and keeps no larger copy). Status
 * retries and timeout retries go to another endpoint only; a reset (often a stale keep-alive
 * connection) may retry the same one. Nothing is retried once the client has a response byte.
 *
 * A Gateway API `retry` stanza (HTTPRouteRetry) replaces all of that for its route: connection
 * failures and timeouts (what `error`, `timeout` and `invalid_header` name) and answers with one of
 * its `codes` are tried again, `attempts` times after the first, whatever the method (the route
 * asked for it; a body is replayed only when kept whole), on the same endpoint when it is the only
 * one, each at least `backoff` after the last failed.
 */
import type { NextUpstream, RouteSettings } from '../../model/types.js';
import type { Cause, Failure } from '../errors.js';

/** The largest request body kept for a replay. */
export const REPLAY_LIMIT = 64 * 1024;
/** `proxy-next-upstream-tries: 0` means no limit in nginx; Portico stops at this many attempts. */
export const MAX_TRIES = 100;

/** A route's retry rule, compiled once per table. */
export interface RetryRule {
  /** Causes of failures that are retried. */
  readonly causes: ReadonlySet<Cause>;
  /** Response statuses that are retried (null: none). */
  readonly statuses: ReadonlySet<number> | null;
  readonly nonIdempotent: boolean;
  /** Attempts in all, the first included. */
  readonly tries: number;
  /** ms after the request started when no new attempt is made; 0 = no limit. */
  readonly timeout: number;
  /** Whether a request that reached the pod can ever be retried (so its body is worth keeping). */
  readonly afterSending: boolean;
  /** ms to wait before a new attempt (0: at once). */
  readonly backoff: number;
  /** A status or timeout may be retried on the same endpoint when the backend has only one (Gateway API retry). */
  readonly sameEndpoint: boolean;
  /** The status answered for a connection failure (502) it retries, once no try is left (0: 502). */
  readonly exhausted: number;
}

/** The global defaults (flags). */
export interface RetryDefaults {
  readonly nextUpstream: readonly NextUpstream[];
  readonly tries: number;
  readonly timeout: number;
}

/** The flags' defaults, as ingress-nginx's ConfigMap: `error timeout`, 3 tries, no time limit. */
export const DEFAULT_RETRY: RetryDefaults = { nextUpstream: ['error', 'timeout'], tries: 3, timeout: 0 };

const BY_CONDITION: Partial<Record<NextUpstream, readonly Cause[]>> = {
  error: ['connect_refused', 'connect_error', 'tls_verify', 'reset'],
  timeout: ['connect_timeout', 'timeout', 'send_timeout'],
  invalid_header: ['protocol'],
};

/** A Gateway API retry stanza (HTTPRouteRetry): its settings replace the proxy-next-upstream ones. */
function gatewayRetry(attempts: number, codes: readonly number[], backoff: number): RetryRule {
  const causes = new Set<Cause>();
  for (const c of ['error', 'timeout', 'invalid_header'] as const) for (const cause of BY_CONDITION[c] ?? []) causes.add(cause);
  return {
    causes,
    statuses: codes.length === 0 ? null : new Set(codes),
    nonIdempotent: true,
    tries: Math.min(attempts + 1, MAX_TRIES),
    timeout: 0,
    afterSending: true,
    backoff,
    sameEndpoint: true,
    // connection failures not recovered from: 503, as Envoy-based gateways answer and the conformance suite expects (HTTPRouteRetryConnectionError)
    exhausted: 503,
  };
}

/** Compiles a route's settings over the global defaults: each annotation replaces its flag. */
export function compileRetry(s: RouteSettings, d: RetryDefaults): RetryRule {
  if (s.retryAttempts !== undefined) return gatewayRetry(s.retryAttempts, s.retryCodes ?? [], s.retryBackoff ?? 0);
  const on = s.nextUpstream ?? d.nextUpstream;
  const causes = new Set<Cause>();
  let statuses: Set<number> | null = null;
  if (!on.includes('off')) {
    for (const c of on) {
      for (const cause of BY_CONDITION[c] ?? []) causes.add(cause);
      if (c.startsWith('http_')) (statuses ??= new Set()).add(Number(c.slice(5)));
    }
  }
  const tries = s.nextUpstreamTries ?? d.tries;
  return {
    causes,
    statuses,
    nonIdempotent: on.includes('non_idempotent') && !on.includes('off'),
    tries: tries === 0 || tries > MAX_TRIES ? MAX_TRIES : tries,
    timeout: s.nextUpstreamTimeout ?? d.timeout,
    afterSending: statuses !== null || [...causes].some((c) => c === 'reset' || c === 'timeout' || c === 'send_timeout' || c === 'protocol'),
    backoff: 0,
    sameEndpoint: false,
    exhausted: 0,
  };
}

/** Methods that are safe to send again (RFC 9110 9.2.2); nginx's non-idempotent ones are POST, LOCK and PATCH. */
export const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** What an attempt's outcome and the request's state are, for the decision. */
export interface Attempt {
  /** The failure's cause, or 'status' for a response with a retried status. */
  readonly cause: Cause | 'status';
  /** The request may have reached the pod (false: the connection never carried it). */
  readonly sent: boolean;
  readonly method: string;
  /** Attempts made so far. */
  readonly attempts: number;
  /** ms since the request started. */
  readonly elapsed: number;
  /** The body can be sent again (none, untouched, or kept in full). */
  readonly replayable: boolean;
  /** Endpoints the backend has. */
  readonly endpoints: number;
}

/** Whether another attempt is made. */
export function shouldRetry(r: RetryRule, a: Attempt): boolean {
  if (a.cause !== 'status' && !r.causes.has(a.cause)) return false;
  if (a.attempts >= r.tries) return false;
  if (r.timeout > 0 && a.elapsed >= r.timeout) return false;
  if (a.sent && !r.nonIdempotent && !IDEMPOTENT.has(a.method)) return false;
  if (!a.replayable) return false;
  // a reset may be a stale keep-alive connection: the same endpoint is worth another try
  return a.endpoints > 1 || a.cause === 'reset' || r.sameEndpoint;
}

/** The failure to answer once no retry is made: a retried connection failure may answer another status. */
export const afterRetries = (r: RetryRule, f: Failure): Failure => (r.exhausted > 0 && f.status === 502 && r.causes.has(f.cause) ? { ...f, status: r.exhausted } : f);

/** Whether a request with this method can be retried after reaching the pod (then its body is kept for a replay). */
export const keepsBody = (r: RetryRule, method: string): boolean => r.afterSending && (r.nonIdempotent || IDEMPOTENT.has(method));
