/**
 * The minimal Node proxies of issue #7's reference table, run by `npm run bench` on the same
 * layout as Portico so their ratios come from the same run: no routing, metrics or logs, one
 * backend, response headers copied. `node dist/bench/reference.js MODE PORT BACKEND_IP BACKEND_PORT`
 * with MODE one of undici-stream, undici-request, http-request, http-proxy.
 */
import { Agent, createServer, request, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import httpProxy from 'http-proxy';
import { Pool } from 'undici';

const [mode, port, ip, bePort] = process.argv.slice(2) as [string, string, string, string];
const origin = `http://${ip}:${bePort}`;
const HOP = ['connection', 'keep-alive', 'transfer-encoding'];
const strip = (h: IncomingHttpHeaders | Record<string, string | string[] | undefined>): OutgoingHttpHeaders => {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.includes(k)) out[k] = v;
  return out;
};

let handler: Parameters<typeof createServer>[1];
switch (mode) {
  case 'undici-stream': {
    const pool = new Pool(origin, { connections: null, pipelining: 1 });
    handler = (req, res) => {
      pool
        .stream({ path: req.url ?? '/', method: 'GET', headers: req.headers as Record<string, string> }, ({ statusCode, headers }) => {
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
        .request({ path: req.url ?? '/', method: 'GET', headers: req.headers as Record<string, string> })
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
    proxy.on('error', (_err, _req, res) => void (res as { destroy(): void }).destroy());
    handler = (req, res) => proxy.web(req, res);
    break;
  }
  default:
    console.error(`unknown mode ${mode}`);
    process.exit(2);
}
createServer(handler).listen(Number(port), '127.0.0.1', () => console.log('listening'));
