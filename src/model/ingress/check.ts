/**
 * Everything about one Ingress that depends on that object alone, checked once per object (the
 * translator memoises it by identity): hosts and paths validated as the API server does
 * (k8s.io/kubernetes pkg/apis/networking/validation, since standalone manifests never went
 * through one), backend references, annotations. Pure; problems are returned, never thrown.
 */
import type { Origin, Problem } from '../build.js';
import { isObject, show, str, type Ingress, type IngressBackend } from '../k8s.js';
import type { BackendProtocol, DiagnosticReason, PathMatch, Policy, RouteSettings, RouteSource } from '../types.js';
import { parseAnnotations } from './annotations.js';

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
  else return { reason: 'InvalidPathType', error: `pathType must be Exact, Prefix or ImplementationSpecific, got ${show(rawType ?? null)}` };

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


/** Reads `backend.service` into a stable id; a problem when the reference is unusable. */
export function backendRef(ns: string, b: IngressBackend | undefined, protocol: BackendProtocol = 'HTTP'): { id: string; service: string; port: string | number } | { error: string; reason: DiagnosticReason } {
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
  return { id: `${ns}/${svc.name}:${port}${protocol === 'HTTP' ? '' : `+${protocol.toLowerCase()}`}`, service: svc.name, port };
}

export type Ref = { readonly id: string; readonly service: string; readonly port: string | number };
/** A backend reference, checked: usable, or the problem with it. */
export type CheckedRef = Ref | { readonly problem: Problem };
export type CheckedPath = { readonly problem: Problem } | { readonly path: string; readonly match: PathMatch; readonly ref: CheckedRef; readonly rule: number; readonly index: number };
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
  /** The Ingress's policies without and with the HTTPS redirect (which depends on the table's TLS hosts). */
  readonly policies: readonly [plain: readonly Policy[], redirect: readonly Policy[]];
  /** Unsupported annotations that restrict access or move traffic, and the policies of a refused Ingress. */
  readonly refused: readonly string[];
  readonly refusal: readonly Policy[];
  /** The full key of `ssl-passthrough: "true"`, else undefined (model/l4/passthrough.ts). */
  readonly sslPassthrough: string | undefined;
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
function checkRef(ns: string, b: IngressBackend | undefined, protocol: BackendProtocol, rule: number, index: number): CheckedRef {
  const ref = backendRef(ns, isObject(b) ? b : undefined, protocol);
  return 'error' in ref ? { problem: [ref.reason, `${pathAt(rule, index)}: ${ref.error}`] } : ref;
}

const HTTPS_REDIRECT: Policy = { kind: 'httpsRedirect' };

/** Checks one Ingress. */
export function checkIngress(ing: Ingress): CheckedIngress {
  const ns = str(ing.metadata?.namespace);
  const name = str(ing.metadata?.name);
  const problems: Problem[] = [];
  const annotations = ns === '' || name === '' ? undefined : parseAnnotations(ing.metadata?.annotations, (reason, message, severity) => problems.push(severity === undefined ? [reason, message] : [reason, message, severity]), ns);
  const protocol = annotations?.backendProtocol ?? 'HTTP';
  const spec = isObject(ing.spec) ? ing.spec : undefined;
  const rules = annotations === undefined ? [] : asArray(spec?.rules);
  const checkedRules = rules.map((rule, i): CheckedRule => {
    if (!isObject(rule)) return { problem: ['InvalidObject', `rules[${i}] must be an object`] };
    const h = checkHost(rule.host);
    if ('error' in h) return { problem: ['InvalidHost', `rules[${i}]: ${h.error}`] };
    return {
      host: h.host,
      paths: asArray(rule.http?.paths).map((p, j): CheckedPath => {
        const c = checkPath(p?.path, p?.pathType);
        if ('error' in c) return { problem: [c.reason, `${pathAt(i, j)}: ${c.error}`] };
        return { path: c.path, match: c.match, ref: checkRef(ns, p.backend, protocol, i, j), rule: i, index: j };
      }),
    };
  });
  const ruleHosts = checkedRules.flatMap((r) => ('host' in r && r.host !== '' ? [r.host] : []));
  const plain: readonly Policy[] = [];
  return {
    origin: { kind: 'Ingress', namespace: ns, name },
    created: str(ing.metadata?.creationTimestamp),
    source: { kind: 'Ingress', namespace: ns, name },
    invalid: annotations === undefined,
    problems,
    protocol,
    redirectPolicy: annotations?.forceSslRedirect ? 'force' : annotations?.sslRedirect,
    settings: annotations?.settings ?? {},
    policies: [plain, [HTTPS_REDIRECT, ...plain]],
    refused: annotations?.refused ?? [],
    refusal: [{ kind: 'refuse', because: annotations?.refused ?? [] }],
    sslPassthrough: annotations?.sslPassthrough,
    defaultRef: annotations !== undefined && spec?.defaultBackend !== undefined ? checkRef(ns, spec.defaultBackend, protocol, -1, -1) : undefined,
    ruleCount: rules.length,
    rules: checkedRules,
    tls: annotations === undefined ? [] : asArray(spec?.tls).flatMap((entry, i): CheckedTls[] => {
      if (!isObject(entry)) return [];
      const where = `spec.tls[${i}]`;
      const hosts: string[] = [];
      const tlsProblems: Problem[] = [];
      for (const raw of asArray(entry.hosts).length > 0 ? asArray(entry.hosts) : ruleHosts) {
        const h = checkHost(raw);
        if ('error' in h) tlsProblems.push(['InvalidHost', `${where}: ${h.error}`]);
        else if (h.host !== '') hosts.push(h.host);
      }
      return [{ hosts, problems: tlsProblems, secretName: entry.secretName, where }];
    }),
  };
}
