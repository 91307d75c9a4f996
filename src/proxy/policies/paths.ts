/** Path replacements shared by redirects and rewrites (Gateway API HTTPPathModifier). Pure. */
import type { PathRewrite } from '../../model/types.js';
import type { PolicyExchange } from './types.js';

/**
 * Replaces a path: the whole of it, or the prefix the route matched, element-wise with its
 * trailing slash ignored (the HTTPPathModifier table: `/foo/bar` with prefix `/foo` and `/xyz`
 * gives `/xyz/bar`; with `` gives `/bar`; `/foo` with `/` gives `/`).
 */
export function replacePath(path: string, r: PathRewrite): string {
  if (r.type === 'full') return r.value;
  const prefix = r.prefix.endsWith('/') ? r.prefix.slice(0, -1) : r.prefix;
  const rest = path.slice(prefix.length); // '' or starts with '/'
  const base = r.value.endsWith('/') ? r.value.slice(0, -1) : r.value;
  const out = base + rest;
  return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
}

/** Splits an origin-form target into its path and its `?query` (or ''). */
export function splitTarget(target: string): [path: string, query: string] {
  const q = target.indexOf('?');
  return q === -1 ? [target, ''] : [target.slice(0, q), target.slice(q)];
}

/**
 * The path to rewrite: the request's own bytes (so encoded characters stay encoded), unless it
 * was normalised on the way to matching (dot segments, encoded characters) and no longer starts
 * with the prefix the route matched; then the decoded path.
 */
export function rawOrDecoded(ex: Pick<PolicyExchange, 'path' | 'forwardPath'>, r: PathRewrite): string {
  const [raw] = splitTarget(ex.forwardPath);
  if (r.type === 'full') return raw;
  const prefix = r.prefix.endsWith('/') ? r.prefix.slice(0, -1) : r.prefix;
  return raw.startsWith(prefix) ? raw : ex.path;
}
