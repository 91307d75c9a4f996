/**
 * ewma: the "power of two choices" over a per-endpoint exponentially weighted moving average of
 * response time, as ingress-nginx's Lua balancer (after Finagle's PeakEwma): two endpoints are
 * drawn at random among those not ejected and not just failed, and the lower score wins. A score
 * is the average decayed towards 0 with the time since it was last touched (10 s decay), so an
 * endpoint idle for a while gets tried again. Endpoints that join start at the mean of the others
 * (a slow start), endpoints that leave are forgotten. State is per backend id: it outlives table
 * swaps, and the clock is injected for tests.
 */
import type { Endpoint } from '../model/types.js';
import { endpointKey } from './pools.js';

/** Seconds over which a score decays by a factor e (ingress-nginx DECAY_TIME). */
const DECAY_MS = 10_000;

interface Score {
  ewma: number;
  at: number;
}

export interface Ewma {
  /** The better of two random usable endpoints (any endpoint when none is usable). */
  pick(eps: readonly Endpoint[], usable: (ep: Endpoint) => boolean): Endpoint | undefined;
  /** Folds one response time (ms, connect included) into the endpoint's average. */
  observe(ep: Endpoint, ms: number): void;
  /** The current score of an endpoint (for tests and /debug). */
  score(ep: Endpoint): number;
}

/** The ewma state of one backend. */
export function createEwma(now: () => number = performance.now.bind(performance), random: () => number = Math.random): Ewma {
  const scores = new Map<string, Score>();
  let known: readonly Endpoint[] | null = null;

  const decayed = (s: Score | undefined, t: number): number => (s === undefined ? 0 : s.ewma * Math.exp(-Math.max(0, t - s.at) / DECAY_MS));

  /** A new endpoint list: forget the gone, start the new at the mean of the known (ingress-nginx's slow start). */
  const sync = (eps: readonly Endpoint[]): void => {
    known = eps;
    const live = new Set<string>();
    for (const e of eps) live.add(endpointKey(e.ip, e.port));
    let sum = 0;
    let n = 0;
    for (const [k, s] of scores) {
      if (!live.has(k)) scores.delete(k);
      else {
        sum += s.ewma;
        n++;
      }
    }
    if (n === 0) return;
    const t = now();
    for (const k of live) if (!scores.has(k)) scores.set(k, { ewma: sum / n, at: t });
  };

  return {
    pick(eps, usable) {
      if (eps !== known) sync(eps);
      const n = eps.length;
      if (n <= 1) return eps[0];
      // two distinct random usable endpoints, without building a list when most are usable
      let a: Endpoint | undefined;
      let b: Endpoint | undefined;
      for (let tries = 0; tries < 8 && b === undefined; tries++) {
        const e = eps[Math.floor(random() * n)] as Endpoint;
        if (!usable(e) || e === a) continue;
        if (a === undefined) a = e;
        else b = e;
      }
      if (a === undefined || b === undefined) {
        // few usable endpoints: draw from the usable ones
        const ok = eps.filter(usable);
        if (ok.length === 0) return eps[Math.floor(random() * n)];
        if (ok.length === 1) return ok[0];
        const i = Math.floor(random() * ok.length);
        let j = Math.floor(random() * (ok.length - 1));
        if (j >= i) j++;
        a = ok[i] as Endpoint;
        b = ok[j] as Endpoint;
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
