/**
 * The `ssl-passthrough` annotation (ingress-nginx docs/user-guide/tls.md#ssl-passthrough): with
 * --enable-ssl-passthrough, TLS connections to the Ingress's hosts are not terminated by Portico:
 * the ClientHello's SNI picks the host, and the connection is spliced as TCP to the backend of
 * the host's `/` path (else the Ingress's spec.defaultBackend), as ingress-nginx does. Other paths
 * of such a host are served on the HTTP port only (on the HTTPS port the whole host is the pod's).
 * Without the flag Portico cannot honour the annotation, and the Ingress is refused like one with
 * an unsupported annotation (`--unsupported-annotations=warn` serves it, terminated). Pure.
 */
import type { TableBuilder } from '../build.js';
import type { CheckedIngress, CheckedRef } from '../ingress/check.js';
import type { Policy } from '../types.js';

/** The refused variants of Ingresses whose passthrough cannot be served, made once per checked object. */
const refusedVariants = new WeakMap<CheckedIngress, CheckedIngress>();

/**
 * The Ingress as the rest of the Ingress processor must see it: unchanged, or, when it asks for
 * passthrough and --enable-ssl-passthrough is off, with the annotation among its refused ones.
 */
export function withPassthrough(b: TableBuilder, c: CheckedIngress, enabled: boolean): CheckedIngress {
  const key = c.sslPassthrough;
  if (key === undefined || enabled) return c;
  b.report(c.origin, 'UnsupportedAnnotation', `${key}: TLS passthrough needs --enable-ssl-passthrough (without it Portico would terminate TLS for a host whose pods expect to)`);
  let r = refusedVariants.get(c);
  if (r === undefined) {
    const refused = [...c.refused, key].sort();
    const refusal = c.refusal.map((p): Policy => (p.kind === 'refuse' ? { ...p, because: refused } : p));
    refusedVariants.set(c, (r = { ...c, refused, refusal }));
  }
  return r;
}

/**
 * What each policy kind means for a connection passed through unterminated, where no HTTP is seen:
 * `http` shapes HTTP only (ingress-nginx ignores every other annotation of a passthrough Ingress;
 * so does Portico on the HTTPS port), `access` restricts who gets in, and dropping it would open
 * what it closes. A Record, so a new policy kind does not compile until it is classified here.
 */
const AT_LAYER_4: Readonly<Record<Policy['kind'], 'http' | 'access'>> = {
  refuse: 'access',
  sourceRange: 'access',
  satisfyAny: 'access',
  rateLimit: 'access',
  clientCert: 'access',
  basicAuth: 'access',
  extAuth: 'access',
  httpsRedirect: 'http',
  headers: 'http',
  appRoot: 'http',
  hostRedirect: 'http',
  fixedRedirect: 'http',
  redirect: 'http',
  rewrite: 'http',
  notFound: 'http',
  responseRewrite: 'http',
  headerDirectives: 'http',
  errorPages: 'http',
  cors: 'http',
  mirror: 'http',
};

/** Words for the access-control kinds, in messages. */
const WORDS: Readonly<Partial<Record<Policy['kind'], string>>> = { refuse: 'refusal (503)', sourceRange: 'source ranges', satisfyAny: 'source ranges or authentication (satisfy: any)', rateLimit: 'rate or connection limits', clientCert: 'client certificate check', basicAuth: 'basic authentication', extAuth: 'external authentication' };

/** The access-control policy kinds among `policies` (sorted, once each): what passing through would leave unenforced. */
export function accessKinds(policies: readonly Policy[]): string[] {
  return [...new Set(policies.filter((p) => AT_LAYER_4[p.kind] !== 'http').map((p) => p.kind))].sort();
}

/**
 * Adds the passthrough routes of a served Ingress with `ssl-passthrough: "true"`: one per rule
 * host, on the HTTPS port. `policiesOf(host)`: the policies its routes on that host carry; a host
 * with access control (source ranges, limits, authentication, client certificates, a refusal) is
 * not passed through, since none of it could be enforced on an unterminated connection: its HTTPS
 * stays Portico's, with every policy enforced (fail closed, never open).
 */
export function passthroughIngress(b: TableBuilder, c: CheckedIngress, policiesOf: (host: string) => readonly Policy[] = () => []): void {
  const { origin } = c;
  const key = c.sslPassthrough ?? 'ssl-passthrough';
  const ns = origin.namespace;
  for (const rule of c.rules) {
    if ('problem' in rule) continue; // reported by the Ingress processor
    if (rule.host === '') {
      b.report(origin, 'InvalidAnnotation', `${key}: a rule without a host cannot be passed through (SNI names a host); served with TLS terminated`);
      continue;
    }
    let root: CheckedRef | undefined;
    for (const p of rule.paths) {
      if ('problem' in p) continue;
      if (p.path === '/') root ??= p.ref;
      else b.report(origin, 'IgnoredAnnotation', `${key}: path ${p.path} of host ${rule.host} is served on the HTTP port only; on the HTTPS port the whole host goes to the backend of /`, 'info');
    }
    const access = accessKinds(policiesOf(rule.host));
    if (access.length > 0) {
      const what = access.map((k) => WORDS[k as Policy['kind']] ?? k).join(', ');
      b.report(origin, 'UnsupportedAnnotation', `${key}: host ${rule.host} is not passed through: its access control (${what}) cannot be enforced on a connection Portico does not decrypt; its HTTPS is served by Portico, which enforces it`);
      continue;
    }
    const ref = root ?? c.defaultRef;
    if (ref === undefined || 'problem' in ref) {
      b.report(origin, 'InvalidAnnotation', `${key}: host ${rule.host} has no usable backend for path / (nor spec.defaultBackend); not passed through`);
      continue;
    }
    const id = `${ns}/${ref.service}:${ref.port}+tcp`;
    b.backend(id, ns, ref.service, ref.port, origin, 'TCP');
    const route = { port: 443, host: rule.host, ...(rule.host.startsWith('*.') ? { wildcard: 'one-label' as const } : {}), source: { kind: 'Ingress' as const, namespace: ns, name: origin.name }, backends: [{ backend: id, weight: 1 }] };
    const lost = b.l4.addSni(route, c.created);
    if (lost === null) continue;
    const winner = lost === route ? b.l4.sniAt(443, rule.host) : route;
    if (winner === undefined || (winner.source.kind === lost.source.kind && winner.source.namespace === lost.source.namespace && winner.source.name === lost.source.name)) continue;
    b.report({ kind: lost.source.kind, namespace: lost.source.namespace, name: lost.source.name }, 'RouteConflict', `TLS passthrough of host ${rule.host} is also claimed by ${winner.source.kind} ${winner.source.namespace}/${winner.source.name}, which is older and wins; not passed through from here`);
    b.report({ kind: winner.source.kind, namespace: winner.source.namespace, name: winner.source.name }, 'RouteConflict', `TLS passthrough of host ${rule.host} is also claimed by ${lost.source.kind} ${lost.source.namespace}/${lost.source.name}, which is newer; this one is served`);
  }
}
