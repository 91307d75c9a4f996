/**
 * What redirect policies build Locations from: the parts of a Host header, and ingress-nginx's
 * trailing-slash rule. Per request, no allocation beyond the strings returned.
 */
import { STATUS_CODES } from '../../node-http.js';

/** The host of a Host header or authority, without its port (an IPv6 literal keeps its brackets). */
export function hostName(authority: string | undefined): string {
  const h = authority ?? '';
  if (h.charCodeAt(0) === 91 /* [ */) {
    const close = h.indexOf(']');
    return close > 0 ? h.slice(0, close + 1) : h;
  }
  const colon = h.lastIndexOf(':');
  return colon >= 0 ? h.slice(0, colon) : h;
}

/** The port a Host header or authority names, or '' when it names none. */
export function hostPort(authority: string | undefined): string {
  const h = authority ?? '';
  const colon = h.lastIndexOf(':');
  if (colon < 0 || (h.charCodeAt(0) === 91 && colon < h.indexOf(']'))) return '';
  return h.slice(colon + 1);
}

/**
 * ingress-nginx drops one trailing `/` of the request URI in the Location of its HTTPS and www
 * redirects (`/` becomes nothing: `https://host`). Portico does so only for a target without a
 * query, so that a query ending in `/` (`?next=/`) is never altered.
 */
export function dropTrailingSlash(target: string): string {
  return target.charCodeAt(target.length - 1) === 47 /* / */ && !target.includes('?') ? target.slice(0, -1) : target;
}

/** The short text body of a redirect answer. */
export const redirectBody = (status: number, location: string): string => `${status} ${STATUS_CODES[status] ?? 'Redirect'}: ${location}\n`;

export const TEXT = 'text/plain; charset=utf-8';
