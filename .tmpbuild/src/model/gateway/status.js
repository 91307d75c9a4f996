/**
 * Gateway API status, as the translator computes it (pure data): conditions with the spec's
 * types and reasons, per GatewayClass, Gateway (and its listeners) and route parent. The leader
 * writes it (kube/gateway-status.ts: read-modify-write, only entries with Portico's controller
 * name, observedGeneration = the object's generation); standalone mode shows it in
 * /debug/gateways and `portico status`.
 */
/** A condition at the object's generation. */
export const condition = (type, ok, reason, message, generation) => ({
    type,
    status: ok === 'Unknown' ? 'Unknown' : ok ? 'True' : 'False',
    reason,
    message,
    observedGeneration: generation,
});
/** The status as text lines: each object, its conditions (`Type=Status Reason: message`) indented below it. */
export function printGatewayStatus(s) {
    const conds = (list, indent) => list.map((c) => `${indent}${c.type}=${c.status} ${c.reason}: ${c.message}`);
    const out = [];
    for (const c of s.gatewayClasses)
        out.push(`GatewayClass ${c.name}`, ...conds(c.conditions, '  '), `  supportedFeatures: ${c.supportedFeatures.join(', ')}`);
    for (const g of s.gateways) {
        out.push(`Gateway ${g.namespace}/${g.name}`, ...conds(g.conditions, '  '));
        for (const l of g.listeners)
            out.push(`  listener ${l.name} (attachedRoutes ${l.attachedRoutes}; kinds ${l.supportedKinds.map((k) => k.kind).join(', ') || 'none'})`, ...conds(l.conditions, '    '));
    }
    for (const r of s.routes) {
        out.push(`${r.kind} ${r.namespace}/${r.name}`);
        for (const p of r.parents)
            out.push(`  parent ${p.parentRef.namespace ?? r.namespace}/${p.parentRef.name}${p.parentRef.sectionName !== undefined ? ` section ${p.parentRef.sectionName}` : ''}${p.parentRef.port !== undefined ? ` port ${p.parentRef.port}` : ''}`, ...conds(p.conditions, '    '));
    }
    return out;
}
//# sourceMappingURL=status.js.map