/**
 * The primary's side of `--workers N`: N processes (node:cluster) share the HTTP and HTTPS ports
 * and only serve; the primary keeps the control plane and the admin port. To the composition root
 * the pool is one more way of serving (the same interface as the in-process data plane): tables
 * and endpoint patches go to every worker over IPC, /metrics merges the primary's control-plane
 * series with every worker's request series, /debug/backends every worker's endpoint counts, and
 * a worker that dies is replaced and given the live table.
 */
import cluster, {} from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import { mergeViews } from '../proxy/stats.js';
/** How long the primary waits for every worker's answer; a worker that does not answer is left out. */
const ASK_TIMEOUT_MS = 5000;
export function createWorkerPool(o) {
    const { config, log } = o;
    cluster.setupPrimary({ serialization: 'advanced' });
    let stopping = false;
    const listening = new Map();
    let onListening = null;
    const pending = new Map();
    let nextId = 1;
    const send = (w, msg) => {
        if (w.isConnected())
            w.send(msg);
    };
    const all = () => Object.values(cluster.workers ?? {}).filter((w) => w !== undefined);
    const broadcast = (msg) => {
        for (const w of all())
            send(w, msg);
    };
    const fork = () => {
        const w = cluster.fork();
        w.on('message', (msg) => {
            if (msg.type === 'portico:hello') {
                // handlers are in place only now: messages sent earlier would be lost
                send(w, { type: 'portico:cert', cert: o.cert });
                send(w, { type: 'portico:table', table: o.live() });
            }
            else if (msg.type === 'portico:listening') {
                listening.set(w.id, { httpPort: msg.httpPort, httpsPort: msg.httpsPort });
                onListening?.();
            }
            else {
                const req = pending.get(msg.id);
                if (req === undefined)
                    return;
                req.parts.push(msg.type === 'portico:metrics' ? msg.metrics : msg.views);
                if (--req.left === 0)
                    req.done();
            }
        });
    };
    cluster.on('exit', (w, code, signal) => {
        listening.delete(w.id);
        if (stopping)
            return;
        log.error({ component: 'workers', worker: w.process.pid, code, signal }, 'worker exited; starting another');
        fork();
    });
    /** Asks every live worker; resolves with the answers in when all are in, or what came within ASK_TIMEOUT_MS. */
    function ask(type) {
        const alive = all().filter((w) => w.isConnected());
        return new Promise((resolve) => {
            if (alive.length === 0)
                return resolve([]);
            const id = nextId++;
            const parts = [];
            const finish = () => {
                clearTimeout(timer);
                pending.delete(id);
                resolve(parts);
            };
            const timer = setTimeout(finish, ASK_TIMEOUT_MS);
            pending.set(id, { left: alive.length, parts: parts, done: finish });
            for (const w of alive)
                send(w, { type, id });
        });
    }
    for (let i = 0; i < config.workers; i++)
        fork();
    const metrics = o.metrics;
    return {
        apply: (table) => broadcast({ type: 'portico:table', table }),
        patch: (patch) => broadcast({ type: 'portico:endpoints', patch }),
        listen: () => new Promise((resolve) => {
            const check = () => {
                if (listening.size < config.workers)
                    return;
                onListening = null;
                resolve([...listening.values()][0]);
            };
            onListening = check;
            check();
        }),
        async endpointViews() {
            const parts = await ask('portico:endpoint-views');
            return (endpoint) => mergeViews(parts.flatMap((views) => views[endpoint] ?? []));
        },
        metrics: metrics === null
            ? null
            : {
                contentType: metrics.registry.contentType,
                async text() {
                    const own = await metrics.registry.getMetricsAsJSON();
                    const parts = await ask('portico:metrics');
                    return AggregatorRegistry.aggregate([own, ...parts]).metrics();
                },
            },
        startDraining: () => broadcast({ type: 'portico:drain' }),
        close() {
            stopping = true;
            const workers = all();
            const exited = Promise.all(workers.map((w) => new Promise((r) => (w.isDead() ? r(null) : w.once('exit', r)))));
            broadcast({ type: 'portico:close' });
            return exited.then(() => undefined);
        },
    };
}
//# sourceMappingURL=pool.js.map