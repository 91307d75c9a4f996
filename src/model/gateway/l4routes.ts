/**
 * TLSRoutes, TCPRoutes and UDPRoutes (gateway.networking.k8s.io v1, and v1alpha2): attached to TLS
 * (passthrough), TCP and UDP listeners like any route (attachParents), with the same conditions. A
 * TLSRoute's hostnames, intersected with its listener's, become SNI names on the listener's port;
 * a TCPRoute (UDPRoute) becomes its TCP (UDP) listener's route, the oldest route winning when
 * several attach (as the conformance suite expects: all are Accepted and counted, only the oldest
 * gets traffic).
 * The first rule is served (v1 allows exactly one; v1alpha2 up to 16); an invalid backendRef keeps
 * its share of the connections, which are rejected. Pure.
 */
import type { TableBuilder } from '../build.js';
import { isObject, str } from '../k8s.js';
import type { L4Source, WeightedBackend } from '../types.js';
import type { GrantIndex } from './grants.js';
import { validHostname } from './hostnames.js';
import type { ListenerState } from './listeners.js';
import type { TCPRoute, TLSRoute, UDPRoute } from './objects.js';
import { attachParents, readBackends, reportRefProblem } from './routes.js';
import type { RouteStatus } from './status.js';

/** The Layer 4 route kinds. */
export type L4RouteKind = 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** A TLSRoute hostname, or a TCPRoute or UDPRoute on one listener, before conflicts between routes are settled. */
export interface L4Candidate {
  readonly kind: L4RouteKind;
  readonly port: number;
  /** TLSRoute: the SNI name ('' = any); TCPRoute, UDPRoute: ''. */
  readonly host: string;
  readonly source: L4Source;
  readonly backends: readonly WeightedBackend[];
  /** creationTimestamp, then `namespace/name`: the older route wins a port or a name. */
  readonly created: string;
  readonly key: string;
}

/** Attaches one TLSRoute, TCPRoute or UDPRoute; returns its status and what it asks to serve. */
export function translateL4Route(b: TableBuilder, kind: L4RouteKind, obj: TLSRoute | TCPRoute | UDPRoute, listenersOf: (namespace: string, name: string) => readonly ListenerState[] | undefined, grants: GrantIndex): { status: RouteStatus | null; candidates: L4Candidate[] } {
  const ns = str(obj.metadata?.namespace);
  const name = str(obj.metadata?.name);
  const generation = typeof obj.metadata?.generation === 'number' ? obj.metadata.generation : 0;
  const origin = { kind, namespace: ns, name };
  const spec = isObject(obj.spec) ? obj.spec : undefined;
  const hostnames = kind === 'TLSRoute' ? (Array.isArray((spec as TLSRoute['spec'])?.hostnames) ? ((spec as TLSRoute['spec'])?.hostnames ?? []) : []).filter(validHostname) : [];
  const rules = Array.isArray(spec?.rules) ? (spec?.rules ?? []) : [];
  const first = rules[0];
  const read = readBackends(b, kind, origin, isObject(first) ? first?.backendRefs : undefined, grants);
  // no backendRef at all: every connection is rejected, as for an invalid one
  const backends: WeightedBackend[] = read.list.length === 0 ? [{ backend: '', weight: 1 }] : read.list;
  const partial = rules.length > 1 ? `Dropped Rule(s): rules[1..${rules.length - 1}]: only one rule is served (the first)` : null;
  if (partial !== null) b.report(origin, 'InvalidRoute', `${partial}; the others are not served`);
  if (read.problem !== null) reportRefProblem(b, origin, read.problem);
  const source: L4Source = { kind, namespace: ns, name };
  const created = str(obj.metadata?.creationTimestamp);
  const candidates: L4Candidate[] = [];
  const parents = attachParents(kind, obj, hostnames, listenersOf, { invalid: null, partial, refs: read.problem }, (l, hosts) => {
    for (const host of kind === 'TLSRoute' ? hosts : ['']) candidates.push({ kind, port: l.port, host, source, backends, created, key: `${ns}/${name}` });
  });
  return { status: parents.length === 0 ? null : { kind, namespace: ns, name, generation, parents }, candidates };
}

/** Orders candidates as the spec ranks routes: the older first, then by `namespace/name`. */
export function compareL4(a: L4Candidate, b: L4Candidate): number {
  if (a.created !== b.created) return a.created < b.created ? -1 : 1;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * Writes settled candidates into the table: SNI names for TLSRoutes, the TCP (UDP) listener's route
 * for TCPRoutes (UDPRoutes); a place already held (by an older route, or an Ingress with ssl-passthrough) is
 * reported on both objects unless they are one.
 */
export function addL4Candidates(b: TableBuilder, candidates: readonly L4Candidate[]): void {
  for (const c of [...candidates].sort(compareL4)) {
    if (c.kind === 'TCPRoute' || c.kind === 'UDPRoute') {
      const protocol = c.kind === 'TCPRoute' ? 'TCP' : 'UDP';
      const route = { source: c.source, backends: c.backends };
      const held = b.l4.listenerAt(protocol, c.port);
      if (held === undefined) b.l4.addListener({ protocol, port: c.port, route }, c.created);
      else if (held.protocol === protocol && !sameSource(held.route.source, c.source)) b.report({ kind: c.kind, namespace: c.source.namespace, name: c.source.name }, 'RouteConflict', `${protocol} port ${c.port} is also routed by ${held.route.source.kind} ${held.route.source.namespace}/${held.route.source.name}, which is older and wins; accepted but not served`);
      continue;
    }
    const route = { port: c.port, host: c.host, ...(c.host.startsWith('*.') ? { wildcard: 'any-labels' as const } : {}), source: c.source, backends: c.backends };
    const lost = b.l4.addSni(route, c.created);
    if (lost === null) continue;
    const winner = lost === route ? b.l4.sniAt(c.port, c.host) : route;
    if (winner === undefined || sameSource(winner.source, lost.source)) continue;
    const what = `TLS passthrough of ${c.host === '' ? 'any name' : `host ${c.host}`} on port ${c.port}`;
    b.report({ kind: lost.source.kind, namespace: lost.source.namespace, name: lost.source.name }, 'RouteConflict', `${what} is also claimed by ${winner.source.kind} ${winner.source.namespace}/${winner.source.name}, which is older and wins; not served from here`);
    b.report({ kind: winner.source.kind, namespace: winner.source.namespace, name: winner.source.name }, 'RouteConflict', `${what} is also claimed by ${lost.source.kind} ${lost.source.namespace}/${lost.source.name}, which is newer; this one is served`);
  }
}

const sameSource = (a: L4Source, b: L4Source): boolean => a.kind === b.kind && a.namespace === b.namespace && a.name === b.name;
