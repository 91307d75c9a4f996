/**
 * The object store shared by both sources (API server watches, manifest files): one map per kind,
 * keyed by `namespace/name`. Sources write; the pipeline reads a snapshot.
 *
 * Objects are never modified once stored: a change is a new object. The translator's memos
 * (checked Ingresses, resolved Service ports) are keyed by object identity and rely on it.
 */
import { sliceService } from '../model/endpoints.js';
import { KINDS, keyOf } from '../model/k8s.js';
const isKind = (k) => typeof k === 'string' && KINDS.includes(k);
/** Creates an empty store. */
export function createStore() {
    const maps = new Map(KINDS.map((k) => [k, new Map()]));
    const of = (kind) => maps.get(kind);
    /** EndpointSlice keys by the Service they belong to. */
    const byService = new Map();
    const unindex = (key, obj) => {
        if (obj === undefined)
            return;
        const svc = sliceService(obj);
        const set = byService.get(svc);
        if (set === undefined)
            return;
        set.delete(key);
        if (set.size === 0)
            byService.delete(svc);
    };
    const index = (key, obj) => {
        const svc = sliceService(obj);
        if (svc === '')
            return;
        let set = byService.get(svc);
        if (set === undefined)
            byService.set(svc, (set = new Set()));
        set.add(key);
    };
    return {
        upsert(obj) {
            if (!isKind(obj.kind))
                return false;
            const key = keyOf(obj);
            const m = of(obj.kind);
            if (obj.kind === 'EndpointSlice') {
                unindex(key, m.get(key));
                index(key, obj);
            }
            m.set(key, obj);
            return true;
        },
        remove(kind, key) {
            const m = of(kind);
            if (kind === 'EndpointSlice')
                unindex(key, m.get(key));
            return m.delete(key);
        },
        replace(kind, objects, namespace, owns) {
            const m = of(kind);
            if ((namespace === undefined || namespace === '') && owns === undefined)
                m.clear();
            else
                for (const [k, o] of [...m])
                    if ((namespace === undefined || namespace === '' || k.startsWith(`${namespace}/`)) && (owns === undefined || owns(o)))
                        m.delete(k);
            for (const o of objects)
                m.set(keyOf(o), o);
            if (kind === 'EndpointSlice') {
                byService.clear();
                for (const [k, o] of m)
                    index(k, o);
            }
        },
        get: (kind, key) => of(kind).get(key),
        slicesOf(service) {
            const keys = byService.get(service);
            if (keys === undefined)
                return [];
            const m = of('EndpointSlice');
            return [...keys].map((k) => m.get(k));
        },
        snapshot() {
            const list = (kind) => [...of(kind).values()];
            return {
                ingresses: list('Ingress'),
                ingressClasses: list('IngressClass'),
                services: list('Service'),
                endpointSlices: list('EndpointSlice'),
                secrets: list('Secret'),
                configMaps: list('ConfigMap'),
                namespaces: list('Namespace'),
                gatewayClasses: list('GatewayClass'),
                gateways: list('Gateway'),
                httpRoutes: list('HTTPRoute'),
                grpcRoutes: list('GRPCRoute'),
                referenceGrants: list('ReferenceGrant'),
            };
        },
    };
}
/** Groups loose objects by kind into a snapshot (tests and the manifests source). */
export function snapshotOf(objects) {
    const s = createStore();
    for (const o of objects)
        s.upsert(o);
    return s.snapshot();
}
export { isKind };
//# sourceMappingURL=store.js.map