import { dropTrailingSlash, hostName, redirectBody, TEXT } from './location.js';
import { Verdict } from './types.js';
/** ACME HTTP-01 challenges must stay reachable over plain HTTP (as ingress-nginx does). */
const ACME_PREFIX = '/.well-known/acme-challenge/';
/** `https://host[:port]/target`. */
export function httpsLocation(host, target, port, always = false) {
    return `https://${hostName(host)}${port === 443 && !always ? '' : `:${port}`}${target}`;
}
export function httpsRedirect(p, env) {
    const port = env.httpsRedirectPort;
    const keep = p.preserveTrailingSlash === true;
    const always = p.usePort === true;
    return {
        run(ex) {
            if (ex.scheme !== 'http' || ex.path.startsWith(ACME_PREFIX))
                return Verdict.Continue;
            const location = httpsLocation(ex.host, keep ? ex.forwardPath : dropTrailingSlash(ex.forwardPath), port, always);
            ex.answer(308, redirectBody(308, location), TEXT, 'redirect', ['location', location]);
            return Verdict.Answered;
        },
    };
}
//# sourceMappingURL=https-redirect.js.map