/**
 * ExternalName Services' DNS names, resolved outside the translator (which stays pure): each name
 * the last table needed is looked up once when it first appears and every REFRESH_MS after, with
 * the system resolver (getaddrinfo: /etc/hosts, search domains, cluster DNS), as a pod would.
 * Addresses in `--external-name-denied-cidrs` are dropped: an ExternalName is written by whoever
 * may create Services in a namespace, and loopback or link-local addresses would reach the node
 * itself (Portico's admin port, the kubelet, a cloud metadata endpoint). A change of what a name
 * resolves to calls `onChange` (a rebuild); a failed refresh keeps the last good addresses. A name
 * that fails is retried sooner: after RETRY_MS, doubling up to REFRESH_MS.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { createCidrMatcher } from '../model/cidr.js';
export const REFRESH_MS = 30_000;
export const RETRY_MS = 1000;
const systemResolve = async (name) => (await dnsLookup(name, { all: true, verbatim: true })).map((a) => a.address);
const sameState = (a, b) => a !== undefined && ('error' in a ? 'error' in b && a.error === b.error : 'addresses' in b && a.denied === b.denied && a.addresses.join() === b.addresses.join());
export function createExternalNameResolver(o) {
    const denied = createCidrMatcher(o.denied);
    const resolve = o.resolve ?? systemResolve;
    const states = new Map();
    const inflight = new Set();
    const refreshMs = o.refreshMs ?? REFRESH_MS;
    const retryMs = Math.min(o.retryMs ?? RETRY_MS, refreshMs);
    /** When each wanted name is next looked up, and its failures in a row. */
    const due = new Map();
    let idle = [];
    let wanted = new Set();
    let closed = false;
    function refresh(name) {
        if (inflight.has(name) || closed)
            return;
        inflight.add(name);
        resolve(name)
            .then((all) => {
            const unique = [...new Set(all)];
            const addresses = unique.filter((ip) => !denied(ip)).sort();
            return { addresses, denied: unique.length - addresses.length };
        }, (err) => ({ error: err.code ?? err.message }))
            .then((next) => {
            inflight.delete(name);
            if (inflight.size === 0)
                for (const done of idle.splice(0))
                    done();
            if (closed || !wanted.has(name))
                return;
            const failures = 'error' in next ? (due.get(name)?.failures ?? 0) + 1 : 0;
            due.set(name, { at: Date.now() + (failures === 0 ? refreshMs : Math.min(retryMs * 2 ** (failures - 1), refreshMs)), failures });
            const prev = states.get(name);
            if (prev !== undefined && 'addresses' in prev && 'error' in next) {
                o.log.warn({ name, err: next.error }, 'ExternalName lookup failed; keeping its last addresses');
                return;
            }
            if (sameState(prev, next))
                return;
            states.set(name, next);
            o.log.info({ name, ...next }, 'ExternalName resolved');
            o.onChange();
        })
            .catch((err) => o.log.error({ name, err: err.message }, 'ExternalName update failed'));
    }
    const timer = setInterval(() => {
        const now = Date.now();
        for (const name of wanted)
            if ((due.get(name)?.at ?? 0) <= now)
                refresh(name);
    }, retryMs);
    timer.unref();
    return {
        allow: true,
        lookup: (name) => states.get(name),
        want(names) {
            wanted = names;
            for (const name of states.keys())
                if (!names.has(name))
                    states.delete(name);
            for (const name of due.keys())
                if (!names.has(name))
                    due.delete(name);
            for (const name of names)
                if (!states.has(name))
                    refresh(name);
        },
        settle(timeoutMs) {
            if (inflight.size === 0)
                return Promise.resolve(false);
            return new Promise((resolve) => {
                const t = setTimeout(() => {
                    idle = idle.filter((d) => d !== done);
                    resolve(true);
                }, timeoutMs);
                const done = () => {
                    clearTimeout(t);
                    resolve(true);
                };
                idle.push(done);
            });
        },
        close() {
            closed = true;
            clearInterval(timer);
            for (const done of idle.splice(0))
                done();
        },
    };
}
//# sourceMappingURL=externalnames.js.map