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
import type { BackendProtocol, Policy, Route } from '../types.js';
import { checkIngress, pathAt, type CheckedIngress, type CheckedRef } from './check.js';
import { wwwCounterpart } from './routing.js';

export interface IngressOptions {
  /** `--ssl-redirect`: redirect plain HTTP to HTTPS on hosts that have TLS (default true). */
  readonly sslRedirect?: boolean;
  /**
   * `--unsupported-annotations`: an Ingress with an unsupported annotation that restricts access
   * or moves traffic is refused (its routes answer 503), or with `warn` served without it.
   */
  readonly unsupportedAnnotations?: 'refuse' | 'warn';
}

/** Checked Ingresses by object, owned by the translator (objects from the store are never modified). */
export type IngressMemo = Memo<Ingress, CheckedIngress>;

/** Translates the served Ingresses (already filtered to ours and sorted oldest first). */
export function translateIngresses(b: TableBuilder, ours: readonly Ingress[], memo: IngressMemo, opts: IngressOptions): void {
  const checked = ours.map((ing) => {
    let c = memo.get(ing);
    if (c === undefined) memo.set(ing, (c = checkIngress(ing)));
    return c;
  });
  // first pass: the hosts of every spec.tls, which decide the redirects of every route
  const tlsHosts = new Set<string>();
  for (const c of checked) for (const t of c.tls) for (const h of t.hosts) tlsHosts.add(h);
  const hosts: HostPasses = { tlsHosts, opts };
  // app-root answers / before any path of its host (ingress-nginx renders it at server level)
  appRoots(b, checked, hosts);
  for (const c of checked) ingress(b, c, hosts);
  // then what applies to whole hosts: their other names
  hostNames(b, checked, hosts);
}

/** What the per-host passes share. */
interface HostPasses {
  readonly tlsHosts: ReadonlySet<string>;
  readonly opts: IngressOptions;
}

/** Whether an Ingress is refused (its routes answer 503), and has said why. */
const isRefusing = (c: CheckedIngress, opts: IngressOptions): boolean => c.refused.length > 0 && opts.unsupportedAnnotations !== 'warn';

/**
 * The policies of an Ingress's route on `host`: the HTTPS redirect is on for TLS hosts (by
 * --ssl-redirect or the annotation), or forced; the rewrite only where it applies.
 */
function policiesFor(c: CheckedIngress, host: string, rewrite: boolean, h: HostPasses): readonly Policy[] {
  if (isRefusing(c, h.opts)) return c.refusal;
  const p = c.redirectPolicy;
  const redirect = p === 'force' || (h.tlsHosts.has(host) && (p ?? h.opts.sslRedirect ?? true));
  return (rewrite ? c.policies : c.unrewritten)[redirect ? 1 : 0];
}

/** A single-backend route list: one shared array per backend id would not pay; this one is small. */
const one = (backend: string): Route['backends'] => [{ backend, weight: 1 }];

function ingress(b: TableBuilder, c: CheckedIngress, hosts: HostPasses): void {
  const { origin, source, protocol } = c;
  const { opts } = hosts;
  if (c.invalid) {
    b.report(origin, 'InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
    return;
  }
  for (const [reason, message, severity] of c.problems) b.report(origin, reason, message, severity);
  const refusing = isRefusing(c, opts);
  if (c.refused.length > 0) {
    const keys = c.refused.join(', ');
    b.report(
      origin,
      'UnsupportedAnnotation',
      refusing
        ? `not served: ${keys} cannot be honoured, and serving without ${c.refused.length > 1 ? 'them' : 'it'} could open what ${c.refused.length > 1 ? 'they close' : 'it closes'}; its routes answer 503 (--unsupported-annotations=warn serves it anyway)`
        : `served WITHOUT ${keys} (--unsupported-annotations=warn): what ${c.refused.length > 1 ? 'they restrict' : 'it restricts'} is not enforced`,
    );
  }
  if (c.settings.sslSecret !== undefined) b.upstreamSecret(c.settings.sslSecret, origin);
  const defaultId = c.defaultRef !== undefined ? use(b, c.defaultRef, c, protocol) : undefined;
  tls(b, c);
  // the fallback never redirected to HTTPS (kept as it was); it carries the Ingress's other
  // policies, the rewrite as for a path "/" (ingress-nginx's default location of the host)
  const fallback = refusing ? c.refusal : (c.routing?.rewriteTarget !== '/' ? c.policies : c.unrewritten)[0];

  if (c.ruleCount === 0) {
    if (defaultId === undefined) {
      b.report(origin, 'InvalidObject', 'Ingress has neither rules nor spec.defaultBackend');
    } else if (b.defaultBackend === null) {
      // ingress-nginx applies neither redirects nor rewrites to the catch-all server
      b.defaultBackend = { host: '', path: '', match: 'Prefix', source, policies: refusing ? c.refusal : c.catchAll, backends: one(defaultId), settings: c.settings };
      const r = c.routing;
      if (c.catchAll.length !== c.policies[0].length || r?.appRoot !== undefined || r?.fromToWww === true || (r?.aliases.length ?? 0) > 0) {
        b.report(origin, 'IgnoredAnnotation', 'redirect, rewrite, app-root, from-to-www-redirect and server-alias annotations do not apply to an Ingress without rules, which serves every host (ingress-nginx skips them there too)', 'info');
      }
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
    if (defaultId !== undefined) b.addFallback(host, { host, path: '', match: 'Prefix', source, policies: fallback, backends: one(defaultId), settings: c.settings });
    for (const p of rule.paths) {
      if ('problem' in p) {
        b.report(origin, ...p.problem);
        continue;
      }
      const id = use(b, p.ref, c, protocol);
      if (id === undefined) continue;
      const route: Route = { host, path: p.path, match: p.match, ...(p.match === 'Regex' ? { ignoreCase: true } : {}), source, policies: policiesFor(c, host, p.rewrite, hosts), backends: one(id), settings: c.settings };
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
  b.backend(ref.id, c.origin.namespace, ref.service, ref.port, c.origin, protocol);
  return ref.id;
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
      else owners.set(host, c);
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
      const policies: readonly Policy[] = isRefusing(c, h.opts) ? c.refusal : [{ kind: 'hostRedirect', host }];
      b.addRoute({ host: from, path: '/', match: 'Prefix', source: c.source, policies, backends: [], settings: {} });
      b.shareCert(host, from, c.origin, 'from-to-www-redirect');
    }
  }
  for (const [alias, host] of aliases) {
    b.copyHost(host, alias);
    b.shareCert(host, alias, (owners.get(host) as CheckedIngress).origin, 'server-alias');
  }
}
