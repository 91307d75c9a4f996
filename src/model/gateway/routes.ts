/**
 * HTTPRoutes and GRPCRoutes: attached to listeners by their parentRefs (sectionName, port,
 * allowedRoutes, hostname intersection), turned into model routes per listener port and
 * effective hostname, with the conditions the spec names. Backends are Services (cross-namespace
 * only with a ReferenceGrant); an invalid backend's share of the traffic answers 500, as the spec
 * requires, and a rule without a valid backend answers 500 too.
 */
import type { TableBuilder } from '../build.js';
import { isObject, str, type KubeObject, type Service } from '../k8s.js';
import { patternProblem } from '../regex.js';
import type { Affinity, BackendProtocol, Conditions, PathMatch, Policy, Route, RouteSettings, ValueMatch, WeightedBackend } from '../types.js';
import { effectiveHostnames, validHostname } from './hostnames.js';
import type { GrantIndex } from './grants.js';
import type { BackendTlsIndex } from './backend-tls.js';

/** What resolving a backend reference consults: ReferenceGrants, and the BackendTLSPolicies (absent: none). */
export interface Refs extends GrantIndex {
  readonly backendTls?: BackendTlsIndex;
}
import type { ListenerState, RouteKind } from './listeners.js';
import { GATEWAY_GROUP, type BackendObjectReference, type GRPCRoute, type GRPCRouteRule, type HTTPBackendRef, type HTTPRoute, type HTTPRouteFilter, type HTTPRouteMatch, type HTTPRouteRule, type ParentReference, type ValueMatchSpec } from './objects.js';
import { backendFilterPolicies, filterPolicies } from './filters.js';
import { condition, type Condition, type RouteParentStatus, type RouteStatus } from './status.js';

/** A route candidate with everything its precedence is decided by. */
export interface Candidate {
  readonly route: Route;
  /** creationTimestamp and `namespace/name` of its object, rule and match index: the spec's tie-breakers. */
  readonly created: string;
  readonly key: string;
  readonly rule: number;
  readonly match: number;
}

const gen = (o: KubeObject): number => (typeof o.metadata?.generation === 'number' ? o.metadata.generation : 0);

/** Problems with one rule, turned into its route parent conditions. */
export interface RuleProblem {
  readonly reason: string;
  readonly message: string;
}

/** What a route's rules say about all its parents: every rule invalid, some dropped, a reference unresolved. */
export interface RuleVerdict {
  /** Every rule is invalid: the route is not accepted (its first problem). */
  readonly invalid: RuleProblem | null;
  /** Some rules were dropped: the PartiallyInvalid message. */
  readonly partial: string | null;
  /** A backend reference could not be resolved (ResolvedRefs=False). */
  readonly refs: RuleProblem | null;
}

/**
 * Attaches a route to its parentRefs (sectionName, port, the listener's kinds and namespaces,
 * hostname intersection) with the conditions the spec names, counting it on every listener it is
 * accepted on. `onAttached` is called for each valid listener with the route's hostnames there.
 * Returns the parent statuses (none for parents that are not Portico's Gateways).
 */
export function attachParents(kind: RouteKind, obj: KubeObject & { spec?: { parentRefs?: readonly ParentReference[] } }, hostnames: readonly string[], listenersOf: (namespace: string, name: string) => readonly ListenerState[] | undefined, verdict: RuleVerdict, onAttached: (l: ListenerState, hosts: readonly string[]) => void): RouteParentStatus[] {
  const ns = str(obj.metadata?.namespace);
  const generation = gen(obj);
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  const parents: RouteParentStatus[] = [];
  for (const p of Array.isArray(spec?.parentRefs) ? (spec?.parentRefs ?? []) : []) {
    if (!isObject(p)) continue;
    const ref = p as ParentReference;
    const group = ref.group === undefined ? GATEWAY_GROUP : str(ref.group);
    const pkind = ref.kind === undefined ? 'Gateway' : str(ref.kind);
    if (group !== GATEWAY_GROUP || pkind !== 'Gateway') continue; // not a parent Portico implements
    const gwNs = str(ref.namespace) || ns;
    const listeners = listenersOf(gwNs, str(ref.name));
    if (listeners === undefined) continue; // not a Gateway of Portico's classes: no status from Portico
    const parentRef = { group, kind: pkind, ...(ref.namespace !== undefined ? { namespace: gwNs } : {}), name: str(ref.name), ...(ref.sectionName !== undefined ? { sectionName: str(ref.sectionName) } : {}), ...(typeof ref.port === 'number' ? { port: ref.port } : {}) };
    const conds: Condition[] = [];
    const selected = listeners.filter((l) => (ref.sectionName === undefined || l.name === ref.sectionName) && (ref.port === undefined || l.port === ref.port));
    const allowed = selected.filter((l) => l.kinds.includes(kind) && l.allows(ns));
    const attached = allowed.map((l) => ({ l, hosts: effectiveHostnames(l.hostname, hostnames) })).filter((a) => a.hosts.length > 0);
    if (selected.length === 0) conds.push(condition('Accepted', false, 'NoMatchingParent', `no listener of Gateway ${gwNs}/${parentRef.name} matches ${ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : ''}${ref.port !== undefined ? ` port ${ref.port}` : ''}`.trim(), generation));
    else if (allowed.length === 0) conds.push(condition('Accepted', false, 'NotAllowedByListeners', `no listener of Gateway ${gwNs}/${parentRef.name} allows ${kind}s from namespace ${ns}`, generation));
    else if (attached.length === 0) conds.push(condition('Accepted', false, 'NoMatchingListenerHostname', `no hostname of the route intersects a listener hostname of Gateway ${gwNs}/${parentRef.name}`, generation));
    else if (verdict.invalid !== null) conds.push(condition('Accepted', false, 'UnsupportedValue', verdict.invalid.message, generation));
    else {
      conds.push(condition('Accepted', true, 'Accepted', 'the route is attached', generation));
      for (const a of attached) {
        a.l.attached++;
        if (a.l.valid) onAttached(a.l, a.hosts);
      }
      if (verdict.partial !== null) conds.push(condition('PartiallyInvalid', true, 'UnsupportedValue', verdict.partial, generation));
    }
    conds.push(verdict.refs === null ? condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', generation) : condition('ResolvedRefs', false, verdict.refs.reason, verdict.refs.message, generation));
    parents.push({ parentRef, conditions: conds });
  }
  return parents;
}

/**
 * Attaches one route to its parents and returns its status and the model routes of its valid
 * rules (one per listener port, hostname, rule and match).
 */
export function translateRoute(b: TableBuilder, kind: 'HTTPRoute' | 'GRPCRoute', obj: HTTPRoute | GRPCRoute, listenersOf: (namespace: string, name: string) => readonly ListenerState[] | undefined, grants: Refs): { status: RouteStatus | null; candidates: Candidate[] } {
  const ns = str(obj.metadata?.namespace);
  const name = str(obj.metadata?.name);
  const generation = gen(obj);
  const origin = { kind, namespace: ns, name };
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  const hostnames = (Array.isArray(spec?.hostnames) ? (spec?.hostnames ?? []) : []).filter(validHostname);
  const candidates: Candidate[] = [];
  // rules, checked once for every parent
  const rules = readRules(b, kind, obj, grants);
  const refsProblem = rules.find((r) => r.refProblem !== null)?.refProblem ?? null;
  const invalidRules = rules.filter((r) => r.invalid !== null);
  const verdict: RuleVerdict = {
    invalid: invalidRules.length === rules.length && rules.length > 0 ? (invalidRules[0]?.invalid as RuleProblem) : null,
    partial: invalidRules.length > 0 ? `Dropped Rule(s): ${invalidRules.map((r) => `rules[${r.index}]: ${(r.invalid as RuleProblem).message}`).join('; ')}` : null,
    refs: refsProblem,
  };
  const parents = attachParents(kind, obj, hostnames, listenersOf, verdict, (l, hosts) => {
    for (const host of hosts) for (const r of rules) if (r.invalid === null) for (const [i, route] of r.routes.entries()) candidates.push({ route: { ...route, host, ports: [l.port] }, created: str(obj.metadata?.creationTimestamp), key: `${ns}/${name}`, rule: r.index, match: i });
  });
  for (const r of invalidRules) b.report(origin, 'InvalidRoute', `rules[${r.index}]: ${(r.invalid as RuleProblem).message}; the rule is not served`);
  if (refsProblem !== null) reportRefProblem(b, origin, refsProblem);
  return { status: parents.length === 0 ? null : { kind, namespace: ns, name, generation, parents }, candidates };
}

/** A backend reference problem as a diagnostic on the route. */
export function reportRefProblem(b: TableBuilder, origin: { kind: string; namespace: string; name: string }, p: RuleProblem): void {
  b.report(origin, p.reason === 'RefNotPermitted' ? 'RefNotPermitted' : p.reason === 'BackendNotFound' ? 'ServiceNotFound' : 'InvalidBackend', p.message);
}

interface ReadRule {
  readonly index: number;
  /** The rule's routes (host and ports filled in per listener by the caller). */
  readonly routes: Route[];
  readonly invalid: RuleProblem | null;
  readonly refProblem: RuleProblem | null;
}

function readRules(b: TableBuilder, kind: 'HTTPRoute' | 'GRPCRoute', obj: HTTPRoute | GRPCRoute, grants: Refs): ReadRule[] {
  const ns = str(obj.metadata?.namespace);
  const source = { kind, namespace: ns, name: str(obj.metadata?.name) };
  const raw = Array.isArray(obj.spec?.rules) ? (obj.spec?.rules ?? []) : [];
  // HTTPRoute's default: one rule matching every path (GRPCRoute has no default rule)
  const rules: readonly (HTTPRouteRule | GRPCRouteRule)[] = raw.length === 0 && kind === 'HTTPRoute' ? [{}] : raw;
  const names = new Set<string>();
  return rules.map((rule, index): ReadRule => {
    if (!isObject(rule)) return { index, routes: [], invalid: { reason: 'UnsupportedValue', message: 'a rule must be an object' }, refProblem: null };
    const named = ruleName(rule.name, names);
    const backends = readBackends(b, kind, source, rule.backendRefs, grants);
    const filters = filterPolicies(Array.isArray(rule.filters) ? rule.filters : [], kind, (ref) => resolveRef(b, kind, source, ref, grants, 'RequestMirror backendRef'));
    const refProblem = backends.problem ?? ('error' in filters ? null : filters.problem);
    const invalid = (message: string): ReadRule => ({ index, routes: [], invalid: { reason: 'UnsupportedValue', message }, refProblem });
    if (named !== null) return invalid(named);
    if ('error' in filters) return invalid(filters.error);
    if (backends.invalid !== null) return invalid(backends.invalid);
    const settings = kind === 'HTTPRoute' ? ruleSettings(rule as HTTPRouteRule) : { settings: {} };
    if ('error' in settings) return invalid(settings.error);
    const persistence = sessionPersistence(rule.sessionPersistence, source, index);
    if (persistence !== undefined && 'error' in persistence) return invalid(persistence.error);
    const matches = kind === 'HTTPRoute' ? httpMatches((rule as HTTPRouteRule).matches) : grpcMatches((rule as GRPCRouteRule).matches);
    if ('error' in matches) return invalid(matches.error);
    // a redirect answers itself; anything else without a valid backend answers 500
    const answers = filters.policies.some((p) => p.kind === 'redirect');
    const weighted: WeightedBackend[] = answers ? [] : backends.list.length === 0 ? [{ backend: '', weight: 1 }] : backends.list;
    const needsPrefix = byPrefix(filters.policies);
    const backendsNeedPrefix = weighted.some((w) => w.policies !== undefined && byPrefix(w.policies));
    if ((needsPrefix || backendsNeedPrefix) && !(matches.list.length === 1 && matches.list[0]?.match === 'Prefix')) return invalid(`a ReplacePrefixMatch path modifier${needsPrefix ? '' : ' in a backendRef'} needs exactly one PathPrefix match`);
    const balancing = persistence === undefined ? undefined : { affinity: persistence };
    const routes = matches.list.map((m): Route => ({ host: '', path: m.path, match: m.match, ...(m.conditions !== undefined ? { conditions: m.conditions } : {}), source, policies: needsPrefix ? bindPrefix(filters.policies, m.path) : filters.policies, backends: backendsNeedPrefix ? weighted.map((w) => (w.policies === undefined ? w : { ...w, policies: bindPrefix(w.policies, m.path) })) : weighted, settings: settings.settings, ...(balancing !== undefined ? { balancing } : {}) }));
    return { index, routes, invalid: null, refProblem };
  });
}

/** A SectionName, as the CRD validates it (HTTPRouteRule.name, GRPCRouteRule.name). */
const SECTION_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * A rule's `name` (HTTPRouteNamedRouteRule, GRPCRouteNamedRouteRule): optional, a SectionName,
 * unique within its route ("MUST be unique within a Route if it is set"). What is wrong with it,
 * or null; `seen` collects the names of the rules before it (a repeated name invalidates the later
 * rule, the first keeps it).
 */
function ruleName(name: unknown, seen: Set<string>): string | null {
  if (name === undefined || name === null) return null;
  if (typeof name !== 'string' || name.length > 253 || !SECTION_NAME.test(name)) return `rule name ${JSON.stringify(name)} is not a valid name (lower-case letters, digits, '-' and '.', at most 253)`;
  if (seen.has(name)) return `rule name ${JSON.stringify(name)} is not unique within the route`;
  seen.add(name);
  return null;
}

/** A Gateway API duration (GEP-2257) in ms, or undefined when it is not one. */
function duration(v: unknown): number | undefined {
  const s = str(v);
  if (!/^([0-9]{1,5}(h|m|s|ms)){1,4}$/.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(/([0-9]{1,5})(h|ms|m|s)/g)) ms += Number(n) * (unit === 'h' ? 3_600_000 : unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
  return ms;
}

/** Retries after the first attempt when `retry` gives no `attempts` (implementation-specific; ingress-nginx's default is 3 tries in all). */
export const DEFAULT_RETRY_ATTEMPTS = 2;

/**
 * `retry` (experimental channel, HTTPRouteRetry): read when present. Codes 400-599, attempts at
 * least 1 (retries after the first try), backoff a duration.
 */
function retry(r: unknown): { settings: RouteSettings } | { error: string } {
  if (r === undefined || r === null) return { settings: {} };
  if (!isObject(r)) return { error: 'retry must be an object' };
  const { codes, attempts, backoff } = r as { codes?: unknown; attempts?: unknown; backoff?: unknown };
  const list: number[] = [];
  if (codes !== undefined && codes !== null) {
    if (!Array.isArray(codes)) return { error: 'retry.codes must be a list' };
    for (const c of codes) {
      if (typeof c !== 'number' || !Number.isInteger(c) || c < 400 || c > 599) return { error: `retry.codes: ${JSON.stringify(c)} is not a status from 400 to 599` };
      if (!list.includes(c)) list.push(c);
    }
  }
  if (attempts !== undefined && attempts !== null && !(typeof attempts === 'number' && Number.isInteger(attempts) && attempts >= 1)) return { error: `retry.attempts ${JSON.stringify(attempts)} is not a whole number, at least 1` };
  const wait = backoff === undefined || backoff === null ? 0 : duration(backoff);
  if (wait === undefined) return { error: `retry.backoff ${JSON.stringify(backoff)} is not a Gateway API duration` };
  return { settings: { retryAttempts: typeof attempts === 'number' ? attempts : DEFAULT_RETRY_ATTEMPTS, ...(list.length > 0 ? { retryCodes: list.sort((a, b) => a - b) } : {}), ...(wait > 0 ? { retryBackoff: wait } : {}) } };
}

/** An HTTPRoute rule's settings: timeouts and retry. */
function ruleSettings(rule: HTTPRouteRule): { settings: RouteSettings } | { error: string } {
  const t = timeouts(rule.timeouts);
  if ('error' in t) return t;
  const r = retry(rule.retry);
  if ('error' in r) return r;
  return { settings: { ...t.settings, ...r.settings } };
}

/** FNV-1a, 32 bits, hex: a stable short name part (the model has no crypto). */
function fnv(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16).padStart(8, '0');
}

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,256}$/;

/**
 * `sessionPersistence` (experimental channel), as the sticky cookie of ingress-nginx's
 * `affinity-mode: persistent` (proxy/balance.ts): the cookie names its endpoint, so every replica
 * honours it without shared state, for as long as that endpoint lives. Read in both shapes: v1.6
 * (`sessionName`, `cookieConfig.lifetimeType`) and later (`cookie.name`, `cookie.path`,
 * `cookie.lifetimeType`). `Header` sessions, `idleTimeout`, and an `absoluteTimeout` on a Session
 * cookie (a lifetime the gateway would have to track: the cookie holds no time) are not supported.
 */
function sessionPersistence(sp: unknown, source: Route['source'], index: number): Affinity | { error: string } | undefined {
  if (sp === undefined || sp === null) return undefined;
  if (!isObject(sp)) return { error: 'sessionPersistence must be an object' };
  const p = sp as { type?: unknown; sessionName?: unknown; absoluteTimeout?: unknown; idleTimeout?: unknown; cookieConfig?: unknown; cookie?: unknown; header?: unknown };
  const type = p.type === undefined || p.type === null ? 'Cookie' : str(p.type);
  if (type === 'Header') return { error: 'sessionPersistence type Header is not supported (Portico keeps sessions with a cookie)' };
  if (type !== 'Cookie') return { error: `sessionPersistence type ${JSON.stringify(p.type)} is not supported` };
  if (p.idleTimeout !== undefined && p.idleTimeout !== null) return { error: 'sessionPersistence.idleTimeout is not supported (the session cookie holds no time)' };
  const cookie = (isObject(p.cookie) ? p.cookie : isObject(p.cookieConfig) ? p.cookieConfig : {}) as { name?: unknown; path?: unknown; lifetimeType?: unknown };
  const lifetime = cookie.lifetimeType === undefined || cookie.lifetimeType === null ? 'Session' : str(cookie.lifetimeType);
  if (lifetime !== 'Session' && lifetime !== 'Permanent') return { error: `sessionPersistence lifetimeType ${JSON.stringify(cookie.lifetimeType)} is not supported` };
  const absolute = p.absoluteTimeout === undefined || p.absoluteTimeout === null ? undefined : duration(p.absoluteTimeout);
  if (p.absoluteTimeout !== undefined && p.absoluteTimeout !== null && absolute === undefined) return { error: `sessionPersistence.absoluteTimeout ${JSON.stringify(p.absoluteTimeout)} is not a Gateway API duration` };
  if (lifetime === 'Permanent' && absolute === undefined) return { error: 'a Permanent session cookie needs sessionPersistence.absoluteTimeout' };
  if (lifetime === 'Session' && absolute !== undefined) return { error: 'sessionPersistence.absoluteTimeout on a Session cookie is not supported (the cookie holds no time; use lifetimeType Permanent)' };
  const given = cookie.name ?? p.sessionName;
  const name = given === undefined || given === null ? `portico-session-${fnv(`${source.kind}/${source.namespace}/${source.name}/${index}`)}` : str(given);
  if (!COOKIE_NAME.test(name)) return { error: `session cookie name ${JSON.stringify(given)} is not a cookie name` };
  const path = cookie.path === undefined || cookie.path === null ? '/' : str(cookie.path);
  if (!/^\/[\x21-\x3a\x3c-\x7e]*$/.test(path) || path.length > 1024) return { error: `session cookie path ${JSON.stringify(cookie.path)} is not valid` };
  return { mode: 'persistent', name, path, ...(absolute !== undefined ? { maxAge: Math.max(1, Math.floor(absolute / 1000)) } : {}) };
}

const byPrefix = (policies: readonly Policy[]): boolean => policies.some((p) => (p.kind === 'redirect' || p.kind === 'rewrite') && p.path?.type === 'prefix');

/** A prefix replacement replaces the path the rule matched: bound per route. */
function bindPrefix(policies: readonly Policy[], prefix: string): Policy[] {
  return policies.map((p) => ((p.kind === 'redirect' || p.kind === 'rewrite') && p.path?.type === 'prefix' ? { ...p, path: { ...p.path, prefix } } : p));
}

/**
 * Resolves a backend reference (a backendRef, or a RequestMirror's) to a backend id, registering
 * the backend; or says why it cannot be used, with the reason ResolvedRefs names.
 */
function resolveRef(b: TableBuilder, kind: RouteKind, source: { readonly namespace: string; readonly name: string }, ref: BackendObjectReference, grants: Refs, what: string): { backend: string } | RuleProblem {
  const origin = { kind, namespace: source.namespace, name: source.name };
  const group = str(ref.group);
  const bkind = ref.kind === undefined ? 'Service' : str(ref.kind);
  const name = str(ref.name);
  const ns = str(ref.namespace) || source.namespace;
  if (group !== '' || bkind !== 'Service') return { reason: 'InvalidKind', message: `${what} ${group || 'core'}/${bkind} ${name}: only Services are supported` };
  if (!grants.allows({ group: GATEWAY_GROUP, kind, namespace: source.namespace }, { group: '', kind: 'Service', namespace: ns, name })) {
    return { reason: 'RefNotPermitted', message: `${what} Service ${ns}/${name} is in another namespace and no ReferenceGrant there allows it` };
  }
  if (typeof ref.port !== 'number' || !Number.isInteger(ref.port) || ref.port < 1 || ref.port > 65535) return { reason: 'UnsupportedValue', message: `${what} Service ${ns}/${name} needs a port` };
  const stream = kind === 'TLSRoute' || kind === 'TCPRoute' ? 'TCP' : kind === 'UDPRoute' ? 'UDP' : null;
  const svcPort = stream !== null ? undefined : portOf(b.service(ns, name), ref.port);
  const app = typeof svcPort?.appProtocol === 'string' ? svcPort.appProtocol : '';
  const plain = stream ?? backendProtocol(kind, app);
  if (plain === null) return { reason: 'UnsupportedProtocol', message: `${what} Service ${ns}/${name} port ${ref.port}: a ${kind} cannot use its appProtocol ${app}` };
  // a BackendTLSPolicy on the port: TLS, verified (an HTTPRoute's h2c port is then HTTP/1.1 over TLS)
  const policy = stream !== null ? undefined : grants.backendTls?.forPort(ns, name, typeof svcPort?.name === 'string' ? svcPort.name : '', `${kind}/${source.namespace}/${source.name}`);
  const protocol = policy === undefined ? plain : kind === 'GRPCRoute' ? 'GRPCS' : 'HTTPS';
  const id = `${ns}/${name}:${ref.port}${protocol === 'HTTP' ? '' : `+${protocol.toLowerCase()}`}${policy === undefined ? '' : `+btls:${policy.policy.slice(ns.length + 1)}`}`;
  b.backend(id, ns, name, ref.port, origin, protocol, false, policy?.tls ?? undefined);
  if (b.serviceMissing(ns, name)) return { reason: 'BackendNotFound', message: `${what} Service ${ns}/${name} not found` };
  // the policy cannot be honoured: the share answers 500 (never plaintext, never unverified); the policy's status says why
  if (policy !== undefined && policy.tls === null) return { backend: '' };
  return { backend: id };
}

/** A Service's port by its number. */
function portOf(svc: Service | undefined, port: number): { readonly name?: unknown; readonly appProtocol?: unknown } | undefined {
  const ports = svc?.spec?.ports;
  return Array.isArray(ports) ? ports.find((x) => isObject(x) && x.port === port) : undefined;
}

/**
 * How an HTTPRoute or GRPCRoute speaks to a Service port, by its appProtocol (KEP-3726, the
 * HTTPBackendRef doc: "Support for Kubernetes Service appProtocol: Extended"):
 * `kubernetes.io/h2c` is HTTP/2 over cleartext with prior knowledge (HTTPRouteBackendProtocolH2C;
 * a GRPCRoute's backends speak it anyway); `kubernetes.io/ws` is HTTP/1.1, WebSocket upgrades
 * included (HTTPRouteBackendProtocolWebSocket), `kubernetes.io/wss` the same over TLS. A WebSocket
 * port cannot carry gRPC: null, the backend is invalid (ResolvedRefs UnsupportedProtocol). Any
 * other appProtocol (`http`, a vendor's name) is not read: the route's kind decides, as before.
 */
function backendProtocol(kind: RouteKind, app: string): BackendProtocol | null {
  if (kind === 'GRPCRoute') return app === 'kubernetes.io/ws' || app === 'kubernetes.io/wss' ? null : 'GRPC';
  return app === 'kubernetes.io/h2c' ? 'H2C' : app === 'kubernetes.io/wss' ? 'HTTPS' : 'HTTP';
}

/**
 * backendRefs: Services by port; weight 0 takes nothing; an invalid one keeps its share as '' (500,
 * or a rejected connection). An HTTPRoute's or GRPCRoute's backendRef filters become the policies
 * of its entry (run only when it is chosen); filters Portico cannot honour make the rule invalid
 * (`invalid`), checked on every backendRef, valid or not.
 */
export function readBackends(b: TableBuilder, kind: RouteKind, source: { readonly namespace: string; readonly name: string }, refs: readonly HTTPBackendRef[] | undefined, grants: Refs): { list: WeightedBackend[]; problem: RuleProblem | null; invalid: string | null } {
  const list: WeightedBackend[] = [];
  let problem: RuleProblem | null = null;
  let invalid: string | null = null;
  for (const [i, ref] of (Array.isArray(refs) ? refs : []).entries()) {
    if (!isObject(ref)) continue;
    const weight = ref.weight === undefined ? 1 : typeof ref.weight === 'number' && Number.isInteger(ref.weight) && ref.weight >= 0 ? ref.weight : 1;
    const filters = kind === 'HTTPRoute' || kind === 'GRPCRoute' ? backendFilterPolicies(ref.filters, kind) : { policies: [] };
    if ('error' in filters) invalid ??= `backendRefs[${i}]: ${filters.error}`;
    const r = resolveRef(b, kind, source, ref, grants, 'backendRef');
    if ('reason' in r) {
      problem ??= r;
      if (weight > 0) list.push({ backend: '', weight });
      continue;
    }
    const policies = 'error' in filters ? [] : filters.policies;
    if (weight > 0) list.push({ backend: r.backend, weight, ...(policies.length > 0 ? { policies } : {}) });
  }
  return { list, problem, invalid };
}

/** A path, its kind, and the other conditions of one match. */
interface ReadMatch {
  readonly path: string;
  readonly match: PathMatch;
  readonly conditions: Conditions | undefined;
}

const PATH_CHARS = /^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|%[0-9a-fA-F]{2})+$/;
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH'];

function valueMatches(list: readonly ValueMatchSpec[] | undefined, what: string, lower: boolean): ValueMatch[] | { error: string } {
  const out: ValueMatch[] = [];
  const seen = new Set<string>();
  for (const v of Array.isArray(list) ? list : []) {
    if (!isObject(v)) return { error: `${what} matches must be objects` };
    const type = v.type === undefined ? 'Exact' : str(v.type);
    const name = lower ? str(v.name).toLowerCase() : str(v.name);
    if (name === '' || typeof v.value !== 'string') return { error: `a ${what} match needs a name and a value` };
    if (type !== 'Exact' && type !== 'RegularExpression') return { error: `${what} match type ${JSON.stringify(type)} is not supported` };
    if (type === 'RegularExpression') {
      const p = patternProblem(v.value);
      if (p !== null) return { error: `${what} ${name}: ${p}` };
    }
    if (seen.has(name)) continue; // the first of a repeated name counts
    seen.add(name);
    out.push({ type, name, value: v.value });
  }
  return out;
}

function httpMatches(matches: readonly HTTPRouteMatch[] | undefined): { list: ReadMatch[] } | { error: string } {
  const list = Array.isArray(matches) && matches.length > 0 ? matches : [{}];
  const out: ReadMatch[] = [];
  for (const m of list) {
    if (!isObject(m)) return { error: 'a match must be an object' };
    const type = m.path?.type === undefined ? 'PathPrefix' : str(m.path.type);
    const value = m.path?.value === undefined ? '/' : str(m.path.value);
    let match: PathMatch;
    if (type === 'Exact' || type === 'PathPrefix') {
      if (!value.startsWith('/') || !PATH_CHARS.test(value) || /\/\/|\/\.\.?(\/|$)|%2f/i.test(value)) return { error: `path ${JSON.stringify(value)} is not a valid path` };
      match = type === 'Exact' ? 'Exact' : 'Prefix';
    } else if (type === 'RegularExpression') {
      const p = patternProblem(value);
      if (p !== null) return { error: `path ${JSON.stringify(value)}: ${p}` };
      match = 'Regex';
    } else return { error: `path match type ${JSON.stringify(type)} is not supported` };
    const headers = valueMatches(m.headers, 'header', true);
    if ('error' in headers) return headers;
    const query = valueMatches(m.queryParams, 'query parameter', false);
    if ('error' in query) return query;
    let method: string | undefined;
    if (m.method !== undefined) {
      if (!METHODS.includes(str(m.method))) return { error: `method ${JSON.stringify(m.method)} is not supported` };
      method = str(m.method);
    }
    const conditions: Conditions | undefined = method === undefined && headers.length === 0 && query.length === 0 ? undefined : { ...(method !== undefined ? { method } : {}), ...(headers.length > 0 ? { headers } : {}), ...(query.length > 0 ? { query } : {}) };
    out.push({ path: value, match, conditions });
  }
  return { list: out };
}

/** GRPCRoute matches: service and method become the request path `/<service>/<method>`. */
function grpcMatches(matches: GRPCRouteRule['matches'] | undefined): { list: ReadMatch[] } | { error: string } {
  const list = Array.isArray(matches) && matches.length > 0 ? matches : [{}];
  const out: ReadMatch[] = [];
  for (const m of list) {
    if (!isObject(m)) return { error: 'a match must be an object' };
    const headers = valueMatches(m.headers, 'header', true);
    if ('error' in headers) return headers;
    const conditions: Conditions | undefined = headers.length === 0 ? undefined : { headers };
    const method = isObject(m.method) ? m.method : undefined;
    const service = str(method?.service);
    const name = str(method?.method);
    const type = method?.type === undefined ? 'Exact' : str(method?.type);
    if (method === undefined || (service === '' && name === '')) {
      out.push({ path: '/', match: 'Prefix', conditions });
      continue;
    }
    if (type === 'Exact') {
      if (service !== '' && !/^\.?[A-Za-z_][A-Za-z_0-9]*(\.[A-Za-z_][A-Za-z_0-9]*)*$/.test(service)) return { error: `service ${JSON.stringify(service)} is not a valid gRPC service name` };
      if (name !== '' && !/^[A-Za-z_][A-Za-z_0-9]*$/.test(name)) return { error: `method ${JSON.stringify(name)} is not a valid gRPC method name` };
      if (service !== '' && name !== '') out.push({ path: `/${service}/${name}`, match: 'Exact', conditions });
      else if (service !== '') out.push({ path: `/${service}/`, match: 'Prefix', conditions });
      else out.push({ path: `/[^/]+/${name}$`, match: 'Regex', conditions });
    } else if (type === 'RegularExpression') {
      const pattern = `/${service || '[^/]+'}/${name || '[^/]+'}$`;
      const p = patternProblem(pattern);
      if (p !== null) return { error: `method match: ${p}` };
      out.push({ path: pattern, match: 'Regex', conditions });
    } else return { error: `method match type ${JSON.stringify(type)} is not supported` };
  }
  return { list: out };
}

/** timeouts.request and timeouts.backendRequest (Gateway API durations); 0s disables. */
function timeouts(t: unknown): { settings: RouteSettings } | { error: string } {
  if (!isObject(t)) return { settings: {} };
  const read = (v: unknown, what: string): number | { error: string } | undefined => {
    if (v === undefined) return undefined;
    return duration(v) ?? { error: `timeouts.${what} ${JSON.stringify(v)} is not a Gateway API duration` };
  };
  const request = read((t as { request?: unknown }).request, 'request');
  const backend = read((t as { backendRequest?: unknown }).backendRequest, 'backendRequest');
  if (typeof request === 'object') return request;
  if (typeof backend === 'object') return backend;
  if (request !== undefined && request > 0 && backend !== undefined && backend > request) return { error: 'timeouts.backendRequest cannot be longer than timeouts.request' };
  return { settings: { ...(request !== undefined && request > 0 ? { requestTimeout: request } : {}), ...(backend !== undefined && backend > 0 ? { readTimeout: backend } : {}) } };
}

export type { HTTPRouteFilter, Policy };
