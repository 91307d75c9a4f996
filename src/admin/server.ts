/** The admin listener: /healthz, /readyz and JSON debug views. Never on the data-plane port. */
import { createServer, type Server } from 'node:http';
import { printDiagnostics, printTable } from '../model/print.js';
import type { Diagnostic, RouteTable } from '../model/types.js';

export interface AdminView {
  /** Ready = first table live and listeners bound, and not draining. */
  ready(): boolean;
  table(): RouteTable;
  diagnostics(): readonly Diagnostic[];
}

function send(res: import('node:http').ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

export function createAdminServer(view: AdminView): Server {
  return createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz':
        return view.ready() ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', 'not ready\n');
      case '/debug/routes':
        return send(res, 200, 'application/json', JSON.stringify({ ...printTable(view.table()), diagnostics: printDiagnostics(view.diagnostics()) }, null, 2) + '\n');
      default:
        return send(res, 404, 'text/plain', 'not found: try /healthz, /readyz, /debug/routes\n');
    }
  });
}
