/**
 * A table's Layer 4 routes compiled for serving, once per table: each route's backends with their
 * live endpoint slots and metric series, and each port's SNI names as maps (exact names, then
 * wildcards from the most specific suffix). Picking is per connection: a backend by weight (the
 * golden-ratio sequence HTTP routes use, weighted.ts), then an endpoint round-robin (skipping
 * ejected ones and, on a retry, the ones tried).
 */
import type { Metrics } from '../../metrics/metrics.js';
import type { Backend, L4Route, RouteTable, SniRoute } from '../../model/types.js';
import type { EndpointSlot, EndpointState } from '../endpoints.js';
import { createCursor, totalWeight, type WeightedChoice } from '../weighted.js';

/** What one backend of a Layer 4 route records into (null without metrics). */
export type TcpSeries = ReturnType<Metrics['tcp']>;
export type UdpSeries = ReturnType<Metrics['udp']>;

export interface L4BackendTarget {
  /** undefined: an invalid backendRef, whose share of the connections is rejected. */
  readonly backend: Backend | undefined;
  readonly slot: EndpointSlot;
  readonly weight: number;
  /** Metric labels. */
  readonly namespace: string;
  readonly service: string;
  readonly tcp: TcpSeries | null;
  readonly udp: UdpSeries | null;
}

/** A compiled Layer 4 route; `choose` (weighted.ts) picks one of its backends per connection or flow. */
export interface L4Target extends WeightedChoice<L4BackendTarget> {
  readonly route: L4Route;
  /** The listener label of its metrics: `tcp/9000`, `udp/53`, `https` (passthrough on --https-port), `tls/8443`. */
  readonly listener: string;
  /** Send a PROXY protocol v1 header to the pods. */
  readonly encode: boolean;
}

const NO_ENDPOINTS: EndpointSlot = { endpoints: [] };

/** Compiles one route; `protocol` says which series its backends record into. */
export function compileL4(route: L4Route, table: RouteTable, listener: string, protocol: 'TCP' | 'UDP', live: EndpointState, metrics: Metrics | null, encode = false): L4Target {
  const backends = route.backends.map((wb): L4BackendTarget => {
    const backend = wb.backend === '' ? undefined : table.backends.get(wb.backend);
    const namespace = backend?.namespace ?? route.source.namespace;
    const service = backend?.service ?? '';
    return {
      backend,
      slot: backend === undefined ? NO_ENDPOINTS : live.slot(backend),
      weight: wb.weight,
      namespace,
      service,
      tcp: metrics !== null && protocol === 'TCP' ? metrics.tcp(namespace, service, listener) : null,
      udp: metrics !== null && protocol === 'UDP' ? metrics.udp(namespace, service, listener) : null,
    };
  });
  // a sequence at a random phase, as an HTTP route's: a target is compiled anew with every table
  return { route, listener, backends, totalWeight: totalWeight(backends), cursor: createCursor(backends.length), encode };
}

/** One port's SNI names, compiled. */
export interface SniTable {
  readonly exact: ReadonlyMap<string, L4Target>;
  /** By suffix with its leading dot (`.example.com` for `*.example.com`). */
  readonly wildcards: ReadonlyMap<string, { readonly target: L4Target; readonly anyDepth: boolean }>;
  /** '' (a TLSRoute without hostnames on a listener without one): any name, and none. */
  readonly any: L4Target | null;
}

/** The target for a ClientHello's name (null: it named none): exact, then the most specific wildcard, then a catch-all. */
export function lookupSni(t: SniTable, name: string | null): L4Target | null {
  if (name === null) return t.any;
  const exact = t.exact.get(name);
  if (exact !== undefined) return exact;
  let depth = 1;
  for (let i = name.indexOf('.'); i !== -1; i = name.indexOf('.', i + 1), depth++) {
    const w = t.wildcards.get(name.slice(i));
    if (w !== undefined && (depth === 1 || w.anyDepth)) return w.target;
  }
  return t.any;
}

/** Every port's SNI table, from the table's SNI routes. */
export function compileSni(routes: readonly SniRoute[], compile: (r: SniRoute) => L4Target): Map<number, SniTable> {
  const byPort = new Map<number, { exact: Map<string, L4Target>; wildcards: Map<string, { target: L4Target; anyDepth: boolean }>; any: L4Target | null }>();
  for (const r of routes) {
    let t = byPort.get(r.port);
    if (t === undefined) byPort.set(r.port, (t = { exact: new Map(), wildcards: new Map(), any: null }));
    const target = compile(r);
    if (r.host === '') t.any = target;
    else if (r.host.startsWith('*.')) t.wildcards.set(r.host.slice(1), { target, anyDepth: r.wildcard === 'any-labels' });
    else t.exact.set(r.host, target);
  }
  return byPort;
}
