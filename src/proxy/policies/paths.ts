/**
 * Path replacements shared by redirects and rewrites (Gateway API HTTPPathModifier, ingress-nginx
 * rewrite-target templates). Pure.
 */
import type { PathRewrite } from '../../model/types.js';
import { targetPath } from '../request-target.js';
import type { PolicyExchange } from './types.js';

/**
 * Replaces a path: the whole of it, or the prefix the route matched, element-wise with its
 * trailing slash ignored (the HTTPPathModifier table: `/foo/bar` with prefix `/foo` and `/xyz`
 * gives `/xyz/bar`; with `` gives `/bar`; `/foo` with `/` gives `/`), or with a template filled
 * from the route's Regex captures (policies compile a template once: {@link parseTemplate}).
 */
export function replacePath(path: string, r: PathRewrite, captures: readonly string[] | null = null): string {
  if (r.type === 'full') return r.value;
  if (r.type === 'template') return templatePath(parseTemplate(r.value), captures);
  const prefix = r.prefix.endsWith('/') ? r.prefix.slice(0, -1) : r.prefix;
  const rest = path.slice(prefix.length); // '' or starts with '/'
  const base = r.value.endsWith('/') ? r.value.slice(0, -1) : r.value;
  const out = base + rest;
  return out === '' ? '/' : out.startsWith('/') ? out : `/${out}`;
}

/**
 * The path to rewrite: the request's own bytes (so encoded characters stay encoded), unless it
 * was normalised on the way to matching (dot segments, encoded characters) and no longer starts
 * with the prefix the route matched; then the decoded path.
 */
export function rawOrDecoded(ex: Pick<PolicyExchange, 'path' | 'forwardPath'>, r: PathRewrite): string {
  const raw = targetPath(ex.forwardPath);
  if (r.type !== 'prefix') return raw;
  const prefix = r.prefix.endsWith('/') ? r.prefix.slice(0, -1) : r.prefix;
  return raw.startsWith(prefix) ? raw : ex.path;
}

/** A template split once: literal strings and capture numbers (1-9), in order. */
export type Template = readonly (string | number)[];

/** Splits a template at `$1`…`$9`; any other `$` is literal (the translator refuses those). */
export function parseTemplate(t: string): Template {
  const out: (string | number)[] = [];
  let lit = '';
  for (let i = 0; i < t.length; i++) {
    const c = t.charCodeAt(i);
    const d = t.charCodeAt(i + 1) - 48;
    if (c === 36 /* $ */ && d >= 1 && d <= 9) {
      if (lit !== '') out.push(lit);
      lit = '';
      out.push(d);
      i++;
    } else lit += t[i];
  }
  if (lit !== '') out.push(lit);
  return out;
}

/** Fills a template with the captures ($0 first; a missing group is empty, as in nginx). */
export function fill(t: Template, captures: readonly string[] | null): string {
  if (t.length === 1 && typeof t[0] === 'string') return t[0];
  let s = '';
  for (const part of t) s += typeof part === 'string' ? part : (captures?.[part] ?? '');
  return s;
}

/** Characters that cannot go into a request target as they are: controls, space, `"#%<>?\^`{|}`, DEL and non-ASCII. */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\x00-\x20"#%<>?\\^`{|}\x7f-\uffff]/;
const HEX = '0123456789ABCDEF';

/**
 * Percent-encodes what {@link UNSAFE} names (non-ASCII as its UTF-8 bytes); never throws. Captures
 * come from the decoded path, so what a client sent as `%XX` goes back out as `%XX`.
 */
export function escapePath(s: string): string {
  if (!UNSAFE.test(s)) return s;
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const safe = b > 0x20 && b < 0x7f && b !== 0x22 && b !== 0x23 && b !== 0x25 && b !== 0x3c && b !== 0x3e && b !== 0x3f && b !== 0x5c && b !== 0x5e && b !== 0x60 && b !== 0x7b && b !== 0x7c && b !== 0x7d;
    out += safe ? String.fromCharCode(b) : `%${HEX[b >> 4] as string}${HEX[b & 15] as string}`;
  }
  return out;
}

/** A filled template as a path: escaped, always absolute. */
export function templatePath(t: Template, captures: readonly string[] | null): string {
  const path = escapePath(fill(t, captures));
  return path.charCodeAt(0) === 47 /* / */ ? path : `/${path}`;
}
