/**
 * Gateway API status, as the translator computes it (pure data): conditions with the spec's
 * types and reasons, per GatewayClass, Gateway (and its listeners) and route parent. The leader
 * writes it (kube/gateway-status.ts: read-modify-write, only entries with Portico's controller
 * name, observedGeneration = the object's generation); standalone mode shows it in
 * /debug/gateways and `portico status`.
 */

export interface Condition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason: string;
  readonly message: string;
  readonly observedGeneration: number;
}

export interface ObjectRef {
  readonly namespace: string;
  readonly name: string;
  /** metadata.generation the status was computed from. */
  readonly generation: number;
}

export interface GatewayClassStatus extends ObjectRef {
  readonly conditions: readonly Condition[];
  /** Sorted by name, as the spec requires. */
  readonly supportedFeatures: readonly string[];
}

export interface ListenerStatus {
  readonly name: string;
  readonly supportedKinds: readonly { readonly group: string; readonly kind: string }[];
  readonly attachedRoutes: number;
  readonly conditions: readonly Condition[];
}

export interface GatewayStatus extends ObjectRef {
  readonly conditions: readonly Condition[];
  readonly listeners: readonly ListenerStatus[];
}

export interface RouteParentStatus {
  /** The parentRef as the route wrote it, with group and kind filled in. */
  readonly parentRef: { readonly group: string; readonly kind: string; readonly namespace?: string; readonly name: string; readonly sectionName?: string; readonly port?: number };
  readonly conditions: readonly Condition[];
}

export interface RouteStatus extends ObjectRef {
  readonly kind: 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';
  readonly parents: readonly RouteParentStatus[];
}

/** A policy's status (GEP-713 PolicyAncestorStatus): the same conditions for each Gateway its targets are used under. */
export interface PolicyStatus extends ObjectRef {
  readonly kind: 'BackendTLSPolicy';
  /** The Gateways (`namespace/name`) of the routes that send to its targets, sorted; at most 16. */
  readonly ancestors: readonly { readonly namespace: string; readonly name: string }[];
  readonly conditions: readonly Condition[];
}

export interface GatewayApiStatus {
  readonly controllerName: string;
  readonly gatewayClasses: readonly GatewayClassStatus[];
  readonly gateways: readonly GatewayStatus[];
  readonly routes: readonly RouteStatus[];
  /** BackendTLSPolicies (absent: none). */
  readonly policies?: readonly PolicyStatus[];
}

/** A condition at the object's generation. */
export const condition = (type: string, ok: boolean | 'Unknown', reason: string, message: string, generation: number): Condition => ({
  type,
  status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False',
  reason,
  message,
  observedGeneration: generation,
});

/** The status as text lines: each object, its conditions (`Type=Status Reason: message`) indented below it. */
export function printGatewayStatus(s: GatewayApiStatus): string[] {
  const conds = (list: readonly Condition[], indent: string): string[] => list.map((c) => `${indent}${c.type}=${c.status} ${c.reason}: ${c.message}`);
  const out: string[] = [];
  for (const c of s.gatewayClasses) out.push(`GatewayClass ${c.name}`, ...conds(c.conditions, '  '), `  supportedFeatures: ${c.supportedFeatures.join(', ')}`);
  for (const g of s.gateways) {
    out.push(`Gateway ${g.namespace}/${g.name}`, ...conds(g.conditions, '  '));
    for (const l of g.listeners) out.push(`  listener ${l.name} (attachedRoutes ${l.attachedRoutes}; kinds ${l.supportedKinds.map((k) => k.kind).join(', ') || 'none'})`, ...conds(l.conditions, '    '));
  }
  for (const r of s.routes) {
    out.push(`${r.kind} ${r.namespace}/${r.name}`);
    for (const p of r.parents) out.push(`  parent ${p.parentRef.namespace ?? r.namespace}/${p.parentRef.name}${p.parentRef.sectionName !== undefined ? ` section ${p.parentRef.sectionName}` : ''}${p.parentRef.port !== undefined ? ` port ${p.parentRef.port}` : ''}`, ...conds(p.conditions, '    '));
  }
  for (const p of s.policies ?? []) out.push(`${p.kind} ${p.namespace}/${p.name} (ancestors: ${p.ancestors.map((a) => `Gateway ${a.namespace}/${a.name}`).join(', ') || 'none'})`, ...conds(p.conditions, '  '));
  return out;
}
