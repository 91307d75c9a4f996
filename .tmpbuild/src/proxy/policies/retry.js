/** The largest request body kept for a replay. */
export const REPLAY_LIMIT = 64 * 1024;
/** `proxy-next-upstream-tries: 0` means no limit in nginx; Portico stops at this many attempts. */
export const MAX_TRIES = 100;
/** The flags' defaults, as ingress-nginx's ConfigMap: `error timeout`, 3 tries, no time limit. */
export const DEFAULT_RETRY = { nextUpstream: ['error', 'timeout'], tries: 3, timeout: 0 };
const BY_CONDITION = {
    error: ['connect_refused', 'connect_error', 'tls_verify', 'reset'],
    timeout: ['connect_timeout', 'timeout', 'send_timeout'],
    invalid_header: ['protocol'],
};
/** Compiles a route's settings over the global defaults: each annotation replaces its flag. */
export function compileRetry(s, d) {
    const on = s.nextUpstream ?? d.nextUpstream;
    const causes = new Set();
    let statuses = null;
    if (!on.includes('off')) {
        for (const c of on) {
            for (const cause of BY_CONDITION[c] ?? [])
                causes.add(cause);
            if (c.startsWith('http_'))
                (statuses ??= new Set()).add(Number(c.slice(5)));
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
    };
}
/** Methods that are safe to send again (RFC 9110 9.2.2); nginx's non-idempotent ones are POST, LOCK and PATCH. */
export const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Whether another attempt is made. */
export function shouldRetry(r, a) {
    if (a.cause !== 'status' && !r.causes.has(a.cause))
        return false;
    if (a.attempts >= r.tries)
        return false;
    if (r.timeout > 0 && a.elapsed >= r.timeout)
        return false;
    if (a.sent && !r.nonIdempotent && !IDEMPOTENT.has(a.method))
        return false;
    if (!a.replayable)
        return false;
    // a reset may be a stale keep-alive connection: the same endpoint is worth another try
    return a.endpoints > 1 || a.cause === 'reset';
}
/** Whether a request with this method can be retried after reaching the pod (then its body is kept for a replay). */
export const keepsBody = (r, method) => r.afterSending && (r.nonIdempotent || IDEMPOTENT.has(method));
//# sourceMappingURL=retry.js.map