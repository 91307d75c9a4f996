/**
 * The session-affinity cookie, in ingress-nginx's format so that any replica (and ingress-nginx
 * itself, during a migration) honours a cookie another one issued, with no shared state:
 *
 *   value = <session key> "|" <backend key>
 *   backend key = md5hex(md5hex(name) + name), name = `<namespace>-<service>-<port>` (ingress-nginx's upstream name)
 *   persistent: session key = md5hex(name + "ip:port") of the endpoint: every replica computes
 *     it for each live endpoint, so the cookie names its endpoint for as long as that endpoint lives;
 *   balanced: session key = a random string, placed on the consistent-hash ring of the live
 *     endpoints (chash.ts), so every replica with the same endpoints finds the same one.
 *
 * The backend key tells a main backend's cookie from its canary's (the canary decision). MD5 is
 * not a secret here: it only keeps pod addresses out of plain sight, as in ingress-nginx; a
 * client choosing its endpoint gains nothing it could not get by retrying.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Affinity, Backend } from '../model/types.js';

export const md5hex = (s: string): string => createHash('md5').update(s).digest('hex');

/** ingress-nginx's upstream name of a backend: `<namespace>-<service>-<port>`. */
export const upstreamName = (b: Backend): string => `${b.namespace}-${b.service}-${b.port}`;

/** The backend half of the cookie value. */
export const backendKey = (b: Backend): string => {
  const name = upstreamName(b);
  return md5hex(md5hex(name) + name);
};

/** persistent mode: the session key of an endpoint (its id as on the ring: `ip:port`, `[v6]:port`). */
export const persistentKey = (b: Backend, nodeId: string): string => md5hex(upstreamName(b) + nodeId);

/** balanced mode: a fresh random session key. */
export const randomKey = (): string => randomBytes(12).toString('hex');

/** The two halves of a cookie value (`upstream|backend`); the backend half may be missing. */
export function splitValue(value: string): { session: string; backend: string | undefined } {
  const bar = value.indexOf('|');
  if (bar === -1) return { session: value, backend: undefined };
  const end = value.indexOf('|', bar + 1);
  return { session: value.slice(0, bar), backend: value.slice(bar + 1, end === -1 ? undefined : end) };
}

/** The value of cookie `name` in a Cookie header (the first one of that name), or undefined. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  let i = 0;
  const n = header.length;
  while (i < n) {
    while (i < n && (header.charCodeAt(i) === 32 || header.charCodeAt(i) === 59 || header.charCodeAt(i) === 44)) i++;
    let end = header.indexOf(';', i);
    if (end === -1) end = n;
    const eq = header.indexOf('=', i);
    if (eq !== -1 && eq < end && header.slice(i, eq).trim() === name) {
      let v = header.slice(eq + 1, end).trim();
      if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
      return v;
    }
    i = end + 1;
  }
  return undefined;
}

/**
 * User agents that reject `SameSite=None` cookies (ingress-nginx's util/same_site.lua, after
 * https://www.chromium.org/updates/same-site/incompatible-clients).
 */
export function sameSiteNoneCompatible(ua: string | undefined): boolean {
  if (ua === undefined) return true;
  if (ua.includes('Chrome/4') || ua.includes('Chrome/5') || ua.includes('Chrome/6')) return false;
  if (ua.includes('CPU iPhone OS 12') || ua.includes('iPad; CPU OS 12')) return false;
  return !(ua.includes('Macintosh') && ua.includes('Intel Mac OS X 10_14') && ua.includes('Safari') && !ua.includes('Chrome'));
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** nginx's ngx.cookie_time: `Thu, 18-Nov-10 11:27:35 GMT`. */
export function cookieTime(ms: number): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${pad(d.getUTCDate())}-${MONTHS[d.getUTCMonth()]}-${pad(d.getUTCFullYear() % 100)} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} GMT`;
}

/** Builds Set-Cookie values for one route's affinity: the attributes are fixed at compile time. */
export function cookieWriter(a: Affinity, routePath: string): (value: string, https: boolean, userAgent: string | undefined, now: number) => string {
  const path = a.path ?? (routePath === '' ? '/' : routePath);
  const maxAge = a.maxAge !== undefined ? `; Max-Age=${a.maxAge}` : '';
  const domainPath = `${a.domain !== undefined ? `; Domain=${a.domain}` : ''}; Path=${path}`;
  const sameSite = a.sameSite !== undefined ? `; SameSite=${a.sameSite}` : '';
  const conditional = a.sameSite === 'None' && a.conditionalSameSiteNone === true;
  return (value, https, userAgent, now) => {
    const expires = a.expires !== undefined ? `; Expires=${cookieTime(now + a.expires * 1000)}` : '';
    const site = conditional && !sameSiteNoneCompatible(userAgent) ? '' : sameSite;
    // ingress-nginx (lua-resty-cookie): Expires, Max-Age, Domain, Path, Secure, HttpOnly, SameSite
    return `${a.name}=${value}${expires}${maxAge}${domainPath}${a.secure === true || https ? '; Secure' : ''}; HttpOnly${site}`;
  };
}
