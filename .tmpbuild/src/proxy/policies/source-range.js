/**
 * denylist-source-range / allowlist-source-range (and their global flags): nginx's `deny` rules,
 * then `allow` rules and `deny all` when there is an allow list; the first match wins, so deny
 * wins over allow. The address judged is the real client's (PolicyExchange.clientIp); an
 * IPv4-mapped IPv6 address is judged as its IPv4 address; one that is not an address at all (a
 * trusted proxy's garbage X-Forwarded-For) is refused. 403, as nginx.
 */
import { isIP } from 'node:net';
import { createCidrMatcher, unmapped } from '../../model/cidr.js';
import { errorBody } from '../errors.js';
import { Verdict } from './types.js';
const BODY = errorBody(403, 'your address may not reach this route');
export function sourceRange(allow, deny) {
    const denied = createCidrMatcher(deny);
    const allowed = allow.length === 0 ? null : createCidrMatcher(allow);
    return {
        run(ex) {
            const ip = ex.clientIp;
            if (denied(ip) || (allowed !== null ? !allowed(ip) : isIP(unmapped(ip)) === 0)) {
                ex.answer(403, BODY, 'text/plain; charset=utf-8', 'source_range');
                return Verdict.Answered;
            }
            return Verdict.Continue;
        },
    };
}
//# sourceMappingURL=source-range.js.map