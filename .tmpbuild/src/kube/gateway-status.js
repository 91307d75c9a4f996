/**
 * Gateway API status, written by the leader: GatewayClasses of Portico's controller name, their
 * Gateways (addresses, conditions, listeners) and the parents of every HTTPRoute and GRPCRoute
 * entries that carry Portico's controller name, nothing else. Read-modify-write through the
 * status subresource, only on change; a condition keeps its lastTransitionTime while its status
 * stays; a 409 re-reads and retries.
 */
import { isIP } from 'node:net';
import { ApiError } from './client.js';
const BASE = '/apis/gateway.networking.k8s.io/v1';
/** Our conditions, each keeping the lastTransitionTime it has while its status does not change. */
function withTimes(next, current, now) {
    const old = Array.isArray(current) ? current : [];
    return next.map((c) => {
        const prev = old.find((o) => o?.type === c.type);
        return { ...c, lastTransitionTime: prev !== undefined && prev.status === c.status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : now };
    });
}
/** A status value compared without transition times (which alone never make a write). */
const canon = (v) => JSON.stringify(v, (k, x) => (k === 'lastTransitionTime' ? undefined : x));
export function createGatewayStatusWriter(o) {
    /** PUTs `status` made from the current object, re-reading on a conflict. */
    async function put(path, obj, make) {
        let current = obj;
        for (let attempt = 1;; attempt++) {
            const status = make(current);
            if (status === null)
                return false;
            try {
                await o.client.request('PUT', `${path}/status`, { ...current, status });
                return true;
            }
            catch (err) {
                if (!(err instanceof ApiError) || err.status !== 409 || attempt >= 5)
                    throw err;
                current = await o.client.request('GET', path);
            }
        }
    }
    return {
        async sync(status, snapshot, addresses) {
            if (status === undefined)
                return 0;
            const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
            let written = 0;
            const attempt = async (what, f) => {
                try {
                    if (await f()) {
                        written++;
                        o.log.info({ object: what }, 'gateway status updated');
                    }
                }
                catch (err) {
                    o.log.warn({ object: what, err: err.message }, 'gateway status update failed; will retry');
                }
            };
            const find = (list, ns, name) => list?.find((x) => (x.metadata?.namespace ?? '') === ns && x.metadata?.name === name);
            for (const c of status.gatewayClasses) {
                const obj = find(snapshot.gatewayClasses, '', c.name);
                if (obj === undefined)
                    continue;
                await attempt(`GatewayClass ${c.name}`, () => put(`${BASE}/gatewayclasses/${c.name}`, obj, (cur) => {
                    const next = { ...(cur.status ?? {}), conditions: withTimes(c.conditions, cur.status?.conditions, now), supportedFeatures: c.supportedFeatures.map((name) => ({ name })) };
                    return canon(next) === canon(cur.status ?? {}) ? null : next;
                }));
            }
            const statusAddresses = addresses.map((a) => (a.ip !== undefined && isIP(a.ip) ? { type: 'IPAddress', value: a.ip } : { type: 'Hostname', value: a.hostname ?? '' }));
            for (const g of status.gateways) {
                const obj = find(snapshot.gateways, g.namespace, g.name);
                if (obj === undefined)
                    continue;
                await attempt(`Gateway ${g.namespace}/${g.name}`, () => put(`${BASE}/namespaces/${g.namespace}/gateways/${g.name}`, obj, (cur) => {
                    const oldListeners = Array.isArray(cur.status?.listeners) ? cur.status.listeners : [];
                    const next = {
                        ...(cur.status ?? {}),
                        addresses: statusAddresses,
                        conditions: withTimes(g.conditions, cur.status?.conditions, now),
                        listeners: g.listeners.map((l) => ({ name: l.name, supportedKinds: l.supportedKinds, attachedRoutes: l.attachedRoutes, conditions: withTimes(l.conditions, oldListeners.find((x) => x?.name === l.name)?.conditions, now) })),
                    };
                    return canon(next) === canon(cur.status ?? {}) ? null : next;
                }));
            }
            // every route: our parent entries as computed (none for a route that no longer has a parent of ours)
            const ours = new Map(status.routes.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
            for (const [kind, plural, list] of [['HTTPRoute', 'httproutes', snapshot.httpRoutes], ['GRPCRoute', 'grpcroutes', snapshot.grpcRoutes]]) {
                for (const obj of (list ?? [])) {
                    const ns = obj.metadata?.namespace ?? '';
                    const name = obj.metadata?.name ?? '';
                    const r = ours.get(`${kind}/${ns}/${name}`);
                    const current = Array.isArray(obj.status?.parents) ? obj.status.parents : [];
                    if (r === undefined && !current.some((p) => p?.controllerName === status.controllerName))
                        continue;
                    await attempt(`${kind} ${ns}/${name}`, () => put(`${BASE}/namespaces/${ns}/${plural}/${name}`, obj, (cur) => {
                        const parents = Array.isArray(cur.status?.parents) ? cur.status.parents : [];
                        const others = parents.filter((p) => p?.controllerName !== status.controllerName);
                        const mine = (r?.parents ?? []).map((p) => ({
                            parentRef: p.parentRef,
                            controllerName: status.controllerName,
                            conditions: withTimes(p.conditions, parents.find((x) => x?.controllerName === status.controllerName && canon(x.parentRef) === canon(p.parentRef))?.conditions, now),
                        }));
                        const next = { ...(cur.status ?? {}), parents: [...others, ...mine] };
                        return canon(next) === canon(cur.status ?? {}) ? null : next;
                    }));
                }
            }
            return written;
        },
    };
}
//# sourceMappingURL=gateway-status.js.map