/**
 * match(matcher, host, path, request): host first (exact, then one-label wildcard, then any-host
 * rules), then Exact paths (after an Ingress Prefix written longer than the path: the Ingress
 * spec orders by length first), then Prefix and Regex routes longest written path first (Prefix
 * before Regex on a tie), each route's conditions (method, headers, query) checked in order;
 * then the host's fallback, then the default backend. Per-request hot path: a host without regex
 * routes or conditions takes the original trie walk and never looks at headers.
 */
import { childOf, firstOf, isNode, lengthFirst, lengthOf, type Candidate, type Candidates, type CompiledValueMatch, type HostRoutes, type Matcher, type PrefixNode } from './compile.js';

/** What conditions and regex routes read from a request; implemented by the data plane, lazily. */
export interface MatchInput {
  readonly method: string;
  /** A header's value (lower-case name); several fields joined with ", ". */
  header(name: string): string | undefined;
  /** A query parameter's first value (decoded), or undefined. */
  query(name: string): string | undefined;
  /** Set by match when a Regex route whose policies read them wins: its capture groups, $0 first. */
  captures: string[] | null;
}

/** For callers without a request (debug views, tests): no headers, no query, GET. */
export const NO_INPUT: MatchInput = { method: 'GET', header: () => undefined, query: () => undefined, captures: null };

/**
 * The routing host from a Host header: lower-case, without port or trailing dot.
 * Returns '' for a missing or empty header (only any-host rules can match it).
 */
export function hostOf(header: string | undefined): string {
  if (header === undefined || header === '') return '';
  let end = header.length;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf(']');
    return (close > 0 ? header.slice(0, close + 1) : header).toLowerCase();
  }
  const colon = header.lastIndexOf(':');
  if (colon >= 0) end = colon;
  if (end > 0 && header.charCodeAt(end - 1) === 46 /* . */) end--;
  const host = end === header.length ? header : header.slice(0, end);
  return host.toLowerCase();
}

/**
 * The host rules that apply to a request host: exact, then a wildcard one label up, then (Gateway
 * API wildcards only) the most specific wildcard further up, then any-host.
 */
export function hostRoutes<A>(m: Matcher<A>, host: string): HostRoutes<A> | null {
  const exact = m.exactHosts.get(host);
  if (exact) return exact;
  let dot = host.indexOf('.');
  if (dot > 0) {
    const wild = m.wildcardHosts.get(host.slice(dot + 1));
    if (wild) return wild;
    if (m.deepWildcardHosts.size > 0) {
      for (dot = host.indexOf('.', dot + 1); dot !== -1; dot = host.indexOf('.', dot + 1)) {
        const deep = m.deepWildcardHosts.get(host.slice(dot + 1));
        if (deep) return deep;
      }
    }
  }
  return m.anyHost;
}

function valueOk(v: CompiledValueMatch, actual: string | undefined): boolean {
  if (actual === undefined) return false;
  return v.exact !== null ? actual === v.exact : (v.pattern as NonNullable<CompiledValueMatch['pattern']>).test(actual);
}

/** Whether a route's conditions hold for the request; sets the captures of a Regex route. */
function accepts<A>(c: Candidate<A>, path: string, input: MatchInput): boolean {
  const k = c.cond;
  if (k === null) return true;
  if (k.method !== null && k.method !== input.method) return false;
  if (k.headers !== null) for (const h of k.headers) if (!valueOk(h, input.header(h.name))) return false;
  if (k.query !== null) for (const q of k.query) if (!valueOk(q, input.query(q.name))) return false;
  if (k.pattern !== null) {
    if (!k.captures) return k.pattern.test(path);
    const groups = k.pattern.exec(path);
    if (groups === null) return false;
    input.captures = groups;
  }
  return true;
}

/** The i-th of some candidates (no list is built for a single one on the request path). */
const nth = <A>(cs: Candidates<A>, i: number): Candidate<A> => (Array.isArray(cs) ? (cs[i] as Candidate<A>) : cs);
const count = <A>(cs: Candidates<A>): number => (Array.isArray(cs) ? cs.length : 1);

/**
 * Walks the Prefix trie along a path: returns the candidates of the deepest node that has any,
 * and (when `nodes` is given) collects the candidates of every node that has some, shallowest first.
 */
function walk<A>(root: PrefixNode<A>, path: string, nodes: Candidates<A>[] | null): Candidates<A> | null {
  let node = root;
  let best = node.routes;
  if (best !== null) nodes?.push(best);
  let i = 1;
  const len = path.length;
  while (node.children !== null && i <= len) {
    let j = path.indexOf('/', i);
    if (j === -1) j = len;
    const next = childOf(node.children, path.slice(i, j));
    if (next === undefined) break;
    if (!isNode(next)) {
      // a folded leaf: its candidates, nothing below
      nodes?.push(next);
      return next;
    }
    node = next;
    if (node.routes !== null) {
      best = node.routes;
      nodes?.push(best);
    }
    i = j + 1;
  }
  return best;
}

/** Finds the route for a normalised request path within one host's rules. */
export function matchPath<A>(h: HostRoutes<A>, path: string, input: MatchInput): Candidate<A> | null {
  if (h.general) return matchGeneral(h, path, input);
  const best = walk(h.prefix, path, null);
  const b = best === null ? null : firstOf(best);
  const exact = h.exact.get(path);
  if (exact !== undefined) return b !== null && lengthFirst(b) && lengthOf(b) > path.length ? b : firstOf(exact);
  return b;
}

/** Hosts with conditions or regex routes: every candidate in precedence order until one accepts. */
function matchGeneral<A>(h: HostRoutes<A>, path: string, input: MatchInput): Candidate<A> | null {
  const nodes: Candidates<A>[] = [];
  walk(h.prefix, path, nodes);
  const len = path.length;
  const exact = h.exact.get(path);
  if (exact !== undefined) {
    // an Ingress Prefix written longer than the path (`/foo/` for `/foo`) comes before Exact
    for (let k = nodes.length - 1; k >= 0; k--) {
      const cs = nodes[k] as Candidates<A>;
      for (let i = 0, n = count(cs); i < n; i++) {
        const c = nth(cs, i);
        if (lengthFirst(c) && lengthOf(c) > len && accepts(c, path, input)) return c;
      }
    }
    for (let i = 0, n = count(exact); i < n; i++) if (accepts(nth(exact, i), path, input)) return nth(exact, i);
  }
  const regex = h.regex;
  let ri = 0;
  // deeper nodes hold longer written paths: one merge with the regex list, longest first
  for (let k = nodes.length - 1; k >= 0; k--) {
    const cs = nodes[k] as Candidates<A>;
    for (let i = 0, n = count(cs); i < n; i++) {
      const c = nth(cs, i);
      if (regex !== null) {
        while (ri < regex.length && lengthOf(regex[ri] as Candidate<A>) > lengthOf(c)) {
          const r = regex[ri++] as Candidate<A>;
          if (accepts(r, path, input)) return r;
        }
      }
      if (accepts(c, path, input)) return c;
    }
  }
  if (regex !== null) for (; ri < regex.length; ri++) if (accepts(regex[ri] as Candidate<A>, path, input)) return regex[ri] as Candidate<A>;
  return null;
}

/** The route for a request, or null when the built-in default backend (404) should answer. */
export function match<A>(m: Matcher<A>, host: string, path: string, input: MatchInput = NO_INPUT): Candidate<A> | null {
  const h = hostRoutes(m, host);
  if (h === null) return m.defaultTarget;
  return matchPath(h, path, input) ?? h.fallback ?? m.defaultTarget;
}

/**
 * The path to match from a request target: the part before `?`/`#`, percent-decoded, with
 * `.`/`..` segments resolved and repeated slashes merged (as nginx matches locations), so that
 * `/public/../admin` is matched as `/admin`. The original target is what gets forwarded.
 * Returns null for a target that cannot be a path (bad escapes, not origin- or absolute-form).
 */
export function pathOf(url: string): string | null {
  let start = 0;
  if (url.charCodeAt(0) !== 47 /* / */) {
    // absolute-form (RFC 9112 3.2.2): skip scheme://authority
    const scheme = url.indexOf('://');
    if (scheme <= 0) return null;
    start = url.indexOf('/', scheme + 3);
    if (start === -1) return '/';
  }
  let end = url.length;
  for (let k = start; k < end; k++) {
    const c = url.charCodeAt(k);
    if (c === 63 /* ? */ || c === 35 /* # */) end = k;
  }
  const raw = start === 0 && end === url.length ? url : url.slice(start, end);
  if (!raw.includes('%') && !raw.includes('/.') && !raw.includes('//')) return raw;
  return normalize(raw);
}

function normalize(raw: string): string | null {
  let decoded: string;
  try {
    decoded = raw.includes('%') ? decodeURIComponent(raw) : raw;
  } catch {
    return null;
  }
  const out: string[] = [];
  const parts = decoded.split('/');
  for (let k = 1; k < parts.length; k++) {
    const seg = parts[k] as string;
    const last = k === parts.length - 1;
    if (seg === '..') {
      out.pop();
      if (last) out.push('');
    } else if (seg === '.') {
      if (last) out.push('');
    } else if (seg !== '' || last) {
      out.push(seg);
    }
  }
  return '/' + out.join('/');
}
