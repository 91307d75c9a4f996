/** Round-robin endpoint choice. Counters are keyed by backend id, so they survive table swaps. */
import type { Backend, Endpoint } from '../model/types.js';

export interface Balancer {
  /** The next endpoint of a backend, skipping `avoid` when another one exists. */
  pick(backend: Backend, avoid?: Endpoint): Endpoint | undefined;
}

export function createBalancer(): Balancer {
  const next = new Map<string, number>();
  return {
    pick(backend, avoid) {
      const eps = backend.endpoints;
      const n = eps.length;
      if (n === 0) return undefined;
      let i = next.get(backend.id) ?? 0;
      if (i >= n) i = 0;
      let ep = eps[i] as Endpoint;
      if (avoid !== undefined && n > 1 && ep.ip === avoid.ip && ep.port === avoid.port) {
        i = i + 1 === n ? 0 : i + 1;
        ep = eps[i] as Endpoint;
      }
      next.set(backend.id, i + 1);
      return ep;
    },
  };
}
