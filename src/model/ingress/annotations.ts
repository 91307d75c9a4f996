/**
 * ingress-nginx annotations Portico understands, one small parser each. Values are validated
 * and a bad one is a diagnostic with the default kept, never an exception. Both the
 * `nginx.ingress.kubernetes.io/` prefix (for migrations) and `portico.dev/` are read. Every other
 * key under either prefix is accounted for by the catalog (catalog.ts): nothing is silent.
 */
import { isDnsSubdomain, localRef, show } from '../k8s.js';
import { parseAccess, type AccessOptions } from './access.js';
import { parseAuth, type AuthAnnotations } from './auth.js';
import { parseBackendTls } from './backend-tls.js';
import { parseBandwidth, type BandwidthOptions } from './bandwidth.js';
import { CANARY_HONOURED, parseBalancing, parseCanary, type CanaryAnnotations } from './balance.js';
import { lookup } from './catalog.js';
import { parseClientCert, type ClientCertAnnotations } from './client-cert.js';
import { parseCors } from './cors.js';
import { parseMirror } from './mirror.js';
import { parseResponseRewrite } from './proxy-rewrite.js';
import { parseRouting, type RoutingOptions } from './routing.js';
import { parseSatisfy, type SatisfyOptions } from './satisfy.js';
import { parseHeaderAnnotations, type HeaderOptions } from './header-edits.js';
import { parseTraffic, type TrafficOptions } from './traffic.js';
import { parseDuration, parseSize } from '../units.js';
import type { Balancing, BackendProtocol, CorsPolicy, DiagnosticReason, MirrorPolicy, ResponseRewritePolicy, RouteSettings } from '../types.js';

export const PREFIXES = ['nginx.ingress.kubernetes.io/', 'portico.dev/'] as const;

/** Per-Ingress options from annotations. */
export interface AnnotationOptions {
  /** undefined = follow `--ssl-redirect`. */
  readonly sslRedirect: boolean | undefined;
  readonly forceSslRedirect: boolean;
  readonly backendProtocol: BackendProtocol;
  readonly settings: RouteSettings;
  /** Full keys of unsupported annotations that restrict access or move traffic (or snippets that cannot be honoured): the Ingress cannot be served as written. */
  readonly refused: readonly string[];
  /** The full key of `ssl-passthrough: "true"` (TLS passthrough, model/l4/passthrough.ts), else undefined. */
  readonly sslPassthrough: string | undefined;
  /** Error pages, retries, service-upstream, enable-access-log (traffic.ts; its settings are in `settings`). */
  readonly traffic: TrafficOptions;
  /** Snippets and custom-headers (header-edits.ts). */
  readonly headers: HeaderOptions;
  /** Source ranges and limits (access.ts); its `invalid` keys refuse the Ingress whatever --unsupported-annotations says. */
  readonly access: AccessOptions;
  /** auth-tls-*: client certificates (settings, or the keys whose values refuse the Ingress). */
  readonly clientCert: ClientCertAnnotations;
  /** load-balance, upstream-hash-by, affinity (balance.ts); undefined when none is set. */
  readonly balancing: Balancing | undefined;
  /** A canary Ingress's canary-* annotations (balance.ts), or null for a normal Ingress. */
  readonly canary: CanaryAnnotations | null;
  /** Authentication (auth.ts): basic auth to resolve against its Secret, external auth, and what refuses the Ingress. */
  readonly auth: AuthAnnotations;
  /** `satisfy` (satisfy.ts): any, or all (the default); a bad value refuses the Ingress. */
  readonly satisfy: SatisfyOptions;
  /** limit-rate, limit-rate-after (bandwidth.ts; its settings are in `settings`): the keys whose bad value refuses the Ingress. */
  readonly bandwidth: BandwidthOptions;
  /** enable-cors and the cors-* annotations (cors.ts); undefined when no CORS headers are sent. */
  readonly cors: CorsPolicy | undefined;
  /** Regex paths, rewrites and redirects (routing.ts). */
  readonly routing: RoutingOptions;
  /** mirror-target, mirror-request-body, mirror-host (mirror.ts); undefined when nothing is mirrored. */
  readonly mirror: MirrorPolicy | undefined;
  /** proxy-redirect-*, proxy-cookie-domain, proxy-cookie-path (proxy-rewrite.ts); undefined when they ask for nothing. */
  readonly responseRewrite: ResponseRewritePolicy | undefined;
}

type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;

function read(annotations: Readonly<Record<string, unknown>> | undefined, name: string): { key: string; value: unknown } | undefined {
  if (annotations === undefined || annotations === null || typeof annotations !== 'object') return undefined;
  for (const p of PREFIXES) {
    const key = p + name;
    if (Object.hasOwn(annotations, key)) return { key, value: annotations[key] };
  }
  return undefined;
}

/** "true"/"false"; with `onOff`, ingress-nginx's "on"/"off" switches too (proxy-ssl-*). */
function bool(a: Readonly<Record<string, unknown>> | undefined, name: string, report: Report, onOff = false): boolean | undefined {
  const v = read(a, name);
  if (v === undefined) return undefined;
  if (v.value === 'true' || v.value === true || (onOff && v.value === 'on')) return true;
  if (v.value === 'false' || v.value === false || (onOff && v.value === 'off')) return false;
  report('InvalidAnnotation', `${v.key}: expected ${onOff ? '"on" or "off"' : '"true" or "false"'}, got ${show(v.value)}; ignored`);
  return undefined;
}

const PROTOCOLS: readonly BackendProtocol[] = ['HTTP', 'HTTPS', 'GRPC', 'GRPCS'];

function protocol(a: Readonly<Record<string, unknown>> | undefined, report: Report): BackendProtocol {
  const v = read(a, 'backend-protocol');
  if (v === undefined) return 'HTTP';
  const up = typeof v.value === 'string' ? v.value.toUpperCase() : '';
  if ((PROTOCOLS as readonly string[]).includes(up)) return up as BackendProtocol;
  report('InvalidAnnotation', `${v.key}: ${show(v.value)} is not supported (use ${PROTOCOLS.join(', ')}); using HTTP`);
  return 'HTTP';
}

function size(a: Readonly<Record<string, unknown>> | undefined, name: string, report: Report): number | undefined {
  const v = read(a, name);
  if (v === undefined) return undefined;
  const n = typeof v.value === 'string' ? parseSize(v.value) : undefined;
  if (n === undefined) report('InvalidAnnotation', `${v.key}: expected a size such as 8m, 512k or 1048576, got ${show(v.value)}; ignored`);
  return n;
}

/** ingress-nginx timeouts are seconds ("60"); a unit (60s, 500ms, 1m) is accepted too. */
function seconds(a: Readonly<Record<string, unknown>> | undefined, name: string, report: Report): number | undefined {
  const v = read(a, name);
  if (v === undefined) return undefined;
  const ms = typeof v.value === 'string' ? parseDuration(v.value) : typeof v.value === 'number' ? parseDuration(String(v.value)) : undefined;
  if (ms === undefined || !(ms > 0 && ms <= 86_400_000)) {
    report('InvalidAnnotation', `${v.key}: expected seconds (1 to 86400), got ${show(v.value)}; ignored`);
    return undefined;
  }
  return ms;
}

/** A host with an optional port: a DNS name, an IPv4 address or a bracketed IPv6 one. Nothing else reaches a header. */
const VHOST = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

function vhost(a: Readonly<Record<string, unknown>> | undefined, report: Report): string | undefined {
  const v = read(a, 'upstream-vhost');
  if (v === undefined) return undefined;
  if (typeof v.value === 'string' && v.value.length <= 255 && VHOST.test(v.value)) return v.value;
  report('InvalidAnnotation', `${v.key}: expected a host name with an optional port, got ${show(v.value)}; ignored`);
  return undefined;
}

/** A DNS name for SNI (no port, no address: RFC 6066 names hosts only); DNS is case-blind. */
function sslName(a: Readonly<Record<string, unknown>> | undefined, report: Report): string | undefined {
  const v = read(a, 'proxy-ssl-name');
  if (v === undefined) return undefined;
  const name = typeof v.value === 'string' ? v.value.toLowerCase() : '';
  if (isDnsSubdomain(name) && !/^[\d.]+$/.test(name)) return name;
  report('InvalidAnnotation', `${v.key}: expected a DNS name, got ${show(v.value)}; ignored`);
  return undefined;
}

/**
 * `proxy-ssl-secret`: `namespace/name` or `name`, and only in the Ingress's own namespace: an
 * Ingress must not borrow another namespace's keys (ingress-nginx allows it; Portico refuses).
 */
function sslSecret(a: Readonly<Record<string, unknown>> | undefined, ns: string, report: Report): string | undefined {
  const v = read(a, 'proxy-ssl-secret');
  if (v === undefined) return undefined;
  const r = localRef(v.value, ns, 'Secret');
  if ('error' in r) {
    report('InvalidAnnotation', `${v.key}: ${r.error}; ignored`);
    return undefined;
  }
  return r.ref;
}

function settings(a: Readonly<Record<string, unknown>> | undefined, ns: string, report: Report): RouteSettings {
  const out: { -readonly [K in keyof RouteSettings]: RouteSettings[K] } = {};
  const body = size(a, 'proxy-body-size', report);
  if (body !== undefined) out.bodySize = body;
  const c = seconds(a, 'proxy-connect-timeout', report);
  if (c !== undefined) out.connectTimeout = c;
  const r = seconds(a, 'proxy-read-timeout', report);
  if (r !== undefined) out.readTimeout = r;
  const w = seconds(a, 'proxy-send-timeout', report);
  if (w !== undefined) out.sendTimeout = w;
  const h = vhost(a, report);
  if (h !== undefined) out.upstreamVhost = h;
  if (bool(a, 'proxy-ssl-server-name', report, true) === true) out.sslServerName = true;
  const sni = sslName(a, report);
  if (sni !== undefined) out.sslName = sni;
  if (bool(a, 'proxy-ssl-verify', report, true) === true) out.sslVerify = true;
  const secret = sslSecret(a, ns, report);
  if (secret !== undefined) out.sslSecret = secret;
  return out;
}

/**
 * A canary Ingress's annotations as ingress-nginx reads them: only the canary, balancing and
 * service-upstream ones. Its traffic runs under the main Ingress's route, so every other key is
 * reported as ignored (and never refuses it: the main Ingress's own policies apply).
 */
function canaryView(annotations: Readonly<Record<string, unknown>>, report: Report): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(annotations)) {
    const prefix = PREFIXES.find((p) => key.startsWith(p));
    if (prefix === undefined) continue;
    if (CANARY_HONOURED.test(key.slice(prefix.length))) out[key] = value;
    else report('IgnoredAnnotation', `${key}: ignored on a canary Ingress (its traffic is served by the main Ingress's route, with the main Ingress's annotations)`, 'info');
  }
  return out;
}

/** Reads every supported annotation of one Ingress. */
export function parseAnnotations(all: Readonly<Record<string, unknown>> | undefined, report: Report, ns = '', name = ''): AnnotationOptions {
  const canary = parseCanary((n) => read(all, n), report);
  const annotations = canary === null || all === undefined || all === null || typeof all !== 'object' ? all : canaryView(all, report);
  const get = (n: string): { key: string; value: unknown } | undefined => read(annotations, n);
  const traffic = parseTraffic(get, report);
  const headers = parseHeaderAnnotations(get, ns, report);
  const bandwidth = parseBandwidth(get, report);
  const s = { ...settings(annotations, ns, report), ...parseBackendTls(get, report), ...traffic.settings, ...bandwidth.settings };
  const auth = parseAuth(get, ns, s, report);
  return {
    canary,
    balancing: parseBalancing(get, report, canary !== null),
    access: parseAccess(get, report, `${ns}/${name}`),
    sslRedirect: bool(annotations, 'ssl-redirect', report),
    forceSslRedirect: bool(annotations, 'force-ssl-redirect', report) ?? false,
    backendProtocol: protocol(annotations, report),
    settings: s,
    clientCert: parseClientCert(get, ns, report),
    cors: parseCors(get, report),
    routing: parseRouting(get, report),
    mirror: parseMirror(get, report),
    responseRewrite: parseResponseRewrite(get, report),
    refused: [...account(annotations, report), ...auth.unsupported, ...headers.refused].sort(),
    auth,
    satisfy: parseSatisfy(get, report),
    bandwidth,
    traffic,
    headers,
    sslPassthrough: bool(annotations, 'ssl-passthrough', report) === true ? read(annotations, 'ssl-passthrough')?.key : undefined,
  };
}

/**
 * Every key under either prefix that no parser reads: an informational diagnostic for one the
 * catalog ignores on purpose (or whose value asks for nothing), an UnsupportedAnnotation warning
 * for the rest; returns the keys that must refuse the Ingress.
 */
function account(annotations: Readonly<Record<string, unknown>> | undefined, report: Report): string[] {
  const refused: string[] = [];
  if (annotations === undefined || annotations === null || typeof annotations !== 'object') return refused;
  for (const key of Object.keys(annotations)) {
    const prefix = PREFIXES.find((p) => key.startsWith(p));
    if (prefix === undefined) continue;
    const name = key.slice(prefix.length);
    const entry = lookup(name);
    if (entry.status === 'implemented') continue;
    const value = annotations[key];
    if (entry.status === 'ignored') {
      report('IgnoredAnnotation', `${key}: accepted and ignored: ${entry.note ?? ''}`, 'info');
    } else if (typeof value === 'string' && entry.inert?.includes(value.trim()) === true) {
      report('IgnoredAnnotation', `${key}: ${show(value)} asks for nothing Portico does differently; ignored`, 'info');
    } else {
      report('UnsupportedAnnotation', `${key}: not supported (${entry.note ?? ''})${entry.refuse === true ? '; it restricts access or changes where traffic goes' : '; served without it'}`);
      if (entry.refuse === true) refused.push(key);
    }
  }
  return refused.sort();
}
