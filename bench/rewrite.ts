/**
 * The cost of a regex route with a rewrite: Portico routing `bench.test` by a plain Prefix path vs
 * by ingress-nginx's documented rewrite (`use-regex`, path `/something(/|$)(.*)`,
 * `rewrite-target: /$2`), the same request (`/something/bench/path?x=1`) and backend, in one run,
 * alternating, medians (access log off in both). The target: the rewrite costs at most 10%.
 * `npm run bench:rewrite [-- --runs 3 --seconds 5 --connections 50]`
 */
import { benchArgs, median, spread, startNginxBackend, startPortico, wrk } from './lib.js';

const { runs, seconds, connections } = benchArgs({ runs: 3, seconds: 5, connections: [50] });
const PATH = '/something/bench/path?x=1';
const ingress = (annotations: string, path: string, pathType: string): string => `apiVersion: networking.k8s.io/v1
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
] as const;

const backend = await startNginxBackend('127.0.60.1');
const be = { ip: '127.0.60.1', port: backend.port };
try {
  for (const c of connections) {
    const rps = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    const p99 = new Map<string, number[]>(variants.map(([name]) => [name, []]));
    for (let i = 0; i < runs; i++) {
      for (const [name, yaml] of i % 2 === 0 ? variants : [...variants].reverse()) {
        const p = await startPortico(be, ['--access-log=false'], undefined, undefined, yaml);
        try {
          wrk(p.port, { connections: c, seconds: 1, path: PATH }); // warm-up: JIT and upstream pool
          const r = wrk(p.port, { connections: c, seconds, path: PATH });
          if (r.errors > 0) throw new Error(`${r.errors} errors with ${name}`);
          rps.get(name)?.push(r.rps);
          p99.get(name)?.push(r.p99ms);
        } finally {
          await p.stop();
        }
      }
    }
    for (const [name] of variants) {
      const xs = rps.get(name) as number[];
      console.log(`c=${c} ${name.padEnd(13)}: ${median(xs).toFixed(0)} req/s ${spread(xs)}  p99 ${median(p99.get(name) as number[]).toFixed(2)} ms  (runs: ${xs.map((x) => x.toFixed(0)).join(', ')})`);
    }
    const ratio = median(rps.get('regex+rewrite') as number[]) / median(rps.get('prefix') as number[]);
    console.log(`c=${c} regex+rewrite/prefix ${ratio.toFixed(3)} (cost ${((1 - ratio) * 100).toFixed(1)}%; target: at most 10%)`);
  }
} finally {
  await backend.stop();
}
