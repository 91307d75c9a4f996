/**
 * Why the router is not find-my-way, measured. One find-my-way router with host constraints cannot
 * hold more than 31 hosts on the same path (its handler-per-node limit), so the comparison uses one
 * find-my-way router per host (a Prefix registered as `p` and `p/*`) against Portico's matcher, on
 * the same N hosts x 5 Prefix paths, 1,000,000 lookups each. find-my-way also cannot express
 * Ingress precedence on its own (see src/router/compile.ts). `npm run bench:router [-- --hosts 2000]`
 */
import { performance } from 'node:perf_hooks';
import FindMyWay from 'find-my-way';
import { translate } from '../src/model/translate.js';
import { compile } from '../src/router/compile.js';
import { match } from '../src/router/match.js';
import { snapshotOf } from '../src/control/store.js';
const args = process.argv.slice(2);
const HOSTS = Number(args[args.indexOf('--hosts') + 1] ?? 2000) || 2000;
const PATHS = ['/', '/api', '/api/v1', '/static', '/login'];
// The single-router shape, to show where it stops.
let limit = 'no limit hit';
const single = FindMyWay();
try {
    for (let h = 0; h < HOSTS; h++)
        single.on('GET', '/api', { constraints: { host: `h${h}.test` } }, () => h);
}
catch (err) {
    limit = err.message;
}
const objs = [];
const routers = new Map();
for (let h = 0; h < HOSTS; h++) {
    const host = `h${h}.test`;
    objs.push({
        kind: 'Ingress',
        metadata: { name: `i${h}`, namespace: 'default' },
        spec: { ingressClassName: 'portico', rules: [{ host, http: { paths: PATHS.map((path) => ({ path, pathType: 'Prefix', backend: { service: { name: 's', port: { number: 80 } } } })) } }] },
    });
    const r = FindMyWay();
    routers.set(host, r);
    for (const p of PATHS) {
        const handler = () => `${host}${p}`;
        r.on('GET', p, handler);
        r.on('GET', p === '/' ? '/*' : `${p}/*`, handler);
    }
}
const m = compile(translate(snapshotOf(objs), { controllerClass: 'x', ingressClass: 'portico', watchWithoutClass: false }).table, (route) => route);
const reqs = Array.from({ length: 1000 }, (_, k) => [`h${(k * 7919) % HOSTS}.test`, ['/api/v1/users/42', '/static/app.js', '/login', '/x/y', '/api'][k % 5]]);
function time(fn) {
    for (let r = 0; r < 50; r++)
        for (const [h, p] of reqs)
            fn(h, p);
    const t0 = performance.now();
    for (let r = 0; r < 1000; r++)
        for (const [h, p] of reqs)
            fn(h, p);
    return ((performance.now() - t0) * 1e6) / (1000 * reqs.length);
}
// sanity: both find a route for every request
for (const [h, p] of reqs) {
    if (!match(m, h, p) || !routers.get(h)?.find('GET', p))
        throw new Error(`no route for ${h}${p}`);
}
const ours = time((h, p) => match(m, h, p));
const theirs = time((h, p) => routers.get(h)?.find('GET', p));
console.log(`one find-my-way router with ${HOSTS} host constraints on one path: ${limit}`);
console.log(`${HOSTS} hosts x ${PATHS.length} Prefix paths, 1,000,000 lookups each:`);
console.log(`portico matcher ${ours.toFixed(0)} ns/lookup; find-my-way (one router per host) ${theirs.toFixed(0)} ns/lookup (ratio ${(theirs / ours).toFixed(2)})`);
//# sourceMappingURL=router.js.map