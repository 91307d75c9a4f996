/**
 * compile(table, prepare) -> Matcher: turns the flat route list into per-host lookup structures,
 * so that a request costs a few Map lookups whatever the table's size. `prepare` is the data
 * plane's: it turns each route into what serving it needs (compiled policies, backends, pools),
 * which the router carries without knowing it.
 *
 * Why not find-my-way (docs/architecture.md, bench/router.ts): Ingress matching is element-wise
 * with a length-then-Exact precedence over the *written* path, where `/foo` and `/foo/` are the
 * same prefix but different lengths, which find-my-way's static/parametric/wildcard priority cannot
 * express without merging routes ourselves; one router with host constraints holds at most 31
 * hosts per path; and one router per host measured 3.9x slower than this segment trie.
 */
import { compilePattern, type Pattern } from '../model/regex.js';
import type { Policy, Route, RouteTable, ValueMatch } from '../model/types.js';

/** A value condition, compiled: exact text or a pattern matching the whole value. */
export interface CompiledValueMatch {
  readonly name: string;
  readonly exact: string | null;
  readonly pattern: Pattern | null;
}

/** What a route asks of a request beyond host and path; most routes ask nothing (null). */
export interface Conditions {
  /** Regex routes: the pattern, anchored at the start of the path. */
  readonly pattern: Pattern | null;
  /** The route's policies read the pattern's captures: run the capturing engine (else only a match test, 4x cheaper). */
  readonly captures: boolean;
  readonly method: string | null;
  readonly headers: readonly CompiledValueMatch[] | null;
  readonly query: readonly CompiledValueMatch[] | null;
}

/**
 * A route as the router holds it, with the data plane's prepared action. Its precedence is read
 * from its route (lengthOf, lengthFirst) rather than kept: two fields less per route, 0.8 MiB at
 * 10,000 Ingresses.
 */
export interface Candidate<A> {
  readonly route: Route;
  readonly action: A;
  readonly cond: Conditions | null;
}

/**
 * An action that stands for its own candidate when its route asks nothing of a request beyond
 * host and path: it holds that route, reads as its own `action`, and has no conditions. The data
 * plane's compiled targets are (proxy/route.ts): one object less per route, 48 bytes, 2.3 MiB at
 * 10,000 Ingresses.
 */
export interface OwnCandidate {
  readonly route: Route;
  readonly action: OwnCandidate;
  readonly cond: null;
}

const standsAlone = (action: unknown, route: Route): boolean => {
  const a = action as Partial<OwnCandidate> | null;
  return typeof a === 'object' && a !== null && a.action === a && a.route === route && a.cond === null;
};

/** The written path's length: the precedence among Prefix and Regex routes. */
export const lengthOf = <A>(c: Candidate<A>): number => c.route.path.length;

/**
 * Ingress precedence is the written length first, then Exact over Prefix (so a Prefix `/foo/`
 * beats an Exact `/foo` for `/foo`); the Gateway API puts every Exact match first.
 */
export const lengthFirst = <A>(c: Candidate<A>): boolean => c.route.match === 'Prefix' && c.route.source.kind === 'Ingress';

/**
 * The candidates for one place (a host's Exact path, a Prefix node), in precedence order: the
 * candidate itself while it is the only one (nearly always; a list per route cost 56 bytes each,
 * 2.8 MiB at 10,000 Ingresses), a list once several routes differ only by their conditions.
 */
export type Candidates<A> = Candidate<A> | Candidate<A>[];

/** The first (best) of some candidates. */
export const firstOf = <A>(cs: Candidates<A>): Candidate<A> => (Array.isArray(cs) ? (cs[0] as Candidate<A>) : cs);

/**
 * A node's children by path element: up to SMALL_CHILDREN as one flat array of element, node,
 * element, node… searched in order, more in a Map. Most nodes have a handful of children; a Map
 * and its hash table cost 180–520 bytes against 64–176 for the array (12,000 nodes with children
 * at 10,000 Ingresses: about 2 MiB), and a scan of a few short strings is as quick as a hash.
 */
export type PrefixChildren<A> = Map<string, PrefixChild<A>> | (string | PrefixChild<A>)[];
const SMALL_CHILDREN = 8;

/**
 * A child in the compiled trie: a node, or a leaf folded into its candidates. Most nodes are
 * leaves (the last element of a path: 30,000 of 42,000 nodes at 10,000 Ingresses); once the trie
 * is built each is replaced by its candidates ({@link foldLeaves}): 40 bytes less per leaf.
 */
export type PrefixChild<A> = PrefixNode<A> | Candidates<A>;

/** Whether a child is a node (a folded leaf is a candidate or a list of them, which have no `children`). */
export const isNode = <A>(c: PrefixChild<A>): c is PrefixNode<A> => (c as Partial<PrefixNode<A>>).children !== undefined;

/** The child of a node for a path element, if any. */
export function childOf<A>(children: PrefixChildren<A>, el: string): PrefixChild<A> | undefined {
  if (!Array.isArray(children)) return children.get(el);
  for (let i = 0; i < children.length; i += 2) if (children[i] === el) return children[i + 1] as PrefixChild<A>;
  return undefined;
}

/** The node's child for `el`, added if missing (an exact-size array: no spare capacity kept). Before folding: every child is a node. */
function childFor<A>(node: PrefixNode<A>, el: string): PrefixNode<A> {
  const children = node.children;
  const known = children === null ? undefined : (childOf(children, el) as PrefixNode<A> | undefined);
  if (known !== undefined) return known;
  const next: PrefixNode<A> = { children: null, routes: null };
  if (children === null) node.children = [el, next];
  else if (!Array.isArray(children)) children.set(el, next);
  else if (children.length < 2 * SMALL_CHILDREN) node.children = children.concat(el, next);
  else {
    const m = new Map<string, PrefixChild<A>>();
    for (let i = 0; i < children.length; i += 2) m.set(children[i] as string, children[i + 1] as PrefixNode<A>);
    node.children = m.set(el, next);
  }
  return next;
}

/** Replaces every leaf below a built node (no children, some candidates) by its candidates. */
function foldLeaves<A>(node: PrefixNode<A>): void {
  const children = node.children;
  if (children === null) return;
  const fold = (c: PrefixChild<A>): PrefixChild<A> => {
    if (!isNode(c)) return c;
    if (c.children === null && c.routes !== null) return c.routes;
    foldLeaves(c);
    return c;
  };
  if (Array.isArray(children)) for (let i = 1; i < children.length; i += 2) children[i] = fold(children[i] as PrefixChild<A>);
  else for (const [el, c] of children) children.set(el, fold(c));
}

/** Prefix rules of one host, one node per path element (a leaf folded into its candidates once built). */
export interface PrefixNode<A> {
  children: PrefixChildren<A> | null;
  /** Routes whose path ends at this element, longest written path first, then in table order. */
  routes: Candidates<A> | null;
}

export interface HostRoutes<A> {
  readonly exact: Map<string, Candidates<A>>;
  readonly prefix: PrefixNode<A>;
  /** Regex routes, longest written pattern first (then, for Ingress ones, the greater pattern). */
  regex: Candidate<A>[] | null;
  /** Any regex route or condition on this host: matching takes the general path. */
  general: boolean;
  fallback: Candidate<A> | null;
}

export interface Matcher<A> {
  readonly exactHosts: ReadonlyMap<string, HostRoutes<A>>;
  /** Keyed by the wildcard's suffix: `*.example.com` is stored under `example.com`. One label, as the Ingress spec says. */
  readonly wildcardHosts: ReadonlyMap<string, HostRoutes<A>>;
  /** Gateway API wildcards again, for hosts two or more labels below the suffix (they match one or more labels). */
  readonly deepWildcardHosts: ReadonlyMap<string, HostRoutes<A>>;
  readonly anyHost: HostRoutes<A> | null;
  readonly defaultTarget: Candidate<A> | null;
  readonly table: RouteTable;
}

/** Splits a Prefix path into its elements, ignoring one trailing slash ("/" has none). */
export function prefixElements(path: string): string[] {
  const trimmed = path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed === '' ? [] : trimmed.slice(1).split('/');
}

const values = (list: readonly ValueMatch[] | undefined, lower: boolean): readonly CompiledValueMatch[] | null =>
  list === undefined || list.length === 0 ? null : list.map((v) => ({ name: lower ? v.name.toLowerCase() : v.name, exact: v.type === 'Exact' ? v.value : null, pattern: v.type === 'RegularExpression' ? compilePattern(v.value, 'full') : null }));

function candidate<A>(route: Route, action: A): Candidate<A> {
  const c = route.conditions;
  const pattern = route.match === 'Regex' ? compilePattern(route.path, 'start', route.ignoreCase === true) : null;
  const method = c?.method ?? null;
  const headers = values(c?.headers, true);
  const query = values(c?.query, false);
  if (pattern === null && method === null && headers === null && query === null && standsAlone(action, route)) return action as unknown as Candidate<A>;
  return {
    route,
    action,
    cond: pattern === null && method === null && headers === null && query === null ? null : { pattern, captures: route.match === 'Regex' && readsCaptures(route.policies), method, headers, query },
  };
}

/** Whether a policy reads a Regex route's captures: a path template with `$1`…`$9`. */
const readsCaptures = (policies: readonly Policy[]): boolean => policies.some((p) => (p.kind === 'rewrite' || p.kind === 'redirect') && /\$[1-9]/.test((p.path?.type === 'template' ? p.path.value : '') + (p.kind === 'rewrite' ? (p.forwardedPrefix ?? '') : '')));

const emptyHost = <A>(): HostRoutes<A> => ({ exact: new Map(), prefix: { children: null, routes: null }, regex: null, general: false, fallback: null });

/** Whether a route is served on a listener port: Gateway API routes on their listeners' ports, Ingress routes on 80 and 443. */
export const servedOn = (r: Route, port: number): boolean => (r.ports === undefined ? port === 80 || port === 443 : r.ports.includes(port));

/**
 * Builds the lookup structures for a table, for the routes served on `port` (80: the plain HTTP
 * listener, 443: HTTPS; omitted: every route). Pure apart from `prepare`; the table is kept for
 * debug views.
 */
export function compile<A>(table: RouteTable, prepare: (route: Route) => A, port?: number): Matcher<A> {
  const exactHosts = new Map<string, HostRoutes<A>>();
  const wildcardHosts = new Map<string, HostRoutes<A>>();
  const deepWildcardHosts = new Map<string, HostRoutes<A>>();
  let anyHost: HostRoutes<A> | null = null;
  const ingressPort = port === undefined || port === 80 || port === 443;

  const hostRoutes = (host: string, map?: Map<string, HostRoutes<A>>): HostRoutes<A> => {
    if (host === '') return (anyHost ??= emptyHost());
    const wild = host.charCodeAt(0) === 42; /* * */
    const m = map ?? (wild ? wildcardHosts : exactHosts);
    const key = wild ? host.slice(2) : host;
    let h = m.get(key);
    if (!h) m.set(key, (h = emptyHost()));
    return h;
  };

  // routes arrive sorted by host: consecutive routes share their HostRoutes
  let lastHost: string | null = null;
  let h: HostRoutes<A> | null = null;
  for (const r of table.routes) {
    if (port !== undefined && !servedOn(r, port)) continue;
    if (r.host !== lastHost) {
      h = hostRoutes(r.host);
      lastHost = r.host;
    }
    const c = candidate(r, prepare(r));
    addRoute(h as HostRoutes<A>, c);
    // a Gateway API wildcard also covers hosts several labels down
    if (r.ports !== undefined && r.host.startsWith('*.')) addRoute(hostRoutes(r.host, deepWildcardHosts), c);
  }
  if (ingressPort) for (const [host, f] of table.hostFallbacks) hostRoutes(host).fallback = candidate(f, prepare(f));
  for (const hosts of [exactHosts, wildcardHosts, deepWildcardHosts]) for (const hr of hosts.values()) foldLeaves(hr.prefix);
  const any = anyHost as HostRoutes<A> | null; // assigned in hostRoutes
  if (any !== null) foldLeaves(any.prefix);
  const defaultTarget = ingressPort && table.defaultBackend ? candidate(table.defaultBackend, prepare(table.defaultBackend)) : null;
  return { exactHosts, wildcardHosts, deepWildcardHosts, anyHost, defaultTarget, table };
}

/** Inserts keeping the list longest-first; equal lengths keep table order (the translator's precedence). */
function insert<A>(list: Candidate<A>[], c: Candidate<A>): void {
  let i = list.length;
  while (i > 0 && lengthOf(list[i - 1] as Candidate<A>) < lengthOf(c)) i--;
  list.splice(i, 0, c);
}

/**
 * Regex routes: longest first; of equal length, Ingress patterns in descending string order, as
 * ingress-nginx sorts its locations (the first `~*` location that matches wins in nginx).
 */
function insertRegex<A>(list: Candidate<A>[], c: Candidate<A>): void {
  const ingress = c.route.source.kind === 'Ingress';
  let i = list.length;
  for (; i > 0; i--) {
    const prev = list[i - 1] as Candidate<A>;
    if (lengthOf(prev) > lengthOf(c) || (lengthOf(prev) === lengthOf(c) && !(ingress && prev.route.source.kind === 'Ingress' && prev.route.path < c.route.path))) break;
  }
  list.splice(i, 0, c);
}

function addRoute<A>(h: HostRoutes<A>, c: Candidate<A>): void {
  if (c.cond !== null && (c.cond.method !== null || c.cond.headers !== null || c.cond.query !== null)) h.general = true;
  const r = c.route;
  if (r.match === 'Exact') {
    const list = h.exact.get(r.path);
    if (list === undefined) h.exact.set(r.path, c);
    else if (Array.isArray(list)) list.push(c);
    else h.exact.set(r.path, [list, c]);
    return;
  }
  if (r.match === 'Regex') {
    h.general = true;
    if (h.regex === null) h.regex = [c];
    else insertRegex(h.regex, c);
    return;
  }
  let node = h.prefix;
  for (const el of prefixElements(r.path)) node = childFor(node, el);
  // `/foo` and `/foo/` end at the same element; the spec gives the longer written path priority.
  const at = node.routes;
  if (at === null) node.routes = c;
  else if (Array.isArray(at)) insert(at, c);
  else insert((node.routes = [at]), c);
}
