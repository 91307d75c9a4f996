/**
 * Propagation latency in Kubernetes mode: the real portico process watches the API-server double
 * with N Ingresses loaded; each change (an EndpointSlice moving to another pod, or a new Ingress)
 * is timed from the API write to the first request served by the new backend.
 * `npm run bench:propagation [-- --ingresses 10000 --changes 100]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startApiDouble } from '../e2e/apiserver/double.js';
import { get } from '../e2e/lib/http.js';
import { ingress, service, slice } from '../e2e/lib/objects.js';
import { startPod } from '../e2e/lib/pods.js';
import { startPortico } from '../e2e/lib/portico.js';
const args = process.argv.slice(2);
const arg = (k, d) => Number(args[args.indexOf(`--${k}`) + 1] ?? d) || d;
const N = arg('ingresses', 1000);
const CHANGES = arg('changes', 50);
const pct = (xs, q) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
const api = await startApiDouble({ bookmarkMs: 60_000 });
const a = await startPod('127.0.90.1', 'pod-a');
const b = await startPod('127.0.90.2', 'pod-b');
for (let i = 0; i < N; i++) {
    if (i % 5 === 0) {
        api.apply(service(`svc-${i / 5}`));
        api.apply(slice(`svc-${i / 5}-1`, `svc-${i / 5}`, i === 0 ? [a] : [{ ip: `10.1.${(i >> 8) & 255}.${i & 255}`, port: 8080 }]));
    }
    api.apply(ingress(`ing-${i}`, `h${i}.bench.test`, `svc-${Math.floor(i / 5)}`));
}
const dir = mkdtempSync(join(tmpdir(), 'bench-prop-'));
const t0 = performance.now();
const p = await startPortico(null, ['--kubeconfig', api.kubeconfig(join(dir, 'kubeconfig')), '--access-log=false', '--update-status=false', '--log-level', 'info'], { env: { POD_NAME: 'bench', POD_NAMESPACE: 'default' } });
const coldStart = performance.now() - t0;
const podOf = async (host) => {
    const r = await get(p.httpPort, '/', { host });
    return r.status === 200 ? JSON.parse(r.body).pod : String(r.status);
};
try {
    const slices = [];
    for (let i = 0; i < CHANGES; i++) {
        const next = i % 2 === 0 ? b : a;
        const start = performance.now();
        api.apply(slice('svc-0-1', 'svc-0', [next]));
        while ((await podOf('h0.bench.test')) !== next.name) {
            if (performance.now() - start > 10_000)
                throw new Error('change not seen in 10 s');
        }
        slices.push(performance.now() - start);
    }
    const ingresses = [];
    for (let i = 0; i < CHANGES; i++) {
        const host = `new-${i}.bench.test`;
        const start = performance.now();
        api.apply(ingress(`new-${i}`, host, 'svc-0'));
        while ((await podOf(host)) === '404') {
            if (performance.now() - start > 10_000)
                throw new Error('ingress not seen in 10 s');
        }
        ingresses.push(performance.now() - start);
    }
    const rss = /process_resident_memory_bytes (\d+)/.exec((await get(p.adminPort, '/metrics')).body)?.[1];
    const rebuild = /portico_table_last_rebuild_duration_seconds ([\d.e-]+)/.exec((await get(p.adminPort, '/metrics')).body)?.[1];
    const buckets = [...(await get(p.adminPort, '/metrics')).body.matchAll(/portico_propagation_duration_seconds_bucket\{le="([^"]+)"\} (\d+)/g)].map((m) => `<=${m[1]}s:${m[2]}`);
    console.log(`inside portico (watch event seen -> table swapped): ${buckets.join(' ')}`);
    console.log(`ingresses loaded: ${N}; cold start to ready: ${coldStart.toFixed(0)} ms; RSS ${(Number(rss) / 2 ** 20).toFixed(0)} MiB; last rebuild ${(Number(rebuild) * 1000).toFixed(1)} ms`);
    console.log(`EndpointSlice change -> served: p50 ${pct(slices, 0.5).toFixed(1)} ms, p99 ${pct(slices, 0.99).toFixed(1)} ms (${CHANGES} changes)`);
    console.log(`new Ingress -> served:          p50 ${pct(ingresses, 0.5).toFixed(1)} ms, p99 ${pct(ingresses, 0.99).toFixed(1)} ms (${CHANGES} changes)`);
}
finally {
    await p.stop();
    await api.close();
    await a.close();
    await b.close();
    rmSync(dir, { recursive: true, force: true });
}
//# sourceMappingURL=propagation.js.map