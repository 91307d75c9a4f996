/**
 * Everything about one Ingress that depends on that object alone, checked once per object (the
 * translator memoises it by identity): hosts and paths validated as the API server does
 * (k8s.io/kubernetes pkg/apis/networking/validation, since standalone manifests never went
 * through one), backend references, annotations. Pure; problems are returned, never thrown.
 */
import type { Origin, Problem } from '../build.js';
import { isObject, show, str, type Ingress, type IngressBackend } from '../k8s.js';
import { patternProblem } from '../regex.js';
import type { BackendProtocol, Balancing, DiagnosticReason, HeaderDirectivesPolicy, PathMatch, Policy, RouteSettings, RouteSource } from '../types.js';
import { sourceRangePolicy, type SourceRanges } from './access.js';
import { parseAnnotations } from './annotations.js';
import type { BasicAuthRequest } from './auth.js';
import type { CanaryAnnotations } from './balance.js';
import type { ClientCertAnnotations } from './client-cert.js';
import type { RoutingOptions } from './routing.js';
import type { ErrorPagesOptions } from './traffic.js';

const LABEL = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const HOST_RE = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);

/**
 * Normalises a rule host: lower-case, validated as a DNS-1123 subdomain with an optional
 * leading `*.` label. Returns an error message instead of throwing.
 */
export function checkHost(raw: unknown): { host: string } | { error: string } {
  if (raw === undefined || raw === null || raw === '') return { host: '' };
  if (typeof raw !== 'string') return { error: `host must be a string, got ${typeof raw}` };
  const host = raw.toLowerCase();
  if (host.length > 253 || !HOST_RE.test(host)) {
    return { error: `host ${show(raw)} is not a valid DNS name (a wildcard may only be the whole first label, as in *.example.com)` };
  }
  return { host };
}

const BAD_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const BAD_SUFFIXES = ['/..', '/.'];

/** Validates a path and its type; ImplementationSpecific is treated as Prefix (documented). */
export function checkPath(rawPath: unknown, rawType: unknown): { path: string; match: 'Exact' | 'Prefix' } | { error: string; reason: 'InvalidPath' | 'InvalidPathType' } {
  let match: 'Exact' | 'Prefix';
  if (rawType === 'Exact') match = 'Exact';
  else if (rawType === 'Prefix' || rawType === 'ImplementationSpecific') match = 'Prefix';
  // networking.k8s.io/v1 requires it; only the removed v1beta1 let it be left out
  else if (rawType === undefined || rawType === null) return { reason: 'InvalidPathType', error: 'pathType is missing: networking.k8s.io/v1 requires Exact, Prefix or ImplementationSpecific' };
  else return { reason: 'InvalidPathType', error: `pathType must be Exact, Prefix or ImplementationSpecific, got ${show(rawType)}` };

  let path = rawPath;
  if ((path === undefined || path === '') && rawType === 'ImplementationSpecific') path = '/';
  if (typeof path !== 'string' || !path.startsWith('/')) {
    return { reason: 'InvalidPath', error: `path ${show(path ?? null)} must be an absolute path starting with "/"` };
  }
  for (const seq of BAD_SEQUENCES) {
    if (path.includes(seq)) return { reason: 'InvalidPath', error: `path ${show(path)} must not contain ${show(seq)}` };
  }
  for (const suf of BAD_SUFFIXES) {
    if (path.endsWith(suf)) return { reason: 'InvalidPath', error: `path ${show(path)} must not end with ${show(suf)}` };
  }
  // eslint-disable-next-line no-control-regex
  if (/[\s\x00-\x1f\x7f?#]/.test(path)) {
    return { reason: 'InvalidPath', error: `path ${show(path)} must not contain whitespace, control characters, "?" or "#"` };
  }
  return { path, match };
}

/**
 * Validates a regex path (use-regex, rewrite-target): the type must be valid (it no longer decides
 * the match: every path of the Ingress is a regex, as in ingress-nginx), the path must start with
 * "/" and be a pattern RE2 can run; only the checks that make no sense for a pattern are dropped
 * (the API server too checks only that an ImplementationSpecific path is absolute).
 */
export function checkRegexPath(rawPath: unknown, rawType: unknown): { path: string; match: 'Regex' } | { error: string; reason: 'InvalidPath' | 'InvalidPathType' } {
  if (rawType !== 'Exact' && rawType !== 'Prefix' && rawType !== 'ImplementationSpecific') {
    return { reason: 'InvalidPathType', error: `pathType must be Exact, Prefix or ImplementationSpecific, got ${show(rawType ?? null)}` };
  }
  const path = (rawPath === undefined || rawPath === '') && rawType === 'ImplementationSpecific' ? '/' : rawPath;
  if (typeof path !== 'string' || !path.startsWith('/')) return { reason: 'InvalidPath', error: `path ${show(path ?? null)} must be an absolute path starting with "/"` };
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(path) || path.length > 4096) return { reason: 'InvalidPath', error: `path ${show(path)} must not contain control characters` };
  const problem = patternProblem(path);
  if (problem !== null) return { reason: 'InvalidPath', error: `regex path ${show(path)} is not a pattern RE2 can run (${problem}); this path is not served` };
  return { path, match: 'Regex' };
}

/** The path a rule path is compared under (an empty ImplementationSpecific path is "/"). */
const writtenPath = (p: { path?: unknown; pathType?: unknown } | undefined): unknown => ((p?.path === undefined || p.path === '') && p?.pathType === 'ImplementationSpecific' ? '/' : p?.path);


/**
 * Reads `backend.service` into a stable id; a problem when the reference is unusable. With
 * `serviceUpstream`, the backend is the Service's ClusterIP (`+clusterip` in the id).
 */
export function backendRef(ns: string, b: IngressBackend | undefined, protocol: BackendProtocol = 'HTTP', serviceUpstream = false): { id: string; service: string; port: string | number; serviceUpstream?: true } | { error: string; reason: DiagnosticReason } {
  if (b?.resource !== undefined && b.resource !== null && b.service === undefined) {
    return { reason: 'UnsupportedBackend', error: `resource backends (${str(b.resource?.kind) || '?'}/${str(b.resource?.name) || '?'}) are not supported; use a Service backend` };
  }
  const svc = b?.service;
  if (typeof svc !== 'object' || svc === null || typeof svc.name !== 'string' || svc.name === '') {
    return { reason: 'InvalidBackend', error: 'backend must name a Service (backend.service.name)' };
  }
  const p = svc.port;
  let port: string | number;
  if (typeof p?.number === 'number' && Number.isInteger(p.number) && p.number > 0 && p.number < 65536) port = p.number;
  else if (typeof p?.name === 'string' && p.name !== '') port = p.name;
  else return { reason: 'InvalidBackend', error: `backend Service ${svc.name} must give port.number (1-65535) or port.name` };
  // The protocol is part of the id: two Ingresses may reach one Service port in different ways.
  const id = `${ns}/${svc.name}:${port}${protocol === 'HTTP' ? '' : `+${protocol.toLowerCase()}`}`;
  return serviceUpstream ? { id: `${id}+clusterip`, service: svc.name, port, serviceUpstream: true } : { id, service: svc.name, port };
}

export type Ref = { readonly id: string; readonly service: string; readonly port: string | number; readonly serviceUpstream?: true };
/** A backend reference, checked: usable, or the problem with it. */
export type CheckedRef = Ref | { readonly problem: Problem };
export type CheckedPath =
  | { readonly problem: Problem }
  | {
      readonly path: string;
      readonly match: PathMatch;
      readonly ref: CheckedRef;
      // no rule and path index: they are the positions in `rules` and `paths` (16 bytes per path)
      /** The rewrite-target applies (it differs from the path: ingress-nginx's needsRewrite). */
      readonly rewrite: boolean;
    };
export type CheckedRule = { readonly problem: Problem } | { readonly host: string; readonly paths: readonly CheckedPath[] };

/** One spec.tls entry: its valid hosts (default: the rule hosts) and the problems with the others. */
export interface CheckedTls {
  readonly hosts: readonly string[];
  readonly problems: readonly Problem[];
  readonly secretName: unknown;
  readonly where: string;
}

/** Everything about one Ingress that depends on that object alone, in the order it is reported. */
export interface CheckedIngress {
  readonly origin: Origin;
  /** metadata.creationTimestamp: the older object wins a conflict with another source's route. */
  readonly created: string;
  readonly source: RouteSource;
  /** metadata without name or namespace: nothing else was checked. */
  readonly invalid: boolean;
  /** The annotations' problems. */
  readonly problems: readonly Problem[];
  readonly protocol: BackendProtocol;
  readonly redirectPolicy: boolean | 'force' | undefined;
  readonly settings: RouteSettings;
  /** load-balance, upstream-hash-by, affinity: how its routes pick endpoints (undefined: the defaults). */
  readonly balancing: Balancing | undefined;
  /** Set for a canary Ingress: its paths split traffic off main Ingresses' routes instead of being routes. */
  readonly canary: CanaryAnnotations | null;
  /** The Ingress's policies without and with the HTTPS redirect (which depends on the table's TLS hosts). */
  readonly policies: readonly [plain: readonly Policy[], redirect: readonly Policy[]];
  /** The same without the rewrite, for paths equal to the rewrite-target (and for `/`-only uses). */
  readonly unrewritten: readonly [plain: readonly Policy[], redirect: readonly Policy[]];
  /** An Ingress without rules serving every host: ingress-nginx applies neither redirects nor rewrites there. */
  readonly catchAll: readonly Policy[];
  /** The routing annotations the host-level passes read (app-root, from-to-www, aliases). */
  readonly routing: RoutingOptions | undefined;
  /** Unsupported annotations that restrict access or move traffic, and the policies of a refused Ingress. */
  readonly refused: readonly string[];
  /** Access-control annotations with a bad value (source ranges, limits, authentication): the Ingress is refused whatever --unsupported-annotations says. */
  readonly badValues: readonly string[];
  /** The global source ranges it was checked with (the memo is valid only for these). */
  readonly defaults: SourceRanges | undefined;
  /** Basic authentication, resolved against its Secret when the table is built (the Secret may change on its own). */
  readonly basicAuth: BasicAuthRequest | undefined;
  /** `satisfy: any`: its source ranges, basic and external authentication are one any-of policy (grouped once basic auth is resolved). */
  readonly satisfyAny: boolean;
  /** auth-proxy-set-headers: its key and ConfigMap (`namespace/name`), read when the table is built. */
  readonly authHeaders: { readonly key: string; readonly ref: string } | undefined;
  readonly refusal: readonly Policy[];
  /** The full key of `ssl-passthrough: "true"`, else undefined (model/l4/passthrough.ts). */
  readonly sslPassthrough: string | undefined;
  /** auth-tls-*: settings, or the keys whose values refuse the Ingress whatever --unsupported-annotations says. */
  readonly clientCert: ClientCertAnnotations;
  /** custom-http-errors, default-backend, disable-proxy-intercept-errors (the error backend is resolved when translating). */
  readonly errorPages: ErrorPagesOptions | undefined;
  /** custom-headers: the annotation's key and `namespace/name` of its ConfigMap (read when translating). */
  readonly customHeaders: { readonly key: string; readonly ref: string } | undefined;
  /** server-snippet's edits, for the Ingress's hosts if it is the oldest there with one. */
  readonly serverHeaders: HeaderDirectivesPolicy | undefined;
  readonly defaultRef: CheckedRef | undefined;
  /** spec.rules as written (entries that are not objects included): their number decides "no rules". */
  readonly ruleCount: number;
  readonly rules: readonly CheckedRule[];
  readonly tls: readonly CheckedTls[];
}

function asArray<T>(v: readonly T[] | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

/** Where a path is in its Ingress, for messages: built only when one is reported. */
export const pathAt = (rule: number, index: number): string => (rule < 0 ? 'spec.defaultBackend' : `rules[${rule}].http.paths[${index}]`);

/** Checks a backend reference at rules[rule].http.paths[index], or spec.defaultBackend for rule -1. */
function checkRef(ns: string, b: IngressBackend | undefined, protocol: BackendProtocol, rule: number, index: number, serviceUpstream: boolean): CheckedRef {
  const ref = backendRef(ns, isObject(b) ? b : undefined, protocol, serviceUpstream);
  return 'error' in ref ? { problem: [ref.reason, `${pathAt(rule, index)}: ${ref.error}`] } : ref;
}

const HTTPS_REDIRECT: Policy = { kind: 'httpsRedirect' };
const NO_CLIENT_CERT: ClientCertAnnotations = { settings: null, invalid: [] };
/**
 * What most Ingresses have, shared: the translator keeps one CheckedIngress per Ingress, and at
 * 10,000 Ingresses a fresh empty list per field was 60,000 arrays (memory: docs/performance.md).
 */
const NONE: readonly never[] = Object.freeze([]);
const NO_POLICIES: CheckedIngress['policies'] = [NONE, [HTTPS_REDIRECT]];
const REFUSE_NOTHING: readonly Policy[] = [{ kind: 'refuse', because: NONE }];
const NO_SETTINGS: RouteSettings = Object.freeze({});
const orNone = <T>(list: readonly T[]): readonly T[] => (list.length === 0 ? NONE : list);

/** The HTTPS redirect with the Ingress's preserve-trailing-slash and use-port-in-redirects. */
function httpsRedirect(r: RoutingOptions | undefined): Policy {
  if (r === undefined || (!r.preserveTrailingSlash && !r.usePortInRedirects)) return HTTPS_REDIRECT;
  return { kind: 'httpsRedirect', ...(r.preserveTrailingSlash ? { preserveTrailingSlash: true } : {}), ...(r.usePortInRedirects ? { usePort: true } : {}) };
}

/**
 * The hosts whose paths in this Ingress are regexes: every host with `use-regex`, else those with
 * a path a rewrite-target differs from (ingress-nginx's enforceRegex, which it applies to every
 * Ingress of the host; Portico keeps it to the Ingress that asks).
 */
function regexHosts(rules: readonly unknown[], r: RoutingOptions | undefined): Set<string> {
  const out = new Set<string>();
  if (r === undefined || (!r.useRegex && r.rewriteTarget === undefined)) return out;
  for (const rule of rules) {
    if (!isObject(rule)) continue;
    const h = checkHost((rule as { host?: unknown }).host);
    if ('error' in h) continue;
    const paths = asArray((rule as { http?: { paths?: { path?: unknown; pathType?: unknown }[] } }).http?.paths);
    if (r.useRegex ? paths.length > 0 : paths.some((p) => writtenPath(isObject(p) ? p : undefined) !== r.rewriteTarget)) out.add(h.host);
  }
  return out;
}

/** Checks one Ingress; `defaults`: the global source ranges, which its annotations replace. */
export function checkIngress(ing: Ingress, defaults?: SourceRanges): CheckedIngress {
  const ns = str(ing.metadata?.namespace);
  const name = str(ing.metadata?.name);
  const problems: Problem[] = [];
  const annotations = ns === '' || name === '' ? undefined : parseAnnotations(ing.metadata?.annotations, (reason, message, severity) => problems.push(severity === undefined ? [reason, message] : [reason, message, severity]), ns, name);
  const protocol = annotations?.backendProtocol ?? 'HTTP';
  const routing = annotations?.routing;
  const target = routing?.rewriteTarget;
  const clusterIp = annotations?.traffic.serviceUpstream ?? false;
  const spec = isObject(ing.spec) ? ing.spec : undefined;
  const rules = annotations === undefined ? [] : asArray(spec?.rules);
  const regex = regexHosts(rules, routing);
  /** Paths naming the same Service port share one checked reference (and its id string). */
  const refs = new Map<string, Ref>();
  const sharedRef = (r: CheckedRef): CheckedRef => {
    if ('problem' in r) return r;
    const known = refs.get(r.id);
    if (known !== undefined) return known;
    refs.set(r.id, r);
    return r;
  };
  const checkedRules = rules.map((rule, i): CheckedRule => {
    if (!isObject(rule)) return { problem: ['InvalidObject', `rules[${i}] must be an object`] };
    const h = checkHost(rule.host);
    if ('error' in h) return { problem: ['InvalidHost', `rules[${i}]: ${h.error}`] };
    const isRegex = regex.has(h.host);
    return {
      host: h.host,
      paths: asArray(rule.http?.paths).map((p, j): CheckedPath => {
        const c = isRegex ? checkRegexPath(p?.path, p?.pathType) : checkPath(p?.path, p?.pathType);
        if ('error' in c) return { problem: [c.reason, `${pathAt(i, j)}: ${c.error}`] };
        return { path: c.path, match: c.match, ref: sharedRef(checkRef(ns, p.backend, protocol, i, j, clusterIp)), rewrite: target !== undefined && c.path !== target };
      }),
    };
  });
  const ruleHosts = checkedRules.flatMap((r) => ('host' in r && r.host !== '' ? [r.host] : []));
  const access = annotations?.access;
  const range = access === undefined ? undefined : sourceRangePolicy(access, defaults);
  const ext = annotations?.auth.ext;
  const headers = annotations?.headers.location;
  // what every route of the Ingress runs (the proxy orders them): access control, then the
  // redirects, header edits; then the rewrite, only on the paths it applies to
  const unrewritten: readonly Policy[] = [
    ...(annotations?.cors !== undefined ? [annotations.cors] : []),
    ...(range !== undefined ? [range] : []),
    ...(access?.rateLimit !== undefined ? [access.rateLimit] : []),
    ...(ext !== undefined ? [ext] : []),
    ...(routing?.redirect !== undefined ? [routing.redirect] : []),
    ...(headers !== undefined ? [headers] : []),
    ...(annotations?.mirror !== undefined ? [annotations.mirror] : []),
    ...(annotations?.responseRewrite !== undefined ? [annotations.responseRewrite] : []),
  ];
  const rewrite: Policy | undefined = target === undefined ? undefined : { kind: 'rewrite', path: { type: 'template', value: target }, ...(routing?.xForwardedPrefix !== undefined ? { forwardedPrefix: routing.xForwardedPrefix } : {}) };
  const plain: readonly Policy[] = rewrite === undefined ? unrewritten : [...unrewritten, rewrite];
  const https = httpsRedirect(routing);
  const policies: CheckedIngress['policies'] = plain.length === 0 && https === HTTPS_REDIRECT ? NO_POLICIES : [plain, [https, ...plain]];
  const refused = orNone(annotations?.refused ?? NONE);
  const satisfy = annotations?.satisfy;
  const badValues = orNone([...(access?.invalid ?? []), ...(annotations?.auth.broken ?? []), ...(annotations?.bandwidth.invalid ?? []), ...(satisfy?.invalid !== undefined ? [satisfy.invalid] : [])].sort());
  if (satisfy?.any === true && [range, ext, annotations?.auth.basic].filter((x) => x !== undefined).length < 2) {
    problems.push(['IgnoredAnnotation', `${satisfy.key ?? 'satisfy'}: "any" has no effect: it needs two of source ranges, basic authentication and external authentication (auth-url) to choose from`, 'info']);
  }
  const source: RouteSource = { kind: 'Ingress', namespace: ns, name };
  return {
    origin: source,
    created: str(ing.metadata?.creationTimestamp),
    source,
    invalid: annotations === undefined,
    problems: orNone(problems),
    protocol,
    redirectPolicy: annotations?.forceSslRedirect ? 'force' : annotations?.sslRedirect,
    settings: annotations === undefined || Object.keys(annotations.settings).length === 0 ? NO_SETTINGS : annotations.settings,
    balancing: annotations?.balancing,
    canary: annotations?.canary ?? null,
    policies,
    unrewritten: rewrite === undefined ? policies : [unrewritten, [https, ...unrewritten]],
    catchAll: orNone(plain.filter((p) => p.kind !== 'fixedRedirect' && p.kind !== 'rewrite')),
    // undefined reads as the defaults everywhere: no object per Ingress that asks for nothing
    routing: routing !== undefined && Object.values(routing).every((v) => v === undefined || v === false || (Array.isArray(v) && v.length === 0)) ? undefined : routing,
    refused,
    badValues,
    defaults,
    basicAuth: annotations?.auth.basic,
    satisfyAny: satisfy?.any === true,
    authHeaders: annotations?.auth.proxySetHeaders,
    refusal: refused.length === 0 && badValues.length === 0 ? REFUSE_NOTHING : [{ kind: 'refuse', because: refused, ...(badValues.length > 0 ? { invalid: badValues } : {}) }],
    clientCert: annotations === undefined || (annotations.clientCert.settings === null && annotations.clientCert.invalid.length === 0) ? NO_CLIENT_CERT : annotations.clientCert,
    errorPages: annotations?.traffic.errorPages,
    customHeaders: annotations?.headers.customHeaders,
    serverHeaders: annotations?.headers.server,
    defaultRef: annotations !== undefined && spec?.defaultBackend !== undefined ? checkRef(ns, spec.defaultBackend, protocol, -1, -1, clusterIp) : undefined,
    sslPassthrough: annotations?.sslPassthrough,
    ruleCount: rules.length,
    rules: checkedRules,
    tls: annotations === undefined ? NONE : orNone(asArray(spec?.tls).flatMap((entry, i): CheckedTls[] => {
      if (!isObject(entry)) return [];
      const where = `spec.tls[${i}]`;
      const hosts: string[] = [];
      const tlsProblems: Problem[] = [];
      for (const raw of asArray(entry.hosts).length > 0 ? asArray(entry.hosts) : ruleHosts) {
        const h = checkHost(raw);
        if ('error' in h) tlsProblems.push(['InvalidHost', `${where}: ${h.error}`]);
        else if (h.host !== '') hosts.push(h.host);
      }
      return [{ hosts, problems: orNone(tlsProblems), secretName: entry.secretName, where }];
    })),
  };
}
