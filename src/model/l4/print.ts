/** The Layer 4 part of a table as plain text lines and rows: for golden tests, /debug/routes, /debug/backends and `portico backends`. */
import type { L4Listener, L4Source, L4Table, SniRoute, WeightedBackend } from '../types.js';

/** `ns/svc:80+tcp`, or `a (70), b (30)` when connections are split; '' (an invalid backendRef) is a rejected share. */
export function printL4Backends(backends: readonly WeightedBackend[]): string {
  if (backends.length === 0) return '(none: connections are closed)';
  const name = (b: WeightedBackend): string => b.backend || '(invalid: rejected)';
  if (backends.length === 1 && (backends[0] as WeightedBackend).weight === 1) return name(backends[0] as WeightedBackend);
  return backends.map((b) => `${name(b)} (${b.weight})`).join(', ');
}

/** `ConfigMap ns/name entry 9000`, `Ingress ns/name`, `TLSRoute ns/name`. */
export const l4SourceName = (s: L4Source): string => `${s.kind} ${s.namespace}/${s.name}${s.entry !== undefined ? ` entry ${s.entry}` : ''}`;

const proxyText = (l: L4Listener): string => {
  if (l.protocol !== 'TCP' || l.proxyProtocol === undefined) return '';
  const p = l.proxyProtocol;
  return ` [PROXY${p.decode ? ' from clients' : ''}${p.decode && p.encode ? ',' : ''}${p.encode ? ' to pods' : ''}]`;
};

/** One listener as a line: `TCP 9000 -> ns/svc:80+tcp (ConfigMap ns/tcp-services entry 9000) [PROXY from clients]`. */
export function printListener(l: L4Listener): string {
  if (l.protocol === 'TLS') return `TLS ${l.port}: passthrough by SNI only (names without a route are closed)`;
  return `${l.protocol} ${l.port} -> ${printL4Backends(l.route.backends)} (${l4SourceName(l.route.source)})${proxyText(l)}`;
}

/** One SNI route as a line: `:443 app.example.com -> ns/app:443+tcp (Ingress ns/app)`. */
export function printSni(r: SniRoute): string {
  return `:${r.port} ${r.host === '' ? '(any name)' : r.host}${r.wildcard === 'any-labels' ? ' (any depth)' : ''} -> ${printL4Backends(r.backends)} (${l4SourceName(r.source)})`;
}

export function printL4(t: L4Table): { listeners: string[]; passthrough: string[] } {
  return { listeners: t.listeners.map(printListener), passthrough: t.sni.map(printSni) };
}

/** /debug/backends' Layer 4 view: each listener and SNI name, structured. */
export interface L4Row {
  readonly protocol: 'TCP' | 'UDP' | 'TLS';
  readonly port: number;
  /** TLS passthrough: the SNI name ('*' = any). */
  readonly host?: string;
  readonly backend: string;
  readonly source: string;
  readonly proxyProtocol?: { readonly decode: boolean; readonly encode: boolean };
}

export function l4Rows(t: L4Table | undefined): L4Row[] {
  if (t === undefined) return [];
  const rows: L4Row[] = [];
  for (const l of t.listeners) {
    if (l.protocol === 'TLS') continue; // its names are the SNI rows
    rows.push({ protocol: l.protocol, port: l.port, backend: printL4Backends(l.route.backends), source: l4SourceName(l.route.source), ...(l.protocol === 'TCP' && l.proxyProtocol !== undefined ? { proxyProtocol: l.proxyProtocol } : {}) });
  }
  for (const r of t.sni) rows.push({ protocol: 'TLS', port: r.port, host: r.host || '*', backend: printL4Backends(r.backends), source: l4SourceName(r.source) });
  return rows;
}
