/**
 * The cost of recording metrics: Portico with --enable-metrics on vs off (access log off in both),
 * same backend, same run, alternating, medians. `npm run bench:metrics [-- --runs 5 --seconds 10]`.
 */
import { benchArgs, median, spread, startNginxBackend, startPortico, wrk } from './lib.js';
const { runs, seconds, connections } = benchArgs({ runs: 3, seconds: 5, connections: [50] });
const backend = await startNginxBackend('127.0.60.1');
const be = { ip: '127.0.60.1', port: backend.port };
try {
    for (const c of connections) {
        const on = [];
        const off = [];
        const p99on = [];
        const p99off = [];
        for (let i = 0; i < runs; i++) {
            for (const [metrics, rps, p99] of [['true', on, p99on], ['false', off, p99off]]) {
                const p = await startPortico(be, ['--access-log=false', `--enable-metrics=${metrics}`]);
                wrk(p.port, { connections: c, seconds: 1 }); // warm-up: JIT and upstream pool
                const r = wrk(p.port, { connections: c, seconds });
                await p.stop();
                if (r.errors > 0)
                    throw new Error(`${r.errors} errors with metrics=${metrics}`);
                rps.push(r.rps);
                p99.push(r.p99ms);
            }
        }
        console.log(`c=${c} metrics on : ${median(on).toFixed(0)} req/s ${spread(on)}  p99 ${median(p99on).toFixed(2)} ms`);
        console.log(`c=${c} metrics off: ${median(off).toFixed(0)} req/s ${spread(off)}  p99 ${median(p99off).toFixed(2)} ms`);
        console.log(`c=${c} metrics on/off ${(median(on) / median(off)).toFixed(3)} (cost ${((1 - median(on) / median(off)) * 100).toFixed(1)}%)`);
    }
}
finally {
    await backend.stop();
}
//# sourceMappingURL=metrics-cost.js.map