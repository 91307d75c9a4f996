/**
 * ReferenceGrant (gateway.networking.k8s.io): a reference from an object in one namespace to an
 * object in another is allowed only when a ReferenceGrant in the target's namespace names the
 * source's group, kind and namespace in `from` and the target's group, kind (and name, if given)
 * in `to`. Removing the grant revokes the reference at the next translation. Pure.
 */
import { isObject, str } from '../k8s.js';
export function indexGrants(grants) {
    const byNamespace = new Map();
    for (const g of grants) {
        const ns = str(g.metadata?.namespace);
        if (ns === '' || !isObject(g.spec))
            continue;
        const list = byNamespace.get(ns);
        if (list)
            list.push(g);
        else
            byNamespace.set(ns, [g]);
    }
    return {
        allows(from, to) {
            if (from.namespace === to.namespace)
                return true;
            for (const g of byNamespace.get(to.namespace) ?? []) {
                const froms = Array.isArray(g.spec?.from) ? g.spec.from : [];
                const tos = Array.isArray(g.spec?.to) ? g.spec.to : [];
                const fromOk = froms.some((f) => isObject(f) && str(f.group) === from.group && str(f.kind) === from.kind && str(f.namespace) === from.namespace);
                if (!fromOk)
                    continue;
                if (tos.some((t) => isObject(t) && str(t.group) === to.group && str(t.kind) === to.kind && (t.name === undefined || t.name === null || str(t.name) === '' || str(t.name) === to.name)))
                    return true;
            }
            return false;
        },
    };
}
//# sourceMappingURL=grants.js.map