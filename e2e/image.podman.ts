/**
 * The container image (`npm run image`, tools/image/build.sh), run with podman the way the chart
 * runs it: user 65532, read-only root filesystem (no tmpfs either), every capability dropped, no
 * privilege escalation; standalone mode on a copy of examples/manifests, whose demo pods are HTTP
 * servers in this process on 127.0.10.x (host network, Portico on 127.0.0.1 and free ports). Then
 * the chart's other case: ports 80/443 as root with NET_BIND_SERVICE only, in a network namespace
 * of its own.
 *
 * Not part of `npm test`: the name matches none of node --test's file patterns, since it needs
 * podman and a built image. `npm run image && npm run test:image` runs it; .ci/run does.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { repoRoot } from '../src/paths.js';
import { container as controller, render } from './lib/chart.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { raw } from './lib/raw.js';
import { listeningInodes as inodesOn, ownedBy } from './lib/sockets.js';
import { REUSE_PORT_SOCKETS } from '../src/proxy/listeners.js';

const PODMAN = join(repoRoot, 'tools/image/podman.sh');
const IMAGE = process.env.PORTICO_IMAGE ?? 'localhost/portico:dev';
const PODS = [
  { ip: '127.0.10.1', name: 'web-a' },
  { ip: '127.0.10.2', name: 'web-b' },
  { ip: '127.0.10.3', name: 'api' },
  { ip: '127.0.10.4', name: 'blog' },
  { ip: '127.0.10.5', name: 'fallback' },
];

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** podman (through tools/image/podman.sh), never longer than `timeoutMs`; does not block this process's servers. */
function podman(args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(PODMAN, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr: err !== null && err.killed ? `${stderr}\n(killed after ${timeoutMs} ms)` : stderr });
    });
  });
}

async function podmanOk(args: string[], timeoutMs?: number): Promise<string> {
  const r = await podman(args, timeoutMs);
  assert.equal(r.code, 0, `podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `script` with the image's node inside the container (no shell there); its stdout. */
const inContainer = (name: string, script: string): Promise<string> => podmanOk(['exec', name, '/app/node', '-e', script], 20_000);

/** Sockets listening on 127.0.0.1:`port` in this network namespace (the container shares it: host network). */
const listeningSockets = (port: number): number => inodesOn('127.0.0.1', port).length;

const listeningInodes = (port: number): string[] => inodesOn('127.0.0.1', port);

/** A free port on 127.0.0.1 (closed again before Portico takes it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The demo pods of examples/start.ts: echo who they are and what they got, all on one port. */
async function startPods(): Promise<{ port: number; servers: Server[] }> {
  const servers: Server[] = [];
  let port = 0;
  for (const p of PODS) {
    const server = createServer((req, res) => {
      const body = JSON.stringify({ pod: p.name, url: req.url, host: req.headers.host });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, p.ip, () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    servers.push(server);
  }
  return { port, servers };
}

/** A copy of examples/manifests whose pods listen on `port` instead of 18080. */
function copyManifests(port: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'portico-image-'));
  const manifests = join(dir, 'manifests');
  cpSync(join(repoRoot, 'examples/manifests'), manifests, { recursive: true });
  for (const f of readdirSync(manifests)) {
    const p = join(manifests, f);
    writeFileSync(p, readFileSync(p, 'utf8').replaceAll('18080', String(port)));
  }
  return manifests;
}

/** /proc/1/status of the container (PID 1 is Portico's node) and whether its root takes a write. */
const PROBE = `const s = require('fs').readFileSync('/proc/1/status', 'utf8');
const f = (k) => (s.match(new RegExp('^' + k + ':\\\\s*(.*)$', 'm')) || [])[1];
let write = 'written';
try { require('fs').writeFileSync('/app/probe', 'x'); } catch (e) { write = e.code; }
console.log(JSON.stringify({ uid: f('Uid').split(/\\s+/)[0], capEff: f('CapEff'), capBnd: f('CapBnd'), capAmb: f('CapAmb'), noNewPrivs: f('NoNewPrivs'), write }));`;

async function waitFor<T>(what: string, deadlineMs: number, probe: () => Promise<T | undefined>, onTimeout: () => Promise<string>): Promise<T> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) assert.fail(`${what} within ${deadlineMs} ms\n${await onTimeout()}`);
    await sleep(200);
  }
}

const logs = async (name: string): Promise<string> => {
  const r = await podman(['logs', '--tail', '40', name]);
  const state = await podman(['inspect', '--format', '{{.State.Status}} exit={{.State.ExitCode}}', name]);
  return `container ${name}: ${state.stdout.trim()}\n${r.stdout}${r.stderr}`;
};

const created: string[] = [];
const dirs: string[] = [];
after(async () => {
  for (const name of created) await podman(['rm', '--force', '--time', '2', name]);
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

before(async () => {
  const r = await podman(['image', 'exists', IMAGE]);
  assert.equal(r.code, 0, `no image ${IMAGE} (${r.stderr.trim() || `podman image exists: ${r.code}`}): build it first with npm run image`);
});

describe(`the image ${IMAGE}, non-root, read-only, no capabilities, on examples/manifests`, () => {
  const name = `portico-image-test-${process.pid}`;
  let pods: { port: number; servers: Server[] };
  let manifests = '';
  let http = 0;
  let https = 0;
  let admin = 0;

  before(async () => {
    pods = await startPods();
    manifests = copyManifests(pods.port);
    dirs.push(join(manifests, '..'));
    [http, https, admin] = [await freePort(), await freePort(), await freePort()];
    created.push(name);
    await podmanOk([
      'run', '--detach', '--name', name,
      '--read-only', '--read-only-tmpfs=false', '--cap-drop=ALL', '--user', '65532:65532', '--security-opt', 'no-new-privileges',
      '--network=host', '--volume', `${manifests}:/manifests:ro`,
      IMAGE,
      '--manifests', '/manifests', '--bind-address', '127.0.0.1',
      `--http-port=${http}`, `--https-port=${https}`, `--admin-port=${admin}`,
      '--shutdown-grace-period=0s', '--shutdown-timeout=5s',
    ]);
    await waitFor('Portico ready on /readyz', 30_000, async () => ((await get(admin, '/readyz')).status === 200 ? true : undefined), () => logs(name));
  });

  after(async () => {
    for (const s of pods?.servers ?? []) s.close();
  });

  test('a routed request reaches its pod through the container', { timeout: 30_000 }, async () => {
    const web = await get(http, '/', { host: 'shop.example.com' });
    assert.equal(web.status, 200, web.body);
    assert.match(JSON.parse(web.body).pod, /^web-/);
    const api = await get(http, '/api/orders', { host: 'shop.example.com' });
    assert.equal(api.status, 200);
    assert.deepEqual([JSON.parse(api.body).pod, JSON.parse(api.body).url], ['api', '/api/orders']);
    const blog = await get(http, '/', { host: 'me.blog.example.com' });
    assert.equal(JSON.parse(blog.body).pod, 'blog');
  });

  test('HTTPS with the certificate generated at start', { timeout: 30_000 }, async () => {
    const reply = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port: https, path: '/', servername: 'shop.example.com', headers: { host: 'shop.example.com' }, rejectUnauthorized: false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(reply.status, 200);
    assert.match(JSON.parse(reply.body).pod, /^web-/);
  });

  test('the admin port answers /healthz, /readyz and /metrics', { timeout: 30_000 }, async () => {
    assert.equal((await get(admin, '/healthz')).status, 200);
    assert.equal((await get(admin, '/readyz')).status, 200);
    const metrics = await get(admin, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /^portico_/m);
  });

  test('an unknown host goes to the catch-all; once its file is deleted, 404', { timeout: 30_000 }, async () => {
    const caught = await get(http, '/', { host: 'unknown.example.com' });
    assert.equal(JSON.parse(caught.body).pod, 'fallback');
    rmSync(join(manifests, 'default-backend.yaml'));
    const status = await waitFor('a 404 for an unknown host after default-backend.yaml was deleted', 15_000, async () => {
      const r = await get(http, '/', { host: 'unknown.example.com' });
      return r.status === 404 ? r.status : undefined;
    }, () => logs(name));
    assert.equal(status, 404);
    assert.equal((await get(http, '/', { host: 'shop.example.com' })).status, 200, 'the other routes stay');
  });

  test('Portico runs as 65532 with no capabilities, no new privileges and a root it cannot write', { timeout: 30_000 }, async () => {
    const p = JSON.parse(await inContainer(name, PROBE)) as Record<string, string>;
    assert.deepEqual(p, { uid: '65532', capEff: '0000000000000000', capBnd: '0000000000000000', capAmb: '0000000000000000', noNewPrivs: '1', write: 'EROFS' });
  });

  test("the chart's exec probes for an admin port on loopback pass in the image, and fail on a dead port", { timeout: 60_000 }, async () => {
    const probes = (port: number): string[][] => {
      const c = controller(render({ controller: { admin: { bindAddress: '127.0.0.1' }, metrics: { port, service: { enabled: false } } } }));
      return [c.livenessProbe.exec.command, c.readinessProbe.exec.command];
    };
    for (const command of probes(admin)) assert.equal((await podman(['exec', name, ...command])).code, 0, command.join(' '));
    const dead = await freePort();
    for (const command of probes(dead)) assert.equal((await podman(['exec', name, ...command])).code, 1, command.join(' '));
  });

  test("on the image's Node each HTTP and HTTPS port has several listening sockets (--reuse-port), and a burst of connections is served", { timeout: 30_000 }, async () => {
    const listening = (port: number): number => listeningSockets(port);
    assert.equal(listening(http), REUSE_PORT_SOCKETS, 'HTTP port');
    assert.equal(listening(https), REUSE_PORT_SOCKETS, 'HTTPS port');
    const answers = await Promise.all(Array.from({ length: 64 }, () => get(http, '/', { host: 'shop.example.com', agent: false })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
  });

  test('a second Portico on the same port fails to start (EADDRINUSE) instead of sharing it', { timeout: 60_000 }, async () => {
    const second = `${name}-second`;
    created.push(second);
    const r = await podman(['run', '--name', second, '--read-only', '--cap-drop=ALL', '--user', '65532:65532', '--network=host', '--volume', `${manifests}:/manifests:ro`, IMAGE, '--manifests', '/manifests', '--bind-address', '127.0.0.1', `--http-port=${http}`, `--https-port=${await freePort()}`, `--admin-port=${await freePort()}`], 40_000);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${http}`));
    assert.equal(listeningSockets(http), REUSE_PORT_SOCKETS, 'the first still listens on every socket');
    assert.equal((await get(http, '/', { host: 'shop.example.com', agent: false })).status, 200);
  });

  test('--max-connections counts connections across the sockets of a port', { timeout: 60_000 }, async () => {
    const limited = `${name}-limited`;
    created.push(limited);
    const [port, admin2] = [await freePort(), await freePort()];
    await podmanOk(['run', '--detach', '--name', limited, '--read-only', '--cap-drop=ALL', '--user', '65532:65532', '--network=host', '--volume', `${manifests}:/manifests:ro`, IMAGE, '--manifests', '/manifests', '--bind-address', '127.0.0.1', `--http-port=${port}`, `--https-port=${await freePort()}`, `--admin-port=${admin2}`, '--max-connections=3', '--shutdown-grace-period=0s']);
    await waitFor('the limited Portico ready', 30_000, async () => ((await get(admin2, '/readyz')).status === 200 ? true : undefined), () => logs(limited));
    assert.equal(listeningSockets(port), REUSE_PORT_SOCKETS);
    const held = await Promise.all([0, 1, 2].map(() => new Promise<Socket>((r) => { const s = connect(port, '127.0.0.1', () => r(s)); })));
    try {
      // eight more connections land on several of the sockets: one limit for the port refuses every one
      const extra = await Promise.all(Array.from({ length: 8 }, () => raw(port, 'GET / HTTP/1.1\r\nHost: shop.example.com\r\n\r\n', 1000)));
      assert.deepEqual(extra, Array.from({ length: 8 }, () => ({ text: '', closed: true })));
    } finally {
      for (const s of held) s.destroy();
    }
    await sleep(200);
    assert.equal((await get(port, '/', { host: 'shop.example.com', agent: false })).status, 200, 'room again once they closed');
  });

  test("--workers 2 on the image's Node: each worker binds its own sockets on the HTTP and HTTPS ports (SO_REUSEPORT) and the primary none; connections reach both; a second one on the port fails (EADDRINUSE)", { timeout: 90_000 }, async () => {
    const workers = `${name}-workers`;
    created.push(workers);
    const [port, tls, admin2] = [await freePort(), await freePort(), await freePort()];
    await podmanOk(['run', '--detach', '--name', workers, '--read-only', '--cap-drop=ALL', '--user', '65532:65532', '--network=host', '--volume', `${manifests}:/manifests:ro`, IMAGE, '--manifests', '/manifests', '--bind-address', '127.0.0.1', `--http-port=${port}`, `--https-port=${tls}`, `--admin-port=${admin2}`, '--workers=2', '--shutdown-grace-period=0s']);
    await waitFor('the --workers Portico ready', 30_000, async () => ((await get(admin2, '/readyz')).status === 200 ? true : undefined), () => logs(workers));
    // host pids: the primary (the container's PID 1) and its children, the workers
    const primary = Number((await podmanOk(['inspect', '--format', '{{.State.Pid}}', workers])).trim());
    const children = readFileSync(`/proc/${primary}/task/${primary}/children`, 'utf8').trim().split(/\s+/).map(Number);
    assert.equal(children.length, 2, 'two workers');
    for (const p of [port, tls]) {
      const inodes = listeningInodes(p);
      assert.equal(inodes.length, 2 * REUSE_PORT_SOCKETS, `port ${p}: every worker's sockets`);
      assert.equal(ownedBy(primary, inodes), 0, `port ${p}: the primary holds none`);
      for (const w of children) assert.equal(ownedBy(w, inodes), REUSE_PORT_SOCKETS, `port ${p}: worker ${w} holds its own`);
    }
    const answers = await Promise.all(Array.from({ length: 64 }, () => get(port, '/', { host: 'shop.example.com', agent: false })));
    assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
    // the access log's lines name the serving process (container pids; 1 is the primary)
    await sleep(300);
    const served = new Set((await podmanOk(['logs', workers])).split('\n').filter((l) => l.includes('"msg":"request"')).map((l) => (JSON.parse(l) as { pid: number }).pid));
    assert.equal(served.size, 2, `requests served by ${[...served].join(', ')}`);
    assert.ok(!served.has(1), 'the primary serves none');
    const second = `${name}-workers-second`;
    created.push(second);
    const r = await podman(['run', '--name', second, '--read-only', '--cap-drop=ALL', '--user', '65532:65532', '--network=host', '--volume', `${manifests}:/manifests:ro`, IMAGE, '--manifests', '/manifests', '--bind-address', '127.0.0.1', `--http-port=${port}`, `--https-port=${await freePort()}`, `--admin-port=${await freePort()}`, '--workers=2'], 40_000);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, new RegExp(`EADDRINUSE.*127\\.0\\.0\\.1:${port}`));
    assert.equal(listeningSockets(port), 2 * REUSE_PORT_SOCKETS, 'the first still listens on every socket');
  });

  test("the image's Node gives back what start-up's collections freed: the start-up collection shrinks the young generation to its least", { timeout: 30_000 }, async () => {
    // Node 24 keeps freed pages pooled and committed until a memory-reducing collection (about 90 MiB at 10,000 Ingresses)
    const script = `import('/app/dist/src/main.js').then(({ startupGcArgs }) => {
      const v8 = require('node:v8');
      const newSpace = () => v8.getHeapSpaceStatistics().find((x) => x.space_name === 'new_space').space_size;
      let keep = [];
      for (let i = 0; i < 3e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 1e5) keep = []; }
      const before = newSpace();
      globalThis.gc(...startupGcArgs());
      console.log(JSON.stringify({ args: startupGcArgs(), before, after: newSpace() }));
    })`;
    const out = JSON.parse(await podmanOk(['exec', name, '/app/node', '--max-semi-space-size=4', '--expose-gc', '-e', script], 20_000)) as { args: unknown[]; before: number; after: number };
    assert.equal(out.args.length, 1, "the image's Node is one that pools freed pages");
    assert.ok(out.after <= out.before / 4, `young generation ${out.before} -> ${out.after} bytes`);
  });

  test('SIGTERM (podman stop) stops it cleanly with exit code 0', { timeout: 40_000 }, async () => {
    await podmanOk(['stop', '--time', '20', name], 30_000);
    assert.equal((await podmanOk(['inspect', '--format', '{{.State.ExitCode}}', name])).trim(), '0', await logs(name));
  });
});

describe('ports 80 and 443, as the chart runs the host-network case', () => {
  let manifests = '';
  before(() => {
    manifests = copyManifests(18080);
    dirs.push(join(manifests, '..'));
  });
  const common = (name: string): string[] => ['--name', name, '--read-only', '--read-only-tmpfs=false', '--cap-drop=ALL', '--security-opt', 'no-new-privileges', '--network=none', '--volume', `${manifests}:/manifests:ro`];
  const portico = ['--manifests', '/manifests', '--bind-address', '127.0.0.1', '--http-port=80', '--https-port=443', '--admin-port=10254'];

  test('as root with NET_BIND_SERVICE only (no file capability needed), it binds 80 and 443 and serves', { timeout: 60_000 }, async () => {
    const name = `portico-image-test-${process.pid}-bind`;
    created.push(name);
    await podmanOk(['run', '--detach', ...common(name), '--user', '0:0', '--cap-add=NET_BIND_SERVICE', IMAGE, ...portico]);
    const fetchStatus = (url: string): string => `fetch(${JSON.stringify(url)}).then((r) => console.log(r.status), () => console.log(0))`;
    await waitFor('Portico ready on 127.0.0.1:10254 inside the container', 30_000, async () => ((await inContainer(name, fetchStatus('http://127.0.0.1:10254/readyz'))).trim() === '200' ? true : undefined), () => logs(name));
    // The pods are not in this network namespace: any HTTP answer shows the listener is Portico's.
    assert.match((await inContainer(name, fetchStatus('http://127.0.0.1:80/'))).trim(), /^[2-5]\d\d$/);
    const p = JSON.parse(await inContainer(name, PROBE)) as Record<string, string>;
    assert.deepEqual(p, { uid: '0', capEff: '0000000000000400', capBnd: '0000000000000400', capAmb: '0000000000000000', noNewPrivs: '1', write: 'EROFS' });
  });

  test('as 65532 without the capability, it cannot bind 80 and exits 1 saying why', { timeout: 60_000 }, async () => {
    const name = `portico-image-test-${process.pid}-nobind`;
    created.push(name);
    const r = await podman(['run', ...common(name), '--user', '65532:65532', IMAGE, ...portico], 40_000);
    assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    assert.match(`${r.stdout}${r.stderr}`, /EACCES/);
  });
});
