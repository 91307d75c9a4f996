/**
 * prepare(route) -> Target: what serving one route needs, compiled once per table (never per
 * request): its policies in their fixed order, its backends with their live endpoint slots and
 * interned dispatchers (SNI, TLS verification, client certificate, timeouts: one place), and the
 * labels its requests are recorded under.
 */
import type { Backend, ErrorPagesPolicy, Route, RouteSettings, RouteTable } from '../model/types.js';
import { createBalancer, createPicker, type Balancer, type Picker } from './balance.js';
import { compileCanary, type CanaryRule } from './canary.js';
import { compile, type Matcher } from '../router/compile.js';
import { sniOf } from '../model/upstream.js';
import { routeLabels, type RouteLabels } from '../metrics/metrics.js';
import type { EndpointSlot, EndpointState } from './endpoints.js';
import { compilePolicies, type PolicyEnv, type RequestPolicy, type ResponsePolicy } from './policies/index.js';
import { compileRetry, DEFAULT_RETRY, type RetryRule } from './policies/retry.js';
import { compileErrorPages, type ErrorPlan as ErrorPlanOf } from './policies/error-pages.js';
import type { Dispatch, Pools } from './pools.js';

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
}

/** A route's canary: its backend, its rule, and the labels its requests are recorded under. */
export interface CanaryTarget {
  readonly target: BackendTarget;
  readonly rule: CanaryRule;
  readonly labels: RouteLabels;
}

/** custom-http-errors / default-backend, compiled: the error backends ready to dispatch to. */
export type ErrorPlan = ErrorPlanOf<BackendTarget>;

/** A route, compiled for the data plane. */
export interface Target extends RouteLabels {
  readonly route: Route;
  /** Request-phase policies, in the fixed order. */
  readonly policies: readonly RequestPolicy[];
  /** Response header edits (null: none), and those an error page's answer gets. */
  readonly response: ResponsePolicy | null;
  readonly outer: ResponsePolicy | null;
  readonly errors: ErrorPlan | null;
  readonly retry: RetryRule;
  readonly backends: readonly BackendTarget[];
  /** Sum of the backends' weights (0: no backend can take the request). */
  readonly totalWeight: number;
  readonly settings: RouteSettings;
  /** null for the routes without a canary: the backend choice pays nothing for the feature. */
  readonly canary: CanaryTarget | null;
  /** The first backend's Service port as the route names it ($service_port, X-Service-Port). */
  readonly servicePort: string;
}

export interface PrepareContext {
  readonly table: RouteTable;
  readonly pools: Pools;
  readonly endpoints: EndpointState;
  readonly env: PolicyEnv;
  /** Endpoint-choice state that outlives swaps, and `--load-balance` (default: a balancer of its own, round-robin). */
  readonly balance?: { readonly balancer: Balancer; readonly algorithm: 'round_robin' | 'ewma' };
}

const DEFAULT_BALANCE = { balancer: createBalancer(), algorithm: 'round_robin' } as const;

/** Compiles one route of `ctx.table`. */
export function prepareRoute(route: Route, ctx: PrepareContext): Target {
  const s = route.settings;
  const material = s.sslSecret === undefined ? undefined : ctx.table.upstreamTls?.get(s.sslSecret);
  const target = (id: string, weight: number, balancing: Route['balancing']): BackendTarget => {
    // '' is an invalid Gateway API backendRef: its share answers 500 (exchange.ts)
    const backend = ctx.table.backends.get(id) ?? { id, namespace: route.source.namespace, service: '', port: '', protocol: 'HTTP', endpoints: [] };
    const o = { connectTimeout: s.connectTimeout, servername: sniOf(s, backend), verify: s.sslVerify, material, verifyDepth: s.sslVerifyDepth, ciphers: s.sslCiphers, protocols: s.sslProtocols };
    const tls = backend.protocol === 'HTTPS' || backend.protocol === 'GRPCS';
    const slot = ctx.endpoints.slot(backend);
    return {
      backend,
      slot,
      dispatch: ctx.pools.dispatch(backend.protocol, o),
      upgrade: ctx.pools.dispatch(tls ? 'HTTPS' : 'HTTP', o),
      weight,
      pick: createPicker(balancing, { ...(ctx.balance ?? DEFAULT_BALANCE), backend, slot, routePath: route.path }),
    };
  };
  const backends = route.backends.map((wb) => target(wb.backend, wb.weight, route.balancing));
  const labels = routeLabels(route, ctx.table);
  let canary: CanaryTarget | null = null;
  if (route.canary !== undefined) {
    const t = target(route.canary.backend, 1, route.canary.balancing);
    canary = { target: t, rule: compileCanary(route.canary), labels: { ...labels, service: t.backend.service, canaryOf: labels.service } };
  }
  const compiled = compilePolicies(route, ctx.env, ctx.table);
  const errors = route.policies.find((p): p is ErrorPagesPolicy => p.kind === 'errorPages');
  return {
    ...labels,
    route,
    policies: compiled.request,
    response: compiled.response,
    outer: compiled.outer,
    // an error backend is picked round-robin, as ingress-nginx's default backend is
    errors: errors === undefined ? null : compileErrorPages(errors, (id) => target(id, 1, undefined)),
    retry: compileRetry(s, ctx.env.retry ?? DEFAULT_RETRY),
    backends,
    totalWeight: backends.reduce((n, b) => n + b.weight, 0),
    settings: s,
    canary,
    servicePort: backends[0]?.backend.port ?? '',
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
  const c: PrepareContext = { ...ctx, table };
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
