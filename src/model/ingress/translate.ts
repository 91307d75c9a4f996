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
import { passthroughIngress, withPassthrough } from '../l4/passthrough.js';
import { checkIngress, pathAt, type CheckedIngress, type CheckedRef } from './check.js';

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
  for (const c of checked) ingress(b, c, tlsHosts, opts);
}

/** A single-backend route list: one shared array per backend id would not pay; this one is small. */
const one = (backend: string): Route['backends'] => [{ backend, weight: 1 }];

function ingress(b: TableBuilder, checked: CheckedIngress, tlsHosts: ReadonlySet<string>, opts: IngressOptions): void {
  const { origin, source, protocol } = checked;
  if (checked.invalid) {
    b.report(origin, 'InvalidObject', 'Ingress must have metadata.name and metadata.namespace');
    return;
  }
  const c = withPassthrough(b, checked, opts.sslPassthrough === true);
  for (const [reason, message, severity] of c.problems) b.report(origin, reason, message, severity);
  const refusing = c.refused.length > 0 && opts.unsupportedAnnotations !== 'warn';
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
  if (c.sslPassthrough !== undefined && opts.sslPassthrough === true && !refusing) passthroughIngress(b, c);
  if (c.settings.sslSecret !== undefined) b.upstreamSecret(c.settings.sslSecret, origin);
  const defaultId = c.defaultRef !== undefined ? use(b, c.defaultRef, c, protocol) : undefined;
  tls(b, c);
  /** Policies for routes on `host`: the HTTPS redirect is on for TLS hosts (by --ssl-redirect or the annotation), or forced. */
  const policies = (host: string): readonly Policy[] => {
    const p = c.redirectPolicy;
    const redirect = p === 'force' || (tlsHosts.has(host) && (p ?? opts.sslRedirect ?? true));
    return refusing ? c.refusal : c.policies[redirect ? 1 : 0];
  };
  const plain = refusing ? c.refusal : c.policies[0];

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
    if (defaultId !== undefined) b.addFallback(host, { host, path: '', match: 'Prefix', source, policies: plain, backends: one(defaultId), settings: c.settings });
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
