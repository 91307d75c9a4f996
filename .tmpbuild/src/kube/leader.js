import { ApiError } from './client.js';
/** Kubernetes MicroTime: RFC 3339 with microseconds. */
export const microTime = (ms) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
export function createElector(o) {
    const duration = o.leaseDuration ?? 15;
    const deadline = (o.renewDeadline ?? 10) * 1000;
    const period = (o.retryPeriod ?? 2) * 1000;
    const path = `/apis/coordination.k8s.io/v1/namespaces/${o.namespace}/leases`;
    let leader = false;
    let lastRenew = 0;
    let timer = null;
    let stopped = false;
    let lease = null;
    const set = (v) => {
        if (v === leader)
            return;
        leader = v;
        o.log.info({ lease: `${o.namespace}/${o.name}`, identity: o.identity }, v ? 'became leader' : 'lost leadership');
        o.onChange(v);
    };
    async function tryOnce() {
        const now = Date.now();
        const spec = (acquire, transitions) => ({
            holderIdentity: o.identity,
            leaseDurationSeconds: duration,
            acquireTime: acquire ? microTime(now) : (lease?.spec?.acquireTime ?? microTime(now)),
            renewTime: microTime(now),
            leaseTransitions: transitions,
        });
        try {
            lease = await o.client.request('GET', `${path}/${o.name}`);
        }
        catch (err) {
            if (!(err instanceof ApiError) || err.status !== 404)
                throw err;
            lease = await o.client.request('POST', path, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: o.name, namespace: o.namespace }, spec: spec(true, 0) });
            lastRenew = now;
            set(true);
            return;
        }
        const s = lease?.spec ?? {};
        const holder = s.holderIdentity ?? '';
        const renewed = s.renewTime ? Date.parse(s.renewTime) : 0;
        const expired = holder === '' || renewed + (s.leaseDurationSeconds ?? duration) * 1000 < now;
        if (holder !== o.identity && !expired) {
            set(false);
            return;
        }
        const mine = holder === o.identity;
        lease = await o.client.request('PUT', `${path}/${o.name}`, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { ...lease?.metadata, name: o.name, namespace: o.namespace },
            spec: spec(!mine, (s.leaseTransitions ?? 0) + (mine ? 0 : 1)),
        });
        lastRenew = now;
        set(true);
    }
    function loop() {
        if (stopped)
            return;
        tryOnce()
            .catch((err) => {
            if (err instanceof ApiError && err.status === 409)
                return; // someone else won this round
            o.log.warn({ lease: `${o.namespace}/${o.name}`, err: err.message }, 'lease update failed');
        })
            .finally(() => {
            if (leader && Date.now() - lastRenew > deadline)
                set(false);
            if (!stopped)
                timer = setTimeout(loop, period);
        });
    }
    return {
        start: loop,
        isLeader: () => leader,
        async stop() {
            stopped = true;
            if (timer)
                clearTimeout(timer);
            if (!leader || !lease)
                return;
            set(false);
            try {
                await o.client.request('PUT', `${path}/${o.name}`, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1 } });
            }
            catch {
                // the Lease simply expires instead
            }
        },
    };
}
//# sourceMappingURL=leader.js.map