/**
 * Memory under sustained load: idle RSS, then wrk at c=200 for --seconds (default 60; the issue's
 * soak is 300), sampling RSS every 5 s from /metrics. Prints idle, peak, the ratio, and the growth
 * between the first and last fifths of the run.
 * `npm run bench:soak [-- --seconds 300]`
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { get } from '../e2e/lib/http.js';
import { sleep } from '../e2e/lib/load.js';
import { ingressYaml, join, serviceYaml } from '../e2e/lib/manifests.js';
import { startPortico } from '../e2e/lib/portico.js';
import { LOAD_CORE, need, startNginxBackend } from './lib.js';
const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf('--seconds') + 1] ?? 60) || 60;
need('wrk', 'wrk');
const backend = await startNginxBackend('127.0.60.2');
const p = await startPortico({ 'b.yaml': join(ingressYaml('b', [{ host: 'bench.test', paths: [{ path: '/', service: 'be' }] }]), serviceYaml('be', [{ ip: '127.0.60.2', port: backend.port }])) }, ['--access-log=false']);
const rss = async () => Number(/process_resident_memory_bytes (\d+)/.exec((await get(p.adminPort, '/metrics', { agent: false })).body)?.[1]) / 2 ** 20;
try {
    await sleep(2000);
    const idle = await rss();
    const wrk = spawn('taskset', ['-c', LOAD_CORE, 'wrk', '-t1', '-c200', `-d${SECONDS}s`, '-H', 'Host: bench.test', `http://127.0.0.1:${p.httpPort}/`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = once(wrk, 'exit'); // attached now: wrk may finish before the sampling loop does
    let out = '';
    wrk.stdout.on('data', (d) => (out += d));
    const samples = [];
    const t0 = Date.now();
    while (Date.now() - t0 < SECONDS * 1000) {
        await sleep(5000);
        samples.push(await rss());
    }
    await exited;
    const fifth = Math.max(1, Math.floor(samples.length / 5));
    const avg = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = avg(samples.slice(0, fifth));
    const last = avg(samples.slice(-fifth));
    const peak = Math.max(...samples);
    console.log(`wrk: ${/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? '?'} requests/s over ${SECONDS} s at c=200`);
    console.log(`RSS idle ${idle.toFixed(0)} MiB, peak under load ${peak.toFixed(0)} MiB (${(peak / idle).toFixed(2)}x idle; target <= 1.5x)`);
    console.log(`RSS first fifth ${first.toFixed(0)} MiB, last fifth ${last.toFixed(0)} MiB (growth ${(((last - first) / first) * 100).toFixed(1)}%)`);
    console.log(`samples (MiB, every 5 s): ${samples.map((s) => s.toFixed(0)).join(' ')}`);
}
finally {
    await p.stop();
    await backend.stop();
}
//# sourceMappingURL=soak.js.map