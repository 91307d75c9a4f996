/**
 * The request target (RFC 9112 3.2), split once per request into what routing needs and what is
 * forwarded:
 * - `path`: percent-decoded and normalised (router/match.ts pathOf), for matching only;
 * - `forward`: the target's own origin-form bytes (path and query exactly as the client sent
 *   them), the only thing that ever reaches the upstream request line;
 * - `authority`: the host of an absolute-form target, which wins over the Host header (3.2.2).
 * Asterisk-form and authority-form targets are not routable here (null: 400).
 * Every split of a target into its path and query goes through queryStart and its slices.
 */
import { pathOf } from '../router/match.js';

export interface RequestTarget {
  /** Decoded, dot-segments resolved, slashes merged: for matching, never forwarded. */
  readonly path: string;
  /** Origin-form as received: `/path?query`. */
  readonly forward: string;
  /** The authority of an absolute-form target (`host[:port]`), else undefined. */
  readonly authority: string | undefined;
}

/**
 * Where an origin-form target's query starts: the index of its first `?`, else its length. The
 * parts are then slices that allocate nothing when there is no query (V8 hands back the string
 * itself for a whole-string slice and '' for an empty one): the path is `slice(0, i)`, the query
 * with its `?` is `slice(i)`, the query alone is `slice(i + 1)`. A target never carries a fragment
 * (RFC 9112 3.2.1), so `#` is an ordinary byte here; a later `?` belongs to the query (RFC 3986 3.4).
 */
export function queryStart(target: string): number {
  const q = target.indexOf('?');
  return q === -1 ? target.length : q;
}

/** The path of a target (before its first `?`): the target itself when it has no query. */
export const targetPath = (target: string): string => target.slice(0, queryStart(target));

/** The query of a target with its `?` (`?a=1`; `?` for a bare one), '' without one: what a rewrite or redirect keeps. */
export const targetQuery = (target: string): string => target.slice(queryStart(target));

/** The query of a target without its `?` ('' without one, or for a bare `?`): nginx's `$args`. */
export const queryOf = (target: string): string => target.slice(queryStart(target) + 1);

/** A host with an optional port: a DNS-ish name, an IPv4 address or a bracketed IPv6 one. */
const AUTHORITY = /^(?:[A-Za-z0-9_](?:[-A-Za-z0-9_]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[-A-Za-z0-9_]*[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::\d{0,5})?$/;

/** Bytes that can never be part of a target on the wire: controls, space, DEL. */
export function unsafeTarget(t: string): boolean {
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (c <= 32 || c === 127) return true;
  }
  return false;
}

/** Splits a request target; null when it is not origin- or absolute-form, or cannot be forwarded safely. */
export function parseTarget(url: string): RequestTarget | null {
  if (url.charCodeAt(0) === 47 /* / */) {
    if (unsafeTarget(url)) return null;
    const path = pathOf(url);
    return path === null ? null : { path, forward: url, authority: undefined };
  }
  // absolute-form: http(s)://authority[/path][?query]
  const sep = url.indexOf('://');
  if (sep <= 0) return null;
  const scheme = url.slice(0, sep).toLowerCase();
  if (scheme !== 'http' && scheme !== 'https') return null;
  let end = sep + 3;
  while (end < url.length) {
    const c = url.charCodeAt(end);
    if (c === 47 || c === 63 || c === 35) break; // / ? #
    end++;
  }
  const authority = url.slice(sep + 3, end);
  // userinfo is an error in http(s) URIs (RFC 9110 4.2.4); an empty host has nothing to route by
  if (authority === '' || !AUTHORITY.test(authority)) return null;
  let rest = url.slice(end);
  if (rest === '' || rest.charCodeAt(0) !== 47) rest = `/${rest}`;
  if (unsafeTarget(rest)) return null;
  const path = pathOf(rest);
  return path === null ? null : { path, forward: rest, authority };
}
