/**
 * Plain, stable views of a table and its diagnostics: for golden tests, /debug/routes and
 * `portico routes`. Also the equality used to skip a swap when nothing changed.
 */
import type { Cert, Diagnostic, HostFallback, RouteTable } from './types.js';

export interface PrintedTable {
  readonly hosts: Record<string, { routes: string[]; fallback?: string }>;
  readonly defaultBackend: string | null;
  readonly backends: Record<string, string[]>;
  readonly certs: Record<string, string>;
}

const fallbackText = (f: HostFallback): string => `${f.backend} (from ${f.source.namespace}/${f.source.ingress || '--default-backend-service'})`;

/** One line per route: `Prefix /path -> ns/svc:port (ns/ingress)`, grouped by host ('*' = any host). */
export function printTable(table: RouteTable): PrintedTable {
  const hosts: PrintedTable['hosts'] = {};
  const entry = (host: string): { routes: string[]; fallback?: string } => (hosts[host || '*'] ??= { routes: [] });
  for (const r of table.routes) {
    entry(r.host).routes.push(`${r.match} ${r.path} -> ${r.backend} (${r.source.namespace}/${r.source.ingress})${r.redirect ? ' [https redirect]' : ''}`);
  }
  for (const [host, f] of [...table.hostFallbacks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    entry(host).fallback = fallbackText(f);
  }
  const sortedHosts: PrintedTable['hosts'] = {};
  for (const h of Object.keys(hosts).sort()) sortedHosts[h] = hosts[h] as { routes: string[]; fallback?: string };
  const backends: PrintedTable['backends'] = {};
  for (const [id, b] of table.backends) {
    backends[id] = b.endpoints.map((e) => `${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.port}${e.terminating ? ' (terminating)' : ''}`);
  }
  const certs: PrintedTable['certs'] = {};
  for (const host of [...table.certs.keys()].sort()) {
    const c = table.certs.get(host) as Cert;
    certs[host || '(default)'] = `${c.secret} (expires ${new Date(c.notAfter).toISOString()}, id ${c.id.slice(0, 12)})`;
  }
  return { hosts: sortedHosts, certs, defaultBackend: table.defaultBackend ? fallbackText(table.defaultBackend) : null, backends };
}

/** `Kind ns/name: Reason: message`, sorted, one per line. */
export function printDiagnostics(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.source.kind} ${d.source.namespace}/${d.source.name}: ${d.reason}: ${d.message}`).sort();
}

/** True when two tables route every request the same way (used to skip a no-op swap). */
export function sameTable(a: RouteTable, b: RouteTable): boolean {
  return JSON.stringify(printTable(a)) === JSON.stringify(printTable(b));
}
