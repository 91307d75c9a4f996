/** A plain HTTP/1.1 client for tests, on its own keep-alive agent. */
import { Agent, request } from 'node:http';
export const agent = new Agent({ keepAlive: true, maxSockets: 64 });
export function get(port, path, opts = {}) {
    return new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', agent: opts.agent ?? agent, headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers }, setHost: opts.host === undefined }, (res) => {
            const chunks = [];
            res.on('data', (c) => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks).toString() }));
            res.on('error', reject);
        });
        req.on('error', reject);
        req.end(opts.body);
    });
}
//# sourceMappingURL=http.js.map