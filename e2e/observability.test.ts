/**
 * Observability end to end: a real Prometheus (Debian package) scrapes a running Portico and a
 * PromQL query returns the request counts of known traffic; promtool accepts the exposition; the
 * debug views and the `portico routes|backends` subcommands show the live state.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { refusedPort, startPod, type Pod } from './lib/pods.js';
import { CLI, startPortico, type Portico } from './lib/portico.js';
import { repoRoot } from '../src/paths.js';

function need(cmd: string): void {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`]);
  if (r.status !== 0) throw new Error(`${cmd} is not installed: apt-get install prometheus (.ci/run does)`);
}

describe('metrics, scraped by a real Prometheus', () => {
  let p: Portico;
  let pod: Pod;
  let prom: ChildProcess | null = null;
  let promDir = '';
  let promPort = 0;

  before(async () => {
    need('prometheus');
    need('promtool');
    pod = await startPod('127.0.40.1', 'api');
    const dead = await refusedPort('127.0.40.2');
    p = await startPortico(
      {
        'app.yaml': join(
          ingressYaml('shop', [{ host: 'shop.test', paths: [{ path: '/api', service: 'api' }, { path: '/gone', service: 'missing' }, { path: '/dead', service: 'dead' }] }]),
          serviceYaml('api', [pod]),
          serviceYaml('dead', [{ ip: '127.0.40.2', port: dead }]),
        ),
      },
      ['--metrics-compat=ingress-nginx'],
    );
    for (let i = 0; i < 7; i++) assert.equal((await get(p.httpPort, `/api/item/${i}`, { host: 'shop.test' })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await get(p.httpPort, '/gone', { host: 'shop.test' })).status, 503);
    for (let i = 0; i < 2; i++) assert.equal((await get(p.httpPort, '/', { host: `random-${i}.test` })).status, 404);
    assert.equal((await get(p.httpPort, '/dead', { host: 'shop.test' })).status, 502);
  });

  after(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await new Promise((r) => prom!.once('exit', r));
    }
    if (promDir) rmSync(promDir, { recursive: true, force: true });
    await p?.stop();
    await pod?.close();
  });

  test('promtool check metrics accepts the native exposition', async () => {
    const q = await startPortico({ 'empty.yaml': '' });
    try {
      const text = (await get(q.adminPort, '/metrics')).body;
      const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    } finally {
      await q.stop();
    }
  });

  test('the exposition has request, upstream-error, control-plane and process metrics', async () => {
    const text = (await get(p.adminPort, '/metrics')).body;
    for (const name of [
      'portico_requests_total',
      'portico_request_duration_seconds_bucket',
      'portico_upstream_response_duration_seconds_bucket',
      'portico_upstream_connect_duration_seconds_count',
      'portico_request_size_bytes_bucket',
      'portico_response_size_bytes_bucket',
      'portico_upstream_errors_total',
      'portico_open_connections',
      'portico_table_rebuilds_total',
      'portico_table_last_rebuild_duration_seconds',
      'portico_routes',
      'portico_endpoints',
      'portico_diagnostics',
      'portico_build_info',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nginx_ingress_controller_requests',
    ]) {
      assert.ok(text.includes(`\n${name}`) || text.startsWith(name), `missing ${name}`);
    }
    assert.match(text, /portico_upstream_errors_total\{namespace="default",service="dead",cause="connect_refused"\} 1/);
    assert.match(text, /portico_upstream_errors_total\{namespace="default",service="missing",cause="no_endpoints"\} 3/);
    assert.match(text, /portico_diagnostics\{reason="ServiceNotFound"\} 1/);
  });

  test('PromQL over the scraped series returns the request counts per ingress, service and status', async () => {
    promDir = mkdtempSync(pathJoin(tmpdir(), 'portico-prom-'));
    promPort = await refusedPort('127.0.0.1');
    writeFileSync(
      pathJoin(promDir, 'prometheus.yml'),
      `global: {scrape_interval: 1s}\nscrape_configs:\n- job_name: portico\n  static_configs: [{targets: ['127.0.0.1:${p.adminPort}']}]\n`,
    );
    prom = spawn('prometheus', [`--config.file=${pathJoin(promDir, 'prometheus.yml')}`, `--storage.tsdb.path=${pathJoin(promDir, 'data')}`, `--web.listen-address=127.0.0.1:${promPort}`], { stdio: 'ignore' });
    const query = async (q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> => {
      const r = await get(promPort, `/api/v1/query?query=${encodeURIComponent(q)}`, { agent: false });
      if (r.status !== 200) return [];
      return (JSON.parse(r.body) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    };
    const rows = await eventually(async () => {
      const r = await query('sum by (ingress, service, status) (portico_requests_total)').catch(() => []);
      return r.length >= 4 && r;
    }, { ms: 30_000, every: 250, what: 'Prometheus scraped four series' });
    const got = Object.fromEntries(rows.map((r) => [`${r.metric.ingress ?? ''}/${r.metric.service ?? ''}/${r.metric.status}`, Number(r.value[1])]));
    assert.deepEqual(got, { 'shop/api/200': 7, 'shop/missing/503': 3, '//404': 2, 'shop/dead/502': 1 });
    const compat = await query('sum by (ingress, service, path, status) (nginx_ingress_controller_requests{status="200"})');
    assert.deepEqual(compat.map((r) => [r.metric.ingress, r.metric.service, r.metric.path, Number(r.value[1])]), [['shop', 'api', '/api', 7]]);
  });

  test('every query of the Grafana dashboard is PromQL the real Prometheus evaluates', async () => {
    assert.ok(promPort > 0, 'Prometheus was started by the previous test');
    const dash = JSON.parse(readFileSync(pathJoin(repoRoot, 'charts/portico/dashboards/portico.json'), 'utf8')) as { panels: { title: string; targets?: { expr: string }[] }[] };
    const exprs = dash.panels.flatMap((panel) => (panel.targets ?? []).map((t) => [panel.title, t.expr.replace(/\$__rate_interval/g, '1m').replace(/\$(namespace|ingress)\b/g, '.*')] as const));
    assert.ok(exprs.length >= 25, `only ${exprs.length} queries`);
    for (const [title, expr] of exprs) {
      const r = await get(promPort, `/api/v1/query?query=${encodeURIComponent(expr)}`, { agent: false });
      assert.equal(r.status, 200, `${title}: ${expr}: ${r.body}`);
      assert.equal((JSON.parse(r.body) as { status: string }).status, 'success', title);
    }
  });

  test('/debug/backends lists endpoints with their request and error counts', async () => {
    const b = JSON.parse((await get(p.adminPort, '/debug/backends')).body) as { backends: { id: string; endpoints: { address: string; requests: number; errors: number; recentErrors: number; lastError: string | null }[] }[] };
    const api = b.backends.find((x) => x.id === 'default/api:80');
    assert.deepEqual(api?.endpoints.map((e) => [e.address, e.requests, e.errors]), [[`127.0.40.1:${pod.port}`, 7, 0]]);
    const dead = b.backends.find((x) => x.id === 'default/dead:80');
    assert.equal(dead?.endpoints[0]?.recentErrors, 1);
    assert.equal(dead?.endpoints[0]?.lastError, 'connect_refused');
  });

  test('portico routes and portico backends print readable tables from a running instance', () => {
    const admin = `http://127.0.0.1:${p.adminPort}`;
    const routes = spawnSync(process.execPath, [CLI, 'routes', '--admin-url', admin], { encoding: 'utf8' });
    assert.equal(routes.status, 0, routes.stderr);
    assert.match(routes.stdout, /^HOST\s+MATCH\s+PATH\s+BACKEND\s+INGRESS/);
    assert.match(routes.stdout, /shop\.test\s+Prefix\s+\/api\s+default\/api:80\s+default\/shop/);
    assert.match(routes.stdout, /ServiceNotFound/);
    const backends = spawnSync(process.execPath, [CLI, 'backends', `--admin-url=${admin}`], { encoding: 'utf8' });
    assert.equal(backends.status, 0, backends.stderr);
    assert.match(backends.stdout, new RegExp(`default/api:80\\s+127\\.0\\.40\\.1:${pod.port}\\s+ready\\s+7\\s+0`));
    assert.match(backends.stdout, /default\/dead:80\s+\S+\s+ready\s+1\s+1\s+1\s+connect_refused/);
  });

  test('portico routes against nothing fails with one line', () => {
    const r = spawnSync(process.execPath, [CLI, 'routes', '--admin-url', `http://127.0.0.1:${promPort || 1}`], { encoding: 'utf8' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr.trim(), /^portico: cannot read http:\/\/127\.0\.0\.1:\d+\/debug\/routes: /);
  });

  test('--enable-metrics=false serves no /metrics and still proxies', async () => {
    const q = await startPortico({ 'app.yaml': join(ingressYaml('a', [{ host: 'a.test', paths: [{ path: '/', service: 'api' }] }]), serviceYaml('api', [pod])) }, ['--enable-metrics=false', '--access-log=false']);
    try {
      assert.equal((await get(q.adminPort, '/metrics')).status, 404);
      assert.equal((await get(q.httpPort, '/', { host: 'a.test' })).status, 200);
      await sleep(100);
      assert.ok(!q.logs.some((l) => l.msg === 'request'), 'no access log lines with --access-log=false');
    } finally {
      await q.stop();
    }
  });

  test('--access-log-format text writes one combined-log-style line per request', async () => {
    const q = await startPortico({ 'app.yaml': join(ingressYaml('a', [{ host: 'a.test', paths: [{ path: '/', service: 'api' }] }]), serviceYaml('api', [pod])) }, ['--access-log-format', 'text']);
    try {
      await get(q.httpPort, '/hello?x=1', { host: 'a.test', headers: { 'user-agent': 'ua/1', 'x-request-id': 'rid-text' } });
      const line = await q.waitForLog((l) => String(l.msg).includes('rid-text'));
      assert.match(String(line.msg), new RegExp(`^127\\.0\\.0\\.1 - - \\[\\d{2}/\\w{3}/\\d{4}:\\d{2}:\\d{2}:\\d{2} \\+0000\\] "GET /hello\\?x=1 HTTP/1\\.1" 200 \\d+ "-" "ua/1" [1-9]\\d+ \\d+\\.\\d{3} \\[default-api\\] \\[\\] 127\\.0\\.40\\.1:${pod.port} \\d+ \\d+\\.\\d{3} 200 rid-text$`));
    } finally {
      await q.stop();
    }
  });
});
