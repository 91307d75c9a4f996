/**
 * Plain, stable views of a table and its diagnostics: for golden tests, /debug/routes and
 * `portico routes`. Also the equality used to skip a swap when nothing changed.
 */
import { sourceName } from './build.js';
import { printL4 } from './l4/print.js';
import type { Backend, Balancing, Canary, Cert, ClientAuth, Diagnostic, Endpoint, HeaderEdit, PathRewrite, Policy, Route, RouteSettings, RouteSource, RouteTable, UpstreamTls, WeightedBackend } from './types.js';

const NONE: ReadonlyMap<string, UpstreamTls> = new Map();
const NO_CLIENT_AUTH: ReadonlyMap<string, ClientAuth> = new Map();

export interface PrintedTable {
  readonly hosts: Record<string, { routes: string[]; fallback?: string }>;
  readonly defaultBackend: string | null;
  readonly backends: Record<string, string[]>;
  readonly certs: Record<string, string>;
  /** proxy-ssl-secret material, by Secret: what it holds and its id, never the PEM itself. */
  readonly upstreamTls?: Record<string, string>;
  /** Layer 4 listeners and TLS passthrough names (model/l4/print.ts). */
  readonly l4?: { listeners: string[]; passthrough: string[] };
  /** Client-certificate verification by host: the CA's Secret and id, never the PEM itself. */
  readonly clientAuth?: Record<string, string>;
}

/** One routing decision of /debug/routes, structured: what `portico routes` prints as a row. */
export interface RouteRow {
  /** The rule host; '*' for rules without one, '(any)' for the default backend. */
  readonly host: string;
  /** `default` for a host's fallback and for the default backend. */
  readonly match: 'Exact' | 'Prefix' | 'Regex' | 'default';
  /** The path as written; '*' for a default. */
  readonly path: string;
  /** The backend, or `a (90), b (10)` for weighted ones. */
  readonly backend: string;
  /** `namespace/name` of the Ingress it came from, `Kind namespace/name` of another object, or `--default-backend-service`. */
  readonly ingress: string;
  readonly redirect: boolean;
  /** The route's policies, one short line each (`https redirect` for the redirect). */
  readonly policies: readonly string[];
  readonly limits: RouteSettings;
  /** Gateway API routes: the listener ports they are served on (80 = --http-port, 443 = --https-port). */
  readonly ports?: readonly number[];
}

/** `ns/name` for an Ingress (as ingress-nginx users read it), `Kind ns/name` for other objects. */
const origin = (s: RouteSource): string => (s.kind === 'Ingress' ? `${s.namespace}/${s.name}` : sourceName(s));

/** `ns/svc:80`, or `ns/a:80 (90), ns/b:80 (10)` when traffic is split. */
export function printBackends(backends: readonly WeightedBackend[]): string {
  if (backends.length === 0) return '(none)';
  // '' is a backend reference that could not be resolved: its share of requests is answered 500
  // a backendRef's own filters follow its name: `ns/svc:80 {headers ...; rewrite ...}`
  const name = (b: WeightedBackend): string => `${b.backend || '(invalid: 500)'}${b.policies === undefined || b.policies.length === 0 ? '' : ` {${b.policies.map(printPolicy).join('; ')}}`}`;
  if (backends.length === 1 && (backends[0] as WeightedBackend).weight === 1) return name(backends[0] as WeightedBackend);
  return backends.map((b) => `${name(b)} (${b.weight})`).join(', ');
}

/** A policy as one short line. */
export function printPolicy(p: Policy): string {
  switch (p.kind) {
    case 'refuse':
      return `refused: ${p.message ?? [...p.because, ...(p.invalid ?? []).map((k) => `${k} (invalid value)`)].join(', ')}`;
    case 'httpsRedirect':
      return `https redirect${p.preserveTrailingSlash === true ? ', trailing slash kept' : ''}${p.usePort === true ? ', with port' : ''}`;
    case 'headers':
      return `${p.phase} headers${p.set.map(([n, v]) => ` set ${n}=${v}`).join('')}${p.add.map(([n, v]) => ` add ${n}=${v}`).join('')}${p.remove.map((n) => ` remove ${n}`).join('')}`;
    case 'appRoot':
      return `app-root 302 ${p.path}`;
    case 'hostRedirect':
      return `www redirect 308 to ${p.host}`;
    case 'fixedRedirect':
      return `redirect ${p.status} ${p.url}${p.relative === true ? ', relative' : ''}${p.usePort === true ? ', with port' : ''}`;
    case 'redirect':
      return `redirect ${p.status}${p.scheme !== undefined ? ` scheme=${p.scheme}` : ''}${p.hostname !== undefined ? ` host=${p.hostname}` : ''}${p.port !== undefined ? ` port=${p.port}` : ''}${p.path !== undefined ? ` ${pathText(p.path)}` : ''}`;
    case 'rewrite':
      return `rewrite${p.hostname !== undefined ? ` host=${p.hostname}` : ''}${p.path !== undefined ? ` ${pathText(p.path)}` : ''}${p.forwardedPrefix !== undefined ? `, X-Forwarded-Prefix ${p.forwardedPrefix}` : ''}`;
    case 'sourceRange':
      return `source range:${p.deny.length > 0 ? ` deny ${p.deny.join(',')}` : ''}${p.deny.length > 0 && p.allow.length > 0 ? ';' : ''}${p.allow.length > 0 ? ` allow ${p.allow.join(',')}` : ''}`;
    case 'satisfyAny':
      return `satisfy any of: ${p.checks.map(printPolicy).join(' | ')}`;
    case 'rateLimit': {
      const parts = [
        ...(p.rps > 0 ? [`${p.rps} r/s burst ${p.rps * p.burstMultiplier}`] : []),
        ...(p.rpm > 0 ? [`${p.rpm} r/m burst ${p.rpm * p.burstMultiplier}`] : []),
        ...(p.connections > 0 ? [`${p.connections} connections`] : []),
        ...(p.exempt.length > 0 ? [`exempt ${p.exempt.join(',')}`] : []),
      ];
      return `limit per client (${p.id}): ${parts.join(', ')}`;
    }
    case 'clientCert':
      return [
        `client certificate ${p.verify}`,
        `CA ${p.secret} (id ${p.ca.slice(0, 12)})`,
        `depth ${p.depth}`,
        ...(p.matchCn !== undefined ? [`match ${p.matchCn}`] : []),
        ...(p.passCertificate ? ['pass certificate'] : []),
        ...(p.errorPage !== undefined ? [`error page ${p.errorPage}`] : []),
      ].join(', ');
    case 'basicAuth':
      // the hashes are secret material: only how many users, and from where
      return `basic auth realm=${JSON.stringify(p.realm)} users from ${p.secret} (${p.users.length})`;
    case 'extAuth':
      return `external auth ${[
        p.method ?? 'GET',
        p.url,
        ...(p.signin !== undefined ? [`signin=${p.signin}${p.signinParam !== 'rd' ? ` param=${p.signinParam}` : ''}`] : []),
        ...(p.responseHeaders.length > 0 ? [`copy=${p.responseHeaders.join(',')}`] : []),
        ...(p.requestRedirect !== undefined ? [`redirect=${p.requestRedirect}`] : []),
        ...(p.alwaysSetCookie ? ['always-set-cookie'] : []),
        ...(p.setHeaders !== undefined ? [`set=${p.setHeaders.map(([n]) => n).join(',') || '(none)'} from ${p.setHeadersFrom ?? '?'}`] : []),
        ...(p.cache !== undefined ? [`cache=${p.cache.key} ${p.cache.durations.map((d) => `${d.statuses.join(' ')} ${d.ms}ms`).join(', ')}`] : []),
        ...(p.connectTimeout !== undefined ? [`connect=${p.connectTimeout}ms`] : []),
        ...(p.readTimeout !== undefined ? [`read=${p.readTimeout}ms`] : []),
      ].join(' ')}`;
    case 'cors':
      return `cors${p.gatewayApi === true ? ' (Gateway API)' : ''} origins ${p.origins === '*' ? '*' : p.origins.join(',')}; methods ${p.methods || '(none)'}; headers ${p.headers || '(none)'}${p.exposeHeaders === '' ? '' : `; expose ${p.exposeHeaders}`}${p.credentials ? '; credentials' : ''}; max-age ${p.maxAge}`;
    case 'mirror': {
      const to = p.backend !== undefined ? p.backend : `${p.origin ?? ''}${p.path || '$request_uri'}${p.host !== undefined ? ` host=${p.host}` : ''}`;
      return `mirror to ${to}${p.numerator < p.denominator ? ` (${p.numerator}/${p.denominator})` : ''}${p.body ? '' : ', without body'}`;
    }
    case 'notFound':
      return 'not found (404)';
    case 'headerDirectives': {
      const lists = (['input', 'upstream', 'response'] as const).filter((k) => p[k].length > 0).map((k) => `${k} ${p[k].map(printEdit).join(', ')}`);
      return `headers (${p.scope} ${p.from}): ${lists.join('; ')}`;
    }
    case 'responseRewrite': {
      const parts = [
        ...(p.redirect !== undefined ? [`redirect ${p.redirect.from} => ${p.redirect.to}`] : []),
        ...(p.cookieDomain !== undefined ? [`cookie domain ${p.cookieDomain.from} => ${p.cookieDomain.to}`] : []),
        ...(p.cookiePath !== undefined ? [`cookie path ${p.cookiePath.from} => ${p.cookiePath.to}`] : []),
      ];
      return `rewrite answers: ${parts.join('; ')}`;
    }
    case 'errorPages': {
      const to = p.backends.length === 0 ? 'the built-in 404 page' : p.backends.join(' then ');
      const codes = p.codes.length === 0 ? '' : `error pages ${p.codes.join(',')} -> ${to}${p.intercept ? '' : ' (pod answers not intercepted)'}`;
      const empty = p.whenEmpty === undefined ? '' : `no endpoints -> ${p.whenEmpty}`;
      return [codes, empty].filter(Boolean).join('; ');
    }
  }
}

/** `set X-Frame-Options: DENY -s 200,404`: one header edit. */
function printEdit(e: HeaderEdit): string {
  const value = e.value === undefined ? '' : `: ${JSON.stringify(e.value)}${e.literal === true ? ' (literal)' : ''}`;
  return `${e.op} ${e.name}${value}${e.statuses ? ` -s ${e.statuses.join(',')}` : ''}${e.types ? ` -t ${e.types.join(',')}` : ''}${e.existing === true ? ' -r' : ''}${e.always === true ? ' always' : ''}`;
}

const pathText = (p: PathRewrite): string => (p.type === 'full' ? `path=${p.value}` : p.type === 'template' ? `template ${p.value}` : `prefix ${p.prefix}=>${p.value}`);

/** How endpoints are picked, as one short line (`ewma`, `hash $request_uri`, `affinity cookie NAME persistent ...`). */
export function printBalancing(b: Balancing): string {
  const a = b.affinity;
  if (a !== undefined) {
    const attrs = [a.path !== undefined ? `path=${a.path}` : '', a.domain !== undefined ? `domain=${a.domain}` : '', a.maxAge !== undefined ? `max-age=${a.maxAge}` : '', a.expires !== undefined ? `expires=${a.expires}` : '', a.sameSite !== undefined ? `samesite=${a.sameSite}${a.conditionalSameSiteNone === true ? ' (conditional)' : ''}` : '', a.secure === true ? 'secure' : '', a.changeOnFailure === true ? 'change-on-failure' : ''];
    return ['affinity cookie', a.name, a.mode, ...attrs].filter(Boolean).join(' ');
  }
  if (b.hashBy !== undefined) return `hash ${b.hashBy}${b.hashSubsetSize !== undefined ? ` subset ${b.hashSubsetSize}` : ''}`;
  return b.algorithm ?? '';
}

/** A canary, as one short line. */
export function printCanary(c: Canary): string {
  const header = c.header === undefined ? '' : `header ${c.header}${c.headerValue !== undefined ? `=${c.headerValue}` : c.headerPattern !== undefined ? `~${c.headerPattern}` : c.headerPatternInvalid === true ? ' (invalid pattern: main)' : ''}`;
  const parts = [`canary ${c.backend} (${origin(c.source)})`, `weight ${c.weight}/${c.total}`, header, c.cookie !== undefined ? `cookie ${c.cookie}` : '', c.balancing !== undefined ? printBalancing(c.balancing) : ''];
  return parts.filter(Boolean).join(', ');
}

/** The route's balancing and canary, one line each (what routes and /debug/routes list after the policies). */
const choiceLines = (r: Route): string[] => [...(r.balancing !== undefined ? [printBalancing(r.balancing)] : []), ...(r.canary !== undefined ? [printCanary(r.canary)] : [])];

const conditionsText = (r: Route): string => {
  const c = r.conditions;
  if (c === undefined) return '';
  const parts = [...(c.method !== undefined ? [`method=${c.method}`] : []), ...(c.headers ?? []).map((h) => `header ${h.name}${h.type === 'Exact' ? '=' : '~'}${h.value}`), ...(c.query ?? []).map((q) => `query ${q.name}${q.type === 'Exact' ? '=' : '~'}${q.value}`)];
  return ` when ${parts.join(', ')}`;
};

const row = (host: string, match: RouteRow['match'], path: string, r: Route): RouteRow => {
  const policies = [...r.policies.map(printPolicy), ...choiceLines(r)];
  return { host, match, path, backend: printBackends(r.backends), ingress: origin(r.source), redirect: r.policies.some((p) => p.kind === 'httpsRedirect'), policies, limits: r.settings, ...(r.ports !== undefined ? { ports: r.ports } : {}) };
};

/** The table as rows: hosts sorted, each host's routes in match order then its fallback, the default backend last. */
export function routeRows(table: RouteTable): RouteRow[] {
  const byHost = new Map<string, RouteRow[]>();
  const rows = (host: string): RouteRow[] => {
    let r = byHost.get(host || '*');
    if (r === undefined) byHost.set(host || '*', (r = []));
    return r;
  };
  for (const r of table.routes) rows(r.host).push(row(r.host || '*', r.match, `${r.path}${conditionsText(r)}`, r));
  for (const [host, f] of table.hostFallbacks) rows(host).push(row(host || '*', 'default', '*', f));
  const out = [...byHost.keys()].sort().flatMap((h) => byHost.get(h) as RouteRow[]);
  const d = table.defaultBackend;
  if (d) out.push(row('(any)', 'default', '*', d));
  return out;
}

const fallbackText = (f: Route): string => `${printBackends(f.backends)} (from ${f.source.kind === 'DefaultBackend' ? '--default-backend-service' : f.source.kind === 'Ingress' ? `${f.source.namespace}/${f.source.name}` : sourceName(f.source)})${policiesText(f.policies)}${choiceText(f)}`;
const policiesText = (ps: readonly Policy[]): string => ps.map((p) => ` [${printPolicy(p)}]`).join('');
const choiceText = (r: Route): string => choiceLines(r).map((l) => ` <${l}>`).join('');

/** One line per route: `Prefix /path -> ns/svc:port (ns/ingress) [policy] {setting=value}`, grouped by host ('*' = any host). */
export function printTable(table: RouteTable): PrintedTable {
  const hosts: PrintedTable['hosts'] = {};
  const entry = (host: string): { routes: string[]; fallback?: string } => (hosts[host || '*'] ??= { routes: [] });
  for (const r of table.routes) {
    const lim = Object.entries(r.settings).map(([k, v]) => `${k}=${String(v)}`);
    const flags = r.match === 'Regex' && r.ignoreCase === true ? ' (ignore case)' : '';
    const on = r.ports === undefined ? '' : ` on ${r.ports.map((p) => `:${p}`).join(',')}`;
    entry(r.host).routes.push(`${r.match} ${r.path}${flags}${conditionsText(r)}${on} -> ${printBackends(r.backends)} (${origin(r.source)})${policiesText(r.policies)}${lim.length ? ` {${lim.join(' ')}}` : ''}${choiceText(r)}`);
  }
  for (const [host, f] of [...table.hostFallbacks].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    entry(host).fallback = fallbackText(f);
  }
  const sortedHosts: PrintedTable['hosts'] = {};
  for (const h of Object.keys(hosts).sort()) sortedHosts[h] = hosts[h] as { routes: string[]; fallback?: string };
  const backends: PrintedTable['backends'] = {};
  for (const [id, b] of table.backends) {
    backends[id] = b.endpoints.map((e) => `${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.port}${e.terminating ? ' (terminating)' : ''}`);
    // a BackendTLSPolicy's settings: what the CAs came from, never the PEM
    if (b.tls !== undefined) backends[id].push(`tls: sni ${b.tls.hostname}, verified against ${b.tls.caFrom}${b.tls.subjectAltNames !== undefined ? `, subjectAltNames ${b.tls.subjectAltNames.map((x) => `${x.type}:${x.value}`).join(' ')}` : ', name = sni'} (BackendTLSPolicy ${b.tls.policy})`);
  }
  const certs: PrintedTable['certs'] = {};
  for (const host of [...table.certs.keys()].sort()) {
    const c = table.certs.get(host) as Cert;
    certs[host || '(default)'] = `${c.secret} (expires ${new Date(c.notAfter).toISOString()}, id ${c.id.slice(0, 12)})`;
  }
  const upstreamTls: Record<string, string> = {};
  for (const key of [...(table.upstreamTls?.keys() ?? [])].sort()) {
    const u = table.upstreamTls?.get(key) as UpstreamTls;
    upstreamTls[key] = `${[u.caPem !== undefined ? 'trusted CAs' : '', u.certPem !== undefined ? 'client certificate' : ''].filter(Boolean).join(' + ')} (id ${u.id.slice(0, 12)})`;
  }
  const clientAuth: Record<string, string> = {};
  for (const host of [...(table.clientAuth?.keys() ?? [])].sort()) {
    const a = table.clientAuth?.get(host) as ClientAuth;
    clientAuth[host || '*'] = `${a.secret} (${a.crlPem !== undefined ? 'CAs and CRLs' : 'CAs'}, id ${a.id.slice(0, 12)}${a.request ? '' : ', no certificate asked for'})`;
  }
  return {
    hosts: sortedHosts,
    certs,
    defaultBackend: table.defaultBackend ? fallbackText(table.defaultBackend) : null,
    backends,
    ...(Object.keys(upstreamTls).length > 0 ? { upstreamTls } : {}),
    ...(Object.keys(clientAuth).length > 0 ? { clientAuth } : {}),
    ...(table.l4 !== undefined ? { l4: printL4(table.l4) } : {}),
  };
}

/** `Kind ns/name: Reason: message` (`Kind name` without a namespace, as for a file), sorted, one per line. */
export function printDiagnostics(diags: readonly Diagnostic[]): string[] {
  return diags.map((d) => `${d.source.kind} ${d.source.namespace === '' ? '' : `${d.source.namespace}/`}${d.source.name}: ${d.reason}: ${d.message}`).sort();
}

/**
 * Deep equality of plain data (what routes, policies and settings are made of: objects, arrays,
 * strings, numbers, booleans). Complete by construction: a field added to a policy or a setting
 * is compared without anyone remembering to add it here.
 */
export function samePlain(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!samePlain(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) if (!Object.hasOwn(b, k) || !samePlain((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  return true;
}

function sameMap<V>(a: ReadonlyMap<string, V>, b: ReadonlyMap<string, V>, eq: (x: V, y: V) => boolean): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const w = b.get(k);
    if (w === undefined || !eq(v, w)) return false;
  }
  return true;
}

/** Same endpoints in the same order (endpoint lists are sorted when resolved). */
export function sameEndpoints(a: readonly Endpoint[], b: readonly Endpoint[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as Endpoint;
    const y = b[i] as Endpoint;
    if (x.ip !== y.ip || x.port !== y.port || x.terminating !== y.terminating) return false;
  }
  return true;
}

/** A backend the same but for its endpoints, which `endpoints` gives (the live lists, patched since the last swap). */
function sameBackend(a: Backend, b: Backend, endpoints: (b: Backend) => readonly Endpoint[]): boolean {
  return a.namespace === b.namespace && a.service === b.service && a.port === b.port && a.protocol === b.protocol && a.externalName === b.externalName && a.serviceUpstream === b.serviceUpstream && samePlain(a.tls, b.tls) && sameEndpoints(a.endpoints, endpoints(b));
}

/**
 * True when two tables route every request the same way (used to skip a no-op swap). `b` is the
 * running table; `endpoints` gives its live endpoint lists (default: its own). A direct walk:
 * printing both tables to compare them cost more than translating at 10k Ingresses.
 */
export function sameTable(a: RouteTable, b: RouteTable, endpoints: (b: Backend) => readonly Endpoint[] = (x) => x.endpoints): boolean {
  if (a.routes.length !== b.routes.length) return false;
  for (let i = 0; i < a.routes.length; i++) if (!samePlain(a.routes[i], b.routes[i])) return false;
  return (
    samePlain(a.defaultBackend, b.defaultBackend) &&
    sameMap(a.hostFallbacks, b.hostFallbacks, samePlain) &&
    sameMap(a.backends, b.backends, (x, y) => sameBackend(x, y, endpoints)) &&
    sameMap(a.certs, b.certs, (x, y) => x.id === y.id && x.secret === y.secret && x.notAfter === y.notAfter && samePlain(x.source, y.source)) &&
    sameMap(a.upstreamTls ?? NONE, b.upstreamTls ?? NONE, (x, y) => x.id === y.id) &&
    sameMap(a.clientAuth ?? NO_CLIENT_AUTH, b.clientAuth ?? NO_CLIENT_AUTH, (x, y) => x.id === y.id && x.request === y.request && x.secret === y.secret && samePlain(x.source, y.source)) &&
    // the ports to open: a listener (or an SNI name) can change while every route stays the same
    samePlain(a.listeners, b.listeners) &&
    samePlain(a.l4, b.l4)
  );
}
