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
import type { BackendProtocol, Canary, Policy, Route } from '../types.js';
import type { SourceRanges } from './access.js';
import type { CanaryAnnotations } from './balance.js';
import { backendRef, checkIngress, pathAt, type CheckedIngress, type CheckedRef } from './check.js';
import { resolveClientAuth, type HostsClientAuth } from './client-auth.js';

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
}

/** Checked Ingresses by object, owned by the translator (objects from the store are never modified). */
export type IngressMemo = Memo<Ingress, CheckedIngress>;

/** Translates the served Ingresses (already filtered to ours and sorted oldest first). */
export function translateIngresses(b: TableBuilder, ours: readonly Ingress[], memo: IngressMemo, opts: IngressOptions): void {
  const checked = ours.map((ing) => {
    let c = memo.get(ing);
    if (c === undefined || c.defaults !== opts.sourceRanges) memo.set(ing, (c = checkIngress(ing, opts.sourceRanges)));
    return c;
  });
  // first pass: the hosts of every spec.tls, which decide the redirects of every route (a canary's TLS is ignored, as its routes)
  const tlsHosts = new Set<string>();
  for (const c of checked) if (c.canary === null) for (const t of c.tls) for (const h of t.hosts) tlsHosts.add(h);
  // and what each host does about client certificates (per host, whichever Ingress a route is from)
  const clientAuth = resolveClientAuth(b, checked);
  for (const c of checked) if (c.canary === null) ingress(b, c, tlsHosts, clientAuth, opts);
  // canaries last, whatever their age: each splits traffic off a main route, and never becomes one
  for (const c of checked) if (c.canary !== null) canary(b, c, c.canary, opts);
}

/** The Ingress's balancing, as a route field (absent when it sets none). */
const balancingOf = (c: CheckedIngress): Pick<Route, 'balancing'> => (c.balancing === undefined ? {} : { balancing: c.balancing });

function ingress(b: TableBuilder, c: CheckedIngress, tlsHosts: ReadonlySet<string>, clientAuth: HostsClientAuth, opts: IngressOptions): void {
  const { origin, source, protocol } = c;
  if (c.invalid) {
    b.report(origin, 'InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
    return;
  }
  for (const [reason, message, severity] of c.problems) b.report(origin, reason, message, severity);
  const warn = opts.unsupportedAnnotations === 'warn';
  const refusing = c.badValues.length > 0 || (c.refused.length > 0 && !warn);
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
  /** The host's client-certificate check added to `base`, or the refusal that replaces it (memoised per host). */
  const withHost = new Map<string, readonly Policy[]>();
  const hostPolicies = (host: string, redirect: boolean): readonly Policy[] => {
    const base = c.policies[redirect ? 1 : 0];
    const key = `${redirect ? 1 : 0}${host}`;
    let out = withHost.get(key);
    if (out === undefined) {
      const v = clientAuth.verdict(c, host);
      withHost.set(key, (out = v === null ? base : 'refuse' in v ? v.refuse : [...base, v.add]));
    }
    return out;
  };
  /** Policies for routes on `host`: the HTTPS redirect is on for TLS hosts (by --ssl-redirect or the annotation), or forced. */
  const policies = (host: string): readonly Policy[] => {
    const p = c.redirectPolicy;
    const redirect = p === 'force' || (tlsHosts.has(host) && (p ?? opts.sslRedirect ?? true));
    return refusing ? c.refusal : hostPolicies(host, redirect);
  };
  const plain = (host: string): readonly Policy[] => (refusing ? c.refusal : hostPolicies(host, false));

  if (c.ruleCount === 0) {
    if (defaultId === undefined) {
      b.report(origin, 'InvalidObject', 'Ingress has neither rules nor spec.defaultBackend');
    } else if (b.defaultBackend === null) {
      b.defaultBackend = { host: '', path: '', match: 'Prefix', source, policies: plain(''), backends: b.single(defaultId), settings: c.settings, ...balancingOf(c) };
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
    if (defaultId !== undefined) b.addFallback(host, { host, path: '', match: 'Prefix', source, policies: plain(host), backends: b.single(defaultId), settings: c.settings, ...balancingOf(c) });
    for (const p of rule.paths) {
      if ('problem' in p) {
        b.report(origin, ...p.problem);
        continue;
      }
      const id = use(b, p.ref, c, protocol);
      if (id === undefined) continue;
      const route: Route = { host, path: p.path, match: p.match, source, policies: policies(host), backends: b.single(id), settings: c.settings, ...balancingOf(c) };
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
    const protocol = (first === undefined ? undefined : b.resolved(first.backend)?.protocol) ?? 'HTTP';
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
    const next: Canary = {
      backend: r.id,
      source,
      weight: can.weight,
      total: can.total,
      ...(can.header !== undefined ? { header: can.header } : {}),
      ...(can.headerValue !== undefined ? { headerValue: can.headerValue } : {}),
      ...(can.headerPattern !== undefined ? { headerPattern: can.headerPattern } : {}),
      ...(can.headerPatternInvalid === true ? { headerPatternInvalid: true as const } : {}),
      ...(can.cookie !== undefined ? { cookie: can.cookie } : {}),
      ...(Object.keys(balancing).length > 0 ? { balancing } : {}),
    };
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
  for (const rule of c.rules) {
    if ('problem' in rule) {
      b.report(origin, ...rule.problem);
      continue;
    }
    for (const p of rule.paths) {
      if ('problem' in p) {
        b.report(origin, ...p.problem);
        continue;
      }
      const where = pathAt(p.rule, p.index);
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
