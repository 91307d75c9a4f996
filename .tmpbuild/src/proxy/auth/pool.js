/**
 * Worker threads that verify password hashes off the event loop. Started on first use (a table
 * without basic auth starts none), unref'd (they never keep the process alive), replaced when
 * one dies; a bounded queue, past which a check fails at once (the caller answers 503) rather than
 * letting a burst of wrong passwords queue without end.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
/** A caller's callback must not break the pool. */
function settle(job, r) {
    try {
        job.done(r);
    }
    catch {
        // the caller answers its own errors
    }
}
export function createHashPool(o = {}) {
    const size = o.size ?? Math.min(4, Math.max(1, availableParallelism() - 1));
    const max = o.queue ?? 1024;
    const slots = [];
    const queue = [];
    let next = 1;
    let closed = false;
    function spawn() {
        const slot = { worker: new Worker(new URL('./worker.js', import.meta.url)), busy: null };
        slot.worker.unref();
        slot.worker.on('message', (m) => {
            const job = slot.busy;
            if (job === null || job.id !== m.id)
                return;
            slot.busy = null;
            settle(job, m.ok ? 'ok' : 'mismatch');
            pump();
        });
        const lost = () => {
            const job = slot.busy;
            slot.busy = null;
            const i = slots.indexOf(slot);
            if (i !== -1)
                slots.splice(i, 1);
            if (job !== null)
                settle(job, 'error');
            if (!closed)
                pump();
        };
        slot.worker.on('error', lost);
        slot.worker.on('exit', lost);
        slots.push(slot);
        return slot;
    }
    function pump() {
        while (queue.length > 0) {
            let slot = slots.find((s) => s.busy === null);
            if (slot === undefined && slots.length < size)
                slot = spawn();
            if (slot === undefined)
                return;
            const job = queue.shift();
            slot.busy = job;
            slot.worker.postMessage({ id: job.id, hash: job.hash, password: job.password });
        }
    }
    return {
        verify(hash, password, done) {
            if (closed || queue.length >= max) {
                queueMicrotask(() => done('error'));
                return;
            }
            queue.push({ id: next++, hash, password, done });
            pump();
        },
        get pending() {
            return queue.length + slots.filter((s) => s.busy !== null).length;
        },
        async close() {
            closed = true;
            for (const j of queue.splice(0))
                settle(j, 'error');
            await Promise.all(slots.splice(0).map((s) => s.worker.terminate()));
        },
    };
}
//# sourceMappingURL=pool.js.map