/**
 * Pure checks on Ingress objects: which ones are ours, and whether hosts and paths are valid.
 * Rules follow the API server's own validation (k8s.io/kubernetes pkg/apis/networking/validation),
 * because standalone manifests never went through an API server.
 */
import { keyOf, show, str, type Ingress, type IngressClass } from './k8s.js';
import type { PathMatch } from './types.js';

/** How the operator told Portico which Ingresses to serve. */
export interface ClassOptions {
  /** IngressClass `spec.controller` value that means "Portico". */
  readonly controllerClass: string;
  /** A class name that is ours even without an IngressClass object. */
  readonly ingressClass: string;
  /** Serve Ingresses that name no class at all. */
  readonly watchWithoutClass: boolean;
}

export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';

/** The class an Ingress asks for: `spec.ingressClassName`, else the legacy annotation, else undefined. */
export function classOf(ing: Ingress): string | undefined {
  const name = ing.spec?.ingressClassName;
  if (typeof name === 'string' && name !== '') return name;
  const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
  return typeof legacy === 'string' && legacy !== '' ? legacy : undefined;
}

/** Builds the predicate "is this Ingress ours?" from the IngressClasses in the snapshot. */
export function createClassFilter(classes: readonly IngressClass[], opts: ClassOptions): (ing: Ingress) => boolean {
  const ours = new Set<string>([opts.ingressClass]);
  let oursIsDefault = opts.watchWithoutClass;
  for (const c of classes) {
    const name = c.metadata?.name;
    if (typeof name !== 'string' || c.spec?.controller !== opts.controllerClass) continue;
    ours.add(name);
    if (c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true') oursIsDefault = true;
  }
  return (ing) => {
    const cls = classOf(ing);
    return cls === undefined ? oursIsDefault : ours.has(cls);
  };
}

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
export function checkPath(rawPath: unknown, rawType: unknown): { path: string; match: PathMatch } | { error: string; reason: 'InvalidPath' | 'InvalidPathType' } {
  let match: PathMatch;
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

/** Orders Ingresses oldest first (creationTimestamp, then namespace/name): the oldest wins a conflict. */
export function sortByAge(list: readonly Ingress[]): Ingress[] {
  const keyed = list.map((ing) => ({ ing, t: str(ing.metadata?.creationTimestamp), k: keyOf(ing) }));
  keyed.sort((a, b) => (a.t !== b.t ? (a.t < b.t ? -1 : 1) : a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  return keyed.map((x) => x.ing);
}
