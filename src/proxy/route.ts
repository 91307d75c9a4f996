/**
 * prepare(route) -> Target: what serving one route needs, compiled once per table (never per
 * request): its policies in their fixed order, its backends with their live endpoint slots and
 * interned dispatchers (SNI, TLS verification, client certificate, timeouts: one place), and the
 * labels its requests are recorded under.
 */
import type { Backend, Route, RouteSettings, RouteTable } from '../model/types.js';
import { compile, type Matcher } from '../router/compile.js';
import { sniOf } from '../model/upstream.js';
import { routeLabels, type RouteLabels } from '../metrics/metrics.js';
import type { EndpointSlot, EndpointState } from './endpoints.js';
import { compilePolicies, type PolicyEnv, type RequestPolicy } from './policies/index.js';
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
}

/** A route, compiled for the data plane. */
export interface Target extends RouteLabels {
  readonly route: Route;
  readonly policies: readonly RequestPolicy[];
  readonly backends: readonly BackendTarget[];
  /** Sum of the backends' weights (0: no backend can take the request). */
  readonly totalWeight: number;
  readonly settings: RouteSettings;
}

export interface PrepareContext {
  readonly table: RouteTable;
  readonly pools: Pools;
  readonly endpoints: EndpointState;
  readonly env: PolicyEnv;
}

/** Compiles one route of `ctx.table`. */
export function prepareRoute(route: Route, ctx: PrepareContext): Target {
  const s = route.settings;
  const material = s.sslSecret === undefined ? undefined : ctx.table.upstreamTls?.get(s.sslSecret);
  const backends = route.backends.map((wb): BackendTarget => {
    // '' is an invalid Gateway API backendRef: its share answers 500 (exchange.ts)
    const backend = ctx.table.backends.get(wb.backend) ?? { id: wb.backend, namespace: route.source.namespace, service: '', port: '', protocol: 'HTTP', endpoints: [] };
    const o = { connectTimeout: s.connectTimeout, servername: sniOf(s, backend), verify: s.sslVerify, material };
    const tls = backend.protocol === 'HTTPS' || backend.protocol === 'GRPCS';
    // a route's backends are HTTP-speaking; TCP and UDP backends belong to Layer 4 listeners (proxy/l4)
    const protocol = backend.protocol === 'TCP' || backend.protocol === 'UDP' ? 'HTTP' : backend.protocol;
    return {
      backend,
      slot: ctx.endpoints.slot(backend),
      dispatch: ctx.pools.dispatch(protocol, o),
      upgrade: ctx.pools.dispatch(tls ? 'HTTPS' : 'HTTP', o),
      weight: wb.weight,
    };
  });
  return {
    ...routeLabels(route, ctx.table),
    route,
    policies: compilePolicies(route, ctx.env),
    backends,
    totalWeight: backends.reduce((n, b) => n + b.weight, 0),
    settings: s,
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
