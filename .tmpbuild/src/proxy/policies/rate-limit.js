/**
 * limit-rps / limit-rpm / limit-connections, per client address, as ingress-nginx renders them:
 * `limit_req ... burst=<limit x multiplier> nodelay` for each of rps and rpm (a request must pass
 * both, and is counted in both only then), then `limit_conn` (requests in flight). Clients in
 * `limit-allowlist` are never limited. The counters live in proxy/limiters.ts, shared by every
 * route of one Ingress and kept across table swaps while its limits stay the same. Per replica,
 * and per worker process with --workers.
 */
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { createCidrMatcher, unmapped } from '../../model/cidr.js';
import { errorBody } from '../errors.js';
import { REJECT } from '../limiters.js';
import { Verdict } from './types.js';
/** The counting key of a client: its address, IPv4-mapped IPv6 as IPv4; anything else shares one key. */
export function clientKey(ip) {
    const u = unmapped(ip);
    return isIP(u) !== 0 ? u : '?';
}
export function rateLimit(p, env, now = () => Math.floor(performance.now())) {
    const exempt = createCidrMatcher(p.exempt);
    const reqs = [];
    if (p.rps > 0)
        reqs.push(env.limiters.request(p.id, p.rps, false, p.rps * p.burstMultiplier));
    if (p.rpm > 0)
        reqs.push(env.limiters.request(p.id, p.rpm, true, p.rpm * p.burstMultiplier));
    const conn = p.connections > 0 ? env.limiters.connections(p.id, p.connections) : null;
    const reqBody = errorBody(env.limitReqStatus, 'too many requests from your address; try again later');
    const connBody = errorBody(env.limitConnStatus, 'too many requests in flight from your address; try again later');
    const excess = reqs.map(() => 0);
    return {
        run(ex) {
            const ip = ex.clientIp;
            if (exempt(ip))
                return Verdict.Continue;
            const key = clientKey(ip);
            if (reqs.length > 0) {
                const t = now();
                for (let i = 0; i < reqs.length; i++) {
                    const e = reqs[i].check(key, t);
                    if (e === REJECT) {
                        ex.answer(env.limitReqStatus, reqBody, 'text/plain; charset=utf-8', 'rate_limited');
                        return Verdict.Answered;
                    }
                    excess[i] = e;
                }
                for (let i = 0; i < reqs.length; i++)
                    reqs[i].account(key, t, excess[i]);
            }
            if (conn !== null) {
                if (!conn.acquire(key)) {
                    ex.answer(env.limitConnStatus, connBody, 'text/plain; charset=utf-8', 'conn_limited');
                    return Verdict.Answered;
                }
                ex.onDone(() => conn.release(key));
            }
            return Verdict.Continue;
        },
    };
}
//# sourceMappingURL=rate-limit.js.map