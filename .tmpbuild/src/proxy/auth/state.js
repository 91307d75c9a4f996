/**
 * What authentication keeps across table swaps, one per data plane: the hash-verification
 * workers, verified credentials (by a digest of the Authorization header and the user list, never
 * the password), external-auth decisions, and the connection pools to auth services.
 */
import { Agent } from 'undici';
import { createTtlCache } from './cache.js';
import { createHashPool } from './pool.js';
export function createAuthState(o = {}) {
    let pool = null;
    const agents = new Map();
    return {
        hashes() {
            return (pool ??= createHashPool({ ...(o.workers !== undefined ? { size: o.workers } : {}), ...(o.queue !== undefined ? { queue: o.queue } : {}) }));
        },
        credentials: createTtlCache(o.maxEntries ?? 10_000),
        decisions: createTtlCache(o.maxEntries ?? 10_000),
        credentialTtl: o.credentialTtl ?? 30_000,
        agent(connectTimeout) {
            let a = agents.get(connectTimeout);
            if (a === undefined)
                agents.set(connectTimeout, (a = new Agent({ connect: { timeout: connectTimeout }, keepAliveTimeout: 30_000, connections: 64 })));
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
let fallback = null;
/** For compiles without a data plane's state (unit tests, benchmarks): one shared state. */
export const defaultAuthState = () => (fallback ??= createAuthState());
//# sourceMappingURL=state.js.map