/**
 * prepare(route) -> Target: what serving one route needs, compiled once per table (never per
 * request): its policies in their fixed order, its backends with their live endpoint slots and
 * interned dispatchers (SNI, TLS verification, client certificate, timeouts: one place), and the
 * labels its requests are recorded under.
 */
import { createPacing, type Paceable } from './pace.js';
import type { Backend, ErrorPagesPolicy, MirrorPolicy, Policy, Route, RouteSettings, RouteTable } from '../model/types.js';
import { createBalancer, createPicker, type Balancer, type Picker } from './balance.js';
import { compileCanary, type CanaryRule } from './canary.js';
import { compile, type Matcher, type OwnCandidate } from '../router/compile.js';
import { sniOf } from '../model/upstream.js';
import { routeLabels, type RouteLabels } from '../metrics/metrics.js';
import type { EndpointSlot, EndpointState } from './endpoints.js';
import { compileBackendPolicies, compilePolicies, Verdict, type CompiledPolicies, type PolicyEnv, type PolicyExchange, type RequestPolicy, type ResponsePolicy } from './policies/index.js';
import { compileRetry, DEFAULT_RETRY, type RetryRule } from './policies/retry.js';
import { compileErrorPages, type ErrorPlan as ErrorPlanOf } from './policies/error-pages.js';
import { compileMirrors, defaultMirrorState, type MirrorPlan } from './mirror.js';
import type { Dispatch, Pools } from './pools.js';
import type { StickyRequest } from './balance.js';
import { createCursor, totalWeight, type WeightedChoice } from './weighted.js';

/** One backend of a route, ready to pick an endpoint from and dispatch to. */
export interface BackendTarget {
  readonly backend: Backend;
  readonly slot: EndpointSlot;
  /** How requests reach its pods. */
  readonly dispatch: Dispatch;
  /** Upgrades always go over HTTP/1.1 (plain, or TLS for TLS backends). */
  readonly upgrade: Dispatch;
  readonly weight: number;
  /** How an endpoint is picked (ewma, hash, sticky); null = round-robin by the Balancer. */
  readonly pick: Picker | null;
  /** Its backendRef's own filters (Gateway API), run once it is chosen ({@link runBackendPolicies}); null: none. */
  readonly policies: readonly RequestPolicy[] | null;
}

/**
 * Runs a chosen backend's own policies on the exchange; false when one answered (a redirect): the
 * request goes no further. They never go Pending (compileBackendPolicies).
 */
export function runBackendPolicies(policies: readonly RequestPolicy[], ex: PolicyExchange): boolean {
  for (const p of policies) if (p.run(ex) !== Verdict.Continue) return false;
  return true;
}

/** A route's canary: its backend, its rule, and the labels its requests are recorded under. */
export interface CanaryTarget {
  readonly target: BackendTarget;
  readonly rule: CanaryRule;
  readonly labels: RouteLabels;
}

/** custom-http-errors / default-backend, compiled: the error backends ready to dispatch to. */
export type ErrorPlan = ErrorPlanOf<BackendTarget>;

/** A route, compiled for the data plane; its backends are chosen by weight (weighted.ts) unless a session or canary rule picks. */
export interface Target extends RouteLabels, WeightedChoice<BackendTarget> {
  readonly route: Route;
  /** Request-phase policies, in the fixed order. */
  readonly policies: readonly RequestPolicy[];
  /** Response header edits (null: none), and those an error page's answer gets. */
  readonly response: ResponsePolicy | null;
  readonly outer: ResponsePolicy | null;
  readonly errors: ErrorPlan | null;
  readonly retry: RetryRule;
  readonly settings: RouteSettings;
  /** null for the routes without a canary: the backend choice pays nothing for the feature. */
  readonly canary: CanaryTarget | null;
  /** The first backend's Service port as the route names it ($service_port, X-Service-Port). */
  readonly servicePort: string;
  /** Request mirrors (Gateway API RequestMirror, mirror-target), or null: the exchange starts them when it sends the request on. */
  readonly mirror: MirrorPlan | null;
  /** Sessions pick their backend too (several backends with session affinity: Gateway API sessionPersistence). */
  readonly sticky: boolean;
  /** limit-rate: paces the response body toward the client (pace.ts), or null. */
  readonly pace: ((res: Paceable) => void) | null;
}

/**
 * The backend a request's affinity cookie names, among a sticky route's weighted backends (a
 * session stays with its backend as with its endpoint); undefined: none, choose by weight.
 */
export function stickyBackend(t: Target, ex: StickyRequest): BackendTarget | undefined {
  for (const b of t.backends) if (b.weight > 0 && b.pick?.affinitized?.(ex) === true) return b;
  return undefined;
}

export interface PrepareContext {
  readonly table: RouteTable;
  readonly pools: Pools;
  readonly endpoints: EndpointState;
  readonly env: PolicyEnv;
  /** Endpoint-choice state that outlives swaps, and `--load-balance` (default: a balancer of its own, round-robin). */
  readonly balance?: { readonly balancer: Balancer; readonly algorithm: 'round_robin' | 'ewma' };
  /** What routes of one table share (compileTable's): compiled policies, retry rules, backend targets and one-backend lists. */
  readonly shared?: Shared;
}

interface Shared {
  readonly policies: (route: Route) => CompiledPolicies;
  readonly retry: (s: RouteSettings) => RetryRule;
  /** A backendRef's policies, compiled once per list (the list is shared by the routes of its rule). */
  readonly backendPolicies: (list: readonly Policy[]) => readonly RequestPolicy[] | null;
  readonly targets: Map<Backend, BackendTarget[]>;
  readonly lists: Map<BackendTarget, readonly BackendTarget[]>;
  /** Rare parts of targets that have only response policies, one per compiled pair (shared like the policies). */
  readonly responseParts: Map<ResponsePolicy | null, Map<ResponsePolicy | null, RareParts>>;
}

const DEFAULT_BALANCE = { balancer: createBalancer(), algorithm: 'round_robin' } as const;

/** Compiles one route of `ctx.table`. */
export function prepareRoute(route: Route, ctx: PrepareContext): Target {
  const s = route.settings;
  const material = s.sslSecret === undefined ? undefined : ctx.table.upstreamTls?.get(s.sslSecret);
  const target = (id: string, weight: number, balancing: Route['balancing'], own?: readonly Policy[]): BackendTarget => {
    // '' is an invalid Gateway API backendRef: its share answers 500 (exchange.ts)
    const backend = ctx.table.backends.get(id) ?? { id, namespace: route.source.namespace, service: '', port: '', protocol: 'HTTP', endpoints: [] };
    // a BackendTLSPolicy's backend: its SNI, always verified, against its CAs (absent: the system ones) and its names
    const btls = backend.tls;
    const o =
      btls === undefined
        ? { connectTimeout: s.connectTimeout, servername: sniOf(s, backend), verify: s.sslVerify, material, verifyDepth: s.sslVerifyDepth, ciphers: s.sslCiphers, protocols: s.sslProtocols }
        : { connectTimeout: s.connectTimeout, servername: btls.hostname, verify: true, material: btls.caPem === undefined ? undefined : { id: `btls-${btls.caId}`, caPem: btls.caPem }, subjectAltNames: btls.subjectAltNames };
    const tls = backend.protocol === 'HTTPS' || backend.protocol === 'GRPCS';
    const slot = ctx.endpoints.slot(backend);
    // a route's backends are HTTP-speaking; TCP and UDP backends belong to Layer 4 listeners (proxy/l4)
    const protocol = backend.protocol === 'TCP' || backend.protocol === 'UDP' ? 'HTTP' : backend.protocol;
    const dispatch = ctx.pools.dispatch(protocol, o);
    const upgrade = ctx.pools.dispatch(tls ? 'HTTPS' : 'HTTP', o);
    // without route-level balancing nothing in a backend target is the route's own: routes share it
    const shared = balancing === undefined ? ctx.shared?.targets : undefined;
    let same = shared?.get(backend);
    const policies = own === undefined ? null : (ctx.shared?.backendPolicies(own) ?? compileBackendPolicies(own));
    const found = same?.find((bt) => bt.dispatch === dispatch && bt.upgrade === upgrade && bt.weight === weight && bt.policies === policies);
    if (found !== undefined) return found;
    const bt: BackendTarget = { backend, slot, dispatch, upgrade, weight, pick: createPicker(balancing, { ...(ctx.balance ?? DEFAULT_BALANCE), backend, slot, routePath: route.path }), policies };
    if (shared !== undefined) {
      if (same === undefined) shared.set(backend, (same = []));
      same.push(bt);
    }
    return bt;
  };
  let backends = route.backends.map((wb) => target(wb.backend, wb.weight, route.balancing, wb.policies));
  // and the one-backend list itself
  const single = backends.length === 1 ? (backends[0] as BackendTarget) : undefined;
  if (single !== undefined && ctx.shared !== undefined) {
    const list = ctx.shared.lists.get(single);
    if (list === undefined) ctx.shared.lists.set(single, backends);
    else backends = list as BackendTarget[];
  }
  const labels = routeLabels(route, ctx.table);
  let canary: CanaryTarget | null = null;
  if (route.canary !== undefined) {
    const t = target(route.canary.backend, 1, route.canary.balancing);
    canary = { target: t, rule: compileCanary(route.canary), labels: { namespace: labels.namespace, ingress: labels.ingress, service: t.backend.service, host: labels.host, path: labels.path, canaryOf: labels.service } };
  }
  const compiled = ctx.shared?.policies(route) ?? compilePolicies(route, ctx.env, ctx.table);
  const errors = route.policies.find((p): p is ErrorPagesPolicy => p.kind === 'errorPages');
  const mirrors = route.policies.filter((p): p is MirrorPolicy => p.kind === 'mirror');
  const balance = ctx.balance ?? DEFAULT_BALANCE;
  return new CompiledTarget(ctx.shared, {
    route,
    policies: compiled.request,
    response: compiled.response,
    outer: compiled.outer,
    // an error backend is picked round-robin, as ingress-nginx's default backend is
    errors: errors === undefined ? null : compileErrorPages(errors, (id) => target(id, 1, undefined)),
    retry: ctx.shared?.retry(s) ?? compileRetry(s, ctx.env.retry ?? DEFAULT_RETRY),
    backends,
    totalWeight: totalWeight(backends),
    cursor: createCursor(backends.length),
    settings: s,
    canary,
    mirror: mirrors.length === 0 ? null : compileMirrors(mirrors, { state: ctx.env.mirrors ?? defaultMirrorState(), pools: ctx.pools, balancer: balance.balancer, target: (id) => target(id, 1, undefined), namespace: route.source.namespace }),
    sticky: route.balancing?.affinity !== undefined && backends.length > 1,
    pace: s.limitRate === undefined ? null : createPacing(s.limitRate, s.limitRateAfter ?? 0),
  });
}

/** What a {@link CompiledTarget} keeps; the rest of a {@link Target} is read from these. */
type TargetFields = Omit<Target, keyof RouteLabels | 'servicePort'>;

/**
 * The parts of a target most routes have none of (response policies, error pages, a canary, a
 * mirror, affinity, pacing), kept out of line: routes with none share {@link NO_RARE_PARTS}, and
 * a target keeps one field for them instead of seven (48 bytes less per route, 2.3 MiB at 10,000
 * Ingresses). Read through getters, so the exchange reads a target as before.
 */
type RareParts = Pick<TargetFields, 'response' | 'outer' | 'errors' | 'canary' | 'mirror' | 'sticky' | 'pace'>;
const NO_RARE_PARTS: RareParts = { response: null, outer: null, errors: null, canary: null, mirror: null, sticky: false, pace: null };

/** A target's rare parts: the empty ones, those of its response policies shared by the routes that share them, or its own. */
function rareParts(f: TargetFields, shared: Shared | undefined): RareParts {
  if (f.errors === null && f.canary === null && f.mirror === null && !f.sticky && f.pace === null) {
    if (f.response === null && f.outer === null) return NO_RARE_PARTS;
    if (shared !== undefined) {
      let byOuter = shared.responseParts.get(f.response);
      if (byOuter === undefined) shared.responseParts.set(f.response, (byOuter = new Map()));
      let parts = byOuter.get(f.outer);
      if (parts === undefined) byOuter.set(f.outer, (parts = { response: f.response, outer: f.outer, errors: null, canary: null, mirror: null, sticky: false, pace: null }));
      return parts;
    }
  }
  return { response: f.response, outer: f.outer, errors: f.errors, canary: f.canary, mirror: f.mirror, sticky: f.sticky, pace: f.pace };
}

/**
 * A Target whose labels and service port are read from its route and first backend rather than
 * kept: 48 bytes less per route, 2.3 MiB at 10,000 Ingresses (docs/performance.md, "Memory").
 * They are read once per route by metrics (cached per target) and per logged request by the
 * access log. A class rather than a literal: every target has the same hidden class (a spread
 * into a literal gave each of 50,000 targets one of its own: 17 MiB).
 */
class CompiledTarget implements Target, OwnCandidate {
  readonly route: Route;
  readonly policies: readonly RequestPolicy[];
  readonly retry: RetryRule;
  readonly backends: readonly BackendTarget[];
  readonly totalWeight: number;
  readonly cursor: Float64Array | null;
  readonly settings: RouteSettings;
  /** What most routes do without, out of line ({@link RareParts}). */
  private readonly rare: RareParts;

  constructor(shared: Shared | undefined, f: TargetFields) {
    this.route = f.route;
    this.policies = f.policies;
    this.retry = f.retry;
    this.backends = f.backends;
    this.totalWeight = f.totalWeight;
    this.cursor = f.cursor;
    this.settings = f.settings;
    this.rare = rareParts(f, shared);
  }

  get response(): ResponsePolicy | null {
    return this.rare.response;
  }
  get outer(): ResponsePolicy | null {
    return this.rare.outer;
  }
  get errors(): ErrorPlan | null {
    return this.rare.errors;
  }
  get canary(): CanaryTarget | null {
    return this.rare.canary;
  }
  get mirror(): MirrorPlan | null {
    return this.rare.mirror;
  }
  get sticky(): boolean {
    return this.rare.sticky;
  }
  get pace(): ((res: Paceable) => void) | null {
    return this.rare.pace;
  }

  get namespace(): string {
    return this.route.source.namespace;
  }
  get ingress(): string {
    return this.route.source.kind === 'DefaultBackend' ? '' : this.route.source.name;
  }
  /** routeLabels' service: the first backend's (a backend the table lacks has '' as its Service, as there). */
  get service(): string {
    return this.backends[0]?.backend.service ?? '';
  }
  get host(): string {
    return this.route.host;
  }
  get path(): string {
    return this.route.path;
  }
  get servicePort(): string {
    return this.backends[0]?.backend.port ?? '';
  }

  /** The router's candidate for a route without conditions is its target ({@link OwnCandidate}). */
  get action(): this {
    return this;
  }
  get cond(): null {
    return null;
  }
}

const NO_POLICIES: readonly Policy[] = [];

/**
 * What routes of one table share. Compiled policies are a function of the policy list (immutable
 * data) and the body size limit, so routes with the same list share one result (an Ingress's
 * paths share their list; every route without policies shares the empty one), unless a policy
 * keeps state per route (extAuth's cache). A retry rule is a function of six settings. At
 * 10,000 Ingresses a compile of each per route was 50,000 body-size closures and retry rules.
 */
function sharing(table: RouteTable, env: PolicyEnv): Shared {
  const policies = new Map<readonly Policy[], Map<number | undefined, CompiledPolicies>>();
  const retries = new Map<string, RetryRule>();
  const backendLists = new Map<readonly Policy[], readonly RequestPolicy[] | null>();
  return {
    policies(route) {
      const list = route.policies.length === 0 ? NO_POLICIES : route.policies;
      if (list.some((p) => p.kind === 'extAuth' || (p.kind === 'satisfyAny' && p.checks.some((c) => c.kind === 'extAuth')))) return compilePolicies(route, env, table);
      let byLimit = policies.get(list);
      if (byLimit === undefined) policies.set(list, (byLimit = new Map()));
      const limit = route.settings.bodySize;
      let compiled = byLimit.get(limit);
      if (compiled === undefined) byLimit.set(limit, (compiled = compilePolicies(route, env, table)));
      return compiled;
    },
    retry(s) {
      // every setting compileRetry reads: the ingress-nginx three and the Gateway API's three
      const key = `${s.nextUpstream?.join(' ') ?? '-'}\n${s.nextUpstreamTries ?? '-'}\n${s.nextUpstreamTimeout ?? '-'}\n${s.retryAttempts ?? '-'}\n${s.retryCodes?.join(' ') ?? '-'}\n${s.retryBackoff ?? '-'}`;
      let rule = retries.get(key);
      if (rule === undefined) retries.set(key, (rule = compileRetry(s, env.retry ?? DEFAULT_RETRY)));
      return rule;
    },
    backendPolicies(list) {
      let compiled = backendLists.get(list);
      if (compiled === undefined) backendLists.set(list, (compiled = compileBackendPolicies(list)));
      return compiled;
    },
    targets: new Map(),
    lists: new Map(),
    responseParts: new Map(),
  };
}

/**
 * Compiles a whole table for serving: a matcher per listener port (80: the plain HTTP listener,
 * 443: HTTPS, and each Gateway listener port of its own; one matcher for both 80 and 443 while no
 * Gateway API route needs them apart), and every target they hold (for releasing what they stop
 * using). A route served on several ports is compiled once.
 */
export function compileTable(table: RouteTable, ctx: Omit<PrepareContext, 'table'>): { matchers: ReadonlyMap<number, Matcher<Target>>; targets: Target[] } {
  const targets: Target[] = [];
  const c: PrepareContext = { ...ctx, table, shared: sharing(table, ctx.env) };
  const prepared = new Map<Route, Target>();
  const prepare = (route: Route): Target => {
    let t = prepared.get(route);
    if (t === undefined) {
      prepared.set(route, (t = prepareRoute(route, c)));
      targets.push(t);
    }
    return t;
  };
  const matchers = new Map<number, Matcher<Target>>();
  if (!table.routes.some((r) => r.ports !== undefined)) {
    const m = compile(table, prepare);
    matchers.set(80, m);
    matchers.set(443, m);
  } else {
    for (const port of new Set([80, 443, ...(table.listeners ?? []).map((l) => l.port)])) matchers.set(port, compile(table, prepare, port));
  }
  return { matchers, targets };
}
