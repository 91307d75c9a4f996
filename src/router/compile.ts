/**
 * compile(table) -> Matcher: turns the flat route list into per-host lookup structures, so that
 * a request costs a few Map lookups whatever the table's size.
 *
 * Why not find-my-way (README "Architecture", bench/router.ts): Ingress matching is element-wise
 * with a length-then-Exact precedence over the *written* path, where `/foo` and `/foo/` are the
 * same prefix but different lengths, which find-my-way's static/parametric/wildcard priority cannot
 * express without merging routes ourselves; one router with host constraints holds at most 31
 * hosts per path; and one router per host measured 3.9x slower than this segment trie.
 */
import type { Backend, HostFallback, Route, RouteLimits, RouteTable, UpstreamTls } from '../model/types.js';
import { sniOf } from '../model/upstream.js';

/** What a request is sent to: everything the data plane needs, precomputed. */
export interface Target {
  readonly backend: Backend;
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  /** The rule path ('' for a default backend), a bounded label for metrics. */
  readonly path: string;
  /** The rule host ('' for any host). */
  readonly host: string;
  /** Plain-HTTP requests get a 308 to HTTPS. */
  readonly redirect: boolean;
  readonly limits: RouteLimits;
  /** The TLS server name sent to an HTTPS/GRPCS backend, if any (proxy-ssl-server-name). */
  readonly sni: string | undefined;
  /** Trusted CAs and client certificate for an HTTPS/GRPCS backend (proxy-ssl-secret), if any. */
  readonly upstreamTls: UpstreamTls | undefined;
}

/** Prefix rules of one host, one node per path element. */
export interface PrefixNode {
  children: Map<string, PrefixNode> | null;
  /** The best Prefix route whose path ends at this element, with its written length. */
  best: { readonly target: Target; readonly length: number } | null;
}

export interface HostRoutes {
  readonly exact: Map<string, Target>;
  readonly prefix: PrefixNode;
  fallback: Target | null;
}

export interface Matcher {
  readonly exactHosts: ReadonlyMap<string, HostRoutes>;
  /** Keyed by the wildcard's suffix: `*.example.com` is stored under `example.com`. */
  readonly wildcardHosts: ReadonlyMap<string, HostRoutes>;
  readonly anyHost: HostRoutes | null;
  readonly defaultTarget: Target | null;
  readonly table: RouteTable;
}

/** Splits a Prefix path into its elements, ignoring one trailing slash ("/" has none). */
export function prefixElements(path: string): string[] {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed === '' ? [] : trimmed.slice(1).split('/');
}

const NO_LIMITS: RouteLimits = {};

function target(table: RouteTable, backendId: string, source: { namespace: string; ingress: string }, host: string, path: string, redirect: boolean, limits: RouteLimits = NO_LIMITS): Target {
  const backend = table.backends.get(backendId) ?? { id: backendId, namespace: source.namespace, service: '', port: '', protocol: 'HTTP', endpoints: [] };
  const upstreamTls = limits.sslSecret === undefined ? undefined : table.upstreamTls?.get(limits.sslSecret);
  return { backend, namespace: source.namespace, ingress: source.ingress, service: backend.service, path, host, redirect, limits, sni: sniOf(limits, backend), upstreamTls };
}

function fallbackTarget(table: RouteTable, f: HostFallback | null | undefined, host: string): Target | null {
  return f ? target(table, f.backend, f.source, host, '', false) : null;
}

/** Builds the lookup structures for a table. Pure; the table is kept for debug views. */
export function compile(table: RouteTable): Matcher {
  const exactHosts = new Map<string, HostRoutes>();
  const wildcardHosts = new Map<string, HostRoutes>();
  let anyHost: HostRoutes | null = null;

  const hostRoutes = (host: string): HostRoutes => {
    if (host === '') return (anyHost ??= { exact: new Map(), prefix: { children: null, best: null }, fallback: null });
    const wild = host.charCodeAt(0) === 42 /* * */;
    const map = wild ? wildcardHosts : exactHosts;
    const key = wild ? host.slice(2) : host;
    let h = map.get(key);
    if (!h) map.set(key, (h = { exact: new Map(), prefix: { children: null, best: null }, fallback: null }));
    return h;
  };

  // routes arrive sorted by host: consecutive routes share their HostRoutes
  let lastHost: string | null = null;
  let h: HostRoutes | null = null;
  for (const r of table.routes) {
    if (r.host !== lastHost) {
      h = hostRoutes(r.host);
      lastHost = r.host;
    }
    addRoute(h as HostRoutes, r, target(table, r.backend, r.source, r.host, r.path, r.redirect, r.limits));
  }
  for (const [host, f] of table.hostFallbacks) hostRoutes(host).fallback = fallbackTarget(table, f, host);

  return { exactHosts, wildcardHosts, anyHost, defaultTarget: fallbackTarget(table, table.defaultBackend, ''), table };
}

function addRoute(h: HostRoutes, r: Route, t: Target): void {
  if (r.match === 'Exact') {
    if (!h.exact.has(r.path)) h.exact.set(r.path, t);
    return;
  }
  let node = h.prefix;
  for (const el of prefixElements(r.path)) {
    node.children ??= new Map();
    let next = node.children.get(el);
    if (!next) node.children.set(el, (next = { children: null, best: null }));
    node = next;
  }
  // `/foo` and `/foo/` end at the same element; the spec gives the longer written path priority.
  if (!node.best || r.path.length > node.best.length) node.best = { target: t, length: r.path.length };
}
