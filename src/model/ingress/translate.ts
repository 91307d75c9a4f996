/**
 * The Ingress processor: each served Ingress, oldest first, becomes routes, host fallbacks, the
 * default backend and certificates in the shared table. An older Ingress keeps a host and path
 * another one also claims (the spec leaves conflicts to the implementation; this is what
 * ingress-nginx does).
 */
import type { TableBuilder } from '../build.js';
import { sourceName } from '../build.js';
import type { Ingress } from '../k8s.js';
import type { Memo } from '../memo.js';
import type { BackendProtocol, HeaderDirectivesPolicy, Policy, Route } from '../types.js';
import type { SourceRanges } from './access.js';
import { checkIngress, pathAt, type CheckedIngress, type CheckedRef } from './check.js';
import { configMapHeaders, type ConfigMapUse } from './header-edits.js';

export interface IngressOptions {
  /** `--ssl-redirect`: redirect plain HTTP to HTTPS on hosts that have TLS (default true). */
  readonly sslRedirect?: boolean;
  /**
   * `--unsupported-annotations`: an Ingress with an unsupported annotation that restricts access
   * or moves traffic is refused (its routes answer 503), or with `warn` served without it.
   */
  readonly unsupportedAnnotations?: 'refuse' | 'warn';
  /**
   * `--whitelist-source-range` / `--denylist-source-range`: the source ranges of every Ingress
   * route whose Ingress has no annotation of its own for that list (an annotation replaces them).
   */
  readonly sourceRanges?: SourceRanges;
  /** `--default-backend-service`: serves what nothing else matched, unless an Ingress names one; and the error backend of custom-http-errors without a default-backend annotation. */
  readonly defaultBackendService?: { readonly namespace: string; readonly name: string; readonly port: string | number } | undefined;
  /** `--add-headers`: a ConfigMap of response headers for every route (ingress-nginx's ConfigMap key of that name). */
  readonly addHeaders?: { readonly namespace: string; readonly name: string } | undefined;
  /** `--proxy-set-headers`: a ConfigMap of headers for every request to the pods. */
  readonly proxySetHeaders?: { readonly namespace: string; readonly name: string } | undefined;
}

/** Checked Ingresses by object, owned by the translator (objects from the store are never modified). */
export type IngressMemo = Memo<Ingress, CheckedIngress>;

/** Translates the served Ingresses (already filtered to ours and sorted oldest first); `global`: the policies of every route ({@link globalHeaders}). */
export function translateIngresses(b: TableBuilder, ours: readonly Ingress[], memo: IngressMemo, opts: IngressOptions, global: readonly Policy[] = globalHeaders(b, opts)): void {
  const checked = ours.map((ing) => {
    let c = memo.get(ing);
    if (c === undefined || c.defaults !== opts.sourceRanges) memo.set(ing, (c = checkIngress(ing, opts.sourceRanges)));
    return c;
  });
  // first pass: the hosts of every spec.tls, which decide the redirects of every route, and the
  // server-snippet of each host (the oldest served Ingress with one wins it, as in ingress-nginx)
  const tlsHosts = new Set<string>();
  for (const c of checked) for (const t of c.tls) for (const h of t.hosts) tlsHosts.add(h);
  const servers = new Map<string, CheckedIngress>();
  for (const c of checked) {
    if (c.serverHeaders === undefined || refuses(c, opts)) continue;
    for (const r of c.rules) if ('host' in r && !servers.has(r.host)) servers.set(r.host, c);
  }
  const shared: Shared = { tlsHosts, servers, global, customHeaders: new Map() };
  for (const c of checked) ingress(b, c, shared, opts);
}

/** What every Ingress of one translation reads. */
interface Shared {
  readonly tlsHosts: ReadonlySet<string>;
  /** Host -> the Ingress whose server-snippet it gets. */
  readonly servers: ReadonlyMap<string, CheckedIngress>;
  /** --add-headers and --proxy-set-headers, for every route. */
  readonly global: readonly Policy[];
  /** custom-headers ConfigMaps read so far: their policy (undefined: no usable entry; null: not found) and problems. */
  readonly customHeaders: Map<string, { readonly policy: HeaderDirectivesPolicy | undefined | null; readonly problems: readonly string[] }>;
}

/** The Ingress is not served: an access control with a bad value, or an unsupported annotation (unless warn mode). */
const refuses = (c: CheckedIngress, opts: IngressOptions): boolean => c.badValues.length > 0 || (c.refused.length > 0 && opts.unsupportedAnnotations !== 'warn');

/** The policies of a ConfigMap named by a flag (--add-headers, --proxy-set-headers); problems are reported on the ConfigMap. */
function flagHeaders(b: TableBuilder, ref: { readonly namespace: string; readonly name: string } | undefined, use: ConfigMapUse): Policy[] {
  if (ref === undefined) return [];
  const key = `${ref.namespace}/${ref.name}`;
  const origin = { kind: 'ConfigMap', namespace: ref.namespace, name: ref.name };
  const cm = b.configMap(key);
  if (cm === undefined) {
    b.report(origin, 'ConfigMapNotFound', `${use}: ConfigMap ${key} not found; no headers are ${use === '--add-headers' ? 'added to responses' : 'set on requests'}`);
    return [];
  }
  const { policy, problems } = configMapHeaders(cm, use, `${use} ${key}`);
  for (const p of problems) b.report(origin, 'InvalidObject', `${use}: ${p}`);
  return policy === undefined ? [] : [policy];
}

/** --add-headers and --proxy-set-headers: the header policies of every route. */
export function globalHeaders(b: TableBuilder, opts: IngressOptions): readonly Policy[] {
  return [...flagHeaders(b, opts.addHeaders, '--add-headers'), ...flagHeaders(b, opts.proxySetHeaders, '--proxy-set-headers')];
}

/** A single-backend route list: one shared array per backend id would not pay; this one is small. */
const one = (backend: string): Route['backends'] => [{ backend, weight: 1 }];

function ingress(b: TableBuilder, c: CheckedIngress, shared: Shared, opts: IngressOptions): void {
  const { origin, source, protocol } = c;
  const { tlsHosts } = shared;
  if (c.invalid) {
    b.report(origin, 'InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
    return;
  }
  for (const [reason, message, severity] of c.problems) b.report(origin, reason, message, severity);
  const warn = opts.unsupportedAnnotations === 'warn';
  let refusing = refuses(c, opts);
  if (c.badValues.length > 0) {
    b.report(origin, 'InvalidAnnotation', `not served: ${c.badValues.join(', ')} ${c.badValues.length > 1 ? 'have invalid values' : 'has an invalid value'}, and an access control is never left out; its routes answer 503`);
  }
  if (c.refused.length > 0) {
    const keys = c.refused.join(', ');
    const many = c.refused.length > 1;
    b.report(
      origin,
      'UnsupportedAnnotation',
      !warn
        ? `not served: ${keys} cannot be honoured, and serving without ${many ? 'them' : 'it'} could open what ${many ? 'they close' : 'it closes'}; its routes answer 503 (--unsupported-annotations=warn serves it anyway)`
        : refusing
          ? `not served: ${keys} cannot be honoured (--unsupported-annotations=warn would serve without ${many ? 'them' : 'it'}, but an invalid value refuses the Ingress)`
          : `served WITHOUT ${keys} (--unsupported-annotations=warn): what ${many ? 'they restrict' : 'it restricts'} is not enforced`,
    );
  }
  if (c.settings.sslSecret !== undefined) b.upstreamSecret(c.settings.sslSecret, origin);
  const defaultId = c.defaultRef !== undefined ? use(b, c.defaultRef, c, protocol) : undefined;
  tls(b, c);
  // policies that depend on other objects: the error backend, the custom-headers ConfigMap
  const extra: Policy[] = [];
  const errors = refusing ? undefined : errorPages(b, c, opts);
  if (errors !== undefined) extra.push(errors);
  let refusal = c.refusal;
  if (!refusing && c.customHeaders !== undefined) {
    const h = customHeaders(b, c, shared);
    if (h === null) {
      // ingress-nginx denies the location (503) when its custom-headers ConfigMap is missing
      refusing = true;
      refusal = [{ kind: 'refuse', because: [], invalid: [c.customHeaders.key] }];
    } else if (h !== undefined) extra.push(h);
  }
  if (c.serverHeaders !== undefined && !refusing) {
    for (const r of c.rules) {
      if (!('host' in r)) continue;
      const winner = shared.servers.get(r.host);
      if (winner !== undefined && winner !== c) b.report(origin, 'IgnoredAnnotation', `server-snippet for host ${r.host || '*'} ignored: ${sourceName(winner.source)} is older and its server-snippet applies to the host`, 'info');
    }
  }
  /** The Ingress's own policies, then those of the host (server-snippet) and of every route (flags); no copy when there are none. */
  const compose = (own: readonly Policy[], host: string): readonly Policy[] => {
    if (refusing) return refusal;
    const server = shared.servers.get(host)?.serverHeaders;
    if (extra.length === 0 && server === undefined && shared.global.length === 0) return own;
    return [...own, ...extra, ...(server !== undefined ? [server] : []), ...shared.global];
  };
  /** Policies for routes on `host`: the HTTPS redirect is on for TLS hosts (by --ssl-redirect or the annotation), or forced. */
  const policies = (host: string): readonly Policy[] => {
    const p = c.redirectPolicy;
    const redirect = p === 'force' || (tlsHosts.has(host) && (p ?? opts.sslRedirect ?? true));
    return compose(c.policies[redirect ? 1 : 0], host);
  };
  const plain = compose(c.policies[0], '');

  if (c.ruleCount === 0) {
    if (defaultId === undefined) {
      b.report(origin, 'InvalidObject', 'Ingress has neither rules nor spec.defaultBackend');
    } else if (b.defaultBackend === null) {
      b.defaultBackend = { host: '', path: '', match: 'Prefix', source, policies: plain, backends: one(defaultId), settings: c.settings };
    } else {
      b.report(origin, 'DefaultBackendConflict', `default backend ignored: ${sourceName(b.defaultBackend.source)} is older and already sets it`);
    }
    return;
  }

  for (const rule of c.rules) {
    if ('problem' in rule) {
      b.report(origin, ...rule.problem);
      continue;
    }
    const host = rule.host;
    // the fallback never redirected to HTTPS (kept as it was); it carries the Ingress's other policies
    if (defaultId !== undefined) b.addFallback(host, { host, path: '', match: 'Prefix', source, policies: compose(c.policies[0], host), backends: one(defaultId), settings: c.settings });
    for (const p of rule.paths) {
      if ('problem' in p) {
        b.report(origin, ...p.problem);
        continue;
      }
      const id = use(b, p.ref, c, protocol);
      if (id === undefined) continue;
      const route: Route = { host, path: p.path, match: p.match, source, policies: policies(host), backends: one(id), settings: c.settings };
      const lost = b.addRoute(route, c.created);
      if (lost === route) {
        const winner = b.routeAt(route);
        const by = winner === undefined ? 'another route' : winner.source.kind === 'Ingress' && winner.source.namespace === source.namespace && winner.source.name === source.name ? 'an earlier path of this Ingress' : `${sourceName(winner.source)}, which is older`;
        b.report(origin, 'DuplicateRoute', `${pathAt(p.rule, p.index)}: ${p.match} ${p.path} on host ${host || '*'} is already routed by ${by}; ignored`);
      }
    }
  }
}

/** Resolves a checked backend reference; returns its id, or undefined after reporting why not. */
function use(b: TableBuilder, ref: CheckedRef, c: CheckedIngress, protocol: BackendProtocol): string | undefined {
  if ('problem' in ref) {
    b.report(c.origin, ...ref.problem);
    return undefined;
  }
  b.backend(ref.id, c.origin.namespace, ref.service, ref.port, c.origin, protocol, ref.serviceUpstream === true);
  return ref.id;
}

/**
 * custom-http-errors / default-backend: the error backends (the annotation's Service on its first
 * port, then --default-backend-service), resolved in this translation.
 */
function errorPages(b: TableBuilder, c: CheckedIngress, opts: IngressOptions): Policy | undefined {
  const e = c.errorPages;
  if (e === undefined) return undefined;
  const { origin } = c;
  let own: string | undefined;
  if (e.service !== undefined) {
    const port = b.firstPort(origin.namespace, e.service);
    if (port === undefined) b.report(origin, 'ServiceNotFound', `default-backend: Service ${origin.namespace}/${e.service} not found, or it has no ports; ignored`);
    else {
      own = `${origin.namespace}/${e.service}:${port}`;
      b.backend(own, origin.namespace, e.service, port, origin, 'HTTP');
    }
  }
  const d = opts.defaultBackendService;
  let global: string | undefined;
  if (d !== undefined && e.codes.length > 0) {
    global = `${d.namespace}/${d.name}:${d.port}`;
    b.backend(global, d.namespace, d.name, d.port, { kind: 'Service', namespace: d.namespace, name: d.name }, 'HTTP');
  }
  if (e.codes.length === 0 && own === undefined) return undefined;
  const backends = [...(own !== undefined ? [own] : []), ...(global !== undefined ? [global] : [])];
  if (e.codes.length > 0 && backends.length === 0) {
    b.report(origin, 'IgnoredAnnotation', `custom-http-errors: no default-backend annotation and no --default-backend-service: answers with ${e.codes.join(', ')} are replaced by the built-in 404 page, as ingress-nginx's built-in default backend does`, 'info');
  }
  return { kind: 'errorPages', codes: e.codes, backends, ...(own !== undefined ? { whenEmpty: own } : {}), intercept: e.intercept };
}

/** custom-headers: its ConfigMap's headers (undefined: nothing usable), or null when the ConfigMap is missing. */
function customHeaders(b: TableBuilder, c: CheckedIngress, shared: Shared): HeaderDirectivesPolicy | undefined | null {
  const { key, ref } = c.customHeaders as { key: string; ref: string };
  let r = shared.customHeaders.get(ref);
  if (r === undefined) {
    const cm = b.configMap(ref);
    r = cm === undefined ? { policy: null, problems: [] } : configMapHeaders(cm, 'custom-headers', `custom-headers ${ref}`);
    shared.customHeaders.set(ref, r);
  }
  if (r.policy === null) b.report(c.origin, 'InvalidAnnotation', `${key}: ConfigMap ${ref} not found; the Ingress's routes answer 503, as ingress-nginx's do`);
  for (const p of r.problems) b.report(c.origin, 'InvalidAnnotation', `${key}: ConfigMap ${ref}: ${p}`);
  return r.policy;
}

/**
 * spec.tls: each listed host (default: the Ingress's rule hosts) is a TLS host; a valid Secret
 * gives it a certificate, the oldest Ingress winning. Problems leave the host on the default cert.
 */
function tls(b: TableBuilder, c: CheckedIngress): void {
  const { origin, source } = c;
  for (const { hosts, problems, secretName: name, where } of c.tls) {
    for (const [reason, message] of problems) b.report(origin, reason, message);
    if (b.opts.inspect === undefined || typeof name !== 'string' || name === '') continue; // no secret: the default certificate
    const secretKey = `${origin.namespace}/${name}`;
    if (b.secret(secretKey) === undefined) {
      b.report(origin, 'SecretNotFound', `${where}: Secret ${secretKey} not found; hosts ${hosts.join(', ')} use the default certificate`);
      continue;
    }
    for (const host of hosts) b.cert(host, secretKey, origin, source, where);
  }
}
