/**
 * `npm start`: demo "pods" on loopback addresses plus Portico in standalone mode on
 * examples/manifests. Extra arguments are passed to Portico (e.g. `npm start -- --http-port 9090`).
 * Ctrl-C stops at once: the demo's grace period is 0 (no load balancer needs to notice).
 * PORTICO_DEMO_PODS=127.0.x moves the pods to 127.0.x.1-5 (tests; the example manifests' endpoints stay on 127.0.10.x).
 */
import { createServer } from 'node:http';
import { join } from 'node:path';
import { ConfigError, parseArgs } from '../src/config.js';
import { exitOnSignals, run } from '../src/main.js';
import { repoRoot } from '../src/paths.js';
const NET = process.env.PORTICO_DEMO_PODS ?? '127.0.10';
const PODS = [
    { ip: `${NET}.1`, name: 'web-7d9f8-a1' },
    { ip: `${NET}.2`, name: 'web-7d9f8-b2' },
    { ip: `${NET}.3`, name: 'api-5c6b4-c3' },
    { ip: `${NET}.4`, name: 'blog-66f7d-d4' },
    { ip: `${NET}.5`, name: 'fallback-0-e5' },
];
const POD_PORT = 18080;
/** A pod that echoes what it received, so you can see what Portico forwarded. */
function startPod(ip, name) {
    const server = createServer((req, res) => {
        const body = JSON.stringify({ pod: name, method: req.method, url: req.url, headers: req.headers }, null, 2) + '\n';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
    });
    return new Promise((resolve, reject) => {
        server.once('error', (err) => reject(new Error(`demo pod ${name} cannot listen on ${ip}:${POD_PORT}: ${err.message}`)));
        server.listen(POD_PORT, ip, () => resolve());
    });
}
try {
    const cmd = parseArgs(['--manifests', join(repoRoot, 'examples/manifests'), '--bind-address', '127.0.0.1', '--shutdown-grace-period', '0s', ...process.argv.slice(2)]);
    if (cmd.kind !== 'run')
        throw new ConfigError('npm start only runs the demo; use the portico command for --help');
    await Promise.all(PODS.map((p) => startPod(p.ip, p.name)));
    const p = await run(cmd.config);
    const base = `http://127.0.0.1:${p.httpPort}`;
    process.stderr.write([
        '',
        `Portico is serving examples/manifests on ${base} and https://127.0.0.1:${p.httpsPort} (admin on http://127.0.0.1:${p.adminPort}).`,
        'Try:',
        `  curl -H 'Host: shop.example.com' ${base}/            # web, round-robin over two pods`,
        `  curl -H 'Host: shop.example.com' ${base}/api/orders  # api (Prefix /api)`,
        `  curl -H 'Host: shop.example.com' ${base}/apiary      # web: Prefix /api does not match /apiary`,
        `  curl -H 'Host: shop.example.com' ${base}/healthz     # api (Exact)`,
        `  curl -H 'Host: me.blog.example.com' ${base}/         # blog (wildcard host)`,
        `  curl -H 'Host: unknown.example.com' ${base}/         # the catch-all default backend`,
        `  curl -k --http2 --resolve shop.example.com:${p.httpsPort}:127.0.0.1 https://shop.example.com:${p.httpsPort}/  # HTTP/2 over TLS (default certificate)`,
        `  curl http://127.0.0.1:${p.adminPort}/debug/routes    # the live routing table`,
        'Edit a file in examples/manifests and the change is live at once. Ctrl-C stops.',
        '',
    ].join('\n') + '\n');
    exitOnSignals(p);
}
catch (err) {
    process.stderr.write(`portico demo: ${err.message}\n`);
    process.exit(err instanceof ConfigError ? 2 : 1);
}
//# sourceMappingURL=start.js.map