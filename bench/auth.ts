/**
 * Does a burst of wrong passwords slow other clients down? Portico serves an open host and a
 * basic-auth host (bcrypt, cost 10); "other clients" request the open host at a steady pace,
 * first alone, then while attackers send wrong passwords as fast as they can. Prints the other
 * clients' p50/p99 in both phases, Portico's own event-loop delay (prom-client's
 * nodejs_eventloop_lag_* on its /metrics, reset by each scrape: what the clients' latency would be
 * without the CPU this machine's other work takes), and what the attackers got (401s, and 503s
 * once the queue of password checks is full). `npm run bench:auth [-- --runs 3 --seconds 5 --attackers 32]`. Loopback only;
 * stops by itself.
 */
import bcrypt from 'bcryptjs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { stringify } from 'yaml';
import { ingressYaml, join, serviceYaml } from '../e2e/lib/manifests.js';
import { startPod } from '../e2e/lib/pods.js';
import { startPortico } from '../e2e/lib/portico.js';

const arg = (name: string, d: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? d : Number(process.argv[i + 1]);
};
const seconds = arg('seconds', 5);
/** Quiet and burst phases alternate this many times; medians are printed (a shared machine's load drifts). */
const runs = arg('runs', 3);
const attackers = arg('attackers', 32);
const others = arg('others', 4);
/** Pause between an other client's requests, ms: a steady pace, not a saturating load. */
const pace = arg('pace', 2);

const N = 'nginx.ingress.kubernetes.io/';
const hash = bcrypt.hashSync('the right one', 10);
const pod = await startPod('127.0.158.1', 'pod');
const p = await startPortico({
  'a.yaml': join(
    ingressYaml('open', [{ host: 'open.test', paths: [{ path: '/', service: 'pod' }] }]),
    ingressYaml('basic', [{ host: 'basic.test', paths: [{ path: '/', service: 'pod' }] }], {}, { [`${N}auth-type`]: 'basic', [`${N}auth-secret`]: 'htpasswd' }),
    serviceYaml('pod', [pod]),
    stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'htpasswd', namespace: 'default' }, type: 'Opaque', stringData: { auth: `alice:${hash}\n` } }),
  ),
}, ['--access-log=false']);

const agent = new Agent({ keepAlive: true, maxSockets: 256 });
function once(host: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port: p.httpPort, path: '/', agent, headers: { host, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** Portico's event-loop delay since the previous scrape, ms: p99 and max. */
async function loopLag(): Promise<{ p99: number; max: number }> {
  const text = await new Promise<string>((resolve, reject) => {
    request({ host: '127.0.0.1', port: p.adminPort, path: '/metrics' }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => (b += c.toString()));
      res.on('end', () => resolve(b));
    }).on('error', reject).end();
  });
  const read = (name: string): number => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: read('nodejs_eventloop_lag_p99_seconds'), max: read('nodejs_eventloop_lag_max_seconds') };
}

async function phase(attack: boolean): Promise<{ latencies: number[]; statuses: Map<number, number>; lag: { p99: number; max: number } }> {
  await loopLag(); // resets the histogram
  const latencies: number[] = [];
  const statuses = new Map<number, number>();
  const until = performance.now() + seconds * 1000;
  const loops: Promise<void>[] = [];
  for (let i = 0; i < others; i++) {
    loops.push((async () => {
      while (performance.now() < until) {
        const t0 = performance.now();
        if ((await once('open.test')) !== 200) throw new Error('the open host failed');
        latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, pace));
      }
    })());
  }
  if (attack) {
    const wrong = { authorization: `Basic ${Buffer.from('alice:guess').toString('base64')}` };
    for (let i = 0; i < attackers; i++) {
      loops.push((async () => {
        while (performance.now() < until) {
          const s = await once('basic.test', wrong);
          statuses.set(s, (statuses.get(s) ?? 0) + 1);
        }
      })());
    }
  }
  await Promise.all(loops);
  return { latencies: latencies.sort((a, b) => a - b), statuses, lag: await loopLag() };
}

const pct = (xs: number[], q: number): number => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? NaN;
try {
  await once('open.test');
  await phase(false); // warm-up
  const rows: { quiet: Awaited<ReturnType<typeof phase>>; burst: Awaited<ReturnType<typeof phase>> }[] = [];
  for (let i = 0; i < runs; i++) rows.push({ quiet: await phase(false), burst: await phase(true) });
  const med = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
  const line = (name: string, rs: Awaited<ReturnType<typeof phase>>[]): string =>
    `${name}: p50 ${med(rs.map((r) => pct(r.latencies, 0.5))).toFixed(2)} ms, p99 ${med(rs.map((r) => pct(r.latencies, 0.99))).toFixed(2)} ms (${rs.map((r) => pct(r.latencies, 0.99).toFixed(1)).join(' / ')}); Portico's event-loop delay p99 ${med(rs.map((r) => r.lag.p99)).toFixed(2)} ms, max ${med(rs.map((r) => r.lag.max)).toFixed(2)} ms`;
  console.log(line('other clients, quiet      ', rows.map((r) => r.quiet)));
  console.log(line('other clients, under burst', rows.map((r) => r.burst)));
  console.log(`median p99 rise: ${(med(rows.map((r) => pct(r.burst.latencies, 0.99))) - med(rows.map((r) => pct(r.quiet.latencies, 0.99)))).toFixed(2)} ms`);
  const totals = new Map<number, number>();
  for (const r of rows) for (const [st, n] of r.burst.statuses) totals.set(st, (totals.get(st) ?? 0) + n);
  console.log(`attackers (${attackers}): ${[...totals].map(([st, n]) => `${n}× ${st}`).join(', ')}`);
} finally {
  agent.destroy();
  await p.stop();
  await pod.close();
}
