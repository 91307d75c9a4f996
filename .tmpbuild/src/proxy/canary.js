/**
 * The canary decision, per request, in ingress-nginx's order (balancer.lua
 * route_to_alternative_balancer): a session already pinned to the main backend stays there; a
 * canary without endpoints takes nothing; a session pinned to the canary stays there; then the
 * header (an exact value, else an RE2 pattern searched in the value, else `always`/`never`; any
 * other value falls through), then the cookie (`always`/`never`), then the weight. Compiled once
 * per table; the pattern never runs on a backtracking engine.
 */
import { compilePattern } from '../model/regex.js';
export function compileCanary(c, random = Math.random) {
    const pattern = c.headerPattern === undefined ? null : compilePattern(c.headerPattern, 'search');
    const { header, headerValue, cookie, weight, total } = c;
    const broken = c.headerPatternInvalid === true;
    return (ex, main, canary) => {
        if (main.slot.endpoints.length === 0)
            return false; // the main backend answers 503, as ingress-nginx
        if (main.pick?.affinitized?.(ex) === true)
            return false;
        if (canary.slot.endpoints.length === 0)
            return false;
        if (canary.pick?.affinitized?.(ex) === true)
            return true;
        if (header !== undefined) {
            const v = ex.header(header);
            if (v !== undefined) {
                if (headerValue !== undefined) {
                    if (v === headerValue)
                        return true;
                }
                else if (broken)
                    return false;
                else if (pattern !== null) {
                    if (pattern.test(v))
                        return true;
                }
                else if (v === 'always')
                    return true;
                else if (v === 'never')
                    return false;
            }
        }
        if (cookie !== undefined) {
            const v = ex.cookie(cookie);
            if (v === 'always')
                return true;
            if (v === 'never')
                return false;
        }
        return weight > 0 && (weight >= total || Math.floor(random() * total) < weight);
    };
}
//# sourceMappingURL=canary.js.map