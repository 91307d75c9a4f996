/**
 * What authentication keeps across table swaps, one per data plane: the hash-verification
 * workers, verified credentials (by a digest of the Authorization header and the user list, never
 * the password), external-auth decisions, and the connection pools to auth services.
 */
import type { Agent, Dispatcher } from 'undici';
import { loadUndici } from '../undici.js';
import { createTtlCache, type TtlCache } from './cache.js';
import { createHashPool, type HashPool } from './pool.js';

/** A cached external-auth answer: its status and the headers the policy uses. */
export interface Decision {
  readonly status: number;
  /** Flat name/value list, names lower-case. */
  readonly headers: readonly string[];
}

export interface AuthState {
  /** Started on first use. */
  hashes(): HashPool;
  /** Basic credentials verified recently (value: the time they were). */
  readonly credentials: TtlCache<true>;
  readonly decisions: TtlCache<Decision>;
  /** How long verified basic credentials are trusted without checking the hash again. */
  readonly credentialTtl: number;
  /** A keep-alive pool to auth services for one connect timeout. */
  agent(connectTimeout: number): Dispatcher;
  close(): Promise<void>;
}

export interface AuthStateOptions {
  readonly workers?: number;
  readonly queue?: number;
  /** ms (default 30 s). */
  readonly credentialTtl?: number;
  /** Entries of each cache (default 10,000). */
  readonly maxEntries?: number;
}

export function createAuthState(o: AuthStateOptions = {}): AuthState {
  let pool: HashPool | null = null;
  const agents = new Map<number, Agent>();
  return {
    hashes() {
      return (pool ??= createHashPool({ ...(o.workers !== undefined ? { size: o.workers } : {}), ...(o.queue !== undefined ? { queue: o.queue } : {}) }));
    },
    credentials: createTtlCache(o.maxEntries ?? 10_000),
    decisions: createTtlCache(o.maxEntries ?? 10_000),
    credentialTtl: o.credentialTtl ?? 30_000,
    agent(connectTimeout) {
      let a = agents.get(connectTimeout);
      if (a === undefined) agents.set(connectTimeout, (a = new (loadUndici().Agent)({ connect: { timeout: connectTimeout }, keepAliveTimeout: 30_000, connections: 64 })));
      return a;
    },
    async close() {
      await pool?.close();
      pool = null;
      await Promise.all([...agents.values()].map((a) => a.close()));
      agents.clear();
    },
  };
}

let fallback: AuthState | null = null;
/** For compiles without a data plane's state (unit tests, benchmarks): one shared state. */
export const defaultAuthState = (): AuthState => (fallback ??= createAuthState());
