/**
 * nginx's proxy_redirect, proxy_cookie_domain and proxy_cookie_path (ingress-nginx's
 * proxy-redirect-from/-to, proxy-cookie-domain, proxy-cookie-path), applied to the head of the
 * pod's answer, never to Portico's own:
 * - `Location`, and the URL after `url=` in `Refresh`: a value that starts with `from`
 *   (case-sensitive) gets `to` in its place;
 * - `Set-Cookie`: a `Domain` attribute equal to `from` (case-blind, a leading dot ignored) becomes
 *   `to`; a `Path` attribute that starts with `from` (case-sensitive) gets `to` in its place.
 * Both values may hold nginx variables; one that expands to a control character leaves the header
 * as the pod sent it.
 */
import type { ResponseRewritePolicy } from '../../model/types.js';
import { compileValue, expand, type Value } from './template.js';
import type { PolicyExchange, ResponsePolicy } from './types.js';

interface Pair {
  readonly from: Value;
  readonly to: Value;
}

const pairOf = (p: { readonly from: string; readonly to: string } | undefined): Pair | null => (p === undefined ? null : { from: compileValue(p.from), to: compileValue(p.to) });

/** `value` with its prefix `from` (at `at`) replaced by `to`, or null when it does not start with it. */
function replacePrefix(value: string, at: number, p: Pair, ex: PolicyExchange): string | null {
  const from = expand(p.from, ex);
  const to = expand(p.to, ex);
  if (from === null || to === null || from === '' || !value.startsWith(from, at)) return null;
  return value.slice(0, at) + to + value.slice(at + from.length);
}

/** Where the URL of a Refresh value starts (after `url=`, any case), or -1. */
function refreshUrl(value: string): number {
  const i = value.toLowerCase().indexOf('url=');
  return i === -1 ? -1 : i + 4;
}

const bareDomain = (d: string): string => (d.startsWith('.') ? d.slice(1) : d).toLowerCase();

/** One Set-Cookie value with its Domain and Path attributes rewritten (the name=value pair is never touched). */
function rewriteCookie(value: string, domain: Pair | null, path: Pair | null, ex: PolicyExchange): string {
  const parts = value.split(';');
  let changed = false;
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i] as string;
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    const name = part.slice(0, eq).trim().toLowerCase();
    const raw = part.slice(eq + 1);
    const start = eq + 1 + raw.length - raw.trimStart().length;
    const v = part.slice(start).trimEnd();
    if (name === 'domain' && domain !== null) {
      const from = expand(domain.from, ex);
      const to = expand(domain.to, ex);
      if (from !== null && to !== null && bareDomain(v) === bareDomain(from)) {
        parts[i] = part.slice(0, start) + to;
        changed = true;
      }
    } else if (name === 'path' && path !== null) {
      const next = replacePrefix(v, 0, path, ex);
      if (next !== null) {
        parts[i] = part.slice(0, start) + next;
        changed = true;
      }
    }
  }
  return changed ? parts.join(';') : value;
}

/** Compiles the policy into a response-phase editor. */
export function responseRewrite(p: ResponseRewritePolicy): ResponsePolicy {
  const redirect = pairOf(p.redirect);
  const domain = pairOf(p.cookieDomain);
  const path = pairOf(p.cookiePath);
  return {
    edit(_status, h, ex, proxied) {
      if (!proxied) return;
      for (let i = 0; i + 1 < h.length; i += 2) {
        const name = (h[i] as string).toLowerCase();
        const value = h[i + 1] as string;
        let next: string | null = null;
        if (name === 'location' && redirect !== null) next = replacePrefix(value, 0, redirect, ex);
        else if (name === 'refresh' && redirect !== null) {
          const at = refreshUrl(value);
          if (at !== -1) next = replacePrefix(value, at, redirect, ex);
        } else if (name === 'set-cookie' && (domain !== null || path !== null)) next = rewriteCookie(value, domain, path, ex);
        if (next !== null) h[i + 1] = next;
      }
    },
  };
}

/** Two response editors as one (either may be null). */
export function chainResponse(a: ResponsePolicy | null, b: ResponsePolicy | null): ResponsePolicy | null {
  if (a === null) return b;
  if (b === null) return a;
  return {
    edit(status, h, ex, proxied) {
      a.edit(status, h, ex, proxied);
      b.edit(status, h, ex, proxied);
    },
  };
}
