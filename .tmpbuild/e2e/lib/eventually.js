/** Polling for e2e tests: one helper, bounded in time, that says what it waited for. */
import { sleep } from './load.js';
/**
 * Calls `check` until it returns a truthy value, and returns that value; throws after `ms`. The
 * last value seen is in the error, so a failure says how far things got.
 */
export async function eventually(check, o = {}) {
    const ms = o.ms ?? 10_000;
    const t0 = Date.now();
    let last;
    for (;;) {
        last = await check();
        if (last)
            return last;
        if (Date.now() - t0 > ms)
            throw new Error(`${o.what ?? 'condition'} not met within ${ms} ms (last: ${JSON.stringify(last)})`);
        await sleep(o.every ?? 20);
    }
}
/** Like {@link eventually}, for a check that may throw while the system is not there yet. */
export function eventuallyOk(check, o = {}) {
    return eventually(async () => {
        try {
            return { value: await check() };
        }
        catch {
            return undefined;
        }
    }, o).then((r) => r.value);
}
//# sourceMappingURL=eventually.js.map