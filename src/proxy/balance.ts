/**
 * Round-robin endpoint choice. Counters are keyed by backend id, so they survive table swaps.
 * Ejected endpoints (passive health) are skipped unless every endpoint is ejected: then all are
 * used, since a guess beats a certain 503.
 */
import type { Endpoint } from '../model/types.js';
import { endpointKey } from './pools.js';

export interface Balancer {
  /** The next healthy endpoint of a backend (its id, its live endpoints), skipping `avoid` when another one exists. */
  pick(id: string, eps: readonly Endpoint[], avoid?: Endpoint): Endpoint | undefined;
}

export function createBalancer(ejected: (endpoint: string) => boolean = () => false): Balancer {
  const next = new Map<string, number>();
  return {
    pick(id, eps, avoid) {
      const n = eps.length;
      if (n === 0) return undefined;
      let start = next.get(id) ?? 0;
      if (start >= n) start = 0;
      let fallback: number = -1;
      for (let k = 0; k < n; k++) {
        const i = start + k < n ? start + k : start + k - n;
        const ep = eps[i] as Endpoint;
        const isAvoided = avoid !== undefined && n > 1 && ep.ip === avoid.ip && ep.port === avoid.port;
        if (isAvoided || ejected(endpointKey(ep.ip, ep.port))) {
          if (fallback < 0 && !isAvoided) fallback = i;
          continue;
        }
        next.set(id, i + 1);
        return ep;
      }
      // Everything is ejected or avoided: fall back to plain round-robin over all endpoints.
      const i = fallback >= 0 ? fallback : start;
      next.set(id, i + 1);
      return eps[i] as Endpoint;
    },
  };
}
