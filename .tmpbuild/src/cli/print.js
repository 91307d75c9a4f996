/** `portico routes` / `portico backends`: the admin JSON views of a running instance as text tables. */
import { printGatewayStatus } from '../model/gateway/status.js';
/** Renders rows as left-aligned columns with a header line. */
export function columns(header, rows) {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
    const line = (r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd();
    return [line(header), ...rows.map(line)].join('\n') + '\n';
}
/** /debug/routes' structured rows as columns; the last one says where a route came from and what else applies. */
export function routesText(t) {
    const rows = t.rows.map((r) => {
        const limits = Object.entries(r.limits).map(([k, v]) => `${k}=${String(v)}`);
        return [r.host, r.match, r.path, r.backend, `${r.ingress}${r.redirect ? ' (redirects to https)' : ''}${limits.length > 0 ? ` {${limits.join(' ')}}` : ''}`];
    });
    let out = columns(['HOST', 'MATCH', 'PATH', 'BACKEND', 'INGRESS'], rows);
    if (t.diagnostics && t.diagnostics.length > 0)
        out += `\nDiagnostics:\n${t.diagnostics.map((d) => `  ${d}`).join('\n')}\n`;
    return out;
}
export function backendsText(b) {
    const rows = [];
    for (const be of b.backends) {
        const id = be.externalName === undefined ? be.id : `${be.id} (${be.externalName})`;
        if (be.endpoints.length === 0)
            rows.push([id, '(none)', '', '', '', '', '']);
        for (const e of be.endpoints)
            rows.push([id, e.address, e.terminating ? 'terminating' : 'ready', String(e.requests), String(e.errors), String(e.recentErrors), e.lastError ?? '']);
    }
    return columns(['BACKEND', 'ENDPOINT', 'STATE', 'REQUESTS', 'ERRORS', 'ERRORS/1M', 'LAST ERROR'], rows);
}
/** Why a fetch got no answer, in a few words: the socket error's code and message where there is one. */
function causeOf(err) {
    const e = err;
    if (e.name === 'TimeoutError')
        return 'no answer within 5 s';
    const cause = e.cause;
    if (cause instanceof AggregateError && cause.errors.length > 0)
        return cause.errors.map((x) => x.message).join('; ');
    return cause?.message ?? e.message;
}
/** /debug/gateways as text: each object, then its conditions, indented. */
export function statusText(s) {
    if (s.disabled !== undefined)
        return `${s.disabled}\n`;
    const lines = printGatewayStatus(s);
    return lines.length === 0 ? 'No GatewayClass of Portico\'s controller name.\n' : `${lines.join('\n')}\n`;
}
/** Fetches a view and renders it; throws an Error whose message is one line for the user. */
export async function printView(kind, adminUrl) {
    const url = `${adminUrl}/debug/${kind === 'status' ? 'gateways' : kind}`;
    let res;
    try {
        res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    }
    catch (err) {
        throw new Error(`is Portico running on ${adminUrl}? (${causeOf(err)})`);
    }
    if (!res.ok) {
        // the admin server says why in one line (e.g. 403 under --debug-endpoints=local)
        const why = (await res.text().catch(() => '')).split('\n')[0]?.trim();
        throw new Error(`cannot read ${url}: HTTP ${res.status}${why ? `: ${why}` : ''}`);
    }
    const body = (await res.json());
    if (kind === 'status')
        return statusText(body);
    return kind === 'routes' ? routesText(body) : backendsText(body);
}
//# sourceMappingURL=print.js.map