/**
 * Request mirroring annotations (mirror-target, mirror-request-body, mirror-host) with
 * ingress-nginx's grammar and defaults (internal/ingress/annotations/mirror/main.go): every path
 * of the Ingress mirrors to `mirror-target`, a URL whose path may hold nginx variables
 * (`https://test.env.com$request_uri`); the body goes along unless `mirror-request-body: off`; the
 * Host of the copy is `mirror-host`, else the target's host. Pure.
 *
 * Where Portico differs (docs/annotations.md#mirroring): the copy never holds the request back
 * (nginx's mirror subrequest does: a slow mirror slows the Ingress down); variables are read in
 * the target's path only (the host must be written out, as ingress-nginx's default Host needs);
 * a target without a path gets the request's URI (nginx would send its internal `/_mirror-<uid>`).
 * A bad value is an InvalidAnnotation diagnostic and the Ingress is served without the mirror
 * (ingress-nginx drops it too): mirroring copies traffic, it never decides who gets in.
 */
import { show } from '../k8s.js';
import type { MirrorPolicy } from '../types.js';
import { AUTH_VARIABLES, parseVars } from '../nginx-vars.js';
import type { Read, Report } from './traffic.js';

/** A host with an optional port: a DNS name, an IPv4 address or a bracketed IPv6 one. */
const HOST = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::(\d{1,5}))?$/;
/** What a request target may be made of (RFC 3986 path and query characters, `%`, and `$`/`{}` for variables). */
const TARGET_CHARS = /^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%{}]*$/;

/** A target URL split into its literal origin and its path template. */
export function parseMirrorTarget(raw: string): { origin: string; host: string; path: string } | { error: string } {
  const v = raw.trim();
  const m = /^(https?):\/\/([^/?$]*)(.*)$/i.exec(v);
  if (m === null) return { error: 'expected an http:// or https:// URL such as https://test.env.com$request_uri' };
  const scheme = (m[1] as string).toLowerCase();
  const authority = m[2] as string;
  const path = m[3] as string;
  const h = HOST.exec(authority);
  if (h === null) return { error: `${show(authority)} is not a host with an optional port (variables are read in the path only)` };
  if (h[1] !== undefined && !(Number(h[1]) >= 1 && Number(h[1]) <= 65535)) return { error: `port ${h[1]} is not from 1 to 65535` };
  if (path !== '' && !path.startsWith('/') && !path.startsWith('$')) return { error: 'the path must start with "/" or a variable' };
  if (!TARGET_CHARS.test(path) || path.length > 4096) return { error: `path ${show(path)} holds characters a request target cannot` };
  const t = parseVars(path, AUTH_VARIABLES);
  if ('error' in t) return { error: t.error };
  const host = authority.replace(/:\d+$/, '').toLowerCase();
  return { origin: `${scheme}://${authority.toLowerCase()}`, host, path };
}

/** Reads the mirror annotations of one Ingress; undefined when it mirrors nothing. */
export function parseMirror(read: Read, report: Report): MirrorPolicy | undefined {
  const t = read('mirror-target');
  const b = read('mirror-request-body');
  const h = read('mirror-host');
  let body = true;
  if (b !== undefined) {
    const s = typeof b.value === 'string' ? b.value.replaceAll(' ', '') : '';
    if (s === 'off') body = false;
    else if (s !== 'on') report('InvalidAnnotation', `${b.key}: expected "on" or "off", got ${show(b.value)}; using "on"`);
  }
  let host: string | undefined;
  if (h !== undefined) {
    const s = typeof h.value === 'string' ? h.value.trim() : '';
    const ok = HOST.exec(s);
    if (ok !== null && s.length <= 255 && (ok[1] === undefined || (Number(ok[1]) >= 1 && Number(ok[1]) <= 65535))) host = s.toLowerCase();
    else report('InvalidAnnotation', `${h.key}: expected a host name with an optional port, got ${show(h.value)}; using the mirror-target's host`);
  }
  if (t === undefined) {
    for (const other of [b, h]) if (other !== undefined) report('IgnoredAnnotation', `${other.key}: ignored without mirror-target`, 'info');
    return undefined;
  }
  const parsed = typeof t.value === 'string' && t.value.trim() !== '' ? parseMirrorTarget(t.value) : { error: 'expected a URL' };
  if ('error' in parsed) {
    report('InvalidAnnotation', `${t.key}: ${show(t.value)}: ${parsed.error}; the Ingress is served without a mirror`);
    return undefined;
  }
  return { kind: 'mirror', origin: parsed.origin, path: parsed.path, host: host ?? parsed.host, body, numerator: 1, denominator: 1 };
}
