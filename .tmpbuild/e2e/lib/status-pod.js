/**
 * A test "pod" that answers with the status it is asked for, as httpbun's /status/NNN and
 * ingress-nginx's custom-error-pages backend do: `/status/NNN` answers NNN, `/big/NNN` answers
 * NNN with a 100 kB body; `code: 'x-code'` answers the status an error request names in X-Code;
 * anything else is echoed as JSON (method, url, headers, body length) with `code` (default 200).
 * It counts the connections it accepted, so tests can see whether Portico reused them.
 */
import { createServer } from 'node:http';
export async function startStatusPod(ip, name, code = 200) {
    const sockets = new Set();
    const pod = {
        ip,
        port: 0,
        name,
        seen: [],
        connections: 0,
        code,
        close: () => new Promise((r) => {
            for (const s of sockets)
                s.destroy();
            server.close(() => r());
        }),
    };
    const server = createServer((req, res) => {
        let bodyLength = 0;
        req.on('data', (c) => (bodyLength += c.length));
        req.on('end', () => {
            const seen = { pod: name, method: req.method ?? '', url: req.url ?? '', headers: req.headers, bodyLength };
            pod.seen.push(seen);
            const m = /^\/(status|big)\/(\d{3})/.exec(req.url ?? '');
            const common = { 'x-pod': name, 'x-powered-by': 'test-framework', 'x-upstream-secret': 'hunter2' };
            if (m) {
                const body = m[1] === 'big' ? 'x'.repeat(100_000) : JSON.stringify({ pod: name, status: Number(m[2]) });
                res.writeHead(Number(m[2]), { ...common, 'content-type': m[1] === 'big' ? 'text/plain' : 'application/json', 'content-length': Buffer.byteLength(body) });
                res.end(req.method === 'HEAD' ? undefined : body);
                return;
            }
            const status = pod.code === 'x-code' ? Number(req.headers['x-code'] ?? 200) : pod.code;
            const out = JSON.stringify(seen);
            res.writeHead(status, { ...common, 'content-type': 'application/json', 'content-length': Buffer.byteLength(out) });
            res.end(req.method === 'HEAD' ? undefined : out);
        });
    });
    server.on('connection', (s) => {
        pod.connections++;
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
/** The echo a status pod answered with. */
export const echoOf = (body) => JSON.parse(body);
//# sourceMappingURL=status-pod.js.map