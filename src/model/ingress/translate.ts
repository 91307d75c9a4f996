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
import type { BackendProtocol, Canary, CorsPolicy, HeaderDirectivesPolicy, Policy, Route, RouteSource } from '../types.js';
import type { SourceRanges } from './access.js';
import { authHeadersPolicy, basicAuthPolicy } from './auth.js';
import { groupAny } from './satisfy.js';
import type { CanaryAnnotations } from './balance.js';
import { backendRef, checkIngress, pathAt, type CheckedIngress, type CheckedPath, type CheckedRef, type CheckedRule } from './check.js';
import { resolveClientAuth, type HostsClientAuth } from './client-auth.js';
import { configMapHeaders, type ConfigMapUse } from './header-edits.js';
import { wwwCounterpart } from './routing.js';
import { passthroughIngress, withPassthrough } from '../l4/passthrough.js';

export interface IngressOptions {
  /** `--ssl-redirect`: redirect plain HTTP to HTTPS on hosts that have TLS (default true). */
  readonly sslRedirect?: boolean;
  /**
   * `--unsupported-annotations`: an Ingress with an unsupported annotation that restricts access
   * or moves traffic is refused (its routes answer 503), or with `warn` served without it.
   */
  readonly unsupportedAnnotations?: 'refuse' | 'warn';
  /** `--enable-ssl-passthrough`: the ssl-passthrough annotation is served; without it an Ingress carrying it is refused. */
  readonly sslPassthrough?: boolean;
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

/** A host whose unmatched paths answer with the CORS headers of the Ingress that named it first. */
export interface CorsHost {
  readonly host: string;
  readonly source: RouteSource;
  readonly cors: CorsPolicy;
}

/**
 * Translates the served Ingresses (already filtered to ours and sorted oldest first); `global`:
 * the policies of every route ({@link globalHeaders}). Returns the hosts for
 * {@link addCorsFallbacks}, which runs once the default backend is known.
 */
export function translateIngresses(b: TableBuilder, ours: readonly Ingress[], memo: IngressMemo, opts: IngressOptions, global: readonly Policy[] = globalHeaders(b, opts)): CorsHost[] {
  const checked = ours.map((ing) => {
    let c = memo.get(ing);
    if (c === undefined || c.defaults !== opts.sourceRanges) memo.set(ing, (c = checkIngress(ing, opts.sourceRanges)));
    return c;
  });
  // first pass: the hosts of every spec.tls, which decide the redirects of every route (a canary's TLS is ignored, as its routes)
  const tlsHosts = new Set<string>();
  for (const c of checked) if (c.canary === null) for (const t of c.tls) for (const h of t.hosts) tlsHosts.add(h);
  const mains = checked.filter((c) => c.canary === null);
  const servers = new Map<string, CheckedIngress>();
  // what each host does about client certificates (per host, whichever Ingress a route is from)
  const hosts: HostPasses = { tlsHosts, opts, clientAuth: resolveClientAuth(b, checked), b, memo: new Map(), servers, global, customHeaders: new Map(), extras: new Map() };
  // the server-snippet of each host: the oldest served Ingress with one wins it, as in ingress-nginx
  // (one whose routes on the host are refused, whichever family refuses them, gives it nothing)
  for (const c of mains) {
    if (c.serverHeaders === undefined) continue;
    for (const r of c.rules) if ('host' in r && !servers.has(r.host) && !refusedOn(c, r.host, hosts)) servers.set(r.host, c);
  }
  // app-root answers / before any path of its host (ingress-nginx renders it at server level)
  appRoots(b, mains, hosts);
  for (const c of mains) ingress(b, c, hosts);
  // then what applies to whole hosts: their other names
  hostNames(b, mains, hosts);
  // canaries last, whatever their age: each splits traffic off a main route, and never becomes one
  for (const c of checked) if (c.canary !== null) canary(b, c, c.canary, opts);
  return corsHosts(mains, hosts);
}

/**
 * ingress-nginx gives each host a catch-all location with the annotations of the oldest Ingress
 * naming it (controller.go createServers), so the 404 of an unmatched path, and its preflight,
 * carry that Ingress's CORS headers. Hosts of such Ingresses, when it has CORS and is served: not
 * when its routes on the host are refused, whichever family refuses them (a bad value, an
 * unsupported annotation, its basic-auth Secret, its client-certificate settings or the host's CA,
 * its custom-headers ConfigMap).
 */
function corsHosts(mains: readonly CheckedIngress[], h: HostPasses): CorsHost[] {
  const owner = new Map<string, CheckedIngress>();
  for (const c of mains) {
    if (c.invalid) continue;
    for (const r of c.rules) if ('host' in r && r.host !== '' && !owner.has(r.host)) owner.set(r.host, c);
  }
  const out: CorsHost[] = [];
  for (const [host, c] of owner) {
    if (policiesFor(c, host, true, h, false).some((p) => p.kind === 'refuse')) continue;
    const cors = c.policies[0].find((p): p is CorsPolicy => p.kind === 'cors');
    if (cors !== undefined) out.push({ host, source: c.source, cors });
  }
  return out;
}

const NOT_FOUND: Policy = { kind: 'notFound' };

/**
 * Gives each CORS host without a fallback (spec.defaultBackend) one that carries its CORS policy:
 * to the default backend when there is one (its policies after CORS, --add-headers among them),
 * else Portico's 404 page with `global` (--add-headers, --proxy-set-headers), as every host fallback.
 */
export function addCorsFallbacks(b: TableBuilder, hosts: readonly CorsHost[], global: readonly Policy[] = []): void {
  const d = b.defaultBackend;
  for (const { host, source, cors } of hosts) {
    if (b.hostFallbacks.has(host) || b.coversAll(host)) continue;
    b.addFallback(host, d === null ? { host, path: '', match: 'Prefix', source, policies: [cors, ...global, NOT_FOUND], backends: [], settings: {} } : { ...d, host, policies: [cors, ...d.policies] });
  }
}

/** What the per-host passes share. */
interface HostPasses {
  readonly tlsHosts: ReadonlySet<string>;
  readonly opts: IngressOptions;
  readonly clientAuth: HostsClientAuth;
  readonly b: TableBuilder;
  /** Policy lists already made, per Ingress and key: routes of one Ingress share them. */
  readonly memo: Map<CheckedIngress, Map<string, readonly Policy[]>>;
  /** Host -> the Ingress whose server-snippet it gets. */
  readonly servers: ReadonlyMap<string, CheckedIngress>;
  /** --add-headers and --proxy-set-headers, for every route. */
  readonly global: readonly Policy[];
  /** custom-headers ConfigMaps read so far: their policy (undefined: no usable entry; null: not found) and problems. */
  readonly customHeaders: Map<string, { readonly policy: HeaderDirectivesPolicy | undefined | null; readonly problems: readonly string[] }>;
  /** Per Ingress, what depends on other objects (read once: reading reports). */
  readonly extras: Map<CheckedIngress, Extras>;
}

/** An Ingress's policies that depend on other objects: the error backend, the custom-headers ConfigMap. */
interface Extras {
  readonly policies: readonly Policy[];
  /** Set when they refuse the Ingress (a missing custom-headers ConfigMap, as ingress-nginx denies it). */
  readonly refusal: readonly Policy[] | null;
}

function extrasOf(c: CheckedIngress, h: HostPasses): Extras {
  let x = h.extras.get(c);
  if (x !== undefined) return x;
  const policies: Policy[] = [];
  let refusal: readonly Policy[] | null = null;
  const errors = errorPages(h.b, c, h.opts);
  if (errors !== undefined) policies.push(errors);
  if (c.customHeaders !== undefined) {
    const headers = customHeaders(h.b, c, h);
    // ingress-nginx denies the location (503) when its custom-headers ConfigMap is missing
    if (headers === null) refusal = [{ kind: 'refuse', because: [], invalid: [c.customHeaders.key] }];
    else if (headers !== undefined) policies.push(headers);
  }
  h.extras.set(c, (x = { policies, refusal }));
  return x;
}

/** The Ingress's own policies, then those of the host (server-snippet) and of every route (flags); no copy when there are none. */
function compose(own: readonly Policy[], extras: Extras, host: string, h: HostPasses): readonly Policy[] {
  const server = h.servers.get(host)?.serverHeaders;
  if (extras.policies.length === 0 && server === undefined && h.global.length === 0) return own;
  return [...own, ...extras.policies, ...(server !== undefined ? [server] : []), ...h.global];
}

/** Whether an Ingress is refused (its routes answer 503): a bad access-control value, or an unsupported annotation unless `warn`. */
const isRefusing = (c: CheckedIngress, opts: IngressOptions): boolean => c.badValues.length > 0 || (c.refused.length > 0 && opts.unsupportedAnnotations !== 'warn');

/**
 * `base` with what the Ingress's routes on `host` add at table time: basic authentication (its
 * Secret as it is now; a missing or unusable one refuses) and the host's client-certificate
 * check (or the refusal that replaces it). Memoised per Ingress and key.
 */
/** The Ingress's basic authentication: its Secret read once per translation (reading reports), or undefined without one. */
function basicOf(c: CheckedIngress, h: HostPasses): Policy | undefined {
  if (c.basicAuth === undefined) return undefined;
  let byKey = h.memo.get(c);
  if (byKey === undefined) h.memo.set(c, (byKey = new Map()));
  let basic = byKey.get('basic');
  if (basic === undefined) byKey.set('basic', (basic = [basicAuthPolicy(h.b, c.origin, c.basicAuth)]));
  return basic[0];
}

/** The Ingress's external auth with its auth-proxy-set-headers ConfigMap read (once per translation), or undefined without one. */
function authHeadersOf(c: CheckedIngress, h: HostPasses): Policy | undefined {
  if (c.authHeaders === undefined) return undefined;
  let byKey = h.memo.get(c);
  if (byKey === undefined) h.memo.set(c, (byKey = new Map()));
  let ext = byKey.get('authHeaders');
  if (ext === undefined) {
    const own = c.policies[0].find((p) => p.kind === 'extAuth');
    byKey.set('authHeaders', (ext = own === undefined ? [] : [authHeadersPolicy(h.b, c.origin, own, c.authHeaders)]));
  }
  return ext[0];
}

/**
 * Whether the Ingress's routes on `host` are refused, whichever family refuses them: a bad value
 * or an unsupported annotation, its custom-headers ConfigMap, its basic-auth Secret, or its
 * client-certificate settings or the host's CA. Needs nothing a host pass decides, so the host
 * passes can ask it before they make their choices.
 */
function refusedOn(c: CheckedIngress, host: string, h: HostPasses): boolean {
  if (isRefusing(c, h.opts) || extrasOf(c, h).refusal !== null || basicOf(c, h)?.kind === 'refuse' || authHeadersOf(c, h)?.kind === 'refuse') return true;
  const v = h.clientAuth.verdict(c, host);
  return v !== null && 'refuse' in v;
}

function withAuth(c: CheckedIngress, host: string, key: string, base: readonly Policy[], h: HostPasses): readonly Policy[] {
  let byKey = h.memo.get(c);
  if (byKey === undefined) h.memo.set(c, (byKey = new Map()));
  const k = `${key}\n${host}`;
  let out = byKey.get(k);
  if (out !== undefined) return out;
  const basic = basicOf(c, h);
  out = basic === undefined ? base : basic.kind === 'refuse' ? [basic] : [...base, basic];
  const ext = authHeadersOf(c, h);
  if (ext !== undefined && out.length > 0 && out[0]?.kind !== 'refuse') out = ext.kind === 'refuse' ? [ext] : out.map((p) => (p.kind === 'extAuth' ? ext : p));
  if (c.satisfyAny && out.length > 1) out = groupAny(out);
  const v = h.clientAuth.verdict(c, host);
  if (v !== null) out = 'refuse' in v ? v.refuse : [...out, v.add];
  byKey.set(k, out);
  return out;
}

/**
 * The policies of an Ingress's route on `host`: the HTTPS redirect is on for TLS hosts (by
 * --ssl-redirect or the annotation), or forced; the rewrite only where it applies.
 */
function policiesFor(c: CheckedIngress, host: string, rewrite: boolean, h: HostPasses, https = true): readonly Policy[] {
  if (isRefusing(c, h.opts)) return c.refusal;
  const x = extrasOf(c, h);
  if (x.refusal !== null) return x.refusal;
  const p = c.redirectPolicy;
  const redirect = https && (p === 'force' || (h.tlsHosts.has(host) && (p ?? h.opts.sslRedirect ?? true)));
  return withAuth(c, host, `${rewrite ? 'r' : ''}${redirect ? 's' : ''}`, compose((rewrite ? c.policies : c.unrewritten)[redirect ? 1 : 0], x, host, h), h);
}

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


/** The Ingress's balancing, as a route field (absent when it sets none). */
const balancingOf = (c: CheckedIngress): Pick<Route, 'balancing'> => (c.balancing === undefined ? {} : { balancing: c.balancing });

function ingress(b: TableBuilder, checked: CheckedIngress, hosts: HostPasses): void {
  const { origin, source, protocol } = checked;
  const { opts } = hosts;
  if (checked.invalid) {
    b.report(origin, 'InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
    return;
  }
  const c = withPassthrough(b, checked, opts.sslPassthrough === true);
  for (const [reason, message, severity] of c.problems) b.report(origin, reason, message, severity);
  const refusing = isRefusing(c, opts);
  const warn = opts.unsupportedAnnotations === 'warn';
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
  if (c.sslPassthrough !== undefined && opts.sslPassthrough === true && !refusing) passthroughIngress(b, c, (host) => policiesFor(c, host, true, hosts));
  if (c.settings.sslSecret !== undefined) b.upstreamSecret(c.settings.sslSecret, origin);
  const defaultId = c.defaultRef !== undefined ? use(b, c.defaultRef, c, protocol) : undefined;
  tls(b, c);
  // policies that depend on other objects: the error backend, the custom-headers ConfigMap
  const extras = refusing ? null : extrasOf(c, hosts);
  const refusal = extras?.refusal ?? c.refusal;
  const refused = refusing || extras?.refusal != null;
  if (c.serverHeaders !== undefined && !refused) {
    for (const r of c.rules) {
      if (!('host' in r)) continue;
      const winner = hosts.servers.get(r.host);
      if (winner !== undefined && winner !== c) b.report(origin, 'IgnoredAnnotation', `server-snippet for host ${r.host || '*'} ignored: ${sourceName(winner.source)} is older and its server-snippet applies to the host`, 'info');
    }
  }
  // the fallback never redirected to HTTPS (kept as it was); it carries the Ingress's other
  // policies, the rewrite as for a path "/" (ingress-nginx's default location of the host)
  const fallback = (host: string): readonly Policy[] => policiesFor(c, host, c.routing?.rewriteTarget !== '/', hosts, false);

  if (c.ruleCount === 0) {
    if (defaultId === undefined) {
      b.report(origin, 'InvalidObject', 'Ingress has neither rules nor spec.defaultBackend');
    } else if (b.defaultBackend === null) {
      // ingress-nginx applies neither redirects nor rewrites to the catch-all server
      b.defaultBackend = { host: '', path: '', match: 'Prefix', source, policies: refused || extras === null ? refusal : withAuth(c, '', 'catch-all', compose(c.catchAll, extras, '', hosts), hosts), backends: b.single(defaultId), settings: c.settings, ...balancingOf(c) };
      const r = c.routing;
      if (c.catchAll.length !== c.policies[0].length || r?.appRoot !== undefined || r?.fromToWww === true || (r?.aliases.length ?? 0) > 0) {
        b.report(origin, 'IgnoredAnnotation', 'redirect, rewrite, app-root, from-to-www-redirect and server-alias annotations do not apply to an Ingress without rules, which serves every host (ingress-nginx skips them there too)', 'info');
      }
    } else {
      b.report(origin, 'DefaultBackendConflict', `default backend ignored: ${sourceName(b.defaultBackend.source)} is older and already sets it`);
    }
    return;
  }

  for (let i = 0; i < c.rules.length; i++) {
    const rule = c.rules[i] as CheckedRule;
    if ('problem' in rule) {
      b.report(origin, ...rule.problem);
      continue;
    }
    const host = rule.host;
    if (defaultId !== undefined) b.addFallback(host, { host, path: '', match: 'Prefix', source, policies: fallback(host), backends: b.single(defaultId), settings: c.settings, ...balancingOf(c) });
    for (let j = 0; j < rule.paths.length; j++) {
      const p = rule.paths[j] as CheckedPath;
      if ('problem' in p) {
        b.report(origin, ...p.problem);
        continue;
      }
      const id = use(b, p.ref, c, protocol);
      if (id === undefined) continue;
      const policies = policiesFor(c, host, p.rewrite, hosts);
      // nearly every route: a literal of exactly its seven properties (one with spreads gets room
      // for nine: 16 bytes more per route, 0.8 MiB at 10,000 Ingresses)
      const route: Route =
        p.match !== 'Regex' && c.balancing === undefined
          ? { host, path: p.path, match: p.match, source, policies, backends: b.single(id), settings: c.settings }
          : { host, path: p.path, match: p.match, ...(p.match === 'Regex' ? { ignoreCase: true } : {}), source, policies, backends: b.single(id), settings: c.settings, ...balancingOf(c) };
      const lost = b.addRoute(route, c.created);
      if (lost === route) {
        const winner = b.routeAt(route);
        const by =
          winner === undefined
            ? 'another route'
            : winner.policies.some((x) => x.kind === 'appRoot')
              ? `the app-root of ${sourceName(winner.source)}, which answers every request for / on the host`
              : winner.source.kind === 'Ingress' && winner.source.namespace === source.namespace && winner.source.name === source.name
                ? 'an earlier path of this Ingress'
                : `${sourceName(winner.source)}, which is older`;
        b.report(origin, 'DuplicateRoute', `${pathAt(i, j)}: ${p.match} ${p.path} on host ${host || '*'} is already routed by ${by}; ignored`);
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
function customHeaders(b: TableBuilder, c: CheckedIngress, shared: HostPasses): HeaderDirectivesPolicy | undefined | null {
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

/** What a canary's traffic is decided by, in words (for conflicts). */
const modeOf = (c: Canary | CanaryAnnotations): string =>
  [c.header !== undefined ? `header ${c.header}` : '', c.cookie !== undefined ? `cookie ${c.cookie}` : '', `weight ${c.weight}/${c.total}`].filter(Boolean).join(', ');

/**
 * A canary Ingress: each of its paths (and its spec.defaultBackend, for the catch-all route)
 * splits traffic off the main route of the same host, path and path type, which some other,
 * non-canary Ingress owns. It never becomes a route itself: without a main route it takes no
 * traffic (a diagnostic). One canary per route, the oldest (ingress-nginx uses only the first).
 * Its backend is reached as the main route's is (protocol, timeouts, TLS): its requests run
 * under the main route's policies and settings, as in ingress-nginx's main location.
 */
function canary(b: TableBuilder, c: CheckedIngress, can: CanaryAnnotations, opts: IngressOptions): void {
  const { origin, source } = c;
  if (c.invalid) {
    b.report(origin, 'InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
    return;
  }
  for (const [reason, message, severity] of c.problems) b.report(origin, reason, message, severity);
  if (c.refused.length > 0) {
    const keys = c.refused.join(', ');
    if (opts.unsupportedAnnotations !== 'warn') {
      b.report(origin, 'UnsupportedAnnotation', `canary not used: ${keys} cannot be honoured; the main routes take all the traffic (--unsupported-annotations=warn uses it anyway)`);
      return;
    }
    b.report(origin, 'UnsupportedAnnotation', `canary used WITHOUT ${keys} (--unsupported-annotations=warn)`);
  }
  /** Attaches the canary to `main`; false (after reporting why) when it cannot be. */
  const attach = (main: Route, ref: CheckedRef, where: string): Route | null => {
    if ('problem' in ref) {
      b.report(origin, ...ref.problem);
      return null;
    }
    const first = main.backends[0];
    const resolved = first === undefined ? undefined : b.resolved(first.backend)?.protocol;
    // a route's backend speaks HTTP; Layer 4 protocols (TCP, UDP) are never a route's
    const protocol = resolved === undefined || resolved === 'TCP' || resolved === 'UDP' ? 'HTTP' : resolved;
    const r = backendRef(origin.namespace, { service: { name: ref.service, port: typeof ref.port === 'number' ? { number: ref.port } : { name: ref.port } } }, protocol);
    if ('error' in r) return null; // checked already
    const on = `${main.path === '' ? 'the default backend' : `${main.match} ${main.path} on host ${main.host || '*'}`}`;
    if (main.backends.some((x) => x.backend === r.id)) {
      b.report(origin, 'CanaryConflict', `${where}: the canary's backend ${r.id} is the main route's own (${on}); ignored`);
      return null;
    }
    if (main.canary !== undefined) {
      const mode = modeOf(main.canary) === modeOf(can) ? '' : ` (it splits by ${modeOf(main.canary)}; this one by ${modeOf(can)})`;
      b.report(origin, 'CanaryConflict', `${where}: ${on} already has the canary of ${sourceName(main.canary.source)}, which is older${mode}; ignored (one canary per route, as ingress-nginx)`);
      return null;
    }
    b.backend(r.id, origin.namespace, r.service, r.port, origin, protocol);
    const affinity = can.legacy ? undefined : main.balancing?.affinity;
    const balancing = { ...c.balancing, ...(affinity !== undefined ? { affinity } : {}) };
    const { legacy: _, ...rule } = can;
    const next: Canary = { backend: r.id, source, ...rule, ...(Object.keys(balancing).length > 0 ? { balancing } : {}) };
    return { ...main, canary: next };
  };

  // spec.defaultBackend splits what a default backend serves where the canary's would: the
  // catch-all for an Ingress without rules, else its hosts' fallbacks
  const defaultRef = c.defaultRef;
  if (defaultRef !== undefined) {
    const where = 'spec.defaultBackend';
    if (c.ruleCount === 0) {
      const main = b.defaultBackend;
      if (main === null || main.source.kind !== 'Ingress') b.report(origin, 'CanaryWithoutMain', `${where}: no Ingress sets the default backend for this canary to split traffic off; it takes no traffic`);
      else {
        const next = attach(main, defaultRef, where);
        if (next !== null) b.defaultBackend = next;
      }
    } else {
      for (const rule of c.rules) {
        if (!('host' in rule)) continue;
        const main = b.hostFallbacks.get(rule.host);
        if (main === undefined) b.report(origin, 'CanaryWithoutMain', `${where}: no other Ingress sets a default backend for host ${rule.host || '*'}, so this canary has nothing to split traffic off there; it takes no traffic`);
        else {
          const next = attach(main, defaultRef, where);
          if (next !== null) b.hostFallbacks.set(rule.host, next);
        }
      }
    }
  }
  for (let i = 0; i < c.rules.length; i++) {
    const rule = c.rules[i] as CheckedRule;
    if ('problem' in rule) {
      b.report(origin, ...rule.problem);
      continue;
    }
    for (let j = 0; j < rule.paths.length; j++) {
      const p = rule.paths[j] as CheckedPath;
      if ('problem' in p) {
        b.report(origin, ...p.problem);
        continue;
      }
      const where = pathAt(i, j);
      const main = b.findRoute(rule.host, p.match, p.path);
      if (main === undefined) {
        b.report(origin, 'CanaryWithoutMain', `${where}: no other Ingress routes ${p.match} ${p.path} on host ${rule.host || '*'}, so this canary has nothing to split traffic off; it takes no traffic`);
        continue;
      }
      const next = attach(main, p.ref, where);
      if (next !== null) b.replaceRoute(main, next);
    }
  }
}

/** ingress-nginx's location order: the longer written path first, then the greater string. */
const before = (a: string, b: string): boolean => (a.length !== b.length ? a.length > b.length : a > b);

/** The distinct valid rule hosts of an Ingress, each with its paths that are valid. */
function hostsOf(c: CheckedIngress): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const rule of c.rules) {
    if ('problem' in rule) continue;
    let paths = out.get(rule.host);
    if (paths === undefined) out.set(rule.host, (paths = []));
    for (const p of rule.paths) if (!('problem' in p)) paths.push(p.path);
  }
  return out;
}

/**
 * app-root: per host, the one that applies, on an Exact "/" route that answers before any path of
 * the host (ingress-nginx renders `if ($uri = /) { return 302 ...; }` at server level, once per
 * location that has it, in location order: the first one returns). So the app-root of the Ingress
 * with the longest path on the host wins, then the greater path, then the older Ingress; the
 * others are reported. The route carries its Ingress's other policies, which run first.
 */
function appRoots(b: TableBuilder, checked: readonly CheckedIngress[], h: HostPasses): void {
  const winners = new Map<string, { c: CheckedIngress; path: string; root: string }>();
  const others: [CheckedIngress, string, string][] = [];
  for (const c of checked) {
    const root = c.routing?.appRoot;
    if (root === undefined) continue;
    for (const [host, paths] of hostsOf(c)) {
      if (paths.length === 0) continue;
      const path = paths.reduce((x, y) => (before(y, x) ? y : x));
      const w = winners.get(host);
      if (w !== undefined && !before(path, w.path)) {
        others.push([c, host, root]);
        continue;
      }
      if (w !== undefined) others.push([w.c, host, w.root]);
      winners.set(host, { c, path, root });
    }
  }
  for (const [c, host, root] of others) {
    const w = winners.get(host) as { c: CheckedIngress; root: string };
    if (w.root !== root) b.report(c.origin, 'InvalidAnnotation', `app-root ${root} does not apply on host ${host || '*'}: the app-root ${w.root} of ${sourceName(w.c.source)} does (ingress-nginx applies the one of the Ingress with the longest path on the host)`);
  }
  for (const [host, { c, root }] of [...winners].sort(([x], [y]) => (x < y ? -1 : 1))) {
    // no creation time: no route of another source displaces it
    b.addRoute({ host, path: '/', match: 'Exact', source: c.source, policies: [...policiesFor(c, host, false, h), { kind: 'appRoot', path: root }], backends: [], settings: c.settings });
  }
}

/**
 * The other names of hosts: `server-alias` (more names for every route of the host, whichever
 * Ingress they come from; per host the oldest Ingress that sets aliases wins; an alias that is a
 * rule host of its own is left out, as in ingress-nginx; one alias of two hosts stays with the first
 * host by name) and `from-to-www-redirect` (routes on the other name that redirect to the host; not
 * where that name has rules of its own or is an alias). Each name gets the host's certificate when
 * it covers the name.
 */
function hostNames(b: TableBuilder, checked: readonly CheckedIngress[], h: HostPasses): void {
  const ruleHosts = new Set<string>();
  for (const c of checked) for (const host of hostsOf(c).keys()) ruleHosts.add(host);

  const owners = new Map<string, CheckedIngress>();
  for (const c of checked) {
    if ((c.routing?.aliases.length ?? 0) === 0) continue;
    for (const host of hostsOf(c).keys()) {
      const owner = owners.get(host);
      if (host === '') b.report(c.origin, 'InvalidAnnotation', 'server-alias: a rule without a host already matches every host; ignored for it');
      else if (owner !== undefined) b.report(c.origin, 'InvalidAnnotation', `server-alias ignored on host ${host}: ${sourceName(owner.source)} is older and sets its aliases (ingress-nginx uses the first)`);
      // a refused Ingress names no aliases for the host (its own routes answer 503 there)
      else if (!refusedOn(c, host, h)) owners.set(host, c);
    }
  }
  const aliases = new Map<string, string>();
  for (const host of [...owners.keys()].sort()) {
    const c = owners.get(host) as CheckedIngress;
    for (const alias of c.routing?.aliases ?? []) {
      if (alias === host) continue;
      const other = aliases.get(alias);
      if (ruleHosts.has(alias)) b.report(c.origin, 'InvalidAnnotation', `server-alias ${alias} of host ${host} left out: ${alias} has rules of its own, which win (as in ingress-nginx)`);
      else if (other !== undefined) b.report(c.origin, 'InvalidAnnotation', `server-alias ${alias} of host ${host} left out: it is already an alias of host ${other}`);
      else aliases.set(alias, host);
    }
  }

  const redirected = new Set<string>();
  for (const c of checked) {
    if (c.routing?.fromToWww !== true) continue;
    for (const host of hostsOf(c).keys()) {
      if (redirected.has(host)) continue;
      redirected.add(host);
      const from = wwwCounterpart(host);
      const why = from === undefined ? `host ${host || '*'} has no www counterpart` : ruleHosts.has(from) ? `${from} has rules of its own (as in ingress-nginx)` : aliases.has(from) ? `${from} is a server-alias of host ${aliases.get(from) as string}` : from.length > 253 ? `${from} is too long` : undefined;
      if (why !== undefined || from === undefined) {
        b.report(c.origin, 'InvalidAnnotation', `from-to-www-redirect: no redirect to ${host || '*'}: ${why ?? ''}`);
        continue;
      }
      // refused as the Ingress's routes on the host are, whichever family refuses them
      const refusal = policiesFor(c, host, false, h, false).filter((p) => p.kind === 'refuse');
      const policies: readonly Policy[] = refusal.length > 0 ? refusal : [{ kind: 'hostRedirect', host }];
      b.addRoute({ host: from, path: '/', match: 'Prefix', source: c.source, policies, backends: [], settings: {} });
      b.shareCert(host, from, c.origin, 'from-to-www-redirect');
    }
  }
  for (const [alias, host] of aliases) {
    b.copyHost(host, alias);
    // the copied routes check the host's client certificates: a handshake for the alias asks for them (one server, as in nginx)
    const auth = b.clientAuth.get(host);
    if (auth !== undefined && !b.clientAuth.has(alias)) b.clientAuth.set(alias, { ...auth, host: alias });
    b.shareCert(host, alias, (owners.get(host) as CheckedIngress).origin, 'server-alias');
  }
}
