/**
 * Zero downtime, measured: rolling updates, an abruptly killed pod, table churn with open
 * WebSockets, shutdown under load, and slow-client attacks (slowhttptest). Each test prints its
 * figures (node:test diagnostics); the README's reliability table comes from them.
 * RELIABILITY_SECONDS sets the rolling-update duration (default 12; the README figure used 60).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { WebSocket } from 'undici';
import { get } from './lib/http.js';
import { sleep, startLoad } from './lib/load.js';
import { ingressYaml, join, serviceYaml, type Endpointish } from './lib/manifests.js';
import { startPod, type Pod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
import { startWsPod } from './lib/ws.js';

const SECONDS = Number(process.env.RELIABILITY_SECONDS ?? 12);
const site = (eps: readonly Endpointish[]): string => join(ingressYaml('site', [{ host: 'site.test', paths: [{ path: '/', service: 'web' }] }]), serviceYaml('web', eps));

test(`rolling update: 10 endpoints replaced one by one under load (${SECONDS} s): no errors`, async (t) => {
  const old: Pod[] = [];
  for (let i = 1; i <= 10; i++) old.push(await startPod(`127.0.110.${i}`, `old-${i}`));
  const current: (Endpointish & { pod: Pod })[] = old.map((pod) => ({ ip: pod.ip, port: pod.port, pod }));
  const fresh: Pod[] = [];
  t.after(() => Promise.all([...old, ...fresh].map((x) => x.close())));
  const p = await startPortico({ 'site.yaml': site(current) });
  try {
    const load = startLoad(p.httpPort, '/', 'site.test', { concurrency: 8, maxMs: SECONDS * 1000 + 30_000 });
    const step = (SECONDS * 1000) / 10;
    for (let i = 0; i < 10; i++) {
      await sleep(step / 3);
      const leaving = current[i]!;
      current[i] = { ...leaving, ready: false, serving: true, terminating: true };
      p.write('site.yaml', site(current)); // terminating: no new requests, in-flight ones finish
      await sleep(step / 3);
      const pod = await startPod(`127.0.111.${i + 1}`, `new-${i + 1}`);
      fresh.push(pod);
      current[i] = { ip: pod.ip, port: pod.port, pod };
      p.write('site.yaml', site(current)); // removed, and its replacement ready
      await sleep(step / 3);
      await leaving.pod.drain();
    }
    await sleep(500);
    const r = await load.stop();
    t.diagnostic(`requests ${r.total}, statuses ${JSON.stringify([...r.byStatus])}, errors ${r.errors.length}`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual([...r.byStatus.keys()], [200]);
    assert.ok(r.total > SECONDS * 100, `only ${r.total} requests`);
  } finally {
    await p.stop();
  }
});

test('a pod killed abruptly under load: no client-visible errors for idempotent requests', async (t) => {
  const pods: Pod[] = [];
  for (let i = 1; i <= 4; i++) pods.push(await startPod(`127.0.112.${i}`, `pod-${i}`));
  t.after(() => Promise.all(pods.map((x) => x.close())));
  const p = await startPortico({ 'site.yaml': site(pods) });
  try {
    const load = startLoad(p.httpPort, '/', 'site.test', { concurrency: 8, maxMs: 30_000 });
    await sleep(1500);
    pods[1]!.kill(); // connections reset, port refusing; the table still lists it
    await sleep(3000);
    const r = await load.stop();
    const b = JSON.parse((await get(p.adminPort, '/debug/backends')).body) as { backends: { endpoints: { address: string; ejected: boolean }[] }[] };
    t.diagnostic(`requests ${r.total}, statuses ${JSON.stringify([...r.byStatus])}, errors ${r.errors.length}`);
    assert.deepEqual(r.errors, []);
    assert.deepEqual([...r.byStatus.keys()], [200]);
    assert.equal(b.backends[0]!.endpoints.find((e) => e.address.startsWith('127.0.112.2:'))!.ejected, true);
  } finally {
    await p.stop();
  }
});

test('1,000 table swaps during load and with 100 open WebSockets: nothing fails, nothing closes', async (t) => {
  const web = await startPod('127.0.113.1', 'web');
  const wsPod = await startWsPod('127.0.113.2');
  t.after(() => Promise.all([web.close(), wsPod.close()]));
  // idle while the swaps run (over a minute on a loaded machine): the timeouts WebSocket Ingresses set
  const base = join(site([web]), ingressYaml('ws', [{ paths: [{ path: '/ws', service: 'ws' }] }], {}, { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '3600', 'nginx.ingress.kubernetes.io/proxy-send-timeout': '3600' }), serviceYaml('ws', [wsPod]));
  const p = await startPortico({ 'site.yaml': base, 'churn.yaml': '' }, ['--access-log=false']);
  const sockets: WebSocket[] = [];
  let closed = 0;
  try {
    for (let i = 0; i < 100; i++) {
      const s = new WebSocket(`ws://127.0.0.1:${p.httpPort}/ws/${i}`);
      s.addEventListener('close', () => closed++);
      await new Promise<void>((r, j) => {
        s.addEventListener('open', () => r());
        s.addEventListener('error', () => j(new Error('websocket did not open')));
      });
      sockets.push(s);
    }
    const load = startLoad(p.httpPort, '/', 'site.test', { concurrency: 4, maxMs: 120_000 });
    const swaps = (): number => p.logs.filter((l) => l.msg === 'routing table swapped').length;
    const start = swaps();
    const t0 = Date.now();
    for (let i = 0; i < 1000; i++) {
      p.write('churn.yaml', ingressYaml(`churn`, [{ host: `churn-${i}.test`, paths: [{ path: '/', service: 'web' }] }]));
      await p.waitForLog(() => swaps() >= start + i + 1, 10_000);
    }
    const churnMs = Date.now() - t0;
    const r = await load.stop();
    const echoes = await Promise.all(
      sockets.map(
        (s, i) =>
          new Promise<boolean>((resolve) => {
            const onMsg = (e: MessageEvent): void => resolve(String(e.data) === `still here ${i}`);
            s.addEventListener('message', onMsg as never, { once: true });
            s.send(`still here ${i}`);
            setTimeout(() => resolve(false), 3000);
          }),
      ),
    );
    t.diagnostic(`swaps ${swaps() - start} in ${churnMs} ms; requests ${r.total}, statuses ${JSON.stringify([...r.byStatus])}, errors ${r.errors.length}; websockets closed ${closed}, echoing ${echoes.filter(Boolean).length}/100`);
    assert.ok(swaps() - start >= 1000);
    assert.deepEqual(r.errors, []);
    assert.deepEqual([...r.byStatus.keys()], [200]);
    assert.equal(closed, 0);
    assert.equal(echoes.filter(Boolean).length, 100);
  } finally {
    for (const s of sockets) s.close();
    await p.stop();
  }
});

test('SIGTERM under load: every in-flight request completes, and the process exits in time', async (t) => {
  const slow = await startPod('127.0.114.1', 'slow');
  slow.behaviour = 'slow';
  t.after(() => slow.close());
  const p = await startPortico({ 'site.yaml': site([slow]) }, ['--shutdown-timeout', '10s'], { grace: '500ms' });
  try {
    const inflight = Array.from({ length: 20 }, () => get(p.httpPort, '/', { host: 'site.test', agent: false }));
    await sleep(100);
    const t0 = Date.now();
    const exited = once(p.proc, 'exit');
    p.proc.kill('SIGTERM');
    const results = await Promise.all(inflight);
    const [code] = (await exited) as [number];
    const took = Date.now() - t0;
    t.diagnostic(`in flight at SIGTERM 20, completed ${results.filter((r) => r.status === 200).length}; exit ${code} after ${took} ms (grace 500 ms)`);
    assert.deepEqual(results.map((r) => r.status), Array(20).fill(200));
    assert.equal(code, 0);
    assert.ok(took < 5000, `exit took ${took} ms`);
  } finally {
    await p.stop();
  }
});

for (const mode of [['-H', 'slow headers'], ['-B', 'slow body']] as const) {
  test(`slowhttptest ${mode[1]}: a normal client keeps getting answers`, async (t) => {
    const web = await startPod(`127.0.115.${mode[0] === '-H' ? 1 : 2}`, 'web');
    t.after(() => web.close());
    const p = await startPortico({ 'site.yaml': site([web]) }, ['--access-log=false']);
    try {
      // 300 connections, 30 opened per second, one more byte every 2 s, for 8 s.
      const attack = spawn('slowhttptest', [mode[0], '-c', '300', '-r', '30', '-i', '2', '-l', '8', '-s', '8192', '-t', 'POST', '-u', `http://127.0.0.1:${p.httpPort}/`, '-p', '3'], { stdio: 'ignore' });
      const attackDone = once(attack, 'exit');
      attack.on('error', () => undefined);
      await sleep(1500);
      let ok = 0;
      let failed = 0;
      const lat: number[] = [];
      const until = Date.now() + 5000;
      while (Date.now() < until) {
        const t0 = Date.now();
        try {
          const r = await get(p.httpPort, '/', { host: 'site.test', agent: false });
          if (r.status === 200) ok++;
          else failed++;
        } catch {
          failed++;
        }
        lat.push(Date.now() - t0);
        await sleep(25);
      }
      attack.kill('SIGKILL');
      await attackDone;
      lat.sort((a, b) => a - b);
      t.diagnostic(`normal requests during the attack: ${ok} ok, ${failed} failed, p99 ${lat[Math.floor(lat.length * 0.99)]} ms`);
      assert.equal(failed, 0);
      assert.ok(ok > 50);
    } finally {
      await p.stop();
    }
  });
}
