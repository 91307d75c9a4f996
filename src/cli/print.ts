/** `portico routes` / `portico backends`: the admin JSON views of a running instance as text tables. */
import type { RouteRow } from '../model/print.js';

interface BackendsJson {
  backends: { id: string; externalName?: string; endpoints: { address: string; terminating: boolean; requests: number; errors: number; recentErrors: number; lastError: string | null }[] }[];
}

/** Renders rows as left-aligned columns with a header line. */
export function columns(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** /debug/routes' structured rows as columns; the last one says where a route came from and what else applies. */
export function routesText(t: { rows: readonly RouteRow[]; diagnostics?: string[] }): string {
  const rows = t.rows.map((r) => {
    const limits = Object.entries(r.limits).map(([k, v]) => `${k}=${String(v)}`);
    return [r.host, r.match, r.path, r.backend, `${r.ingress}${r.redirect ? ' (redirects to https)' : ''}${limits.length > 0 ? ` {${limits.join(' ')}}` : ''}`];
  });
  let out = columns(['HOST', 'MATCH', 'PATH', 'BACKEND', 'INGRESS'], rows);
  if (t.diagnostics && t.diagnostics.length > 0) out += `\nDiagnostics:\n${t.diagnostics.map((d) => `  ${d}`).join('\n')}\n`;
  return out;
}

export function backendsText(b: BackendsJson): string {
  const rows: string[][] = [];
  for (const be of b.backends) {
    const id = be.externalName === undefined ? be.id : `${be.id} (${be.externalName})`;
    if (be.endpoints.length === 0) rows.push([id, '(none)', '', '', '', '', '']);
    for (const e of be.endpoints) rows.push([id, e.address, e.terminating ? 'terminating' : 'ready', String(e.requests), String(e.errors), String(e.recentErrors), e.lastError ?? '']);
  }
  return columns(['BACKEND', 'ENDPOINT', 'STATE', 'REQUESTS', 'ERRORS', 'ERRORS/1M', 'LAST ERROR'], rows);
}

export async function printView(kind: 'routes' | 'backends', adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/debug/${kind}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as unknown;
  return kind === 'routes' ? routesText(body as { rows: RouteRow[]; diagnostics?: string[] }) : backendsText(body as BackendsJson);
}
