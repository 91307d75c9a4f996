/**
 * The Gateway API processor: GatewayClasses whose controllerName is Portico's, their Gateways and
 * listeners, the HTTPRoutes and GRPCRoutes attached to them, written into the shared table next
 * to the Ingresses', the TLSRoutes and TCPRoutes into its Layer 4 part, and the status of each
 * object. Pure.
 *
 * Precedence (HTTPRoute godoc, GRPCRoute godoc): routes are added to the table in the spec's
 * order (Exact before prefix, longer prefix, method, more header matches, more query matches,
 * the older route, then namespace/name, then rule and match order); the router keeps that order
 * among routes of one host and path, and puts the longer path first across paths.
 */
import { sourceName, type TableBuilder } from '../build.js';
import { isObject, str, type KubeObject, type Snapshot } from '../k8s.js';
import type { ListenerPort } from '../types.js';
import { indexGrants } from './grants.js';
import { ourClasses, readGateways, type GatewayOptions, type ListenerState } from './listeners.js';
import { addL4Candidates, translateL4Route, type L4Candidate } from './l4routes.js';
import type { BackendTLSPolicy, Gateway, GatewayClass, GRPCRoute, HTTPRoute, ReferenceGrant, TCPRoute, TLSRoute, UDPRoute } from './objects.js';
import { indexBackendTls } from './backend-tls.js';
import { translateRoute, type Candidate } from './routes.js';
import { condition, type GatewayApiStatus, type RouteStatus } from './status.js';

export type { GatewayOptions } from './listeners.js';

/**
 * What Portico reports in GatewayClass status.supportedFeatures (sorted): what it passes. The
 * HTTPRouteRetry features name an experimental-channel field: it reaches Portico only with the
 * experimental CRDs installed (the standard ones prune it), or from standalone files.
 * HTTPRouteDestinationPortMatching (experimental) is the parentRef `port` reported as
 * NoMatchingParent when no listener has it. BackendTLSPolicy covers HTTPRoute and GRPCRoute
 * backends (and their RequestMirrors); a TLSRoute's are passed through, never re-encrypted.
 */
export const SUPPORTED_FEATURES: readonly string[] = [
  'BackendTLSPolicy',
  'BackendTLSPolicySANValidation',
  'Gateway',
  'GatewayHTTPListenerIsolation',
  'GRPCRoute',
  'GRPCRouteNamedRouteRule',
  'HTTPRoute',
  'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket',
  'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteBackendRequestRedirect',
  'HTTPRouteBackendURLRewrite',
  'HTTPRouteDestinationPortMatching',
  'HTTPRouteNamedRouteRule',
  'HTTPRouteBackendTimeout',
  'HTTPRouteCORS',
  'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors',
  'HTTPRouteRequestPercentageMirror',
  'HTTPRouteRetry',
  'HTTPRouteRetryBackendTimeout',
  'HTTPRouteRetryConnectionError',
  'HTTPRouteHostRewrite',
  'HTTPRouteMethodMatching',
  'HTTPRouteParentRefPort',
  'HTTPRoutePathRedirect',
  'HTTPRoutePathRewrite',
  'HTTPRoutePortRedirect',
  'HTTPRouteQueryParamMatching',
  'HTTPRouteRequestTimeout',
  'HTTPRouteResponseHeaderModification',
  'HTTPRouteSchemeRedirect',
  'HTTPRoute303RedirectStatusCode',
  'HTTPRoute307RedirectStatusCode',
  'HTTPRoute308RedirectStatusCode',
  'ReferenceGrant',
  'TCPRoute',
  'TLSRoute',
  'UDPRoute',
].sort();

const byAge = <T extends KubeObject>(list: readonly T[]): T[] =>
  [...list].sort((a, b) => {
    const ta = str(a.metadata?.creationTimestamp);
    const tb = str(b.metadata?.creationTimestamp);
    if (ta !== tb) return ta < tb ? -1 : 1;
    const ka = `${str(a.metadata?.namespace)}/${str(a.metadata?.name)}`;
    const kb = `${str(b.metadata?.namespace)}/${str(b.metadata?.name)}`;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });

const objects = <T>(v: readonly unknown[] | undefined): T[] => (Array.isArray(v) ? (v.filter(isObject) as T[]) : []);

/** Orders candidates of one host and path as the spec ranks their matches. */
function compareCandidates(a: Candidate, b: Candidate): number {
  const ca = a.route.conditions;
  const cb = b.route.conditions;
  const m = Number(cb?.method !== undefined) - Number(ca?.method !== undefined);
  if (m !== 0) return m;
  const h = (cb?.headers?.length ?? 0) - (ca?.headers?.length ?? 0);
  if (h !== 0) return h;
  const q = (cb?.query?.length ?? 0) - (ca?.query?.length ?? 0);
  if (q !== 0) return q;
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  if (a.key !== b.key) return a.key < b.key ? -1 : 1;
  return a.rule - b.rule || a.match - b.match;
}

/** Translates the Gateway API objects of a snapshot into `b`; returns their status. */
export function translateGateways(b: TableBuilder, snapshot: Snapshot, opts: GatewayOptions): { status: GatewayApiStatus; listeners: ListenerPort[] } {
  const classes = ourClasses(objects<GatewayClass>(snapshot.gatewayClasses), opts);
  const grants = indexGrants(objects<ReferenceGrant>(snapshot.referenceGrants));
  const gateways = readGateways(b, byAge(objects<Gateway>(snapshot.gateways)), classes, objects<KubeObject>(snapshot.namespaces), grants, opts);
  const byName = new Map<string, ListenerState[]>();
  for (const g of gateways) byName.set(`${g.namespace}/${g.name}`, g.listeners);
  const listenersOf = (ns: string, name: string): ListenerState[] | undefined => byName.get(`${ns}/${name}`);

  const backendTls = indexBackendTls(b, byAge(objects<BackendTLSPolicy>(snapshot.backendTlsPolicies)));
  const refs = { allows: grants.allows, backendTls };

  const routes: RouteStatus[] = [];
  const candidates: Candidate[] = [];
  for (const [kind, list] of [['HTTPRoute', byAge(objects<HTTPRoute>(snapshot.httpRoutes))], ['GRPCRoute', byAge(objects<GRPCRoute>(snapshot.grpcRoutes))]] as const) {
    for (const obj of list) {
      if (str(obj.metadata?.namespace) === '' || str(obj.metadata?.name) === '') continue;
      const r = translateRoute(b, kind, obj, listenersOf, refs);
      if (r.status !== null) routes.push(r.status);
      candidates.push(...r.candidates);
    }
  }
  const l4: L4Candidate[] = [];
  for (const [kind, list] of [['TLSRoute', byAge(objects<TLSRoute>(snapshot.tlsRoutes))], ['TCPRoute', byAge(objects<TCPRoute>(snapshot.tcpRoutes))], ['UDPRoute', byAge(objects<UDPRoute>(snapshot.udpRoutes))]] as const) {
    for (const obj of list) {
      if (str(obj.metadata?.namespace) === '' || str(obj.metadata?.name) === '') continue;
      const r = translateL4Route(b, kind, obj, listenersOf, grants);
      if (r.status !== null) routes.push(r.status);
      l4.push(...r.candidates);
    }
  }
  addL4Candidates(b, l4);
  candidates.sort(compareCandidates);
  for (const c of candidates) {
    const lost = b.addRoute(c.route, c.created);
    if (lost === null) continue;
    // an HTTPRoute and an Ingress (or another route) on one host, path and match: the older object wins, both are told
    const winner = lost === c.route ? b.routeAt(c.route) : c.route;
    if (winner === undefined || (winner.source.kind === lost.source.kind && winner.source.namespace === lost.source.namespace && winner.source.name === lost.source.name)) continue;
    const what = `${lost.match} ${lost.path} on host ${lost.host || '*'}`;
    b.report({ kind: lost.source.kind, namespace: lost.source.namespace, name: lost.source.name }, 'RouteConflict', `${what} is also routed by ${sourceName(winner.source)}, which is older and wins; not served from here`);
    b.report({ kind: winner.source.kind, namespace: winner.source.namespace, name: winner.source.name }, 'RouteConflict', `${what} is also claimed by ${sourceName(lost.source)}, which is newer; this one is served`);
  }

  // extra ports to open: one protocol per port (conflicts were excluded), 80 and 443 are Portico's own;
  // a TLS listener's port is an HTTPS listener's when it has one (SNI tells them apart), else its own
  const ports = new Map<number, ListenerPort>();
  const tls = new Set<number>();
  for (const g of gateways) {
    for (const l of g.listeners) {
      if (!l.valid || l.port === 80 || l.port === 443) continue;
      if (l.protocol === 'HTTP' || l.protocol === 'HTTPS') ports.set(l.port, { port: l.port, protocol: l.protocol });
      else if (l.protocol === 'TLS') tls.add(l.port);
    }
  }
  for (const port of tls) if (!ports.has(port)) b.l4.addListener({ protocol: 'TLS', port });

  const status: GatewayApiStatus = {
    controllerName: opts.controllerName,
    gatewayClasses: [...classes.values()].map((c) => {
      const generation = typeof c.metadata?.generation === 'number' ? c.metadata.generation : 0;
      return { namespace: '', name: str(c.metadata?.name), generation, conditions: [condition('Accepted', true, 'Accepted', `served by Portico (${opts.controllerName})`, generation)], supportedFeatures: SUPPORTED_FEATURES };
    }),
    gateways: gateways.map((g) => ({
      namespace: g.namespace,
      name: g.name,
      generation: g.generation,
      conditions: g.conditions,
      listeners: g.listeners.map((l) => ({ name: l.name, supportedKinds: l.conditions.some((c) => c.type === 'Accepted' && c.status === 'False' && (c.reason === 'UnsupportedProtocol' || c.reason === 'ProtocolConflict')) ? [] : l.kinds.map((kind) => ({ group: 'gateway.networking.k8s.io', kind })), attachedRoutes: l.attached, conditions: l.conditions })),
    })),
    routes,
  };
  // a policy's ancestors: the Gateways its targets' routes are accepted on
  const accepted = new Map<string, { namespace: string; name: string }[]>();
  for (const r of routes) {
    const on = r.parents.filter((p) => p.parentRef.kind === 'Gateway' && p.conditions.some((c) => c.type === 'Accepted' && c.status === 'True')).map((p) => ({ namespace: p.parentRef.namespace ?? r.namespace, name: p.parentRef.name }));
    accepted.set(`${r.kind}/${r.namespace}/${r.name}`, on);
  }
  const policies = backendTls.statuses((route) => accepted.get(route) ?? []);
  return { status: policies.length > 0 ? { ...status, policies } : status, listeners: [...ports.values()].sort((a, b) => a.port - b.port) };
}
