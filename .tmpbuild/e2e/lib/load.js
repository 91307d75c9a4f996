/** A bounded closed-loop load: `concurrency` clients each sending requests until `stop()` or `maxMs`. */
import { get } from './http.js';
export function startLoad(port, path, host, opts = {}) {
    const concurrency = opts.concurrency ?? 8;
    const deadline = Date.now() + (opts.maxMs ?? 20_000);
    const byStatus = new Map();
    const bodies = new Map();
    const errors = [];
    let total = 0;
    let stopped = false;
    const worker = async () => {
        while (!stopped && Date.now() < deadline) {
            try {
                const r = await get(port, path, { host });
                byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
                const k = opts.key ? opts.key(r) : '';
                bodies.set(k, (bodies.get(k) ?? 0) + 1);
            }
            catch (err) {
                errors.push(err.message);
            }
            total++;
        }
    };
    const workers = Array.from({ length: concurrency }, worker);
    return {
        async stop() {
            stopped = true;
            await Promise.all(workers);
            return { total, byStatus, errors, bodies };
        },
    };
}
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
//# sourceMappingURL=load.js.map