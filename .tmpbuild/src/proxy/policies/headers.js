import { Verdict } from './types.js';
export function headers(p) {
    if (p.phase === 'response') {
        const edit = { set: p.set, add: p.add, remove: p.remove };
        return {
            run(ex) {
                ex.editResponse(edit);
                return Verdict.Continue;
            },
        };
    }
    return {
        run(ex) {
            for (const name of p.remove)
                ex.removeUpstreamHeader(name);
            for (const [name, value] of p.set)
                ex.setUpstreamHeader(name, value);
            for (const [name, value] of p.add) {
                const v = ex.req.headers[name];
                const existing = Array.isArray(v) ? v.join(',') : v;
                ex.setUpstreamHeader(name, existing === undefined || existing === '' ? value : `${existing},${value}`);
            }
            return Verdict.Continue;
        },
    };
}
//# sourceMappingURL=headers.js.map