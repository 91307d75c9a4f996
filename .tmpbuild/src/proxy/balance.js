/**
 * Endpoint choice. The Balancer holds what must outlive table swaps, keyed by backend id:
 * round-robin counters, ewma scores, and the consistent-hash rings and persistent-cookie maps
 * built from a backend's endpoints (rebuilt only when its endpoints change). A route's Balancing
 * is compiled once per table into a Picker (createPicker); a route with none, under
 * `--load-balance=round_robin`, has no picker and takes the round-robin path directly.
 *
 * Passive health applies to every strategy: ejected endpoints are skipped unless every endpoint
 * is ejected (then all are used, since a guess beats a certain 503), and so is the endpoint that
 * just failed, where the strategy allows (a sticky session keeps it unless change-on-failure, as
 * in ingress-nginx).
 */
import { parseHashBy } from '../model/hash-by.js';
import { sameEndpoints } from '../model/print.js';
import { buildRing, nodeId } from './chash.js';
import { createEwma } from './ewma.js';
import { compileHashKey } from './hash-key.js';
import { endpointKey } from './pools.js';
import { backendKey, cookieWriter, persistentKey, randomKey, splitValue } from './sticky.js';
export function createBalancer(ejected = () => false) {
    const next = new Map();
    const ewmas = new Map();
    const cache = new Map();
    return {
        pick(id, eps, avoid) {
            const n = eps.length;
            if (n === 0)
                return undefined;
            let start = next.get(id) ?? 0;
            if (start >= n)
                start = 0;
            let fallback = -1;
            for (let k = 0; k < n; k++) {
                const i = start + k < n ? start + k : start + k - n;
                const ep = eps[i];
                const isAvoided = avoid !== undefined && n > 1 && ep.ip === avoid.ip && ep.port === avoid.port;
                if (isAvoided || ejected(endpointKey(ep.ip, ep.port))) {
                    if (fallback < 0 && !isAvoided)
                        fallback = i;
                    continue;
                }
                next.set(id, i + 1);
                return ep;
            }
            // Everything is ejected or avoided: fall back to plain round-robin over all endpoints.
            const i = fallback >= 0 ? fallback : start;
            next.set(id, i + 1);
            return eps[i];
        },
        ejected: (ep) => ejected(endpointKey(ep.ip, ep.port)),
        ewma(id) {
            let e = ewmas.get(id);
            if (e === undefined)
                ewmas.set(id, (e = createEwma()));
            return e;
        },
        built(id, kind, eps, build) {
            const key = `${kind} ${id}`;
            const b = cache.get(key);
            if (b !== undefined && (b.eps === eps || sameEndpoints(b.eps, eps))) {
                b.eps = eps; // the same endpoints in a new list (a table swap): keep what was built
                return b;
            }
            const fresh = { eps, value: build(eps) };
            cache.set(key, fresh);
            return fresh;
        },
        retain(ids) {
            for (const id of next.keys())
                if (!ids.has(id))
                    next.delete(id);
            for (const id of ewmas.keys())
                if (!ids.has(id))
                    ewmas.delete(id);
            for (const key of cache.keys())
                if (!ids.has(key.slice(key.indexOf(' ') + 1)))
                    cache.delete(key);
        },
    };
}
const same = (a, b) => b !== undefined && a.ip === b.ip && a.port === b.port;
const ringOf = (eps) => buildRing(eps.map((e) => nodeId(e.ip, e.port)));
/** From ring position `p`, the first node that `usable` accepts (whole turn at most); undefined when none. */
function walk(ring, p, usable) {
    let pos = p;
    let seen = 0;
    const limit = ring.size * 160 + 1;
    while (seen++ < limit) {
        const node = ring.node(pos);
        if (usable(node))
            return node;
        pos = ring.next(pos);
    }
    return undefined;
}
/** Compiles a route's balancing for one of its backends; null = plain round-robin. */
export function createPicker(b, ctx) {
    if (b?.affinity !== undefined)
        return stickyPicker(b.affinity, ctx);
    if (b?.hashBy !== undefined) {
        const parsed = parseHashBy(b.hashBy);
        if ('parts' in parsed)
            return b.hashSubsetSize !== undefined ? subsetPicker(compileHashKey(parsed.parts), b.hashSubsetSize, ctx) : hashPicker(compileHashKey(parsed.parts), ctx);
    }
    if ((b?.algorithm ?? ctx.algorithm) === 'ewma')
        return ewmaPicker(ctx);
    return null;
}
function ewmaPicker({ balancer, backend, slot }) {
    const e = balancer.ewma(backend.id);
    return {
        pick(_ex, avoid) {
            const eps = slot.endpoints;
            if (eps.length <= 1)
                return eps[0];
            return e.pick(eps, (ep) => !same(ep, avoid) && !balancer.ejected(ep));
        },
        observe: (ep, ms) => e.observe(ep, ms),
    };
}
function hashPicker(key, { balancer, backend, slot }) {
    return {
        pick(ex, avoid) {
            const eps = slot.endpoints;
            if (eps.length <= 1)
                return eps[0];
            const built = balancer.built(backend.id, 'ring', eps, ringOf);
            const ring = built.value;
            const list = built.eps;
            const p = ring.position(key(ex));
            const node = walk(ring, p, (i) => !same(list[i], avoid) && !balancer.ejected(list[i]));
            return list[node ?? ring.node(p)];
        },
    };
}
/** ingress-nginx's chashsubset: endpoints in order, in sets of `size` (the last padded from the start); the key picks a set on the ring, then a random member. */
function subsetsOf(eps, size) {
    const count = Math.ceil(eps.length / size);
    const padded = [...eps];
    for (let j = 0; padded.length < count * size; j++)
        padded.push(eps[j]);
    const sets = Array.from({ length: count }, (_, i) => padded.slice(i * size, (i + 1) * size));
    return { ring: buildRing(sets.map((_, i) => `set${i + 1}`)), sets };
}
function subsetPicker(key, size, { balancer, backend, slot }) {
    return {
        pick(ex, avoid) {
            const eps = slot.endpoints;
            if (eps.length <= 1)
                return eps[0];
            const { ring, sets } = balancer.built(backend.id, `subset${size}`, eps, (e) => subsetsOf(e, size)).value;
            const usable = (e) => !same(e, avoid) && !balancer.ejected(e);
            const p = ring.position(key(ex));
            const node = walk(ring, p, (i) => sets[i].some(usable)) ?? ring.node(p);
            const set = sets[node];
            const ok = set.filter(usable);
            const from = ok.length > 0 ? ok : set;
            return from[Math.floor(Math.random() * from.length)];
        },
    };
}
/** Up to this many fresh session keys are tried to land on a usable endpoint (ingress-nginx's MAX_UPSTREAM_CHECKS_COUNT). */
const NEW_SESSION_TRIES = 20;
function stickyPicker(a, { balancer, backend, slot, routePath }) {
    const myKey = backendKey(backend);
    const write = cookieWriter(a, routePath);
    const persistent = a.mode === 'persistent';
    /** persistent: session key -> index in the list it was built from. */
    const mapOf = (eps) => new Map(eps.map((e, i) => [persistentKey(backend, nodeId(e.ip, e.port)), i]));
    /** Sets the cookie for a new session and returns its endpoint. */
    const fresh = (ex, avoid) => {
        const eps = slot.endpoints;
        const usable = (e) => !same(e, avoid) && !balancer.ejected(e);
        let ep;
        let session = '';
        if (persistent) {
            const ok = eps.filter(usable);
            const from = ok.length > 0 ? ok : eps;
            ep = from[Math.floor(Math.random() * from.length)];
            if (ep !== undefined)
                session = persistentKey(backend, nodeId(ep.ip, ep.port));
        }
        else {
            const built = balancer.built(backend.id, 'ring', eps, ringOf);
            for (let i = 0; i < NEW_SESSION_TRIES; i++) {
                session = randomKey();
                ep = built.eps[built.value.node(built.value.position(session))];
                if (ep !== undefined && usable(ep))
                    break;
            }
        }
        if (ep !== undefined)
            ex.setAffinityCookie(write(`${session}|${myKey}`, ex.scheme === 'https', ex.header('user-agent'), Date.now()));
        return ep;
    };
    return {
        pick(ex, avoid) {
            const eps = slot.endpoints;
            if (eps.length === 0)
                return undefined;
            const raw = ex.cookie(a.name);
            let ep;
            if (raw !== undefined) {
                const { session } = splitValue(raw);
                if (persistent) {
                    const built = balancer.built(backend.id, 'persistent', eps, mapOf);
                    const i = built.value.get(session);
                    ep = i === undefined ? undefined : built.eps[i];
                }
                else {
                    const built = balancer.built(backend.id, 'ring', eps, ringOf);
                    ep = built.eps[built.value.node(built.value.position(session))];
                }
            }
            // the cookie's endpoint, unless it is gone, ejected, or just failed with change-on-failure
            if (ep !== undefined && (!balancer.ejected(ep) || eps.every((e) => balancer.ejected(e))) && !(a.changeOnFailure === true && same(ep, avoid)))
                return ep;
            return fresh(ex, avoid);
        },
        affinitized(ex) {
            const raw = ex.cookie(a.name);
            return raw !== undefined && splitValue(raw).backend === myKey;
        },
    };
}
//# sourceMappingURL=balance.js.map