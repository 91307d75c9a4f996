/**
 * Plain, stable views of a table and its diagnostics: for golden tests, /debug/routes and
 * `portico routes`. Also the equality used to skip a swap when nothing changed.
 */
import { sourceName } from './build.js';
import { printL4 } from './l4/print.js';
import type { Backend, Cert, Diagnostic, Endpoint, PathRewrite, Policy, Route, RouteSettings, RouteSource, RouteTable, UpstreamTls, WeightedBackend } from './types.js';

const NONE: ReadonlyMap<string, UpstreamTls> = new Map();

export interface PrintedTable {
  readonly hosts: Record<string, { routes: string[]; fallback?: string }>;
  readonly defaultBackend: string | null;
  readonly backends: Record<string, string[]>;
  readonly certs: Record<string, string>;
  /** proxy-ssl-secret material, by Secret: what it holds and its id, never the PEM itself. */
  readonly upstreamTls?: Record<string, string>;
  /** Layer 4 listeners and TLS passthrough names (model/l4/print.ts). */
  readonly l4?: { listeners: string[]; passthrough: string[] };
}

/** One routing decision of /debug/routes, structured: what `portico routes` prints as a row. */
export interface RouteRow {
  /** The rule host; '*' for rules without one, '(any)' for the default backend. */
  readonly host: string;
  /** `default` for a host's fallback and for the default backend. */
  readonly match: 'Exact' | 'Prefix' | 'Regex' | 'default';
  /** The path as written; '*' for a default. */
  readonly path: string;
  /** The backend, or `a (90), b (10)` for weighted ones. */
  readonly backend: string;
  /** `namespace/name` of the Ingress it came from, `Kind namespace/name` of another object, or `--default-backend-service`. */
  readonly ingress: string;
  readonly redirect: boolean;
  /** The route's policies, one short line each (`https redirect` for the redirect). */
  readonly policies: readonly string[];
  readonly limits: RouteSettings;
  /** Gateway API routes: the listener ports they are served on (80 = --http-port, 443 = --https-port). */
  readonly ports?: readonly number[];
}

/** `ns/name` for an Ingress (as ingress-nginx users read it), `Kind ns/name` for other objects. */
const origin = (s: RouteSource): string => (s.kind === 'Ingress' ? `${s.namespace}/${s.name}` : sourceName(s));

/** `ns/svc:80`, or `ns/a:80 (90), ns/b:80 (10)` when traffic is split. */
export function printBackends(backends: readonly WeightedBackend[]): string {
  if (backends.length === 0) return '(none)';
  // '' is a backend reference that could not be resolved: its share of requests is answered 500
  const name = (b: WeightedBackend): string => b.backend || '(invalid: 500)';
  if (backends.length === 1 && (backends[0] as WeightedBackend).weight === 1) return name(backends[0] as WeightedBackend);
  return backends.map((b) => `${name(b)} (${b.weight})`).join(', ');
}

/** A policy as one short line. */
export function printPolicy(p: Policy): string {
  switch (p.kind) {
    case 'refuse':
      return `refused: ${p.because.join(', ')}`;
    case 'httpsRedirect':
      return 'https redirect';
    case 'headers':
      return `${p.phase} headers${p.set.map(([n, v]) => ` set ${n}=${v}`).join('')}${p.add.map(([n, v]) => ` add ${n}=${v}`).join('')}${p.remove.map((n) => ` remove ${n}`).join('')}`;
    case 'redirect':
      return `redirect ${p.status}${p.scheme !== undefined ? ` scheme=${p.scheme}` : ''}${p.hostname !== undefined ? ` host=${p.hostname}` : ''}${p.port !== undefined ? ` port=${p.port}` : ''}${p.path !== undefined ? ` ${pathText(p.path)}` : ''}`;
    case 'rewrite':
      return `rewrite${p.hostname !== undefined ? ` host=${p.hostname}` : ''}${p.path !== undefined ? ` ${pathText(p.path)}` : ''}`;
  }
}

const pathText = (p: PathRewrite): string => (p.type === 'full' ? `path=${p.value}` : `prefix ${p.prefix}=>${p.value}`);

const conditionsText = (r: Route): string => {
  const c = r.conditions;
  if (c === undefined) return '';
  const parts = [...(c.method !== undefined ? [`method=${c.method}`] : []), ...(c.headers ?? []).map((h) => `header ${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`), ...(c.query ?? []).map((q) => `query ${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`)];
  return ` when ${parts.join(', ')}`;
};

const row = (host: string, match: RouteRow['match'], path: string, r: Route): RouteRow => {
  const policies = r.policies.map(printPolicy);
  return { host, match, path, backend: printBackends(r.backends), ingress: origin(r.source), redirect: r.policies.some((p) => p.kind === 'httpsRedirect'), policies, limits: r.settings, ...(r.ports !== undefined ? { ports: r.ports } : {}) };
};

/** The table as rows: hosts sorted, each host's routes in match order then its fallback, the default backend last. */
export function routeRows(table: RouteTable): RouteRow[] {
  const byHost = new Map<string, RouteRow[]>();
  const rows = (host: string): RouteRow[] => {
    let r = byHost.get(host || '*');
    if (r === undefined) byHost.set(host || '*', (r = []));
    return r;
  };
  for (const r of table.routes) rows(r.host).push(row(r.host || '*', r.match, `${r.path}${conditionsText(r)}`, r));
  for (const [host, f] of table.hostFallbacks) rows(host).push(row(host || '*', 'default', '*', f));
  const out = [...byHost.keys()].sort().flatMap((h) => byHost.get(h) as RouteRow[]);
  const d = table.defaultBackend;
  if (d) out.push(row('(any)', 'default', '*', d));
  return out;
}

const fallbackText = (f: Route): string => `${printBackends(f.backends)} (from ${f.source.kind === 'DefaultBackend' ? '--default-backend-service' : f.source.kind === 'Ingress' ? `${f.source.namespace}/${f.source.name}` : sourceName(f.source)})${policiesText(f.policies)}`;
const policiesText = (ps: readonly Policy[]): string => ps.map((p) => ` [${printPolicy(p)}]`).join('');

/** One line per route: `Prefix /path -> ns/svc:port (ns/ingress) [policy] {setting=value}`, grouped by host ('*' = any host). */
export function printTable(table: RouteTable): PrintedTable {
  const hosts: PrintedTable['hosts'] = {};
  const entry = (host: string): { routes: string[]; fallback?: string } => (hosts[host || '*'] ??= { routes: [] });
  for (const r of table.routes) {
    const lim = Object.entries(r.settings).map(([k, v]) => `${k}=${String(v)}`);
    const flags = r.match === 'Regex' && r.ignoreCase === true ? ' (ignore case)' : '';
    const on = r.ports === undefined ? '' : ` on ${r.ports.map((p) => `:${p}`).join(',')}`;
    entry(r.host).routes.push(`${r.match} ${r.path}${flags}${conditionsText(r)}${on} -> ${printBackends(r.backends)} (${origin(r.source)})${policiesText(r.policies)}${lim.length ? ` {${lim.join(' ')}}` : ''}`);
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
  return { hosts: sortedHosts, certs, defaultBackend: table.defaultBackend ? fallbackText(table.defaultBackend) : null, backends, ...(Object.keys(upstreamTls).length > 0 ? { upstreamTls } : {}), ...(table.l4 !== undefined ? { l4: printL4(table.l4) } : {}) };
}

/** `Kind ns/name: Reason: message`, sorted, one per line. */
export function printDiagnostics(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.source.kind} ${d.source.namespace}/${d.source.name}: ${d.reason}: ${d.message}`).sort();
}

/**
 * Deep equality of plain data (what routes, policies and settings are made of: objects, arrays,
 * strings, numbers, booleans). Complete by construction: a field added to a policy or a setting
 * is compared without anyone remembering to add it here.
 */
export function samePlain(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !samePlain((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

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

/** A backend the same but for its endpoints, which `endpoints` gives (the live lists, patched since the last swap). */
function sameBackend(a: Backend, b: Backend, endpoints: (b: Backend) => readonly Endpoint[]): boolean {
  return a.namespace === b.namespace && a.service === b.service && a.port === b.port && a.protocol === b.protocol && a.externalName === b.externalName && sameEndpoints(a.endpoints, endpoints(b));
}

/**
 * True when two tables route every request the same way (used to skip a no-op swap). `b` is the
 * running table; `endpoints` gives its live endpoint lists (default: its own). A direct walk:
 * printing both tables to compare them cost more than translating at 10k Ingresses.
 */
export function sameTable(a: RouteTable, b: RouteTable, endpoints: (b: Backend) => readonly Endpoint[] = (x) => x.endpoints): boolean {
  if (a.routes.length !== b.routes.length) return false;
  for (let i = 0; i < a.routes.length; i++) if (!samePlain(a.routes[i], b.routes[i])) return false;
  return (
    samePlain(a.defaultBackend, b.defaultBackend) &&
    sameMap(a.hostFallbacks, b.hostFallbacks, samePlain) &&
    sameMap(a.backends, b.backends, (x, y) => sameBackend(x, y, endpoints)) &&
    sameMap(a.certs, b.certs, (x, y) => x.id === y.id && x.secret === y.secret && x.notAfter === y.notAfter && samePlain(x.source, y.source)) &&
    sameMap(a.upstreamTls ?? NONE, b.upstreamTls ?? NONE, (x, y) => x.id === y.id) &&
    // the ports to open: a listener (or an SNI name) can change while every route stays the same
    samePlain(a.listeners, b.listeners) &&
    samePlain(a.l4, b.l4)
  );
}
