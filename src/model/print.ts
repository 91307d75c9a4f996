/**
 * Plain, stable views of a table and its diagnostics: for golden tests, /debug/routes and
 * `portico routes`. Also the equality used to skip a swap when nothing changed.
 */
import type { Backend, Cert, Diagnostic, Endpoint, HostFallback, Route, RouteLimits, RouteSource, RouteTable, UpstreamTls } from './types.js';

const NONE: ReadonlyMap<string, UpstreamTls> = new Map();

export interface PrintedTable {
  readonly hosts: Record<string, { routes: string[]; fallback?: string }>;
  readonly defaultBackend: string | null;
  readonly backends: Record<string, string[]>;
  readonly certs: Record<string, string>;
  /** proxy-ssl-secret material, by Secret: what it holds and its id, never the PEM itself. */
  readonly upstreamTls?: Record<string, string>;
}

/** One routing decision of /debug/routes, structured: what `portico routes` prints as a row. */
export interface RouteRow {
  /** The rule host; '*' for rules without one, '(any)' for the default backend. */
  readonly host: string;
  /** `default` for a host's spec.defaultBackend and for the default backend. */
  readonly match: 'Exact' | 'Prefix' | 'default';
  /** The path as written; '*' for a default. */
  readonly path: string;
  readonly backend: string;
  /** `namespace/name` of the Ingress it came from, or `--default-backend-service`. */
  readonly ingress: string;
  readonly redirect: boolean;
  readonly limits: RouteLimits;
}

const origin = (s: RouteSource): string => (s.ingress === '' ? '--default-backend-service' : `${s.namespace}/${s.ingress}`);

/** The table as rows: hosts sorted, each host's routes in match order then its fallback, the default backend last. */
export function routeRows(table: RouteTable): RouteRow[] {
  const byHost = new Map<string, RouteRow[]>();
  const rows = (host: string): RouteRow[] => {
    let r = byHost.get(host || '*');
    if (r === undefined) byHost.set(host || '*', (r = []));
    return r;
  };
  for (const r of table.routes) rows(r.host).push({ host: r.host || '*', match: r.match, path: r.path, backend: r.backend, ingress: origin(r.source), redirect: r.redirect, limits: r.limits });
  for (const [host, f] of table.hostFallbacks) rows(host).push({ host: host || '*', match: 'default', path: '*', backend: f.backend, ingress: origin(f.source), redirect: false, limits: {} });
  const out = [...byHost.keys()].sort().flatMap((h) => byHost.get(h) as RouteRow[]);
  const d = table.defaultBackend;
  if (d) out.push({ host: '(any)', match: 'default', path: '*', backend: d.backend, ingress: origin(d.source), redirect: false, limits: {} });
  return out;
}

const fallbackText = (f: HostFallback): string => `${f.backend} (from ${f.source.namespace}/${f.source.ingress || '--default-backend-service'})`;

/** One line per route: `Prefix /path -> ns/svc:port (ns/ingress)`, grouped by host ('*' = any host). */
export function printTable(table: RouteTable): PrintedTable {
  const hosts: PrintedTable['hosts'] = {};
  const entry = (host: string): { routes: string[]; fallback?: string } => (hosts[host || '*'] ??= { routes: [] });
  for (const r of table.routes) {
    const lim = Object.entries(r.limits).map(([k, v]) => `${k}=${v}`);
    entry(r.host).routes.push(`${r.match} ${r.path} -> ${r.backend} (${r.source.namespace}/${r.source.ingress})${r.redirect ? ' [https redirect]' : ''}${lim.length ? ` {${lim.join(' ')}}` : ''}`);
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
  const upstreamTls: Record<string, string> = {};
  for (const key of [...(table.upstreamTls?.keys() ?? [])].sort()) {
    const u = table.upstreamTls?.get(key) as UpstreamTls;
    upstreamTls[key] = `${[u.caPem !== undefined ? 'trusted CAs' : '', u.certPem !== undefined ? 'client certificate' : ''].filter(Boolean).join(' + ')} (id ${u.id.slice(0, 12)})`;
  }
  return { hosts: sortedHosts, certs, defaultBackend: table.defaultBackend ? fallbackText(table.defaultBackend) : null, backends, ...(Object.keys(upstreamTls).length > 0 ? { upstreamTls } : {}) };
}

/** `Kind ns/name: Reason: message`, sorted, one per line. */
export function printDiagnostics(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.source.kind} ${d.source.namespace}/${d.source.name}: ${d.reason}: ${d.message}`).sort();
}

const sameSource = (a: RouteSource, b: RouteSource): boolean => a.namespace === b.namespace && a.ingress === b.ingress;
const sameFallback = (a: HostFallback | null | undefined, b: HostFallback | null | undefined): boolean =>
  a === b || (a != null && b != null && a.backend === b.backend && sameSource(a.source, b.source));

function sameMap<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, eq: (x: V, y: V) => boolean): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !eq(v, w)) return false;
  }
  return true;
}

/** Same endpoints in the same order (endpoint lists are sorted when resolved). */
export function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Endpoint;
    const y = b[i] as Endpoint;
    if (x.ip !== y.ip || x.port !== y.port || x.terminating !== y.terminating) return false;
  }
  return true;
}

function sameBackend(a: Backend, b: Backend): boolean {
  return a.namespace === b.namespace && a.service === b.service && a.port === b.port && a.protocol === b.protocol && a.externalName === b.externalName && sameEndpoints(a.endpoints, b.endpoints);
}

/**
 * True when two tables route every request the same way (used to skip a no-op swap). A direct
 * structural walk: printing both tables to compare them cost more than translating at 10k Ingresses.
 */
export function sameTable(a: RouteTable, b: RouteTable): boolean {
  if (a.routes.length !== b.routes.length) return false;
  for (let i = 0; i < a.routes.length; i++) {
    const x = a.routes[i] as Route;
    const y = b.routes[i] as Route;
    if (x.host !== y.host || x.path !== y.path || x.match !== y.match || x.backend !== y.backend || x.redirect !== y.redirect || !sameSource(x.source, y.source)) return false;
    const lx = x.limits;
    const ly = y.limits;
    if (lx.bodySize !== ly.bodySize || lx.connectTimeout !== ly.connectTimeout || lx.readTimeout !== ly.readTimeout || lx.sendTimeout !== ly.sendTimeout || lx.upstreamVhost !== ly.upstreamVhost || lx.sslServerName !== ly.sslServerName || lx.sslName !== ly.sslName || lx.sslVerify !== ly.sslVerify || lx.sslSecret !== ly.sslSecret) return false;
  }
  return (
    sameFallback(a.defaultBackend, b.defaultBackend) &&
    sameMap(a.hostFallbacks, b.hostFallbacks, sameFallback) &&
    sameMap(a.backends, b.backends, sameBackend) &&
    sameMap(a.certs, b.certs, (x, y) => x.id === y.id && x.secret === y.secret && x.notAfter === y.notAfter && sameSource(x.source, y.source)) &&
    sameMap(a.upstreamTls ?? NONE, b.upstreamTls ?? NONE, (x, y) => x.id === y.id)
  );
}
