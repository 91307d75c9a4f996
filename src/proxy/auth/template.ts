/**
 * Expands nginx variables (model/vars.ts) for one request. Compiled once per table into a list
 * of small functions; a template without variables is its text.
 */
import type { TemplatePart } from '../../model/vars.js';
import { parseTemplate } from '../../model/vars.js';
import type { PolicyExchange } from '../policies/types.js';

export type Expand = (ex: PolicyExchange) => string;

/** `$host`: the routing authority without its port, lower-case (nginx's $host). */
export function hostOf(ex: PolicyExchange): string {
  let h = ex.host ?? '';
  if (h.startsWith('[')) h = h.slice(0, h.indexOf(']') + 1);
  else {
    const c = h.lastIndexOf(':');
    if (c !== -1) h = h.slice(0, c);
  }
  return h.toLowerCase();
}

/** nginx's set_escape_uri (set-misc): every byte but the unreserved ones percent-encoded, upper-case hex. */
export function escapeUri(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const unreserved = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x2d || b === 0x2e || b === 0x5f || b === 0x7e;
    out += unreserved ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The raw value of a query argument by name, case-blind, as nginx's $arg_ (not decoded). */
function arg(target: string, name: string): string {
  const q = target.indexOf('?');
  if (q === -1) return '';
  const want = name.toLowerCase();
  for (const pair of target.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=');
    const k = eq === -1 ? pair : pair.slice(0, eq);
    if (k.toLowerCase() === want) return eq === -1 ? '' : pair.slice(eq + 1);
  }
  return '';
}

/** A cookie's value by name, as nginx's $cookie_. */
function cookie(header: string | string[] | undefined, name: string): string {
  const all = Array.isArray(header) ? header.join('; ') : (header ?? '');
  const want = name.toLowerCase();
  for (const c of all.split(';')) {
    const eq = c.indexOf('=');
    if (eq !== -1 && c.slice(0, eq).trim().toLowerCase() === want) return c.slice(eq + 1).trim();
  }
  return '';
}

/** The user of Basic credentials, as nginx's $remote_user. */
export function remoteUser(ex: PolicyExchange): string {
  const h = ex.req.headers.authorization;
  if (typeof h !== 'string' || !/^basic /i.test(h)) return '';
  const raw = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
  const colon = raw.indexOf(':');
  return colon === -1 ? '' : raw.slice(0, colon);
}

function header(ex: PolicyExchange, name: string): string {
  if (name === 'host') return (ex.req.headers[':authority'] as string | undefined) ?? ex.req.headers.host ?? '';
  const v = ex.req.headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

function part(p: TemplatePart): Expand {
  if ('text' in p) {
    const t = p.text;
    return () => t;
  }
  switch (p.var) {
    case 'host':
      return hostOf;
    case 'scheme':
      return (ex) => ex.scheme;
    case 'request_uri':
      return (ex) => ex.forwardPath;
    case 'escaped_request_uri':
      return (ex) => escapeUri(ex.forwardPath);
    case 'request_method':
      return (ex) => ex.req.method ?? 'GET';
    case 'remote_addr':
      return (ex) => ex.clientIp;
    case 'remote_user':
      return remoteUser;
    case 'http': {
      const n = p.name;
      return (ex) => header(ex, n);
    }
    case 'arg': {
      const n = p.name;
      return (ex) => arg(ex.forwardPath, n);
    }
    case 'cookie': {
      const n = p.name;
      return (ex) => cookie(ex.req.headers.cookie, n);
    }
  }
}

/** Compiles a template the translator validated; one that does not parse expands to '' (never thrown). */
export function compileTemplate(template: string): Expand {
  const t = parseTemplate(template);
  if ('error' in t) return () => '';
  const parts = t.parts.map(part);
  if (parts.length === 1) return parts[0] as Expand;
  if (parts.length === 0) return () => '';
  return (ex) => {
    let s = '';
    for (const f of parts) s += f(ex);
    return s;
  };
}
