import { isObject, keyOf, str } from '../k8s.js';
import { validHostname } from './hostnames.js';
import { GATEWAY_GROUP } from './objects.js';
import { condition } from './status.js';
const ROUTE_KINDS = ['HTTPRoute', 'GRPCRoute'];
const gen = (o) => (typeof o.metadata?.generation === 'number' ? o.metadata.generation : 0);
/** The GatewayClasses whose controllerName is Portico's, by name. */
export function ourClasses(classes, opts) {
    const out = new Map();
    for (const c of classes)
        if (isObject(c.spec) && c.spec?.controllerName === opts.controllerName && str(c.metadata?.name) !== '')
            out.set(str(c.metadata?.name), c);
    return out;
}
/** Compiles a LabelSelector into a predicate over a label map; null for one that cannot be read. */
export function selectorOf(sel) {
    if (!isObject(sel))
        return null;
    const match = isObject(sel?.matchLabels) ? Object.entries(sel?.matchLabels ?? {}) : [];
    const exprs = Array.isArray(sel?.matchExpressions) ? (sel?.matchExpressions ?? []) : [];
    for (const e of exprs)
        if (!isObject(e) || !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(str(e.operator)))
            return null;
    return (labels) => match.every(([k, v]) => labels[k] === v) &&
        exprs.every((e) => {
            const has = Object.hasOwn(labels, str(e.key));
            const v = labels[str(e.key)];
            const values = Array.isArray(e.values) ? e.values : [];
            switch (e.operator) {
                case 'In':
                    return has && values.includes(v);
                case 'NotIn':
                    return !has || !values.includes(v);
                case 'Exists':
                    return has;
                default:
                    return !has;
            }
        });
}
/** Which protocols Portico serves on a listener port: plain HTTP on 80, TLS on 443, either elsewhere. */
function portProblem(port, protocol, reserved) {
    if (port === 80 && protocol !== 'HTTP')
        return 'port 80 is Portico\'s plain HTTP port (--http-port): only an HTTP listener can use it';
    if (port === 443 && protocol !== 'HTTPS')
        return 'port 443 is Portico\'s HTTPS port (--https-port): only an HTTPS listener can use it';
    if (reserved.includes(port))
        return `port ${port} is used by Portico itself (its listeners or the admin port)`;
    return null;
}
/**
 * Reads the Gateways of Portico's classes: their listeners, conditions, certificates (into the
 * table, per listener hostname), and the namespace labels their selectors need.
 */
export function readGateways(b, gateways, classes, namespaces, grants, opts) {
    const labelsOf = new Map();
    for (const n of namespaces)
        labelsOf.set(str(n.metadata?.name), isObject(n.metadata?.labels) ? (n.metadata?.labels ?? {}) : {});
    const states = [];
    for (const gw of gateways) {
        const ns = str(gw.metadata?.namespace);
        const name = str(gw.metadata?.name);
        if (ns === '' || name === '' || !classes.has(str(gw.spec?.gatewayClassName)))
            continue;
        const generation = gen(gw);
        const listeners = (Array.isArray(gw.spec?.listeners) ? (gw.spec?.listeners ?? []) : []).filter(isObject).map((l) => readListener(b, gw, l, labelsOf, grants, opts));
        states.push({ object: gw, namespace: ns, name, generation, listeners, conditions: [] });
    }
    markConflicts(states);
    for (const g of states) {
        const valid = g.listeners.filter((l) => l.valid).length;
        const all = g.listeners.length;
        if (all > 0 && valid === 0)
            g.conditions.push(condition('Accepted', false, 'ListenersNotValid', 'no listener is valid', g.generation));
        else
            g.conditions.push(condition('Accepted', true, valid < all ? 'ListenersNotValid' : 'Accepted', valid < all ? `${all - valid} of ${all} listeners are not valid (see their conditions)` : 'the Gateway is served by Portico', g.generation));
        g.conditions.push(condition('Programmed', valid > 0, valid > 0 ? 'Programmed' : 'Invalid', valid > 0 ? 'served on Portico\'s addresses' : 'nothing to serve', g.generation));
        for (const l of g.listeners) {
            const accepted = l.conditions.find((c) => c.type === 'Accepted');
            if (accepted === undefined)
                l.conditions.push(condition('Accepted', true, 'Accepted', 'the listener is served', g.generation));
            if (!l.conditions.some((c) => c.type === 'Conflicted'))
                l.conditions.push(condition('Conflicted', false, 'NoConflicts', 'no conflicts', g.generation));
            if (!l.conditions.some((c) => c.type === 'ResolvedRefs'))
                l.conditions.push(condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', g.generation));
            l.conditions.push(condition('Programmed', l.valid, l.valid ? 'Programmed' : 'Invalid', l.valid ? 'programmed' : 'not served (see the other conditions)', g.generation));
        }
    }
    return states;
}
function readListener(b, gw, l, labelsOf, grants, opts) {
    const ns = str(gw.metadata?.namespace);
    const generation = gen(gw);
    const conditions = [];
    const protocol = str(l.protocol);
    const port = typeof l.port === 'number' && Number.isInteger(l.port) && l.port > 0 && l.port < 65536 ? l.port : 0;
    const hostname = l.hostname === undefined || l.hostname === null ? '' : str(l.hostname);
    let valid = true;
    const reject = (reason, message) => {
        if (valid)
            conditions.push(condition('Accepted', false, reason, message, generation));
        valid = false;
    };
    if (protocol !== 'HTTP' && protocol !== 'HTTPS')
        reject('UnsupportedProtocol', `protocol ${JSON.stringify(protocol)} is not supported (HTTP and HTTPS are)`);
    if (port === 0)
        reject('PortUnavailable', 'port must be 1-65535');
    const portIssue = port === 0 ? null : portProblem(port, protocol, opts.reservedPorts ?? []);
    if (portIssue !== null)
        reject('PortUnavailable', portIssue);
    if (hostname !== '' && !validHostname(hostname))
        reject('UnsupportedValue', `hostname ${JSON.stringify(hostname)} is not a valid hostname`);
    // allowedRoutes.kinds: default by protocol; listed ones must be ours
    const listed = Array.isArray(l.allowedRoutes?.kinds) ? (l.allowedRoutes?.kinds ?? []) : undefined;
    let kinds = valid || protocol === 'HTTP' || protocol === 'HTTPS' ? [...ROUTE_KINDS] : [];
    if (protocol !== 'HTTP' && protocol !== 'HTTPS')
        kinds = [];
    if (listed !== undefined && listed.length > 0 && kinds.length > 0) {
        const ok = listed.filter((k) => isObject(k) && (k.group === undefined || str(k.group) === GATEWAY_GROUP) && ROUTE_KINDS.includes(str(k.kind))).map((k) => str(k.kind));
        if (ok.length < listed.length)
            conditions.push(condition('ResolvedRefs', false, 'InvalidRouteKinds', `allowedRoutes.kinds: only HTTPRoute and GRPCRoute (group ${GATEWAY_GROUP}) can attach to an ${protocol} listener`, generation));
        kinds = [...new Set(ok)];
    }
    // allowedRoutes.namespaces
    const from = str(l.allowedRoutes?.namespaces?.from) || 'Same';
    let allows;
    if (from === 'All')
        allows = () => true;
    else if (from === 'Selector') {
        const sel = selectorOf(l.allowedRoutes?.namespaces?.selector);
        if (sel === null) {
            conditions.push(condition('ResolvedRefs', false, 'InvalidRouteKinds', 'allowedRoutes.namespaces.selector is missing or not a valid label selector: no route can attach', generation));
            allows = () => false;
        }
        else
            allows = (n) => sel({ ...labelsOf.get(n), 'kubernetes.io/metadata.name': n }); // the label every Namespace carries
    }
    else
        allows = (n) => n === ns;
    if (protocol === 'HTTPS') {
        const tls = isObject(l.tls) ? l.tls : undefined;
        const mode = str(tls?.mode) || 'Terminate';
        if (mode !== 'Terminate')
            reject('UnsupportedValue', `tls.mode ${mode} is not supported on HTTPS listeners (TLS passthrough needs a TLS listener and a TLSRoute)`);
        else
            readCertificates(b, gw, hostname, Array.isArray(tls?.certificateRefs) ? (tls?.certificateRefs ?? []) : [], grants, conditions, generation);
        if (conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'False' && c.reason !== 'InvalidRouteKinds'))
            valid = false;
    }
    return { gateway: { namespace: ns, name: str(gw.metadata?.name), generation, created: str(gw.metadata?.creationTimestamp) }, name: str(l.name), port, protocol, hostname, kinds, allows, valid, attached: 0, conditions };
}
/** An HTTPS listener's certificateRefs: Secrets of type kubernetes.io/tls, cross-namespace only with a ReferenceGrant. */
function readCertificates(b, gw, hostname, refs, grants, conditions, generation) {
    const ns = str(gw.metadata?.namespace);
    const origin = { kind: 'Gateway', namespace: ns, name: str(gw.metadata?.name) };
    const fail = (reason, message) => {
        conditions.push(condition('ResolvedRefs', false, reason, message, generation));
        b.report(origin, reason === 'RefNotPermitted' ? 'RefNotPermitted' : 'InvalidCertificate', message);
    };
    if (refs.length === 0)
        return fail('InvalidCertificateRef', 'an HTTPS listener needs tls.certificateRefs');
    for (const raw of refs) {
        if (!isObject(raw))
            return fail('InvalidCertificateRef', 'a certificateRef must be an object');
        const ref = raw;
        const group = str(ref.group);
        const kind = str(ref.kind) || 'Secret';
        const name = str(ref.name);
        const refNs = str(ref.namespace) || ns;
        if (group !== '' || kind !== 'Secret')
            return fail('InvalidCertificateRef', `certificateRef ${group}/${kind} is not a Secret`);
        if (!grants.allows({ group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns }, { group: '', kind: 'Secret', namespace: refNs, name }))
            return fail('RefNotPermitted', `Secret ${refNs}/${name} is in another namespace and no ReferenceGrant there allows it`);
        const key = `${refNs}/${name}`;
        if (b.secret(key) === undefined)
            return fail('InvalidCertificateRef', `Secret ${key} not found (it must be of type kubernetes.io/tls)`);
        const problem = b.certFor(hostname, key, origin, { kind: 'Gateway', namespace: ns, name: str(gw.metadata?.name) }, `listener certificateRef ${key}`);
        if (problem !== null)
            return fail('InvalidCertificateRef', problem);
    }
}
/** Listeners of different Gateways on one port must speak one protocol: else all of them are Conflicted. */
function markConflicts(states) {
    const byPort = new Map();
    for (const g of states)
        for (const l of g.listeners)
            if (l.port !== 0)
                byPort.set(l.port, [...(byPort.get(l.port) ?? []), l]);
    for (const [port, ls] of byPort) {
        const protocols = new Set(ls.map((l) => l.protocol));
        if (protocols.size < 2)
            continue;
        for (const l of ls) {
            l.conditions.push(condition('Conflicted', true, 'ProtocolConflict', `port ${port} is used with protocols ${[...protocols].sort().join(' and ')}`, l.gateway.generation));
            if (l.valid)
                l.conditions.push(condition('Accepted', false, 'ProtocolConflict', `port ${port} is used with another protocol`, l.gateway.generation));
            l.valid = false;
        }
    }
}
export { keyOf };
//# sourceMappingURL=listeners.js.map