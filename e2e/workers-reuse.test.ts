/**
 * --workers N with --reuse-port: on a Node with SO_REUSEPORT (22.12+, the image's) every worker
 * binds its own listening sockets on the HTTP, HTTPS and TCP-service ports and the primary none
 * (nginx's reuseport); on an older Node, node:cluster's primary holds one socket per port and
 * hands connections out. Run on both: `node --test dist/e2e/workers-reuse.test.js` with the
 * Node 20 of `npm test` and with a Node 24 (the image's, or the same version on the host).
 * Sockets are read from /proc: who owns each listening socket. Addresses: 127.0.251.0/24.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { test } from 'node:test';
import { NODE_FLAGS } from '../src/paths.js';
import { REUSE_PORT_SOCKETS, reusePortSupported } from '../src/proxy/listeners.js';
import { freePort, startTcpEcho, tcpExchange } from './lib/l4.js';
import { eventually } from './lib/eventually.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml, yaml } from './lib/manifests.js';
import { configMap, gateway, gatewayClass, httpRoute, serviceWithPorts, serviceWithSlices, sliceWithPorts } from './lib/objects.js';
import { startPod } from './lib/pods.js';
import { listeningInodes as inodesOn, ownedBy } from './lib/sockets.js';
import { CLI, startPortico, type Portico } from './lib/portico.js';

const HOST = '127.0.251.1';
const REUSE = reusePortSupported();

const listeningInodes = (port: number): string[] => inodesOn(HOST, port);

/** The workers' pids: the processes other than the primary that logged a listening HTTP port. */
const workerPids = (p: Portico): number[] => [...new Set(p.logs.filter((l) => l.msg === 'listening' && l.listener === 'http' && l.pid !== p.proc.pid).map((l) => l.pid as number))];

/** A GET on a fresh connection to HOST:`port`; resolves with the response's status line. */
function getOnce(port: number, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, HOST, () => s.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`));
    let text = '';
    s.setTimeout(5000, () => s.destroy(new Error('no answer within 5 s')));
    s.on('data', (d: Buffer) => (text += d.toString('latin1')));
    s.on('end', () => resolve(text.split('\r\n')[0] ?? ''));
    s.on('error', reject);
  });
}

test('--workers 2: with SO_REUSEPORT each worker listens on its own sockets on the HTTP, HTTPS and TCP-service ports and the primary on none (else the primary holds one socket each); connections reach both workers', { timeout: 60_000 }, async () => {
  const pod = await startPod('127.0.251.2', 'a');
  const echo = await startTcpEcho('127.0.251.3', 'echo');
  const tcpPort = await freePort(HOST);
  const files = {
    'site.yaml': join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'a' }] }]), serviceYaml('a', [pod])),
    'tcp.yaml': yaml([configMap('tcp-services', 'ingress', { [tcpPort]: 'default/echo:7000' }), serviceWithPorts('echo', 'default', [{ name: 'echo', port: 7000 }]), sliceWithPorts('echo-1', 'echo', [echo.ip], [{ name: 'echo', port: echo.port }])]),
  };
  const p = await startPortico(files, ['--workers', '2', '--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--tcp-services-configmap', 'ingress/tcp-services']);
  try {
    await p.waitForLog((l) => l.msg === 'listening' && l.listener === `tcp/${tcpPort}` && l.pid !== p.proc.pid);
    const workers = workerPids(p);
    assert.equal(workers.length, 2, 'two workers listen');
    // both workers log the one port the primary claimed (port 0 asked for): the port startPortico read
    assert.deepEqual(new Set(p.logs.filter((l) => l.msg === 'listening' && l.listener === 'http').map((l) => l.port)), new Set([p.httpPort]));
    for (const [name, port] of [['http', p.httpPort], ['https', p.httpsPort], ['tcp', tcpPort]] as const) {
      // a worker that logged its TCP listener may still be binding the other's: wait for every socket
      let inodes = listeningInodes(port);
      for (let i = 0; i < 50 && inodes.length < (REUSE ? 2 * REUSE_PORT_SOCKETS : 1); i++) {
        await sleep(100);
        inodes = listeningInodes(port);
      }
      if (REUSE) {
        assert.equal(inodes.length, 2 * REUSE_PORT_SOCKETS, `${name}: every worker's sockets`);
        assert.equal(ownedBy(p.proc.pid!, inodes), 0, `${name}: the primary holds none`);
        for (const w of workers) assert.equal(ownedBy(w, inodes), REUSE_PORT_SOCKETS, `${name}: worker ${w} holds its own`);
      } else {
        assert.equal(inodes.length, 1, `${name}: one socket`);
        assert.equal(ownedBy(p.proc.pid!, inodes), 1, `${name}: node:cluster's primary holds it`);
        for (const w of workers) assert.equal(ownedBy(w, inodes), 0, `${name}: worker ${w} holds none`);
      }
    }
    for (let i = 0; i < 40; i++) assert.match(await getOnce(p.httpPort, 'site.test'), /^HTTP\/1\.1 200 /);
    await sleep(300);
    const served = new Set(p.logs.filter((l) => l.msg === 'request').map((l) => l.pid));
    assert.deepEqual(served, new Set(workers), 'both workers served, the primary none');
    for (let i = 0; i < 10; i++) assert.equal((await tcpExchange(HOST, tcpPort, `ping ${i}`)).data.toString(), `ping ${i}`);
  } finally {
    await p.stop();
    await Promise.all([pod.close(), echo.close()]);
  }
});

test('--workers 2 on a port another process holds (with or without SO_REUSEPORT) fails start-up with EADDRINUSE', { timeout: 60_000 }, async () => {
  for (const reusePort of [false, true]) {
    const holder = createServer((s) => s.destroy());
    await new Promise<void>((r) => holder.listen({ port: 0, host: HOST, reusePort }, r));
    const port = (holder.address() as AddressInfo).port;
    const dir = mkdtempSync(pathJoin(tmpdir(), 'portico-e2e-'));
    writeFileSync(pathJoin(dir, 'empty.yaml'), '');
    try {
      const proc = spawn(process.execPath, [...NODE_FLAGS, CLI, '--manifests', dir, '--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--http-port', String(port), '--https-port', '0', '--admin-port', '0', '--workers', '2'], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000, killSignal: 'SIGKILL' });
      let out = '';
      proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
      proc.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const [code] = (await once(proc, 'exit')) as [number | null];
      assert.equal(code, 1, `reusePort ${reusePort}: ${out.slice(-2000)}`);
      assert.match(out, new RegExp(`cannot start: listen EADDRINUSE: address already in use ${HOST.replaceAll('.', '\\.')}:${port}`));
      assert.doesNotMatch(out, /"worker exited/, 'no worker started');
      // the holder's connections stay its own
      const c = connect(port, HOST);
      await once(c, 'close');
    } finally {
      holder.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
});

test('--max-connections under --workers 2 counts in each worker: two connections are served at once; with SO_REUSEPORT the others are refused, else node:cluster holds them until a worker has room', { timeout: 60_000 }, async () => {
  const pod = await startPod('127.0.251.4', 'b');
  const p = await startPortico({ 'site.yaml': join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'b' }] }]), serviceYaml('b', [pod])) }, ['--workers', '2', '--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--max-connections', '1']);
  // 24 keep-alive connections at once, each with a request: a served one stays open and holds its worker's one place
  const state: ('waiting' | 'served' | 'refused')[] = [];
  const sockets: Socket[] = [];
  const count = (what: string): number => state.filter((x) => x === what).length;
  try {
    await p.waitForLog((l) => l.msg === 'ready');
    for (let i = 0; i < 24; i++) {
      state.push('waiting');
      const s = connect(p.httpPort, HOST, () => s.write('GET / HTTP/1.1\r\nHost: site.test\r\n\r\n'));
      s.on('data', () => (state[i] = 'served'));
      s.on('close', () => void (state[i] === 'waiting' && (state[i] = 'refused')));
      s.on('error', () => undefined);
      sockets.push(s);
    }
    await sleep(1500);
    assert.equal(count('served'), 2, state.join(', '));
    assert.equal(count(REUSE ? 'refused' : 'waiting'), 22, state.join(', '));
    if (!REUSE) {
      // room in both workers again: two of the held connections are served
      for (const [i, s] of sockets.entries()) if (state[i] === 'served') s.destroy();
      await sleep(1500);
      assert.equal(count('served'), 4, state.join(', '));
    }
  } finally {
    for (const s of sockets) s.destroy();
    await p.stop();
    await pod.close();
  }
});

test('one process: a TCP-service port gets as many listening sockets as an HTTP port, --max-connections counts across them, and a port another process holds with SO_REUSEPORT is not shared', { timeout: 60_000 }, async () => {
  const echo = await startTcpEcho('127.0.251.5', 'echo');
  const [tcpPort, heldPort] = [await freePort(HOST), await freePort(HOST)];
  // the second port's holder binds with SO_REUSEPORT (where Node has it): a bind with it would join in silence
  const holder = createServer((s) => s.end('holder\n'));
  await new Promise<void>((r) => holder.listen({ port: heldPort, host: HOST, reusePort: REUSE }, r));
  const services = yaml([configMap('tcp-services', 'ingress', { [tcpPort]: 'default/echo:7000', [heldPort]: 'default/echo:7000' }), serviceWithPorts('echo', 'default', [{ name: 'echo', port: 7000 }]), sliceWithPorts('echo-1', 'echo', [echo.ip], [{ name: 'echo', port: echo.port }])]);
  const p = await startPortico({ 'tcp.yaml': services }, ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1', '--tcp-services-configmap', 'ingress/tcp-services', '--max-connections', '3']);
  const held: Socket[] = [];
  try {
    const up = await p.waitForLog((l) => l.msg === 'listening' && l.listener === `tcp/${tcpPort}`);
    const sockets = REUSE ? REUSE_PORT_SOCKETS : 1;
    assert.equal(up.sockets, sockets);
    const inodes = listeningInodes(tcpPort);
    assert.equal(inodes.length, sockets);
    assert.equal(ownedBy(p.proc.pid!, inodes), sockets);
    const refused = await p.waitForLog((l) => l.msg === 'cannot listen on a Layer 4 port; trying again' && l.listener === `tcp/${heldPort}`);
    assert.match(String(refused.err), /EADDRINUSE/);
    assert.equal(listeningInodes(heldPort).length, 1, 'only the holder listens there');
    assert.equal(ownedBy(p.proc.pid!, listeningInodes(heldPort)), 0);
    // three connections held open: the next ones are refused, on whichever socket they land
    for (let i = 0; i < 3; i++) {
      const s = connect(tcpPort, HOST);
      s.write(`held ${i}`);
      held.push(s);
      await once(s, 'data');
    }
    const extra = await Promise.all(Array.from({ length: 8 }, () => tcpExchange(HOST, tcpPort, 'extra', 3000).then((r) => (r.data.length === 0 ? 'refused' : r.data.toString()), (err: Error) => (/ECONNRESET|EPIPE/.test(err.message) ? 'refused' : err.message))));
    assert.deepEqual(extra, Array.from({ length: 8 }, () => 'refused'), 'every extra connection closed without an echo');
    for (const s of held) s.destroy();
    await sleep(200);
    assert.equal((await tcpExchange(HOST, tcpPort, 'again')).data.toString(), 'again', 'room again once they closed');
  } finally {
    for (const s of held) s.destroy();
    await p.stop();
    holder.close();
    await echo.close();
  }
});

test('--workers 2: a Gateway listener on a port of its own is bound by every worker the same way, and closed and opened again with its Gateway', { timeout: 60_000 }, async () => {
  const pod = await startPod('127.0.251.6', 'gw');
  const port = await freePort(HOST);
  const gw = yaml([gatewayClass(), gateway('own-port', 'default', [{ name: 'extra', port, protocol: 'HTTP' }]), httpRoute('to-gw', 'default', { parentRefs: [{ name: 'own-port', port }], rules: [{ backendRefs: [{ name: 'gw', port: 80 }] }] })]);
  const p = await startPortico({ 'svc.yaml': yaml(serviceWithSlices('gw', [pod])), 'gw.yaml': gw }, ['--workers', '2', '--bind-address', HOST, '--admin-bind-address', '127.0.0.1']);
  const want = REUSE ? 2 * REUSE_PORT_SOCKETS : 1;
  const check = async (what: string): Promise<void> => {
    await eventually(async () => listeningInodes(port).length === want, { ms: 10_000, what: `${what}: ${want} listening sockets on the Gateway port` });
    const inodes = listeningInodes(port);
    const workers = workerPids(p);
    assert.equal(ownedBy(p.proc.pid!, inodes), REUSE ? 0 : 1, `${what}: the primary`);
    for (const w of workers) assert.equal(ownedBy(w, inodes), REUSE ? REUSE_PORT_SOCKETS : 0, `${what}: worker ${w}`);
    await eventually(async () => /^HTTP\/1\.1 200 /.test(await getOnce(port, 'any.test').catch(() => '')), { ms: 10_000, what: `${what}: served on the Gateway port` });
  };
  try {
    await check('opened');
    // the Gateway goes: every worker closes its sockets (and lets its claim go); it comes back: bound again
    rmSync(pathJoin(p.dir, 'gw.yaml'));
    await eventually(async () => listeningInodes(port).length === 0, { ms: 10_000, what: 'the Gateway port closed' });
    p.write('gw.yaml', gw);
    await check('opened again');
  } finally {
    await p.stop();
    await pod.close();
  }
});
