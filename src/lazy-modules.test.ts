/**
 * Packages only some features need are loaded on first use, never at start-up: a process serving
 * a table without those features does not pay for them (docs/performance.md, "Memory"). undici
 * (gRPC backends, external authentication, mirror-target URLs) costs about 5 MiB of RSS loaded;
 * bcryptjs (bcrypt htpasswd hashes, checked on the auth worker threads) a little.
 * Node's own internal undici (its fetch and WebSocket) is loaded by any ES module import of
 * `node:http` on Node 22.4+ (the image's Node): Portico's modules take `node:http` from
 * src/node-http.ts, through require, and a case below reads the compiled files to keep it so.
 * Each case starts Portico in a fresh process (a test process may have loaded anything), reads
 * Node's module cache after ready, then uses the feature's entry point and reads it again.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const IP = '127.0.243.10';
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web, namespace: default }
spec:
  ingressClassName: portico
  rules:
    - host: web.test
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`;

/**
 * Runs Portico (main.ts's run, as the `portico` command does) on `dir`, then `use` (an ESM body
 * with `dist` bound to the compiled src/ folder's URL); returns whether any file of package `pkg`
 * was loaded at ready and after `use`: through import (a module hook sees each URL) or require
 * (Node's module cache).
 */
async function loadedAround(dir: string, pkg: string, use: string): Promise<{ atReady: boolean; afterUse: boolean; out: unknown }> {
  const hook = `let port; export function initialize(d) { port = d.port; } export async function load(url, context, next) { port.postMessage(url); return next(url, context); }`;
  const script = `
    import { createRequire, register } from 'node:module';
    import { MessageChannel } from 'node:worker_threads';
    const urls = [];
    const { port1, port2 } = new MessageChannel();
    port1.on('message', (u) => urls.push(u));
    port1.unref();
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hook)}), { data: { port: port2 }, transferList: [port2] });
    const dist = ${JSON.stringify(new URL('./', import.meta.url).href)};
    const { parseCommandLine } = await import(dist + 'cli/command.js');
    const { run } = await import(dist + 'main.js');
    const cmd = parseCommandLine(['--manifests', ${JSON.stringify(dir)}, '--bind-address', '${IP}', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--shutdown-grace-period', '0s', '--log-level', 'error']);
    const running = await run(cmd.config);
    const cache = createRequire(${JSON.stringify(here('./main.js'))}).cache;
    const inPkg = (s) => s.includes('/node_modules/${pkg}/');
    // the hook's messages arrive asynchronously: let them in before each look
    const loaded = async () => { await new Promise((r) => setTimeout(r, 100)); return urls.some(inPkg) || Object.keys(cache).some(inPkg); };
    const atReady = await loaded();
    const out = await (async () => { ${use} })();
    const afterUse = await loaded();
    await running.close();
    process.stderr.write(JSON.stringify({ atReady, afterUse, out }) + '\\n');
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  assert.equal(code, 0, err);
  return JSON.parse(err.trim().split('\n').at(-1)!) as { atReady: boolean; afterUse: boolean; out: unknown };
}

/** A manifests folder with one Ingress (no feature that needs any of these packages), removed after `f`. */
async function withIngress<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'lazy-modules-'));
  try {
    writeFileSync(join(dir, 'web.yaml'), INGRESS);
    return await f(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('undici is not loaded at start-up; a mirror-target agent loads it and sends a request', async () => {
  const r = await withIngress((dir) =>
    loadedAround(
      dir,
      'undici',
      `const { createServer } = await import('node:http');
       const server = createServer((req, res) => res.end('mirrored ' + req.url));
       await new Promise((r) => server.listen(0, '${IP}', r));
       const { createMirrorState } = await import(dist + 'proxy/mirror-state.js');
       const agent = createMirrorState().agent();
       const res = await agent.request({ origin: 'http://${IP}:' + server.address().port, path: '/copy', method: 'GET' });
       const body = await res.body.text();
       await agent.close();
       server.close();
       return { status: res.statusCode, body };`,
    ),
  );
  assert.equal(r.atReady, false, 'undici was loaded before any feature needed it');
  assert.equal(r.afterUse, true);
  assert.deepEqual(r.out, { status: 200, body: 'mirrored /copy' });
});

test('bcryptjs is not loaded at start-up; checking a bcrypt hash loads it', async () => {
  // "secret" at cost 4 (bcryptjs's hashSync)
  const hash = '$2b$04$wfeMDdymh29ok4eN2To7fOcWRG/gpL4GT54WRz1aQBFhxAcqx20K.';
  const r = await withIngress((dir) =>
    loadedAround(
      dir,
      'bcryptjs',
      `const { verifyHash } = await import(dist + 'proxy/auth/crypt.js');
       return [verifyHash(${JSON.stringify(hash)}, Buffer.from('secret')), verifyHash(${JSON.stringify(hash)}, Buffer.from('wrong'))];`,
    ),
  );
  assert.equal(r.atReady, false, 'bcryptjs was loaded before any feature needed it');
  assert.equal(r.afterUse, true);
  assert.deepEqual(r.out, [true, false]);
});

test("no compiled module of Portico imports node:http as an ES module (Node 22.4+ would load its internal undici)", () => {
  const root = fileURLToPath(new URL('./', import.meta.url));
  const esmHttp = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"](?:node:)?http['"]/;
  const offenders: string[] = [];
  let checked = 0;
  for (const f of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.js') || f.endsWith('.test.js') || f.startsWith('testing')) continue;
    checked++;
    if (esmHttp.test(readFileSync(join(root, f), 'utf8'))) offenders.push(f);
  }
  assert.ok(checked > 100, `only ${checked} compiled modules found under ${root}`);
  assert.deepEqual(offenders, [], 'import node:http from src/node-http.js (type-only imports are fine: they are erased)');
});

test('src/node-http.ts gives node:http itself', async () => {
  const { http, STATUS_CODES, createServer, request } = await import('./node-http.js');
  const { createRequire } = await import('node:module');
  assert.equal(http, createRequire(import.meta.url)('node:http'));
  assert.equal(STATUS_CODES[404], 'Not Found');
  assert.equal(createServer, http.createServer);
  assert.equal(request, http.request);
});
