/**
 * The cost of a regex route with a rewrite: Portico routing `bench.test` by a plain Prefix path vs
 * by ingress-nginx's documented rewrite (`use-regex`, path `/something(/|$)(.*)`,
 * `rewrite-target: /$2`), the same request (`/something/bench/path?x=1`) and backend, in one run,
 * alternating, medians (access log off in both): requests/s, and Portico's CPU time per request
 * (steadier on a shared machine). The target: the rewrite costs at most 10%.
 * `npm run bench:rewrite [-- --runs 3 --seconds 5 --connections 50]`
 */
import { readFileSync } from 'node:fs';
import { benchArgs, median, spread, startNginxBackend, startPortico, wrk } from './lib.js';
/**
 * CPU seconds a process has used (user + system, from /proc). On a shared machine the CPU time per
 * request is the steadier measure of cost: throughput also moves with what else runs.
 */
function cpuSeconds(pid) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
}
const { runs, seconds, connections } = benchArgs({ runs: 3, seconds: 5, connections: [50] });
const PATH = '/something/bench/path?x=1';
const ingress = (annotations, path, pathType) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench, namespace: default, annotations: {${annotations}}}
spec:
  ingressClassName: portico
  rules:
  - host: bench.test
    http: {paths: [{path: "${path}", pathType: ${pathType}, backend: {service: {name: be, port: {number: 80}}}}]}
`;
const variants = [
    ['prefix', ingress('', '/something', 'Prefix')],
    ['regex+rewrite', ingress('nginx.ingress.kubernetes.io/use-regex: "true", nginx.ingress.kubernetes.io/rewrite-target: /$2', '/something(/|$)(.*)', 'ImplementationSpecific')],
];
const backend = await startNginxBackend('127.0.60.1');
const be = { ip: '127.0.60.1', port: backend.port };
try {
    for (const c of connections) {
        const rps = new Map(variants.map(([name]) => [name, []]));
        const p99 = new Map(variants.map(([name]) => [name, []]));
        const cpu = new Map(variants.map(([name]) => [name, []]));
        for (let i = 0; i < runs; i++) {
            for (const [name, yaml] of i % 2 === 0 ? variants : [...variants].reverse()) {
                const p = await startPortico(be, ['--access-log=false'], undefined, undefined, yaml);
                try {
                    wrk(p.port, { connections: c, seconds: 1, path: PATH }); // warm-up: JIT and upstream pool
                    const before = cpuSeconds(p.proc.pid);
                    const r = wrk(p.port, { connections: c, seconds, path: PATH });
                    const used = cpuSeconds(p.proc.pid) - before;
                    if (r.errors > 0)
                        throw new Error(`${r.errors} errors with ${name}`);
                    cpu.get(name)?.push((used * 1e6) / (r.rps * seconds));
                    rps.get(name)?.push(r.rps);
                    p99.get(name)?.push(r.p99ms);
                }
                finally {
                    await p.stop();
                }
            }
        }
        for (const [name] of variants) {
            const xs = rps.get(name);
            const us = cpu.get(name);
            console.log(`c=${c} ${name.padEnd(13)}: ${median(xs).toFixed(0)} req/s ${spread(xs)}  p99 ${median(p99.get(name)).toFixed(2)} ms  CPU ${median(us).toFixed(1)} µs/request ${spread(us)}  (runs: ${xs.map((x) => x.toFixed(0)).join(', ')} req/s; ${us.map((x) => x.toFixed(1)).join(', ')} µs)`);
        }
        const ratio = median(rps.get('regex+rewrite')) / median(rps.get('prefix'));
        const cpuRatio = median(cpu.get('regex+rewrite')) / median(cpu.get('prefix'));
        console.log(`c=${c} regex+rewrite/prefix: throughput ${ratio.toFixed(3)} (cost ${((1 - ratio) * 100).toFixed(1)}%), CPU per request ${cpuRatio.toFixed(3)} (cost ${((cpuRatio - 1) * 100).toFixed(1)}%); target: at most 10%`);
    }
}
finally {
    await backend.stop();
}
//# sourceMappingURL=rewrite.js.map