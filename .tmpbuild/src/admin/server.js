/** The admin listener: health, readiness, /metrics and JSON debug views. Never on the data-plane port. */
import { createServer } from 'node:http';
import { createCidrMatcher } from '../model/cidr.js';
import { printDiagnostics, printTable, routeRows } from '../model/print.js';
import { endpointKey } from '../proxy/pools.js';
function send(res, status, type, body) {
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(body);
}
const json = (res, v) => send(res, 200, 'application/json', JSON.stringify(v, null, 2) + '\n');
/** /debug/backends: every backend of the live table, with per-endpoint request and error counts. */
export function backendsView(table, view) {
    return {
        backends: [...table.backends.values()].map((b) => ({
            id: b.id,
            namespace: b.namespace,
            service: b.service,
            port: b.port,
            ...(b.externalName !== undefined ? { externalName: b.externalName } : {}),
            endpoints: b.endpoints.map((e) => ({ address: endpointKey(e.ip, e.port), terminating: e.terminating, ...view(endpointKey(e.ip, e.port)) })),
        })),
    };
}
/** Loopback peers, IPv4-mapped ones included: kubectl port-forward arrives on the pod's loopback. */
export const isLoopback = createCidrMatcher(['127.0.0.0/8', '::1/128']);
/** The refusal of a /debug/* request from `peer`, or null to serve it. */
export function debugRefusal(mode, peer) {
    if (mode === 'off')
        return { status: 404, body: 'not found: the debug endpoints are off (--debug-endpoints=off)\n' };
    if (mode === 'local' && !isLoopback(peer ?? '')) {
        return { status: 403, body: `forbidden: /debug/* answers only loopback peers such as kubectl port-forward (--debug-endpoints=local; this peer is ${peer ?? 'unknown'}; --debug-endpoints=all serves everyone)\n` };
    }
    return null;
}
export function createAdminServer(view, options) {
    const paths = options.debugEndpoints === 'off' ? '/healthz, /readyz, /metrics' : '/healthz, /readyz, /metrics, /debug/routes, /debug/backends, /debug/gateways';
    return createServer((req, res) => {
        const path = (req.url ?? '/').split('?')[0] ?? '/';
        if (req.method !== 'GET' && req.method !== 'HEAD')
            return send(res, 405, 'text/plain', 'method not allowed\n');
        if (path.startsWith('/debug/')) {
            const refusal = debugRefusal(options.debugEndpoints, req.socket.remoteAddress);
            if (refusal !== null)
                return send(res, refusal.status, 'text/plain', refusal.body);
        }
        switch (path) {
            case '/healthz':
                return send(res, 200, 'text/plain', 'ok\n');
            case '/readyz':
                return view.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
            case '/metrics': {
                const m = view.metrics;
                if (m === null)
                    return send(res, 404, 'text/plain', 'metrics are disabled (--enable-metrics=false)\n');
                m.text().then((body) => send(res, 200, m.contentType, body), (err) => send(res, 500, 'text/plain', `metrics collection failed: ${err.message}\n`));
                return;
            }
            case '/debug/routes':
                return json(res, { ...printTable(view.table()), rows: routeRows(view.table()), diagnostics: printDiagnostics(view.diagnostics()) });
            case '/debug/gateways':
                return json(res, view.gateways() ?? { controllerName: '', gatewayClasses: [], gateways: [], routes: [], disabled: 'the Gateway API is off (--enable-gateway-api=false)' });
            case '/debug/backends':
                view.endpointViews().then((endpoints) => json(res, backendsView(view.table(), endpoints)), (err) => send(res, 500, 'text/plain', `endpoint counts unavailable: ${err.message}\n`));
                return;
            default:
                return send(res, 404, 'text/plain', `not found: try ${paths}\n`);
        }
    });
}
//# sourceMappingURL=server.js.map