/**
 * Raw sockets for hostile-input tests: a client that sends exact bytes and reads until the server
 * closes, and "pods" that record every byte they receive on every connection.
 */
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
/** Sends raw bytes on a fresh connection; resolves with everything received until the server closes (or `waitMs`). */
export function raw(port, bytes, waitMs = 2000) {
    return new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => s.write(bytes));
        let text = '';
        const timer = setTimeout(() => {
            s.destroy();
            resolve({ text, closed: false });
        }, waitMs);
        s.on('data', (d) => (text += d.toString('latin1')));
        s.on('close', () => {
            clearTimeout(timer);
            resolve({ text, closed: true });
        });
        s.on('error', () => undefined);
    });
}
/** Status lines in a byte stream of responses: how many responses a client read. */
export const statusLines = (text) => text.match(/HTTP\/1\.[01] \d{3}[^\r\n]*/g) ?? [];
/**
 * A pod that records the raw bytes of every connection and answers each request through Node's
 * HTTP server with `answer` (default: 200 with a short body naming the target). It has no
 * `upgrade` listener, so an Upgrade request is answered like any other request (as a pod that
 * ignores Upgrade does).
 */
export async function startRawPod(ip, answer) {
    const connections = [];
    const requests = [];
    const sockets = new Set();
    const server = createHttpServer((req, res) => {
        requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
        req.resume();
        req.on('end', () => {
            if (answer)
                return answer(req, res);
            const body = `pod ${ip} saw ${req.method} ${req.url}\n`;
            res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
            res.end(body);
        });
    });
    server.on('connection', (s) => {
        const i = connections.push('') - 1;
        sockets.add(s);
        s.on('data', (d) => (connections[i] += d.toString('latin1')));
        s.on('close', () => sockets.delete(s));
    });
    return listen(server, ip, sockets, { connections, requests });
}
/**
 * A pod that answers with exact bytes: `script` gets each request head as text (up to the blank
 * line) and returns what to write, or null to close the connection. Records raw bytes too.
 */
export async function startScriptedPod(ip, script) {
    const connections = [];
    const requests = [];
    const sockets = new Set();
    const server = createServer((s) => {
        const i = connections.push('') - 1;
        sockets.add(s);
        let buf = '';
        s.on('data', (d) => {
            connections[i] += d.toString('latin1');
            buf += d.toString('latin1');
            for (let end = buf.indexOf('\r\n\r\n'); end !== -1; end = buf.indexOf('\r\n\r\n')) {
                const head = buf.slice(0, end);
                buf = buf.slice(end + 4);
                const [method = '', url = ''] = head.split(' ');
                requests.push({ method, url, headers: {} });
                const out = script(head, s);
                if (out === null)
                    s.end();
                else
                    s.write(out);
            }
        });
        s.on('error', () => undefined);
        s.on('close', () => sockets.delete(s));
    });
    return listen(server, ip, sockets, { connections, requests });
}
async function listen(server, ip, sockets, rec) {
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, ip, () => resolve());
    });
    return {
        ip,
        port: server.address().port,
        ...rec,
        all: () => rec.connections.join(''),
        close: () => new Promise((r) => {
            for (const s of sockets)
                s.destroy();
            server.close(() => r());
        }),
    };
}
//# sourceMappingURL=raw.js.map