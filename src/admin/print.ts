/** `portico routes` / `portico backends`: the admin JSON views of a running instance as text tables. */
import type { PrintedTable } from '../model/print.js';

interface BackendsJson {
  backends: { id: string; endpoints: { address: string; terminating: boolean; requests: number; errors: number; recentErrors: number; lastError: string | null }[] }[];
}

/** Renders rows as left-aligned columns with a header line. */
export function columns(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]): string => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export function routesText(t: PrintedTable & { diagnostics?: string[] }): string {
  const rows: string[][] = [];
  for (const [host, h] of Object.entries(t.hosts)) {
    for (const r of h.routes) {
      const m = /^(\S+) (\S+) -> (\S+) \((\S+)\)( \[https redirect\])?( \{[^}]*\})?$/.exec(r);
      rows.push(m ? [host, m[1] as string, m[2] as string, m[3] as string, `${m[4] as string}${m[5] ? ' (redirects to https)' : ''}${m[6] ?? ''}`] : [host, '', r, '', '']);
    }
    if (h.fallback) rows.push([host, 'default', '*', ...(h.fallback.split(' (from ') as [string, string]).map((s) => s.replace(/\)$/, ''))]);
  }
  if (t.defaultBackend) rows.push(['(any)', 'default', '*', ...(t.defaultBackend.split(' (from ') as [string, string]).map((s) => s.replace(/\)$/, ''))]);
  let out = columns(['HOST', 'MATCH', 'PATH', 'BACKEND', 'INGRESS'], rows);
  if (t.diagnostics && t.diagnostics.length > 0) out += `\nDiagnostics:\n${t.diagnostics.map((d) => `  ${d}`).join('\n')}\n`;
  return out;
}

export function backendsText(b: BackendsJson): string {
  const rows: string[][] = [];
  for (const be of b.backends) {
    if (be.endpoints.length === 0) rows.push([be.id, '(none)', '', '', '', '', '']);
    for (const e of be.endpoints) rows.push([be.id, e.address, e.terminating ? 'terminating' : 'ready', String(e.requests), String(e.errors), String(e.recentErrors), e.lastError ?? '']);
  }
  return columns(['BACKEND', 'ENDPOINT', 'STATE', 'REQUESTS', 'ERRORS', 'ERRORS/1M', 'LAST ERROR'], rows);
}

export async function printView(kind: 'routes' | 'backends', adminUrl: string): Promise<string> {
  const res = await fetch(`${adminUrl}/debug/${kind}`, { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  const body = (await res.json()) as unknown;
  return kind === 'routes' ? routesText(body as PrintedTable) : backendsText(body as BackendsJson);
}
