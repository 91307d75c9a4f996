/** `portico routes` / `portico backends`: the admin JSON views of a running instance as text tables. */
import { printGatewayStatus, type GatewayApiStatus } from '../model/gateway/status.js';
import type { L4Row } from '../model/l4/print.js';
import type { RouteRow } from '../model/print.js';

interface BackendsJson {
  backends: { id: string; externalName?: string; endpoints: { address: string; terminating: boolean; requests: number; errors: number; recentErrors: number; lastError: string | null }[] }[];
  /** Layer 4 listeners and SNI names (absent from older instances). */
  l4?: L4Row[];
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
  let out = columns(['BACKEND', 'ENDPOINT', 'STATE', 'REQUESTS', 'ERRORS', 'ERRORS/1M', 'LAST ERROR'], rows);
  // TCP and UDP backends count connections and flows as requests; their listeners follow
  if (b.l4 !== undefined && b.l4.length > 0) {
    const proxy = (r: L4Row): string => (r.proxyProtocol === undefined ? '' : [r.proxyProtocol.decode ? 'from clients' : '', r.proxyProtocol.encode ? 'to pods' : ''].filter(Boolean).join(', '));
    out += `\n${columns(['LISTENER', 'PORT', 'SNI', 'BACKEND', 'FROM', 'PROXY'], b.l4.map((r) => [r.protocol, String(r.port), r.host ?? '', r.backend, r.source, proxy(r)]))}`;
  }
  return out;
}

/** Why a fetch got no answer, in a few words: the socket error's code and message where there is one. */
function causeOf(err: unknown): string {
  const e = err as Error & { cause?: Error & { code?: string } };
  if (e.name === 'TimeoutError') return 'no answer within 5 s';
  const cause = e.cause;
  if (cause instanceof AggregateError && cause.errors.length > 0) return (cause.errors as Error[]).map((x) => x.message).join('; ');
  return cause?.message ?? e.message;
}

/** /debug/gateways as text: each object, then its conditions, indented. */
export function statusText(s: GatewayApiStatus & { disabled?: string }): string {
  if (s.disabled !== undefined) return `${s.disabled}\n`;
  const lines = printGatewayStatus(s);
  return lines.length === 0 ? 'No GatewayClass of Portico\'s controller name.\n' : `${lines.join('\n')}\n`;
}

/** Fetches a view and renders it; throws an Error whose message is one line for the user. */
export async function printView(kind: 'routes' | 'backends' | 'status', adminUrl: string): Promise<string> {
  const url = `${adminUrl}/debug/${kind === 'status' ? 'gateways' : kind}`;
  let res: Response;
  try {
    res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  } catch (err) {
    throw new Error(`is Portico running on ${adminUrl}? (${causeOf(err)})`);
  }
  if (!res.ok) {
    // the admin server says why in one line (e.g. 403 under --debug-endpoints=local)
    const why = (await res.text().catch(() => '')).split('\n')[0]?.trim();
    throw new Error(`cannot read ${url}: HTTP ${res.status}${why ? `: ${why}` : ''}`);
  }
  const body = (await res.json()) as unknown;
  if (kind === 'status') return statusText(body as GatewayApiStatus);
  return kind === 'routes' ? routesText(body as { rows: RouteRow[]; diagnostics?: string[] }) : backendsText(body as BackendsJson);
}
