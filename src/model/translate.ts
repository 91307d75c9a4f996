/**
 * translate(snapshot) -> { table, diagnostics }: the whole Kubernetes-to-routing step.
 * Pure: no I/O, no clock, no logger. It never throws on user input; each problem becomes a
 * Diagnostic and the rest of the table keeps working.
 */
import { parseAnnotations } from './annotations.js';
import { certProblem, type InspectSecret } from './certs.js';
import { backendRef, indexServices, resolveBackend, type Resolved, type ServiceIndex } from './endpoints.js';
import { checkHost, sortByAge, checkPath, createClassFilter, type ClassOptions } from './ingress.js';
import { keyOf, str, type Ingress, type IngressBackend, type Secret, type Snapshot } from './k8s.js';
import type { Backend, BackendProtocol, Cert, Diagnostic, DiagnosticReason, HostFallback, Route, RouteSource, Translation } from './types.js';

export interface TranslateOptions extends ClassOptions {
  /** `--default-backend-service`: serves what nothing else matched, unless an Ingress names one. */
  readonly defaultBackendService?: { readonly namespace: string; readonly name: string; readonly port: string | number } | undefined;
  /** `--ssl-redirect`: redirect plain HTTP to HTTPS on hosts that have TLS (default true). */
  readonly sslRedirect?: boolean;
  /** Parses and checks TLS Secrets; without it, spec.tls is ignored. */
  readonly inspect?: InspectSecret;
  /** Unix ms, for certificate expiry; passed in so translation stays pure. */
  readonly now?: number;
  /** `--default-ssl-certificate`: served for SNI names no Ingress has a certificate for. */
  readonly defaultSslCertificate?: { readonly namespace: string; readonly name: string } | undefined;
}

/** Builds the routing table from every object in the snapshot. */
export function translate(snapshot: Snapshot, opts: TranslateOptions): Translation {
  // Input is untrusted: anything that is not an object is dropped here, once, for every kind.
  const t = new Translator(indexServices(objects(snapshot.services), objects(snapshot.endpointSlices)), objects(snapshot.secrets), opts);
  const isOurs = createClassFilter(objects(snapshot.ingressClasses), opts);
  const ours = sortByAge(objects(snapshot.ingresses).filter((ing) => isOurs(ing)));
  for (const ing of ours) t.ingress(ing);
  if (t.defaultBackend === null && opts.defaultBackendService) {
    const d = opts.defaultBackendService;
    const id = `${d.namespace}/${d.name}:${d.port}`;
    const source = { kind: 'Service', namespace: d.namespace, name: d.name };
    t.resolve(id, d.namespace, d.name, d.port, source, 'HTTP');
    t.defaultBackend = { backend: id, source: { namespace: d.namespace, ingress: '' } };
  }
  if (opts.defaultSslCertificate) t.defaultCert(opts.defaultSslCertificate);
  return t.finish();
}

function asArray<T>(v: readonly T[] | undefined): readonly T[] {
  return Array.isArray(v) ? v : [];
}

function objects<T>(v: readonly T[] | undefined): T[] {
  return asArray(v).filter(isObject);
}

function isObject(v: unknown): boolean {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Accumulates one translation; lives only for the duration of translate(). */
/** A route before the redirect decision, which needs every Ingress's spec.tls. */
type PendingRoute = Omit<Route, 'redirect'> & { readonly redirectPolicy: boolean | 'force' | undefined };

class Translator {
  readonly routes = new Map<string, PendingRoute>();
  /** Hosts named in any spec.tls, valid certificate or not: they get redirects and HSTS. */
  readonly tlsHosts = new Set<string>();
  readonly certs = new Map<string, Cert>();
  private readonly secrets = new Map<string, Secret>();
  readonly secretRefs = new Set<string>();
  readonly serviceRefs = new Set<string>();
  readonly hostFallbacks = new Map<string, HostFallback>();
  defaultBackend: HostFallback | null = null;
  readonly backends = new Map<string, Resolved>();
  readonly diagnostics: Diagnostic[] = [];
  private readonly reported = new Set<string>();

  constructor(
    private readonly index: ServiceIndex,
    secrets: readonly Secret[],
    private readonly opts: TranslateOptions,
  ) {
    for (const s of secrets) this.secrets.set(keyOf(s), s);
  }

  ingress(ing: Ingress): void {
    const ns = str(ing.metadata?.namespace);
    const name = str(ing.metadata?.name);
    const origin = { kind: 'Ingress', namespace: ns, name };
    const source: RouteSource = { namespace: ns, ingress: name };
    const report = (reason: DiagnosticReason, message: string): void => this.report(origin, reason, message);
    if (ns === '' || name === '') {
      report('InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
      return;
    }
    const spec = isObject(ing.spec) ? ing.spec : undefined;
    const rules = asArray(spec?.rules);
    const annotations = parseAnnotations(ing.metadata?.annotations, report);
    const protocol = annotations.backendProtocol;
    const redirectPolicy = annotations.forceSslRedirect ? 'force' : annotations.sslRedirect;
    const defaultId = spec?.defaultBackend !== undefined ? this.backend(ns, spec.defaultBackend, origin, protocol) : undefined;
    if (asArray(spec?.tls).length > 0) this.tls(ing, rules.map((r) => checkHost(r?.host)).flatMap((h) => ('host' in h && h.host !== '' ? [h.host] : [])), origin, source);

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
        const where = (): string => `rules[${i}].http.paths[${j}]`;
        const checked = checkPath(p?.path, p?.pathType);
        if ('error' in checked) {
          report(checked.reason, `${where()}: ${checked.error}`);
          return;
        }
        const id = this.backend(ns, p.backend, origin, protocol, where);
        if (id === undefined) return;
        const key = `${h.host}\n${checked.match}\n${checked.path}`;
        const existing = this.routes.get(key);
        if (existing) {
          const by = existing.source.namespace === ns && existing.source.ingress === name ? 'an earlier path of this Ingress' : `Ingress ${existing.source.namespace}/${existing.source.ingress}, which is older`;
          report('DuplicateRoute', `${where()}: ${checked.match} ${checked.path} on host ${h.host || '*'} is already routed by ${by}; ignored`);
          return;
        }
        this.routes.set(key, { host: h.host, path: checked.path, match: checked.match, backend: id, source, redirectPolicy, limits: annotations.limits });
      });
    });
  }

  /** Validates and resolves a backend reference; returns its id, or undefined after reporting why not. */
  backend(ns: string, b: IngressBackend | undefined, origin: Diagnostic['source'], protocol: BackendProtocol, where: () => string = () => 'spec.defaultBackend'): string | undefined {
    const ref = backendRef(ns, isObject(b) ? b : undefined, protocol);
    if ('error' in ref) {
      this.report(origin, ref.reason, `${where()}: ${ref.error}`);
      return undefined;
    }
    this.resolve(ref.id, ns, ref.service, ref.port, origin, protocol);
    return ref.id;
  }

  /** Resolves a backend once per translation, and reports its problem once per referring object. */
  resolve(id: string, ns: string, service: string, port: string | number, origin: Diagnostic['source'], protocol: BackendProtocol): void {
    let r = this.backends.get(id);
    if (!r) {
      // one id is one namespace/service: its reference is recorded with its first use
      this.serviceRefs.add(`${ns}/${service}`);
      r = resolveBackend(this.index, ns, service, port, id, protocol);
      this.backends.set(id, r);
    }
    if (r.problem) this.report(origin, r.problem.reason, r.problem.message);
  }

  /**
   * spec.tls: each listed host (default: the Ingress's rule hosts) is a TLS host; a valid Secret
   * gives it a certificate, the oldest Ingress winning. Problems leave the host on the default cert.
   */
  tls(ing: Ingress, ruleHosts: readonly string[], origin: Diagnostic['source'], source: RouteSource): void {
    const inspect = this.opts.inspect;
    asArray(ing.spec?.tls).forEach((entry, i) => {
      if (!isObject(entry)) return;
      const hosts: string[] = [];
      for (const raw of asArray(entry.hosts).length > 0 ? asArray(entry.hosts) : ruleHosts) {
        const h = checkHost(raw);
        if ('error' in h) this.report(origin, 'InvalidHost', `spec.tls[${i}]: ${h.error}`);
        else if (h.host !== '') hosts.push(h.host);
      }
      for (const h of hosts) this.tlsHosts.add(h);
      const name = entry.secretName;
      if (inspect === undefined || typeof name !== 'string' || name === '') return; // no secret: the default certificate
      const secretKey = `${origin.namespace}/${name}`;
      this.secretRefs.add(secretKey);
      const secret = this.secrets.get(secretKey);
      if (secret === undefined) {
        this.report(origin, 'SecretNotFound', `spec.tls[${i}]: Secret ${secretKey} not found; hosts ${hosts.join(', ')} use the default certificate`);
        return;
      }
      const check = inspect(secret);
      for (const host of hosts) {
        const problem = certProblem(check, host, this.opts.now ?? 0, secretKey);
        if (problem !== null || !check.ok) {
          if (problem) this.report(origin, problem.reason, `spec.tls[${i}]: ${problem.message}; host ${host} uses the default certificate`);
          continue;
        }
        const existing = this.certs.get(host);
        if (existing !== undefined) {
          if (existing.secret !== secretKey) this.report(origin, 'DuplicateTLSHost', `spec.tls[${i}]: host ${host} already has Secret ${existing.secret} from Ingress ${existing.source.namespace}/${existing.source.ingress}; ignored`);
          continue;
        }
        this.certs.set(host, { host, secret: secretKey, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source });
      }
    });
  }

  /** `--default-ssl-certificate`: stored under host '' when valid, else a diagnostic on the Secret. */
  defaultCert(ref: { namespace: string; name: string }): void {
    const key = `${ref.namespace}/${ref.name}`;
    this.secretRefs.add(key);
    const origin = { kind: 'Secret', namespace: ref.namespace, name: ref.name };
    const secret = this.secrets.get(key);
    if (this.opts.inspect === undefined) return;
    if (secret === undefined) {
      this.report(origin, 'SecretNotFound', `--default-ssl-certificate ${key} not found; serving the generated self-signed certificate`);
      return;
    }
    const check = this.opts.inspect(secret);
    const problem = certProblem(check, '', this.opts.now ?? 0, key);
    if (problem !== null || !check.ok) {
      if (problem) this.report(origin, problem.reason, `--default-ssl-certificate: ${problem.message}; serving the generated self-signed certificate`);
      return;
    }
    this.certs.set('', { host: '', secret: key, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source: { namespace: ref.namespace, ingress: '' } });
  }

  /** Whether plain HTTP to this route is redirected: force, else the annotation, else --ssl-redirect, on TLS hosts only. */
  private redirects(r: PendingRoute): boolean {
    if (r.redirectPolicy === 'force') return true;
    if (!this.tlsHosts.has(r.host)) return false;
    return r.redirectPolicy ?? this.opts.sslRedirect ?? true;
  }

  report(source: Diagnostic['source'], reason: DiagnosticReason, message: string): void {
    const key = `${source.kind}/${source.namespace}/${source.name}\n${reason}\n${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push({ source, reason, message });
  }

  finish(): Translation {
    const routes: Route[] = [];
    for (const p of this.routes.values()) routes.push({ host: p.host, path: p.path, match: p.match, backend: p.backend, source: p.source, redirect: this.redirects(p), limits: p.limits });
    routes.sort(compareRoutes);
    const backends = new Map<string, Backend>();
    for (const id of [...this.backends.keys()].sort()) backends.set(id, (this.backends.get(id) as Resolved).backend);
    return {
      table: { routes, hostFallbacks: this.hostFallbacks, defaultBackend: this.defaultBackend, backends, certs: this.certs },
      diagnostics: this.diagnostics,
      references: { services: this.serviceRefs, secrets: this.secretRefs },
    };
  }
}

function compareRoutes(a: Route, b: Route): number {
  if (a.host !== b.host) return a.host < b.host ? -1 : 1;
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.match === b.match ? 0 : a.match === 'Exact' ? -1 : 1;
}
