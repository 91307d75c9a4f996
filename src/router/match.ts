/**
 * match(matcher, host, path): host first (exact, then one-label wildcard, then any-host rules),
 * then the longest matching written path, Exact before Prefix on a tie. Per-request hot path.
 */
import type { HostRoutes, Matcher, Target } from './compile.js';

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

/** The host rules that apply to a request host: exact, then a wildcard one label up, then any-host. */
export function hostRoutes(m: Matcher, host: string): HostRoutes | null {
  const exact = m.exactHosts.get(host);
  if (exact) return exact;
  const dot = host.indexOf('.');
  if (dot > 0) {
    const wild = m.wildcardHosts.get(host.slice(dot + 1));
    if (wild) return wild;
  }
  return m.anyHost;
}

/** Finds the route for a normalised request path within one host's rules. */
export function matchPath(h: HostRoutes, path: string): Target | null {
  let node = h.prefix;
  let best = node.best;
  let i = 1;
  const len = path.length;
  while (node.children !== null && i <= len) {
    let j = path.indexOf('/', i);
    if (j === -1) j = len;
    const next = node.children.get(path.slice(i, j));
    if (next === undefined) break;
    node = next;
    if (node.best !== null) best = node.best;
    i = j + 1;
  }
  const exact = h.exact.get(path);
  if (exact !== undefined && (best === null || len >= best.length)) return exact;
  return best === null ? null : best.target;
}

/** The target for a request, or null when the built-in default backend (404) should answer. */
export function match(m: Matcher, host: string, path: string): Target | null {
  const h = hostRoutes(m, host);
  if (h === null) return m.defaultTarget;
  return matchPath(h, path) ?? h.fallback ?? m.defaultTarget;
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
