/**
 * A Gateway's frontend TLS validation (`spec.tls.frontend`, GatewayFrontendClientCertificateValidation):
 * HTTPS listeners ask clients for a certificate and verify it against the CAs of `caCertificateRefs`.
 *
 * - Which configuration a listener gets: the `perPort` entry whose `port` is the listener's
 *   `port` (as written in the Gateway, whatever port Portico serves it on), else `default`. An
 *   entry without `validation` means none on that port. HTTP, TLS and TCP listeners are untouched.
 * - `caCertificateRefs`: ConfigMaps with `ca.crt` (Core) and Secrets with `ca.crt`; another
 *   namespace only with a ReferenceGrant. A bad reference is `ResolvedRefs=False` with the spec's
 *   reason (`InvalidCACertificateRef`, `InvalidCACertificateKind`, `RefNotPermitted`) on every
 *   listener it applies to; the usable ones are still verified against. With none usable the
 *   listener is `Accepted=False NoValidCACertificate` and its routes are refused (503), never
 *   served without verification.
 * - `mode: AllowValidOnly` (default): the handshake fails without a certificate that verifies.
 *   `AllowInsecureFallback`: the certificate is asked for and verified, the outcome is passed to
 *   the backend (ssl-client-verify), nothing is refused; the Gateway gets
 *   `InsecureFrontendValidationMode=True ConfigurationChanged`.
 * - Portico's handshake is per SNI name (tls/contexts.ts): the validation goes to the hostnames
 *   of the routes attached to the listener. Two listeners (or an Ingress's auth-tls-secret) asking
 *   for different validations on one hostname: the first keeps it, the other's routes on that
 *   hostname are refused (ClientAuthConflict). Pure.
 */
import { sourceName, type TableBuilder } from '../build.js';
import { isObject, str } from '../k8s.js';
import { CLIENT_CERT_REQUIRED, type ClientAuth, type Policy, type Route } from '../types.js';
import { readCaRefs } from './ca-refs.js';
import type { GrantIndex } from './grants.js';
import { GATEWAY_GROUP, type Gateway } from './objects.js';
import { condition, type Condition } from './status.js';

/** What the routes of one HTTPS listener get: verification, or a refusal. */
export type ListenerFrontend =
  | { readonly refuse: string }
  | { readonly policy: Extract<Policy, { kind: 'clientCert' }>; readonly auth: Omit<ClientAuth, 'host'> };

/** A Gateway's frontend validation, resolved per listener port. */
export interface GatewayFrontend {
  /**
   * The validation for an HTTPS listener on `port`, with the conditions it adds to the listener
   * (`ResolvedRefs=False ...`, `Accepted=False ...`); undefined when none applies.
   */
  forPort(port: number): { readonly frontend: ListenerFrontend; readonly conditions: (generation: number) => Condition[] } | undefined;
  /** `InsecureFrontendValidationMode`, when some configuration allows the insecure fallback. */
  readonly gatewayConditions: (generation: number) => Condition[];
}

type Obj = Readonly<Record<string, unknown>>;
const obj = (v: unknown): Obj | undefined => (isObject(v) ? (v as Obj) : undefined);

const NONE: GatewayFrontend = { forPort: () => undefined, gatewayConditions: () => [] };
/** No depth limit of Portico's own: OpenSSL's default verify depth (100) applies. */
const DEPTH = 100;
const SPEC_REASON = { InvalidKind: 'InvalidCACertificateKind', InvalidCACertificateRef: 'InvalidCACertificateRef', RefNotPermitted: 'RefNotPermitted' } as const;

type Resolved = { readonly frontend: ListenerFrontend; readonly conditions: (generation: number) => Condition[] } | undefined;

/** Reads `spec.tls.frontend` of a Gateway; its references are resolved once, when a listener uses them. */
export function readFrontend(b: TableBuilder, gw: Gateway, grants: GrantIndex): GatewayFrontend {
  const fe = isObject(gw.spec?.tls) && isObject(gw.spec?.tls?.frontend) ? gw.spec?.tls?.frontend : undefined;
  if (fe === undefined) return NONE;
  const ns = str(gw.metadata?.namespace);
  const name = str(gw.metadata?.name);
  const origin = { kind: 'Gateway', namespace: ns, name };
  const source = { kind: 'Gateway' as const, namespace: ns, name };
  const perPort = new Map<number, unknown>();
  for (const p of Array.isArray(fe.perPort) ? fe.perPort : []) if (isObject(p) && typeof p.port === 'number' && !perPort.has(p.port)) perPort.set(p.port, isObject(p.tls) ? p.tls.validation : undefined);
  const def = obj(fe.default)?.validation;
  const memo = new Map<string, Resolved>();

  const resolve = (where: string, raw: unknown): Resolved => {
    const v = obj(raw);
    if (v === undefined) return undefined;
    const mode = str(v.mode) || 'AllowValidOnly';
    const refs = Array.isArray(v.caCertificateRefs) ? v.caCertificateRefs : [];
    if (mode !== 'AllowValidOnly' && mode !== 'AllowInsecureFallback') {
      const message = `${where}: mode ${JSON.stringify(mode)} is not supported (AllowValidOnly and AllowInsecureFallback are); the listener's routes are refused`;
      b.report(origin, 'InvalidListener', message);
      return { frontend: { refuse: `the client-certificate validation of Gateway ${ns}/${name} (${where}) is invalid` }, conditions: (g) => [condition('Accepted', false, 'UnsupportedValue', message, g)] };
    }
    const read = readCaRefs(b, ns, refs, { secrets: true, grants: { index: grants, referrer: { group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns } } });
    const problems = refs.length === 0 ? [{ reason: 'InvalidCACertificateRef' as const, diagnostic: 'ConfigMapNotFound' as const, message: 'caCertificateRefs is empty' }] : read.problems;
    const usable = read.pems.length > 0;
    for (const x of problems) b.report(origin, x.diagnostic, `${where}: ${x.message}; ${usable ? 'the other CAs are verified against' : "its HTTPS listeners' routes are refused (503)"}`);
    const first = problems[0];
    const resolvedRefs = (g: number): Condition[] => (first === undefined ? [] : [condition('ResolvedRefs', false, SPEC_REASON[first.reason], `${where}: ${problems.map((x) => x.message).join('; ')}`, g)]);
    if (!usable) {
      return {
        frontend: { refuse: `Gateway ${ns}/${name} verifies client certificates on this listener (${where}) and none of its caCertificateRefs is usable` },
        conditions: (g) => [...resolvedRefs(g), condition('Accepted', false, 'NoValidCACertificate', `${where}: no caCertificateRef is usable; the listener's routes are refused`, g)],
      };
    }
    const required = mode === 'AllowValidOnly';
    const id = `${required ? CLIENT_CERT_REQUIRED : ''}${read.ids.join('+')}`;
    const from = read.from.join(', ');
    return {
      frontend: {
        policy: { kind: 'clientCert', secret: from, ca: id, verify: required ? 'on' : 'off', depth: DEPTH, passCertificate: false },
        auth: { secret: from, id, caPem: read.pems.join('\n'), request: true, source },
      },
      conditions: resolvedRefs,
    };
  };
  const memoized = (key: string, where: string, v: unknown): Resolved => {
    if (!memo.has(key)) memo.set(key, resolve(where, v));
    return memo.get(key);
  };
  const modes = [def, ...perPort.values()].map((v) => str(obj(v)?.mode));
  const insecure = modes.includes('AllowInsecureFallback');
  return {
    forPort: (port) => (perPort.has(port) ? memoized(`port ${port}`, `tls.frontend.perPort[port ${port}]`, perPort.get(port)) : memoized('default', 'tls.frontend.default', def)),
    gatewayConditions: (g) => (insecure ? [condition('InsecureFrontendValidationMode', true, 'ConfigurationChanged', 'tls.frontend lets clients without a valid certificate through (mode AllowInsecureFallback): their requests reach the backends', g)] : []),
  };
}

/**
 * A route of a listener with frontend validation: its host's handshake verifies client
 * certificates (recorded in the table) and the route checks the outcome; or it is refused.
 */
const conflictsReported = new WeakMap<TableBuilder, Set<string>>();

export function withFrontend(b: TableBuilder, fe: ListenerFrontend, route: Route, gateway: { readonly namespace: string; readonly name: string }): Route {
  const refuse = (message: string): Route => ({ ...route, policies: [{ kind: 'refuse', because: ['tls.frontend'], message }] });
  if ('refuse' in fe) return refuse(fe.refuse);
  const have = b.clientAuth.get(route.host);
  if (have === undefined) b.clientAuth.set(route.host, { ...fe.auth, host: route.host });
  else if (have.id !== fe.auth.id) {
    const host = route.host || '(any host)';
    let seen = conflictsReported.get(b);
    if (seen === undefined) conflictsReported.set(b, (seen = new Set()));
    const key = `${gateway.namespace}/${gateway.name} ${route.host} ${fe.auth.id}`;
    if (!seen.has(key)) {
      seen.add(key);
      b.report({ kind: 'Gateway', namespace: gateway.namespace, name: gateway.name }, 'ClientAuthConflict', `host ${host}: the client-certificate validation (${fe.auth.secret}) differs from that of ${sourceName(have.source)} (${have.secret}), which sets it for the host; this listener's routes on ${host} are refused (503)`);
    }
    return refuse(`host ${host} verifies client certificates against ${have.secret} (${sourceName(have.source)}), not against ${fe.auth.secret} as this listener asks (see the ClientAuthConflict diagnostic)`);
  }
  return { ...route, policies: [fe.policy, ...route.policies] };
}
