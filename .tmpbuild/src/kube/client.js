/**
 * Raw JSON access to the API server with the connection's TLS settings and credentials, and watch
 * streams (one JSON event per line). Raw JSON keeps objects in their wire shape (timestamps stay
 * strings), which is what the translator reads.
 */
import { request as httpsRequest } from 'node:https';
import { request as httpRequest } from 'node:http';
export class ApiError extends Error {
    status;
    reason;
    name = 'ApiError';
    constructor(status, message, reason = '') {
        super(message);
        this.status = status;
        this.reason = reason;
    }
}
const TIMEOUT_MS = 30_000;
export function createKubeClient(creds) {
    const server = creds.server;
    /** The URL, the credentials' TLS options and headers (JSON accepted), and the transport for one call. */
    const prepare = async (method, path) => {
        const opts = { method, headers: {} };
        await creds.apply(opts);
        const url = new URL(server + path);
        return { url, opts, headers: { ...opts.headers, accept: 'application/json' }, send: url.protocol === 'https:' ? httpsRequest : httpRequest };
    };
    return {
        server,
        async request(method, path, body, contentType = 'application/json') {
            const { url, opts, headers: base, send } = await prepare(method, path);
            const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
            const headers = { ...base, ...(payload ? { 'content-type': contentType, 'content-length': String(payload.length) } : {}) };
            return new Promise((resolve, reject) => {
                const req = send(url, { ...opts, headers, timeout: TIMEOUT_MS }, (res) => {
                    const chunks = [];
                    res.on('data', (c) => chunks.push(c));
                    res.on('end', () => {
                        const text = Buffer.concat(chunks).toString('utf8');
                        let json = undefined;
                        try {
                            json = text ? JSON.parse(text) : undefined;
                        }
                        catch {
                            // a non-JSON error body is reported by status below
                        }
                        const status = res.statusCode ?? 0;
                        if (status >= 200 && status < 300)
                            return resolve(json);
                        const st = json;
                        reject(new ApiError(status, `${method} ${path}: ${status} ${st?.message ?? text.slice(0, 200)}`, st?.reason ?? ''));
                    });
                    res.on('error', reject);
                });
                req.on('timeout', () => req.destroy(new ApiError(0, `${method} ${path}: timed out after ${TIMEOUT_MS} ms`)));
                req.on('error', (err) => reject(err instanceof ApiError ? err : new ApiError(0, `${method} ${path}: ${err.message}`)));
                req.end(payload);
            });
        },
        async watch(path, params, onEvent, onDone) {
            const { url, opts, headers, send } = await prepare('GET', path);
            url.searchParams.set('watch', 'true');
            for (const [k, v] of Object.entries(params))
                if (v !== undefined)
                    url.searchParams.set(k, String(v));
            let finished = false;
            const done = (err) => {
                if (finished)
                    return;
                finished = true;
                onDone(err);
            };
            const req = send(url, { ...opts, headers }, (res) => {
                const status = res.statusCode ?? 0;
                if (status !== 200) {
                    res.resume();
                    return done(new ApiError(status, `watch ${path}: ${status} ${res.statusMessage ?? ''}`.trim()));
                }
                res.setEncoding('utf8');
                let buf = '';
                res.on('data', (chunk) => {
                    buf += chunk;
                    let nl;
                    while ((nl = buf.indexOf('\n')) !== -1) {
                        const line = buf.slice(0, nl).trim();
                        buf = buf.slice(nl + 1);
                        if (line === '')
                            continue;
                        let ev;
                        try {
                            ev = JSON.parse(line);
                        }
                        catch {
                            req.destroy();
                            return done(new ApiError(0, `watch ${path}: a line that is not JSON`));
                        }
                        onEvent(String(ev.type), ev.object);
                    }
                });
                res.on('end', () => done(null));
                res.on('error', done);
            });
            req.on('error', done);
            req.end();
            return () => {
                finished = true;
                req.destroy();
            };
        },
    };
}
//# sourceMappingURL=client.js.map