/**
 * translate(snapshot) -> { table, diagnostics }: the whole Kubernetes-to-routing step.
 * Pure: no I/O, no clock, no logger. It never throws on user input; each problem becomes a
 * Diagnostic and the rest of the table keeps working.
 */
import { backendRef, indexServices, resolveBackend, type Resolved, type ServiceIndex } from './endpoints.js';
import { byAge, checkHost, checkPath, createClassFilter, type ClassOptions } from './ingress.js';
import type { Ingress, IngressBackend, Snapshot } from './k8s.js';
import type { Backend, Diagnostic, DiagnosticReason, HostFallback, Route, RouteSource, Translation } from './types.js';

export interface TranslateOptions extends ClassOptions {
  /** `--default-backend-service`: serves what nothing else matched, unless an Ingress names one. */
  readonly defaultBackendService?: { readonly namespace: string; readonly name: string; readonly port: string | number } | undefined;
}

/** Builds the routing table from every object in the snapshot. */
export function translate(snapshot: Snapshot, opts: TranslateOptions): Translation {
  const t = new Translator(indexServices(asArray(snapshot.services), asArray(snapshot.endpointSlices)));
  const isOurs = createClassFilter(asArray(snapshot.ingressClasses), opts);
  const ours = asArray(snapshot.ingresses).filter((ing) => isObject(ing) && isOurs(ing)).sort(byAge);
  for (const ing of ours) t.ingress(ing);
  if (t.defaultBackend === null && opts.defaultBackendService) {
    const d = opts.defaultBackendService;
    const id = `${d.namespace}/${d.name}:${d.port}`;
    const source = { kind: 'Service', namespace: d.namespace, name: d.name };
    t.resolve(id, d.namespace, d.name, d.port, source);
    t.defaultBackend = { backend: id, source: { namespace: d.namespace, ingress: '' } };
  }
  return t.finish();
}

function asArray<T>(v: readonly T[] | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Accumulates one translation; lives only for the duration of translate(). */
class Translator {
  readonly routes = new Map<string, Route>();
  readonly hostFallbacks = new Map<string, HostFallback>();
  defaultBackend: HostFallback | null = null;
  readonly backends = new Map<string, Resolved>();
  readonly diagnostics: Diagnostic[] = [];
  private readonly reported = new Set<string>();

  constructor(private readonly index: ServiceIndex) {}

  ingress(ing: Ingress): void {
    const ns = String(ing.metadata?.namespace ?? '');
    const name = String(ing.metadata?.name ?? '');
    const origin = { kind: 'Ingress', namespace: ns, name };
    const source: RouteSource = { namespace: ns, ingress: name };
    const report = (reason: DiagnosticReason, message: string): void => this.report(origin, reason, message);
    if (ns === '' || name === '') {
      report('InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
      return;
    }
    const spec = isObject(ing.spec) ? ing.spec : undefined;
    const rules = asArray(spec?.rules);
    const defaultId = spec?.defaultBackend !== undefined ? this.backend(ns, spec.defaultBackend, origin) : undefined;

    if (rules.length === 0) {
      if (defaultId === undefined) {
        report('InvalidObject', 'Ingress has neither rules nor spec.defaultBackend');
      } else if (this.defaultBackend === null) {
        this.defaultBackend = { backend: defaultId, source };
      } else {
        const w = this.defaultBackend.source;
        report('DefaultBackendConflict', `default backend ignored: Ingress ${w.namespace}/${w.ingress} is older and already sets it`);
      }
      return;
    }

    rules.forEach((rule, i) => {
      if (!isObject(rule)) {
        report('InvalidObject', `rules[${i}] must be an object`);
        return;
      }
      const h = checkHost(rule.host);
      if ('error' in h) {
        report('InvalidHost', `rules[${i}]: ${h.error}`);
        return;
      }
      if (defaultId !== undefined && !this.hostFallbacks.has(h.host)) {
        this.hostFallbacks.set(h.host, { backend: defaultId, source });
      }
      asArray(rule.http?.paths).forEach((p, j) => {
        const where = `rules[${i}].http.paths[${j}]`;
        const checked = checkPath(p?.path, p?.pathType);
        if ('error' in checked) {
          report(checked.reason, `${where}: ${checked.error}`);
          return;
        }
        const id = this.backend(ns, p.backend, origin, where);
        if (id === undefined) return;
        const key = `${h.host}\n${checked.match}\n${checked.path}`;
        const existing = this.routes.get(key);
        if (existing) {
          const by = existing.source.namespace === ns && existing.source.ingress === name ? 'an earlier path of this Ingress' : `Ingress ${existing.source.namespace}/${existing.source.ingress}, which is older`;
          report('DuplicateRoute', `${where}: ${checked.match} ${checked.path} on host ${h.host || '*'} is already routed by ${by}; ignored`);
          return;
        }
        this.routes.set(key, { host: h.host, path: checked.path, match: checked.match, backend: id, source });
      });
    });
  }

  /** Validates and resolves a backend reference; returns its id, or undefined after reporting why not. */
  backend(ns: string, b: IngressBackend | undefined, origin: Diagnostic['source'], where = 'spec.defaultBackend'): string | undefined {
    const ref = backendRef(ns, isObject(b) ? b : undefined);
    if ('error' in ref) {
      this.report(origin, ref.reason, `${where}: ${ref.error}`);
      return undefined;
    }
    this.resolve(ref.id, ns, ref.service, ref.port, origin);
    return ref.id;
  }

  /** Resolves a backend once per translation, and reports its problem once per referring object. */
  resolve(id: string, ns: string, service: string, port: string | number, origin: Diagnostic['source']): void {
    let r = this.backends.get(id);
    if (!r) {
      r = resolveBackend(this.index, ns, service, port, id);
      this.backends.set(id, r);
    }
    if (r.problem) this.report(origin, r.problem.reason, r.problem.message);
  }

  report(source: Diagnostic['source'], reason: DiagnosticReason, message: string): void {
    const key = `${source.kind}/${source.namespace}/${source.name}\n${reason}\n${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push({ source, reason, message });
  }

  finish(): Translation {
    const routes = [...this.routes.values()].sort(compareRoutes);
    const backends = new Map<string, Backend>();
    for (const id of [...this.backends.keys()].sort()) backends.set(id, (this.backends.get(id) as Resolved).backend);
    return {
      table: { routes, hostFallbacks: this.hostFallbacks, defaultBackend: this.defaultBackend, backends },
      diagnostics: this.diagnostics,
    };
  }
}

function compareRoutes(a: Route, b: Route): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.match === b.match ? 0 : a.match === 'Exact' ? -1 : 1;
}
