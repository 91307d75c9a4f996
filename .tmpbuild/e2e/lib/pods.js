/**
 * Test "pods": HTTP servers on distinct loopback addresses (127.x.y.z, port 0) that record what
 * they receive and answer with it, or misbehave on request (see `Behaviour`).
 */
import { createServer } from 'node:http';
/** Starts a pod on `ip` (a loopback address), any free port. */
export async function startPod(ip, name = ip) {
    const seen = [];
    const sockets = new Set();
    const pod = {
        ip,
        port: 0,
        name,
        seen,
        behaviour: 'echo',
        close: () => new Promise((r) => {
            for (const s of sockets)
                s.destroy();
            server.close(() => r());
        }),
        drain: () => new Promise((r) => {
            const force = setTimeout(() => {
                for (const s of sockets)
                    s.destroy();
            }, 3000);
            server.close(() => {
                clearTimeout(force);
                r();
            });
            server.closeIdleConnections();
        }),
        kill() {
            for (const s of sockets)
                s.resetAndDestroy();
            server.close();
        },
    };
    const server = createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            const body = Buffer.concat(chunks);
            seen.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, rawHeaders: req.rawHeaders, body, httpVersion: req.httpVersion });
            switch (pod.behaviour) {
                case 'reset':
                    req.socket.destroy();
                    return;
                case 'hang':
                    return;
                case 'slow': {
                    const out = JSON.stringify({ pod: name, slow: true });
                    setTimeout(() => {
                        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
                        res.end(out);
                    }, 400);
                    return;
                }
                case 'fixed-length': {
                    const payload = Buffer.alloc(100_000, 'x');
                    res.writeHead(200, { 'content-length': payload.length, 'content-type': 'text/plain' });
                    res.end(payload);
                    return;
                }
                case 'chunked':
                    res.writeHead(200, { 'content-type': 'text/plain' });
                    res.write('part1,');
                    setTimeout(() => res.end('part2'), 20);
                    return;
                case 'hop-headers':
                    res.writeHead(200, { connection: 'keep-alive, x-hop', 'x-hop': 'secret', 'keep-alive': 'timeout=5', 'x-kept': 'yes', server: 'pod-server', 'content-length': 2 });
                    res.end('ok');
                    return;
                default: {
                    // as the Gateway API conformance echo: ?delay=<ms> delays the answer, X-Echo-Set-Header: "name:value,..." sets response headers
                    const out = JSON.stringify({ pod: name, method: req.method, url: req.url, headers: req.headers, bodyLength: body.length });
                    const extra = [];
                    for (const pair of String(req.headers['x-echo-set-header'] ?? '').split(',')) {
                        const i = pair.indexOf(':');
                        if (i > 0)
                            extra.push([pair.slice(0, i).trim(), pair.slice(i + 1).trim()]);
                    }
                    const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
                    const answer = () => {
                        if (res.destroyed)
                            return;
                        res.writeHead(200, [['content-type', 'application/json'], ['content-length', String(Buffer.byteLength(out))], ['x-pod', name], ...extra].flat());
                        res.end(out);
                    };
                    if (delay > 0)
                        setTimeout(answer, delay);
                    else
                        answer();
                }
            }
        });
    });
    server.on('connection', (s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, ip, () => resolve());
    });
    pod.port = server.address().port;
    return pod;
}
/** The pod name an echo pod put in its JSON answer. */
export const podOf = (body) => JSON.parse(body).pod;
/** A free port on `ip` that nothing listens on (bound, then released): connecting to it is refused. */
export async function refusedPort(ip) {
    const s = createServer();
    await new Promise((r) => s.listen(0, ip, () => r()));
    const port = s.address().port;
    await new Promise((r) => s.close(() => r()));
    return port;
}
//# sourceMappingURL=pods.js.map