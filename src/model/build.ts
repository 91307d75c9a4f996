/**
 * The table under construction, shared by the processors of every source (Ingress now, the
 * Gateway API next): routes with their precedence and conflicts, backends resolved once,
 * certificates, diagnostics reported once, and the references that decide which object changes
 * can matter. Lives for one translation.
 */
import { certProblem, type ClientCaCheck, type InspectClientCa, type InspectSecret, type InspectUpstreamTls } from './certs.js';
import { resolveBackend, type ExternalNameOptions, type Resolved, type ServiceIndex } from './endpoints.js';
import type { ConfigMap, Secret, Service } from './k8s.js';
import { keyOf, nameKey } from './k8s.js';
import { L4Builder } from './l4/builder.js';
import type { Backend, BackendTls, Cert, ClientAuth, Diagnostic, DiagnosticReason, ListenerPort, PathMatch, Route, RouteSource, Translation, UpstreamTls } from './types.js';

/** What building needs besides the objects: Secret inspectors, the time, ExternalName resolutions. */
export interface BuildOptions {
  /** Parses and checks TLS Secrets; without it, TLS is ignored. */
  readonly inspect?: InspectSecret;
  /** Parses and checks `proxy-ssl-secret` Secrets; without it, that annotation carries no material. */
  readonly inspectUpstream?: InspectUpstreamTls;
  /** Parses and checks `auth-tls-secret` Secrets (ca.crt, ca.crl); without it, hosts asking for client certificates are refused. */
  readonly inspectClientCa?: InspectClientCa;
  /** Unix ms, for certificate expiry; passed in so translation stays pure. */
  readonly now?: number;
  /** ExternalName Services: allowed or not, and the resolutions of their names. Without it, they are refused. */
  readonly externalNames?: ExternalNameOptions;
}

export type Origin = Diagnostic['source'];
export type Problem = readonly [reason: DiagnosticReason, message: string, severity?: 'info'];

/** One host's routes by path, Exact, Prefix and Regex apart: keyed by the path alone, no key strings to build. */
type HostRoutes = Record<PathMatch, Map<string, Route[]>>;

/** The human name of a route's source, for messages: `Ingress ns/name`. */
export const sourceName = (s: RouteSource): string => (s.kind === 'DefaultBackend' ? '--default-backend-service' : `${s.kind} ${s.namespace}/${s.name}`);

export class TableBuilder {
  private readonly routes = new Map<string, HostRoutes>();
  readonly certs = new Map<string, Cert>();
  readonly hostFallbacks = new Map<string, Route>();
  defaultBackend: Route | null = null;
  /** proxy-ssl-secret material by Secret; a Secret checked in this translation is in `upstreamChecked`. */
  private readonly upstreamTls = new Map<string, UpstreamTls>();
  private readonly upstreamChecked = new Map<string, Problem | null>();
  /** auth-tls-secret checks of this translation, by Secret. */
  private readonly clientCaChecked = new Map<string, ClientCaCheck>();
  /** Client-certificate verification by route host (the Ingress processor decides which host gets what). */
  readonly clientAuth = new Map<string, ClientAuth>();
  private readonly secrets = new Map<string, Secret>();
  private readonly configMaps = new Map<string, ConfigMap>();
  private readonly backends = new Map<string, Resolved>();
  private readonly secretRefs = new Set<string>();
  private readonly configMapRefs = new Set<string>();
  private readonly serviceRefs = new Set<string>();
  /** ExternalName DNS names the table's backends need resolved. */
  private readonly externalNames = new Set<string>();
  private readonly diagnostics: Diagnostic[] = [];
  private readonly reported = new Set<string>();
  /** Layer 4 listeners and TLS passthrough routes (model/l4). */
  readonly l4 = new L4Builder();

  constructor(
    private readonly index: ServiceIndex,
    secrets: readonly Secret[],
    readonly opts: BuildOptions,
    configMaps: readonly ConfigMap[] = [],
  ) {
    for (const s of secrets) this.secrets.set(keyOf(s), s);
    for (const c of configMaps) this.configMaps.set(keyOf(c), c);
  }

  /** Records a problem once per object, reason and message. */
  report(source: Origin, reason: DiagnosticReason, message: string, severity?: 'info'): void {
    const key = `${source.kind}/${source.namespace}/${source.name}\n${reason}\n${message}`;
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.diagnostics.push(severity === undefined ? { source, reason, message } : { source, reason, message, severity });
  }

  /** A Secret by `namespace/name`, recorded as referenced (its changes rebuild). */
  secret(key: string): Secret | undefined {
    this.secretRefs.add(key);
    return this.secrets.get(key);
  }

  /** A ConfigMap by `namespace/name`, recorded as referenced (its changes rebuild). */
  configMap(key: string): ConfigMap | undefined {
    this.configMapRefs.add(key);
    return this.configMaps.get(key);
  }

  /**
   * Resolves a backend once per translation, and reports its problem once per referring object.
   * `serviceUpstream`: the Service's ClusterIP; a Service without one keeps its endpoints (noted).
   */
  backend(id: string, ns: string, service: string, port: string | number, origin: Origin, protocol: Backend['protocol'], serviceUpstream = false, tls?: BackendTls): void {
    let r = this.backends.get(id);
    if (!r) {
      // one id is one namespace/service: its reference is recorded with its first use
      this.serviceRefs.add(nameKey(ns, service));
      r = resolveBackend(this.index, ns, service, port, id, protocol, this.opts.externalNames, serviceUpstream);
      // a BackendTLSPolicy's settings (its name is in the id: one id, one set of settings)
      if (tls !== undefined) r = { ...r, backend: { ...r.backend, tls } };
      this.backends.set(id, r);
      if (r.backend.externalName !== undefined && this.opts.externalNames?.allow === true) this.externalNames.add(r.backend.externalName);
    }
    if (r.problem) this.report(origin, r.problem.reason, r.problem.message);
    else if (serviceUpstream && r.backend.serviceUpstream !== true) {
      this.report(origin, 'InvalidAnnotation', `service-upstream: Service ${ns}/${service} has no ClusterIP (${r.backend.externalName !== undefined ? 'ExternalName' : 'headless'}); its ${r.backend.externalName !== undefined ? "name's addresses" : 'endpoints'} are used`);
    }
  }

  /** The number (else the name) of a Service's first port, for the default-backend annotation; undefined when the Service or its ports are missing. */
  firstPort(ns: string, service: string): string | number | undefined {
    this.serviceRefs.add(nameKey(ns, service));
    const ports = this.index.services.get(`${ns}/${service}`)?.spec?.ports;
    const p = Array.isArray(ports) ? ports[0] : undefined;
    if (typeof p?.port === 'number' && Number.isInteger(p.port) && p.port > 0 && p.port < 65536) return p.port;
    return typeof p?.name === 'string' && p.name !== '' ? p.name : undefined;
  }

  private readonly singles = new Map<string, Route['backends']>();

  /**
   * The one-backend list `[{ backend: id, weight: 1 }]`, one per id and translation: routes share
   * it (tables are never modified). At 10,000 Ingresses a list per route was 50,000 arrays and
   * objects for 5,000 ids.
   */
  single(id: string): Route['backends'] {
    let list = this.singles.get(id);
    if (list === undefined) this.singles.set(id, (list = [{ backend: id, weight: 1 }]));
    return list;
  }

  /** A Service by namespace and name, recorded as referenced (its changes rebuild). */
  service(namespace: string, name: string): Service | undefined {
    this.serviceRefs.add(nameKey(namespace, name));
    return this.index.services.get(`${namespace}/${name}`);
  }

  /** Whether a Service the table refers to is absent (the reference is invalid, not merely without endpoints). */
  serviceMissing(namespace: string, name: string): boolean {
    return !this.index.services.has(`${namespace}/${name}`);
  }

  /** The resolved backend for an id used in this translation. */
  resolved(id: string): Backend | undefined {
    return this.backends.get(id)?.backend;
  }

  /**
   * Adds a route unless one with the same host, match and path exists (and, for routes with
   * conditions, the same conditions): the older object's route keeps the place (`created`: its
   * creationTimestamp; on a tie, the one added first). Returns the route that lost, or null.
   */
  addRoute(r: Route, created = ''): Route | null {
    let host = this.routes.get(r.host);
    if (host === undefined) this.routes.set(r.host, (host = { Exact: new Map(), Prefix: new Map(), Regex: new Map() }));
    const byPath = host[r.match];
    const same = byPath.get(r.path);
    this.created.set(r, created);
    if (same === undefined) {
      byPath.set(r.path, [r]);
      return null;
    }
    const key = conditionsKey(r);
    const i = same.findIndex((x) => conditionsKey(x) === key && sharePort(x, r));
    if (i === -1) {
      same.push(r);
      return null;
    }
    const existing = same[i] as Route;
    const theirs = this.created.get(existing) ?? '';
    if (created !== '' && theirs !== '' && created < theirs) {
      same[i] = r;
      return existing;
    }
    return r;
  }

  /** The route holding the place `r` asked for (same host, match, path and conditions). */
  routeAt(r: Route): Route | undefined {
    const key = conditionsKey(r);
    return this.routes.get(r.host)?.[r.match].get(r.path)?.find((x) => conditionsKey(x) === key && sharePort(x, r));
  }

  /** When each added route's object was created (for conflicts between sources). */
  private readonly created = new Map<Route, string>();
  /**
   * The route a canary path splits traffic off: the Ingress route without conditions at that host, path
   * and match (a Prefix path also finds a Regex route of the same path: the same location in
   * ingress-nginx, where use-regex keeps the path type).
   */
  findRoute(host: string, match: PathMatch, path: string): Route | undefined {
    const h = this.routes.get(host);
    if (h === undefined) return undefined;
    const plain = (m: PathMatch): Route | undefined => h[m].get(path)?.find((r) => r.conditions === undefined && r.source.kind === 'Ingress');
    return plain(match) ?? (match === 'Prefix' ? plain('Regex') : undefined);
  }

  /** Replaces a route found with {@link findRoute} (routes are immutable: a canary makes a new one). */
  replaceRoute(old: Route, next: Route): void {
    const list = this.routes.get(old.host)?.[old.match].get(old.path);
    const i = list === undefined ? -1 : list.indexOf(old);
    if (list !== undefined && i >= 0) list[i] = next;
  }

  /** Whether a host has a Prefix `/` route for every port and without conditions: it matches every path, so a fallback would never serve. */
  coversAll(host: string): boolean {
    return (this.routes.get(host)?.Prefix.get('/') ?? []).some((r) => r.conditions === undefined && r.ports === undefined);
  }

  /** Sets a host's fallback route unless it has one; returns the one that holds the place, or null. */
  addFallback(host: string, r: Route): Route | null {
    const existing = this.hostFallbacks.get(host);
    if (existing !== undefined) return existing;
    this.hostFallbacks.set(host, r);
    return null;
  }

  /** Serves host `to` with copies of host `from`'s routes and fallback, as they are now (server-alias). */
  copyHost(from: string, to: string): void {
    const h = this.routes.get(from);
    if (h !== undefined) for (const m of ['Exact', 'Prefix', 'Regex'] as const) for (const list of h[m].values()) for (const r of list) this.addRoute({ ...r, host: to }, this.created.get(r) ?? '');
    const f = this.hostFallbacks.get(from);
    if (f !== undefined) this.addFallback(to, { ...f, host: to });
  }

  /**
   * Gives host `to` the certificate of host `from` when it covers `to` and `to` has none of its
   * own (another name of the same host: server-alias, from-to-www-redirect); otherwise `to` is
   * served the default certificate, which is reported.
   */
  shareCert(from: string, to: string, origin: Origin, why: string): void {
    const cert = this.certs.get(from);
    if (cert === undefined || this.certs.has(to) || this.opts.inspect === undefined) return;
    const secret = this.secret(cert.secret);
    const check = secret === undefined ? undefined : this.opts.inspect(secret);
    if (check?.ok === true && check.covers(to)) this.certs.set(to, { ...cert, host: to });
    else this.report(origin, 'CertificateHostMismatch', `${why}: the certificate of host ${from} (Secret ${cert.secret}) does not cover ${to}; HTTPS requests for ${to} get the default certificate`);
  }

  /** Checks a proxy-ssl-secret once per translation; reports its problem for each object using it. */
  upstreamSecret(key: string, origin: Origin): void {
    const inspect = this.opts.inspectUpstream;
    if (inspect === undefined) return;
    let problem = this.upstreamChecked.get(key);
    if (problem === undefined) {
      const secret = this.secret(key);
      const check = secret === undefined ? undefined : inspect(secret);
      if (check === undefined) problem = ['SecretNotFound', `proxy-ssl-secret ${key} not found`];
      else if (!check.ok) problem = [check.reason, `proxy-ssl-secret ${key}: ${check.message}`];
      else {
        problem = null;
        this.upstreamTls.set(key, { id: check.id, ...(check.caPem !== undefined ? { caPem: check.caPem } : {}), ...(check.certPem !== undefined && check.keyPem !== undefined ? { certPem: check.certPem, keyPem: check.keyPem } : {}) });
      }
      this.upstreamChecked.set(key, problem);
    } else this.secretRefs.add(key);
    if (problem !== null) this.report(origin, ...problem);
  }

  /** Checks an auth-tls-secret once per translation: usable CAs, or why not (the caller reports it where it applies). */
  clientCa(key: string): ClientCaCheck {
    let check = this.clientCaChecked.get(key);
    if (check === undefined) {
      const secret = this.secret(key);
      const inspect = this.opts.inspectClientCa;
      if (secret === undefined) check = { ok: false, reason: 'SecretNotFound', message: `auth-tls-secret ${key} not found` };
      else if (inspect === undefined) check = { ok: false, reason: 'InvalidCertificate', message: `auth-tls-secret ${key}: client certificates cannot be checked in this mode` };
      else {
        const c = inspect(secret);
        check = c.ok ? c : { ok: false, reason: c.reason, message: `auth-tls-secret ${key}: ${c.message}` };
      }
      this.clientCaChecked.set(key, check);
    }
    return check;
  }

  /**
   * A certificate for `host` from a TLS Secret, checked at `now`: stored unless the host has one
   * (the first object wins); problems are reported and leave the host on the default certificate.
   */
  cert(host: string, secretKey: string, origin: Origin, source: RouteSource, where: string): void {
    const inspect = this.opts.inspect;
    if (inspect === undefined) return;
    const secret = this.secret(secretKey);
    if (secret === undefined) return; // the caller reports a missing Secret once for all its hosts
    const check = inspect(secret);
    const problem = certProblem(check, host, this.opts.now ?? 0, secretKey);
    if (problem !== null || !check.ok) {
      if (problem) this.report(origin, problem.reason, `${where}: ${problem.message}; host ${host} uses the default certificate`);
      return;
    }
    const existing = this.certs.get(host);
    if (existing !== undefined) {
      if (existing.secret !== secretKey) this.report(origin, 'DuplicateTLSHost', `${where}: host ${host} already has Secret ${existing.secret} from ${sourceName(existing.source)}; ignored`);
      return;
    }
    this.certs.set(host, { host, secret: secretKey, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source });
  }

  /**
   * A certificate for `host` ('' = any host: the fallback certificate unless --default-ssl-certificate
   * set one) from a TLS Secret, for a Gateway listener: stored unless the host has one; returns the
   * problem (for the listener's conditions) or null.
   */
  certFor(host: string, secretKey: string, origin: Origin, source: RouteSource, where: string): string | null {
    const inspect = this.opts.inspect;
    const secret = this.secret(secretKey);
    if (inspect === undefined) return null;
    if (secret === undefined) return `Secret ${secretKey} not found`;
    const check = inspect(secret);
    const problem = certProblem(check, host.startsWith('*.') ? host.slice(2) : host, this.opts.now ?? 0, secretKey);
    if (problem !== null || !check.ok) return problem?.message ?? 'unusable certificate';
    const existing = this.certs.get(host);
    if (existing !== undefined) {
      if (existing.secret !== secretKey) this.report(origin, 'DuplicateTLSHost', `${where}: host ${host || '(any)'} already has Secret ${existing.secret} from ${sourceName(existing.source)}; ignored`);
      return null;
    }
    this.certs.set(host, { host, secret: secretKey, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source });
    return null;
  }

  /** `--default-ssl-certificate`: stored under host '' when valid, else a diagnostic on the Secret. */
  defaultCert(ref: { namespace: string; name: string }): void {
    const key = `${ref.namespace}/${ref.name}`;
    const origin = { kind: 'Secret', namespace: ref.namespace, name: ref.name };
    const secret = this.secret(key);
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
    this.certs.set('', { host: '', secret: key, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source: { kind: 'DefaultBackend', namespace: ref.namespace, name: '' } });
  }

  finish(listeners: readonly ListenerPort[] = []): Translation {
    // sorted by host, then path; Exact, then Prefix, then Regex on the same path; routes of one path in the order added
    const routes: Route[] = [];
    for (const host of [...this.routes.keys()].sort()) {
      const h = this.routes.get(host) as HostRoutes;
      const paths = new Set([...h.Exact.keys(), ...h.Prefix.keys(), ...h.Regex.keys()]);
      for (const path of [...paths].sort()) for (const m of ['Exact', 'Prefix', 'Regex'] as const) for (const r of h[m].get(path) ?? []) routes.push(r);
    }
    const backends = new Map<string, Backend>();
    for (const id of [...this.backends.keys()].sort()) backends.set(id, (this.backends.get(id) as Resolved).backend);
    const l4 = this.l4.finish();
    return {
      table: { routes, hostFallbacks: this.hostFallbacks, defaultBackend: this.defaultBackend, backends, certs: this.certs, ...(this.upstreamTls.size > 0 ? { upstreamTls: this.upstreamTls } : {}), ...(this.clientAuth.size > 0 ? { clientAuth: this.clientAuth } : {}), ...(listeners.length > 0 ? { listeners } : {}), ...(l4 !== undefined ? { l4 } : {}) },
      diagnostics: this.diagnostics,
      references: { services: this.serviceRefs, secrets: this.secretRefs, configMaps: this.configMapRefs, externalNames: this.externalNames },
    };
  }
}

/** Routes with equal keys cannot both be matched: one shadows the other. */
/** Whether two routes are served on a common port (an Ingress's on both of Portico's; a Gateway route's on its listeners'). */
function sharePort(a: Route, b: Route): boolean {
  const pa = a.ports ?? [80, 443];
  const pb = b.ports ?? [80, 443];
  return pa.some((p) => pb.includes(p));
}

function conditionsKey(r: Route): string {
  const c = r.conditions;
  if (c === undefined) return '';
  return JSON.stringify([c.method ?? '', c.headers ?? [], c.query ?? []]);
}
