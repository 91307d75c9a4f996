/**
 * The minimal Node proxies of issue #7's reference table, run by `npm run bench` on the same
 * layout as Portico so their ratios come from the same run: no routing, metrics or logs, one
 * backend, response headers copied. `node dist/bench/reference.js MODE PORT BACKEND_IP BACKEND_PORT`
 * with MODE one of undici-stream, undici-request, http-request, http-proxy, or raw-socket: a
 * forwarder over pooled raw sockets that parses only Content-Length responses, the ceiling a Node
 * HTTP server can reach with the cheapest possible upstream side (the evidence for upstream.ts);
 * or raw-both: the same upstream side behind a raw `net` server that reads only bodiless request
 * heads, the ceiling with no Node HTTP machinery on either side (what a lean client side could gain).
 */
import { Agent, createServer, request } from 'node:http';
import { connect, createServer as createNetServer } from 'node:net';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';
const [mode, port, ip, bePort] = process.argv.slice(2);
const origin = `http://${ip}:${bePort}`;
const HOP = ['connection', 'keep-alive', 'transfer-encoding'];
const strip = (h) => {
    const out = {};
    for (const [k, v] of Object.entries(h))
        if (v !== undefined && !HOP.includes(k))
            out[k] = v;
    return out;
};
const idle = [];
const open = () => {
    const c = connect(Number(bePort), ip);
    c.setNoDelay(true);
    c.onBytes = () => { };
    c.on('data', (d) => c.onBytes(d));
    c.on('error', () => c.destroy());
    return c;
};
/** Sends a request head over a pooled raw socket; hands back status, headers (hop-by-hop dropped) and a Content-Length body. */
function rawUpstream(head, done) {
    const c = idle.pop() ?? open();
    let buf = null;
    c.onBytes = (d) => {
        buf = buf === null ? d : Buffer.concat([buf, d]);
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0)
            return;
        const lines = buf.toString('latin1', 0, end).split('\r\n');
        const out = [];
        let length = 0;
        for (const line of lines.slice(1)) {
            const k = line.indexOf(':');
            const name = line.slice(0, k);
            const lower = name.toLowerCase();
            if (lower === 'content-length')
                length = Number(line.slice(k + 1));
            if (lower !== 'connection' && lower !== 'keep-alive')
                out.push(name, line.slice(k + 1).trim());
        }
        if (buf.length < end + 4 + length)
            return;
        c.onBytes = () => { };
        idle.push(c);
        done(Number(lines[0].slice(9, 12)), out, buf.subarray(end + 4, end + 4 + length));
    };
    c.write(head);
}
/** raw-both: request heads read straight off the client socket (GET only, pipelining kept in order by one-at-a-time). */
function rawClient(client) {
    let pending = null;
    let busy = false;
    const next = () => {
        if (busy || pending === null)
            return;
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0)
            return;
        const lines = pending.toString('latin1', 0, end).split('\r\n');
        pending = pending.length === end + 4 ? null : pending.subarray(end + 4);
        let head = `${lines[0]}\r\n`;
        for (const line of lines.slice(1)) {
            const lower = line.slice(0, line.indexOf(':')).toLowerCase();
            if (lower !== 'connection' && lower !== 'keep-alive')
                head += `${line}\r\n`;
        }
        busy = true;
        rawUpstream(`${head}\r\n`, (status, headers, body) => {
            let out = `HTTP/1.1 ${status} OK\r\n`;
            for (let i = 0; i < headers.length; i += 2)
                out += `${headers[i]}: ${headers[i + 1]}\r\n`;
            client.write(Buffer.concat([Buffer.from(`${out}\r\n`, 'latin1'), body]));
            busy = false;
            next();
        });
    };
    client.on('data', (d) => {
        pending = pending === null ? d : Buffer.concat([pending, d]);
        next();
    });
    client.on('error', () => client.destroy());
}
let handler;
switch (mode) {
    case 'undici-stream': {
        const pool = new Pool(origin, { connections: null, pipelining: 1 });
        handler = (req, res) => {
            pool
                .stream({ path: req.url ?? '/', method: 'GET', headers: req.headers }, ({ statusCode, headers }) => {
                res.writeHead(statusCode, strip(headers));
                return res;
            })
                .catch(() => res.destroy());
        };
        break;
    }
    case 'undici-request': {
        const pool = new Pool(origin, { connections: null, pipelining: 1 });
        handler = (req, res) => {
            pool
                .request({ path: req.url ?? '/', method: 'GET', headers: req.headers })
                .then(({ statusCode, headers, body }) => {
                res.writeHead(statusCode, strip(headers));
                body.pipe(res);
            })
                .catch(() => res.destroy());
        };
        break;
    }
    case 'http-request': {
        const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
        handler = (req, res) => {
            const up = request({ host: ip, port: Number(bePort), path: req.url, method: req.method, headers: req.headers, agent }, (r) => {
                res.writeHead(r.statusCode ?? 502, strip(r.headers));
                r.pipe(res);
            });
            up.on('error', () => res.destroy());
            req.pipe(up);
        };
        break;
    }
    case 'http-proxy': {
        const proxy = httpProxy.createProxyServer({ target: origin, agent: new Agent({ keepAlive: true, maxSockets: Infinity }) });
        proxy.on('error', (_err, _req, res) => void res.destroy());
        handler = (req, res) => proxy.web(req, res);
        break;
    }
    case 'raw-socket': {
        handler = (req, res) => {
            let head = `${req.method} ${req.url} HTTP/1.1\r\n`;
            for (let i = 0; i < req.rawHeaders.length; i += 2)
                head += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
            rawUpstream(`${head}\r\n`, (status, headers, body) => {
                res.writeHead(status, headers);
                res.end(body);
            });
        };
        break;
    }
    case 'raw-both':
        break;
    default:
        console.error(`unknown mode ${mode}`);
        process.exit(2);
}
if (mode === 'raw-both')
    createNetServer({ noDelay: true }, rawClient).listen(Number(port), '127.0.0.1', () => console.log('listening'));
else
    createServer(handler).listen(Number(port), '127.0.0.1', () => console.log('listening'));
//# sourceMappingURL=reference.js.map