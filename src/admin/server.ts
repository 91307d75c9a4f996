/** The admin listener: health, readiness, /metrics and JSON debug views. Never on the data-plane port. */
import type { Server, ServerResponse } from 'node:http';
import { createServer } from '../node-http.js';
import { createCidrMatcher } from '../model/cidr.js';
import { l4Rows } from '../model/l4/print.js';
import { printDiagnostics, printTable, routeRows } from '../model/print.js';
import type { GatewayApiStatus } from '../model/gateway/status.js';
import type { Diagnostic, RouteTable } from '../model/types.js';
import { endpointKey } from '../proxy/pools.js';
import { targetPath } from '../proxy/request-target.js';
import type { EndpointView } from '../proxy/stats.js';

export interface AdminView {
  /** Ready = first table live and listeners bound, and not draining. */
  ready(): boolean;
  table(): RouteTable;
  diagnostics(): readonly Diagnostic[];
  /** Gateway API status as Portico computes it (undefined when the Gateway API is off). */
  gateways(): GatewayApiStatus | undefined;
  /** Per-endpoint counts by `ip:port` (in --workers mode, asked of every worker and merged). */
  endpointViews(): Promise<(endpoint: string) => EndpointView>;
  /** The Prometheus exposition, or null when metrics are disabled. */
  metrics: null | { contentType: string; text(): Promise<string> };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

const json = (res: ServerResponse, v: unknown): void => send(res, 200, 'application/json', JSON.stringify(v, null, 2) + '\n');

/**
 * /debug/backends: every backend of the live table, with per-endpoint request and error counts
 * (for TCP and UDP backends: connections and flows), and the Layer 4 listeners and SNI names.
 */
export function backendsView(table: RouteTable, view: (endpoint: string) => EndpointView): unknown {
  return {
    backends: [...table.backends.values()].map((b) => ({
      id: b.id,
      namespace: b.namespace,
      service: b.service,
      port: b.port,
      protocol: b.protocol,
      ...(b.externalName !== undefined ? { externalName: b.externalName } : {}),
      endpoints: b.endpoints.map((e) => ({ address: endpointKey(e.ip, e.port), terminating: e.terminating, ...view(endpointKey(e.ip, e.port)) })),
    })),
    l4: l4Rows(table.l4),
  };
}

/** `--debug-endpoints`: who gets /debug/*. */
export type DebugEndpoints = 'local' | 'all' | 'off';

export interface AdminOptions {
  readonly debugEndpoints: DebugEndpoints;
}

/** Loopback peers, IPv4-mapped ones included: kubectl port-forward arrives on the pod's loopback. */
export const isLoopback = createCidrMatcher(['127.0.0.0/8', '::1/128']);

/** The refusal of a /debug/* request from `peer`, or null to serve it. */
export function debugRefusal(mode: DebugEndpoints, peer: string | undefined): { status: number; body: string } | null {
  if (mode === 'off') return { status: 404, body: 'not found: the debug endpoints are off (--debug-endpoints=off)\n' };
  if (mode === 'local' && !isLoopback(peer ?? '')) {
    return { status: 403, body: `forbidden: /debug/* answers only loopback peers such as kubectl port-forward (--debug-endpoints=local; this peer is ${peer ?? 'unknown'}; --debug-endpoints=all serves everyone)\n` };
  }
  return null;
}

export function createAdminServer(view: AdminView, options: AdminOptions): Server {
  const paths = options.debugEndpoints === 'off' ? '/healthz, /readyz, /metrics' : '/healthz, /readyz, /metrics, /debug/routes, /debug/backends, /debug/gateways';
  return createServer((req, res) => {
    const path = targetPath(req.url ?? '/');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    if (path.startsWith('/debug/')) {
      const refusal = debugRefusal(options.debugEndpoints, req.socket.remoteAddress);
      if (refusal !== null) return send(res, refusal.status, 'text/plain', refusal.body);
    }
    switch (path) {
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz':
        return view.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
      case '/metrics': {
        const m = view.metrics;
        if (m === null) return send(res, 404, 'text/plain', 'metrics are disabled (--enable-metrics=false)\n');
        m.text().then(
          (body) => send(res, 200, m.contentType, body),
          (err: Error) => send(res, 500, 'text/plain', `metrics collection failed: ${err.message}\n`),
        );
        return;
      }
      case '/debug/routes':
        return json(res, { ...printTable(view.table()), rows: routeRows(view.table()), diagnostics: printDiagnostics(view.diagnostics()) });
      case '/debug/gateways':
        return json(res, view.gateways() ?? { controllerName: '', gatewayClasses: [], gateways: [], routes: [], disabled: 'the Gateway API is off (--enable-gateway-api=false)' });
      case '/debug/backends':
        view.endpointViews().then(
          (endpoints) => json(res, backendsView(view.table(), endpoints)),
          (err: Error) => send(res, 500, 'text/plain', `endpoint counts unavailable: ${err.message}\n`),
        );
        return;
      default:
        return send(res, 404, 'text/plain', `not found: try ${paths}\n`);
    }
  });
}
