/**
 * Which Ingresses are Portico's: IngressClass objects naming our controller, the class flag, and
 * class-less Ingresses when allowed; and the order in which they are translated (oldest first).
 */
import { keyOf, str } from '../k8s.js';
export const LEGACY_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
export const DEFAULT_CLASS_ANNOTATION = 'ingressclass.kubernetes.io/is-default-class';
/** The class an Ingress asks for: `spec.ingressClassName`, else the legacy annotation, else undefined. */
export function classOf(ing) {
    const name = ing.spec?.ingressClassName;
    if (typeof name === 'string' && name !== '')
        return name;
    const legacy = ing.metadata?.annotations?.[LEGACY_CLASS_ANNOTATION];
    return typeof legacy === 'string' && legacy !== '' ? legacy : undefined;
}
/** Builds the predicate "is this Ingress ours?" from the IngressClasses in the snapshot. */
export function createClassFilter(classes, opts) {
    const ours = new Set([opts.ingressClass]);
    let oursIsDefault = opts.watchWithoutClass;
    for (const c of classes) {
        const name = c.metadata?.name;
        if (typeof name !== 'string' || c.spec?.controller !== opts.controllerClass)
            continue;
        ours.add(name);
        if (c.metadata?.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
            oursIsDefault = true;
    }
    return (ing) => {
        const cls = classOf(ing);
        return cls === undefined ? oursIsDefault : ours.has(cls);
    };
}
/** Orders Ingresses oldest first (creationTimestamp, then namespace/name): the oldest wins a conflict. */
export function sortByAge(list) {
    const keyed = list.map((ing) => ({ ing, t: str(ing.metadata?.creationTimestamp), k: keyOf(ing) }));
    keyed.sort((a, b) => (a.t !== b.t ? (a.t < b.t ? -1 : 1) : a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
    return keyed.map((x) => x.ing);
}
//# sourceMappingURL=class.js.map