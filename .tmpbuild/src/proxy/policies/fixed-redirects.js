import { dropTrailingSlash, hostName, hostPort, redirectBody, TEXT } from './location.js';
import { Verdict } from './types.js';
export function fixedRedirect(p) {
    const { status, url } = p;
    if (!url.startsWith('/') || p.relative === true) {
        const body = redirectBody(status, url);
        const headers = ['location', url];
        return {
            run(ex) {
                ex.answer(status, body, TEXT, 'redirect', headers);
                return Verdict.Answered;
            },
        };
    }
    const usePort = p.usePort === true;
    return {
        run(ex) {
            const name = hostName(ex.host);
            const port = usePort ? hostPort(ex.host) : '';
            const location = name === '' ? url : `${ex.scheme}://${name}${port === '' ? '' : `:${port}`}${url}`;
            ex.answer(status, redirectBody(status, location), TEXT, 'redirect', ['location', location]);
            return Verdict.Answered;
        },
    };
}
export function appRoot(p) {
    const path = p.path;
    return {
        run(ex) {
            if (ex.path !== '/')
                return Verdict.Continue;
            const host = ex.host ?? '';
            const location = host === '' ? path : `${ex.scheme}://${host}${path}`;
            ex.answer(302, redirectBody(302, location), TEXT, 'redirect', ['location', location]);
            return Verdict.Answered;
        },
    };
}
export function hostRedirect(p) {
    const to = p.host;
    return {
        run(ex) {
            const port = hostPort(ex.host) || String(ex.listenerPort);
            const location = `${ex.scheme}://${to}:${port}${dropTrailingSlash(ex.forwardPath)}`;
            ex.answer(308, redirectBody(308, location), TEXT, 'redirect', ['location', location]);
            return Verdict.Answered;
        },
    };
}
//# sourceMappingURL=fixed-redirects.js.map