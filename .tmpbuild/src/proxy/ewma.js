import { endpointKey } from './pools.js';
/** Seconds over which a score decays by a factor e (ingress-nginx DECAY_TIME). */
const DECAY_MS = 10_000;
/** The ewma state of one backend. */
export function createEwma(now = performance.now.bind(performance), random = Math.random) {
    const scores = new Map();
    let known = null;
    const decayed = (s, t) => (s === undefined ? 0 : s.ewma * Math.exp(-Math.max(0, t - s.at) / DECAY_MS));
    /** A new endpoint list: forget the gone, start the new at the mean of the known (ingress-nginx's slow start). */
    const sync = (eps) => {
        known = eps;
        const live = new Set();
        for (const e of eps)
            live.add(endpointKey(e.ip, e.port));
        let sum = 0;
        let n = 0;
        for (const [k, s] of scores) {
            if (!live.has(k))
                scores.delete(k);
            else {
                sum += s.ewma;
                n++;
            }
        }
        if (n === 0)
            return;
        const t = now();
        for (const k of live)
            if (!scores.has(k))
                scores.set(k, { ewma: sum / n, at: t });
    };
    return {
        pick(eps, usable) {
            if (eps !== known)
                sync(eps);
            const n = eps.length;
            if (n <= 1)
                return eps[0];
            // two distinct random usable endpoints, without building a list when most are usable
            let a;
            let b;
            for (let tries = 0; tries < 8 && b === undefined; tries++) {
                const e = eps[Math.floor(random() * n)];
                if (!usable(e) || e === a)
                    continue;
                if (a === undefined)
                    a = e;
                else
                    b = e;
            }
            if (a === undefined || b === undefined) {
                // few usable endpoints: draw from the usable ones
                const ok = eps.filter(usable);
                if (ok.length === 0)
                    return eps[Math.floor(random() * n)];
                if (ok.length === 1)
                    return ok[0];
                const i = Math.floor(random() * ok.length);
                let j = Math.floor(random() * (ok.length - 1));
                if (j >= i)
                    j++;
                a = ok[i];
                b = ok[j];
            }
            const t = now();
            return decayed(scores.get(endpointKey(b.ip, b.port)), t) < decayed(scores.get(endpointKey(a.ip, a.port)), t) ? b : a;
        },
        observe(ep, ms) {
            const k = endpointKey(ep.ip, ep.port);
            const t = now();
            const s = scores.get(k);
            if (s === undefined) {
                scores.set(k, { ewma: ms, at: t });
                return;
            }
            const w = Math.exp(-Math.max(0, t - s.at) / DECAY_MS);
            s.ewma = s.ewma * w + ms * (1 - w);
            s.at = t;
        },
        score: (ep) => decayed(scores.get(endpointKey(ep.ip, ep.port)), now()),
    };
}
//# sourceMappingURL=ewma.js.map