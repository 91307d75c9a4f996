/**
 * translate(snapshot) -> { table, diagnostics }: the whole Kubernetes-to-routing step.
 * Pure: no I/O, no clock, no logger. It never throws on user input; each problem becomes a
 * Diagnostic and the rest of the table keeps working.
 */
import { parseAnnotations } from './annotations.js';
import { certProblem, type InspectSecret, type InspectUpstreamTls } from './certs.js';
import { backendRef, indexServices, resolutions, resolveBackend, type ExternalNameOptions, type Resolved, type ServiceIndex } from './endpoints.js';
import { checkHost, sortByAge, checkPath, createClassFilter, type ClassOptions } from './ingress.js';
import { keyOf, str, type Ingress, type IngressBackend, type Secret, type Snapshot } from './k8s.js';
import { Memo } from './memo.js';
import type { Backend, BackendProtocol, Cert, Diagnostic, DiagnosticReason, HostFallback, PathMatch, Route, RouteLimits, RouteSource, Translation, UpstreamTls } from './types.js';

export interface TranslateOptions extends ClassOptions {
  /** `--default-backend-service`: serves what nothing else matched, unless an Ingress names one. */
  readonly defaultBackendService?: { readonly namespace: string; readonly name: string; readonly port: string | number } | undefined;
  /** `--ssl-redirect`: redirect plain HTTP to HTTPS on hosts that have TLS (default true). */
  readonly sslRedirect?: boolean;
  /** Parses and checks TLS Secrets; without it, spec.tls is ignored. */
  readonly inspect?: InspectSecret;
  /** Parses and checks `proxy-ssl-secret` Secrets; without it, that annotation carries no material. */
  readonly inspectUpstream?: InspectUpstreamTls;
  /** Unix ms, for certificate expiry; passed in so translation stays pure. */
  readonly now?: number;
  /** `--default-ssl-certificate`: served for SNI names no Ingress has a certificate for. */
  readonly defaultSslCertificate?: { readonly namespace: string; readonly name: string } | undefined;
  /** ExternalName Services: allowed or not, and the resolutions of their names. Without it, they are refused. */
  readonly externalNames?: ExternalNameOptions;
}

/** Builds the routing table from every object in the snapshot. */
export function translate(snapshot: Snapshot, opts: TranslateOptions): Translation {
  // Input is untrusted: anything that is not an object is dropped here, once, for every kind.
  const t = new Translator(indexServices(objects(snapshot.services), objects(snapshot.endpointSlices)), objects(snapshot.secrets), opts);
  const isOurs = createClassFilter(objects(snapshot.ingressClasses), opts);
  const ours = sortByAge(objects(snapshot.ingresses).filter((ing) => isOurs(ing)));
  for (const ing of ours) t.tlsHostsOf(ing);
  for (const ing of ours) t.ingress(ing);
  if (t.defaultBackend === null && opts.defaultBackendService) {
    const d = opts.defaultBackendService;
    const id = `${d.namespace}/${d.name}:${d.port}`;
    const source = { kind: 'Service', namespace: d.namespace, name: d.name };
    t.resolve(id, d.namespace, d.name, d.port, source, 'HTTP');
    t.defaultBackend = { backend: id, source: { namespace: d.namespace, ingress: '' } };
  }
  if (opts.defaultSslCertificate) t.defaultCert(opts.defaultSslCertificate);
  const result = t.finish();
  checkedIngresses.advance();
  resolutions.advance();
  return result;
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

type Problem = readonly [reason: DiagnosticReason, message: string];
type Ref = { readonly id: string; readonly service: string; readonly port: string | number };
/** A backend reference, checked: usable, or the problem with it. */
type CheckedRef = Ref | { readonly problem: Problem };

type CheckedPath = { readonly problem: Problem } | { readonly path: string; readonly match: PathMatch; readonly ref: CheckedRef; readonly rule: number; readonly index: number };
type CheckedRule = { readonly problem: Problem } | { readonly host: string; readonly paths: readonly CheckedPath[] };

/** Everything about one Ingress that depends on that object alone, in the order it is reported. */
interface CheckedIngress {
  readonly origin: Diagnostic['source'];
  readonly source: RouteSource;
  /** metadata without name or namespace: nothing else was checked. */
  readonly invalid: boolean;
  /** The annotations' problems. */
  readonly problems: readonly Problem[];
  readonly protocol: BackendProtocol;
  readonly redirectPolicy: boolean | 'force' | undefined;
  readonly limits: RouteLimits;
  readonly defaultRef: CheckedRef | undefined;
  /** spec.rules as written (entries that are not objects included): their number decides "no rules". */
  readonly ruleCount: number;
  readonly rules: readonly CheckedRule[];
  readonly tls: readonly CheckedTls[];
}

/** One spec.tls entry: its valid hosts (default: the rule hosts) and the problems with the others. */
interface CheckedTls {
  readonly hosts: readonly string[];
  readonly problems: readonly Problem[];
  readonly secretName: unknown;
  readonly where: string;
}

/**
 * Checked Ingresses by object. Objects from the store are never modified (a change is a new
 * object), so a rebuild checks only the Ingresses that changed.
 */
const checkedIngresses = new Memo<Ingress, CheckedIngress>();

/** Where a path is in its Ingress, for messages: built only when one is reported. */
const pathAt = (rule: number, index: number): string => (rule < 0 ? 'spec.defaultBackend' : `rules[${rule}].http.paths[${index}]`);

/** Checks a backend reference at rules[rule].http.paths[index], or spec.defaultBackend for rule -1. */
function checkRef(ns: string, b: IngressBackend | undefined, protocol: BackendProtocol, rule: number, index: number): CheckedRef {
  const ref = backendRef(ns, isObject(b) ? b : undefined, protocol);
  return 'error' in ref ? { problem: [ref.reason, `${pathAt(rule, index)}: ${ref.error}`] } : ref;
}

function checkIngress(ing: Ingress): CheckedIngress {
  const known = checkedIngresses.get(ing);
  if (known !== undefined) return known;
  const ns = str(ing.metadata?.namespace);
  const name = str(ing.metadata?.name);
  const problems: Problem[] = [];
  const annotations = ns === '' || name === '' ? undefined : parseAnnotations(ing.metadata?.annotations, (reason, message) => problems.push([reason, message]), ns);
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
  const checked: CheckedIngress = {
    origin: { kind: 'Ingress', namespace: ns, name },
    source: { namespace: ns, ingress: name },
    invalid: annotations === undefined,
    problems,
    protocol,
    redirectPolicy: annotations?.forceSslRedirect ? 'force' : annotations?.sslRedirect,
    limits: annotations?.limits ?? {},
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
  checkedIngresses.set(ing, checked);
  return checked;
}

/** One host's routes, Exact and Prefix apart: keyed by the path alone, no key strings to build. */
interface HostRoutes {
  readonly Exact: Map<string, Route>;
  readonly Prefix: Map<string, Route>;
}

/** Accumulates one translation; lives only for the duration of translate(). */
class Translator {
  readonly routes = new Map<string, HostRoutes>();
  /** Hosts named in any spec.tls, valid certificate or not: they get redirects and HSTS. */
  readonly tlsHosts = new Set<string>();
  readonly certs = new Map<string, Cert>();
  /** proxy-ssl-secret material by Secret; a Secret checked in this translation is in `upstreamChecked`. */
  readonly upstreamTls = new Map<string, UpstreamTls>();
  private readonly upstreamChecked = new Map<string, Problem | null>();
  private readonly secrets = new Map<string, Secret>();
  readonly secretRefs = new Set<string>();
  readonly serviceRefs = new Set<string>();
  /** ExternalName DNS names the table's backends need resolved. */
  readonly externalNames = new Set<string>();
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

  /** First pass: the hosts of every spec.tls, which decide the redirects of every route. */
  tlsHostsOf(ing: Ingress): void {
    for (const t of checkIngress(ing).tls) for (const h of t.hosts) this.tlsHosts.add(h);
  }

  ingress(ing: Ingress): void {
    const c = checkIngress(ing);
    const { origin, source, protocol } = c;
    const report = (reason: DiagnosticReason, message: string): void => this.report(origin, reason, message);
    if (c.invalid) {
      report('InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
      return;
    }
    for (const [reason, message] of c.problems) report(reason, message);
    if (c.limits.sslSecret !== undefined) this.upstreamSecret(c.limits.sslSecret, origin);
    const defaultId = c.defaultRef !== undefined ? this.use(c.defaultRef, origin, protocol) : undefined;
    this.tls(c);

    if (c.ruleCount === 0) {
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

    for (const rule of c.rules) {
      if ('problem' in rule) {
        report(...rule.problem);
        continue;
      }
      const host = rule.host;
      if (defaultId !== undefined && !this.hostFallbacks.has(host)) this.hostFallbacks.set(host, { backend: defaultId, source });
      let routes = this.routes.get(host);
      for (const p of rule.paths) {
        if ('problem' in p) {
          report(...p.problem);
          continue;
        }
        const id = this.use(p.ref, origin, protocol);
        if (id === undefined) continue;
        if (routes === undefined) this.routes.set(host, (routes = { Exact: new Map(), Prefix: new Map() }));
        const existing = routes[p.match].get(p.path);
        if (existing) {
          const by = existing.source.namespace === source.namespace && existing.source.ingress === source.ingress ? 'an earlier path of this Ingress' : `Ingress ${existing.source.namespace}/${existing.source.ingress}, which is older`;
          report('DuplicateRoute', `${pathAt(p.rule, p.index)}: ${p.match} ${p.path} on host ${host || '*'} is already routed by ${by}; ignored`);
          continue;
        }
        routes[p.match].set(p.path, { host, path: p.path, match: p.match, backend: id, source, redirect: this.redirects(c.redirectPolicy, host), limits: c.limits });
      }
    }
  }

  /** Looks up and checks a proxy-ssl-secret once per translation; reports its problem for each Ingress using it. */
  private upstreamSecret(key: string, origin: Diagnostic['source']): void {
    const inspect = this.opts.inspectUpstream;
    if (inspect === undefined) return;
    this.secretRefs.add(key);
    let problem = this.upstreamChecked.get(key);
    if (problem === undefined) {
      const secret = this.secrets.get(key);
      const check = secret === undefined ? undefined : inspect(secret);
      if (check === undefined) problem = ['SecretNotFound', `proxy-ssl-secret ${key} not found (in Kubernetes mode Portico reads only Secrets of type kubernetes.io/tls)`];
      else if (!check.ok) problem = [check.reason, `proxy-ssl-secret ${key}: ${check.message}`];
      else {
        problem = null;
        this.upstreamTls.set(key, { id: check.id, ...(check.caPem !== undefined ? { caPem: check.caPem } : {}), ...(check.certPem !== undefined && check.keyPem !== undefined ? { certPem: check.certPem, keyPem: check.keyPem } : {}) });
      }
      this.upstreamChecked.set(key, problem);
    }
    if (problem !== null) this.report(origin, ...problem);
  }

  /** Resolves a checked backend reference; returns its id, or undefined after reporting why not. */
  private use(ref: CheckedRef, origin: Diagnostic['source'], protocol: BackendProtocol): string | undefined {
    if ('problem' in ref) {
      this.report(origin, ...ref.problem);
      return undefined;
    }
    this.resolve(ref.id, origin.namespace, ref.service, ref.port, origin, protocol);
    return ref.id;
  }

  /** Resolves a backend once per translation, and reports its problem once per referring object. */
  resolve(id: string, ns: string, service: string, port: string | number, origin: Diagnostic['source'], protocol: BackendProtocol): void {
    let r = this.backends.get(id);
    if (!r) {
      // one id is one namespace/service: its reference is recorded with its first use
      this.serviceRefs.add(`${ns}/${service}`);
      r = resolveBackend(this.index, ns, service, port, id, protocol, this.opts.externalNames);
      this.backends.set(id, r);
      if (r.backend.externalName !== undefined && this.opts.externalNames?.allow === true) this.externalNames.add(r.backend.externalName);
    }
    if (r.problem) this.report(origin, r.problem.reason, r.problem.message);
  }

  /**
   * spec.tls: each listed host (default: the Ingress's rule hosts) is a TLS host; a valid Secret
   * gives it a certificate, the oldest Ingress winning. Problems leave the host on the default cert.
   */
  tls(c: CheckedIngress): void {
    const { origin, source } = c;
    const inspect = this.opts.inspect;
    for (const { hosts, problems, secretName: name, where } of c.tls) {
      for (const [reason, message] of problems) this.report(origin, reason, message);
      if (inspect === undefined || typeof name !== 'string' || name === '') continue; // no secret: the default certificate
      const secretKey = `${origin.namespace}/${name}`;
      this.secretRefs.add(secretKey);
      const secret = this.secrets.get(secretKey);
      if (secret === undefined) {
        this.report(origin, 'SecretNotFound', `${where}: Secret ${secretKey} not found; hosts ${hosts.join(', ')} use the default certificate`);
        continue;
      }
      const check = inspect(secret);
      for (const host of hosts) {
        const problem = certProblem(check, host, this.opts.now ?? 0, secretKey);
        if (problem !== null || !check.ok) {
          if (problem) this.report(origin, problem.reason, `${where}: ${problem.message}; host ${host} uses the default certificate`);
          continue;
        }
        const existing = this.certs.get(host);
        if (existing !== undefined) {
          if (existing.secret !== secretKey) this.report(origin, 'DuplicateTLSHost', `${where}: host ${host} already has Secret ${existing.secret} from Ingress ${existing.source.namespace}/${existing.source.ingress}; ignored`);
          continue;
        }
        this.certs.set(host, { host, secret: secretKey, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source });
      }
    }
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
  private redirects(policy: CheckedIngress['redirectPolicy'], host: string): boolean {
    if (policy === 'force') return true;
    if (!this.tlsHosts.has(host)) return false;
    return policy ?? this.opts.sslRedirect ?? true;
  }

  report(source: Diagnostic['source'], reason: DiagnosticReason, message: string): void {
    const key = `${source.kind}/${source.namespace}/${source.name}\n${reason}\n${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push({ source, reason, message });
  }

  finish(): Translation {
    // sorted by host, then path, Exact before Prefix on the same path
    const routes: Route[] = [];
    for (const host of [...this.routes.keys()].sort()) {
      const h = this.routes.get(host) as HostRoutes;
      for (const r of [...h.Exact.values(), ...h.Prefix.values()].sort(comparePaths)) routes.push(r);
    }
    const backends = new Map<string, Backend>();
    for (const id of [...this.backends.keys()].sort()) backends.set(id, (this.backends.get(id) as Resolved).backend);
    return {
      table: { routes, hostFallbacks: this.hostFallbacks, defaultBackend: this.defaultBackend, backends, certs: this.certs, ...(this.upstreamTls.size > 0 ? { upstreamTls: this.upstreamTls } : {}) },
      diagnostics: this.diagnostics,
      references: { services: this.serviceRefs, secrets: this.secretRefs, externalNames: this.externalNames },
    };
  }
}

function comparePaths(a: Route, b: Route): number {
  if (a.path !== b.path) return a.path < b.path ? -1 : 1;
  return a.match === b.match ? 0 : a.match === 'Exact' ? -1 : 1;
}
