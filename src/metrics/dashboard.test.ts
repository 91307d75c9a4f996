/** The Grafana dashboard under charts/ must only query metrics Portico actually exposes. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../paths.js';
import { createMetrics } from './metrics.js';

test('every metric the dashboard queries exists in the registry', async () => {
  const dash = JSON.parse(readFileSync(join(repoRoot, 'charts/portico/dashboards/portico.json'), 'utf8')) as { panels: { title: string; type: string; targets?: { expr: string }[] }[] };
  const m = createMetrics({ version: 't', nginxCompat: false, controllerClass: 'c', controllerNamespace: '', controllerPod: '' });
  const known = new Set<string>();
  for (const x of await m.registry.getMetricsAsJSON()) {
    known.add(x.name);
    if (String(x.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) known.add(x.name + s);
  }
  assert.ok(dash.panels.length >= 10);
  // Layer 4 has its panels: each of its metric families is queried somewhere
  const queried = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)).join('\n');
  for (const family of ['portico_tcp_connections_total', 'portico_tcp_open_connections', 'portico_tcp_bytes_total', 'portico_tcp_errors_total', 'portico_udp_bytes_total', 'portico_udp_errors_total', 'portico_udp_active_flows', 'portico_tls_client_hellos_total', 'portico_l4_listen_errors_total']) assert.ok(queried.includes(family), `no panel queries ${family}`);
  for (const p of dash.panels) {
    if (p.type === 'row') continue; // a section heading
    assert.ok((p.targets ?? []).length > 0, `${p.title} has no query`);
    for (const t of p.targets ?? []) {
      const names = t.expr.match(/\b(portico|process|nodejs)_[a-z0-9_]+/g) ?? [];
      assert.ok(names.length > 0, `${p.title}: no metric in ${t.expr}`);
      for (const n of names) assert.ok(known.has(n), `${p.title}: unknown metric ${n}`);
    }
  }
});
