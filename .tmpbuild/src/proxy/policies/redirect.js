import { rawOrDecoded, replacePath, splitTarget } from './paths.js';
import { Verdict } from './types.js';
/** The host part of a Host header, without a port. */
function hostOnly(host) {
    const h = host ?? '';
    if (h.startsWith('['))
        return h.slice(0, h.indexOf(']') + 1);
    const colon = h.lastIndexOf(':');
    return colon === -1 ? h : h.slice(0, colon);
}
export function redirect(p) {
    return {
        run(ex) {
            const scheme = p.scheme ?? ex.scheme;
            const port = p.port ?? (p.scheme !== undefined ? (p.scheme === 'https' ? 443 : 80) : ex.listenerPort);
            const showPort = !((scheme === 'http' && port === 80) || (scheme === 'https' && port === 443));
            const [path, query] = splitTarget(ex.forwardPath);
            const next = p.path === undefined ? path : replacePath(rawOrDecoded(ex, p.path), p.path, ex.captures);
            const location = `${scheme}://${p.hostname ?? hostOnly(ex.host)}${showPort ? `:${port}` : ''}${next}${query}`;
            ex.answer(p.status, '', 'text/plain; charset=utf-8', 'redirect', ['location', location]);
            return Verdict.Answered;
        },
    };
}
//# sourceMappingURL=redirect.js.map