/**
 * Flags and environment -> one frozen Config. The only module that reads argv or process.env.
 * Flag names follow ingress-nginx's controller flags and ConfigMap keys where the concept is the same.
 *
 * The flag table is the one source. A flag's kind says what it parses to (`Kinds`, checked by the
 * typed `PARSERS`), and the flag becomes the Config field of its camel-cased name (or its `field`)
 * with that type. A flag with `field: null` is read only by `derive`, which computes the fields
 * that several flags (or the environment) make: `hsts`, `tls`, `adminBindAddress`, `env`.
 */

import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parseCidrList } from './model/cidr.js';
import { CONDITIONS, parseNextUpstream } from './model/ingress/traffic.js';
import type { NextUpstream } from './model/types.js';
import { isDnsSubdomain } from './model/k8s.js';
import { parseDuration, parseSize } from './model/units.js';
import { DEFAULT_CIPHERS, type TlsSettings } from './tls/settings.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

export interface ServiceRef extends NamespacedName {
  readonly port: string | number;
}

/** What each kind of flag parses to (a `choice` flag parses to the union of its `choices`). */
interface Kinds {
  /** Any text; '' when not given. */
  string: string;
  /** A file or directory; '' when not given (given empty, it is an error). */
  path: string;
  /** An IP address, v4 or v6 (no host names); '' when not given and without a default. */
  ip: string;
  /** Comma-separated IP addresses or DNS names. */
  addresses: readonly string[];
  /** Comma-separated namespace names; none = all. */
  namespaces: readonly string[];
  bool: boolean;
  /** 0 to 65535. */
  port: number;
  /** 1 to 100. */
  count: number;
  int: number;
  /** A whole number of at least 1 (a bound that must admit something). */
  positive: number;
  /** Bytes; 0 = unlimited. */
  size: number;
  cidrs: readonly string[];
  /** Milliseconds, more than 0 and at most 24 h. */
  duration: number;
  /** Milliseconds, 0 to 1 h. */
  period: number;
  secret: NamespacedName | undefined;
  service: ServiceRef | undefined;
  /** An HTTP status for an error answer, 400 to 599. */
  status: number;
  protocols: Pick<TlsSettings, 'minVersion' | 'maxVersion'>;
  workers: number;
  /** proxy-next-upstream conditions, space-separated. */
  conditions: readonly NextUpstream[];
}

export type FlagKind = keyof Kinds | 'choice';

export interface FlagDef {
  readonly kind: FlagKind;
  /** Parsed like user input; '' = not set (see `unset`). */
  readonly default: string;
  readonly help: string;
  readonly arg?: string;
  /** A `choice` flag's values. */
  readonly choices?: readonly string[];
  /** What applies when the flag is not set and its default is '', in words for --help. */
  readonly unset?: string;
  /** The Config field, where it is not the camel-cased flag name; null: only `derive` reads it. */
  readonly field?: string | null;
}

/** Every flag, in `--help` order. */
export const FLAGS = {
  manifests: { kind: 'path', default: '', arg: 'PATH', unset: 'Kubernetes mode', help: 'Standalone mode: serve the Kubernetes YAML in this file or directory, and follow its changes' },
  kubeconfig: { kind: 'string', default: '', arg: 'PATH', unset: 'in-cluster config, else $KUBECONFIG, else ~/.kube/config', help: 'Kubernetes mode: kubeconfig file' },
  'kube-context': { kind: 'string', default: '', arg: 'NAME', unset: "the kubeconfig's current context", help: 'kubeconfig context to use' },
  'watch-namespace': { kind: 'namespaces', default: '', arg: 'NS[,NS]', unset: 'all', field: 'watchNamespaces', help: 'Only watch these namespaces' },
  'publish-service': { kind: 'secret', default: '', arg: 'NS/NAME', help: "Service whose addresses are written into each served Ingress's status" },
  'publish-status-address': { kind: 'addresses', default: '', arg: 'ADDR[,ADDR]', help: 'Addresses (IPs or DNS names) written into Ingress status instead of --publish-service' },
  'update-status': { kind: 'bool', default: 'true', help: 'Write status.loadBalancer of served Ingresses (leader only)' },
  'election-id': { kind: 'string', default: 'portico-leader', arg: 'NAME', help: "Lease name for leader election, in the controller's namespace" },
  'bind-address': { kind: 'ip', default: '0.0.0.0', arg: 'IP', help: 'Address the HTTP and HTTPS listeners bind to (and the admin listener, unless --admin-bind-address)' },
  'http-port': { kind: 'port', default: '8080', help: 'HTTP listener port (0 = any free port)' },
  'https-port': { kind: 'port', default: '8443', help: 'HTTPS listener port (reserved for TLS)' },
  'admin-port': { kind: 'port', default: '10254', help: 'Admin listener port: /healthz, /readyz, /metrics, /debug/*' },
  'admin-bind-address': { kind: 'ip', default: '', arg: 'IP', unset: 'the --bind-address value', field: null, help: 'Address the admin listener binds to (127.0.0.1: only from inside the pod)' },
  'debug-endpoints': { kind: 'choice', choices: ['local', 'all', 'off'], default: 'local', help: 'Who gets /debug/* on the admin port: local = loopback peers only (kubectl port-forward), all, or off (404); /metrics, /healthz and /readyz always answer' },
  'ingress-class': { kind: 'string', default: 'portico', arg: 'NAME', help: 'Ingress class name served even without an IngressClass object' },
  'controller-class': { kind: 'string', default: 'portico.dev/ingress-controller', arg: 'NAME', help: 'IngressClass spec.controller value that selects Portico' },
  'watch-ingress-without-class': { kind: 'bool', default: 'false', field: 'watchWithoutClass', help: 'Also serve Ingresses that name no class' },
  'allow-external-name-services': { kind: 'bool', default: 'false', help: 'Proxy to ExternalName Services (their DNS name is resolved every 30 s); off unless set, as any namespace could point one anywhere' },
  'external-name-denied-cidrs': { kind: 'cidrs', default: '127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128', arg: 'CIDR[,CIDR]', help: 'Addresses an ExternalName may not resolve to: loopback, link-local (cloud metadata), unspecified; empty allows all' },
  'default-backend-service': { kind: 'service', default: '', arg: 'NS/NAME:PORT', unset: 'a built-in 404', help: 'Service that answers requests no rule matched' },
  'default-ssl-certificate': { kind: 'secret', default: '', arg: 'NS/NAME', unset: 'a self-signed certificate generated at start', help: 'TLS Secret served for unknown SNI names' },
  'ssl-redirect': { kind: 'bool', default: 'true', help: 'Redirect plain HTTP to HTTPS (308) on hosts listed in an Ingress spec.tls' },
  'enable-gateway-api': { kind: 'bool', default: 'true', help: 'Serve the Gateway API: GatewayClasses of --gateway-controller-name, their Gateways, HTTPRoutes and GRPCRoutes (in Kubernetes mode when their CRDs are installed)' },
  'gateway-controller-name': { kind: 'string', default: 'portico.dev/gateway-controller', arg: 'NAME', help: 'GatewayClass spec.controllerName that selects Portico' },
  'crd-recheck-interval': { kind: 'duration', default: '60s', help: 'How often Portico looks again for a CRD that is not installed (the Gateway API kinds); installing one is noticed within this' },
  'unsupported-annotations': { kind: 'choice', choices: ['refuse', 'warn'], default: 'refuse', help: 'An Ingress with an annotation Portico cannot honour that restricts access or moves traffic (auth-*, *-source-range, limit-*, snippets with other than header directives...): refuse = not served (503), warn = served without it' },
  'add-headers': { kind: 'secret', default: '', arg: 'NS/NAME', unset: 'none', help: "ConfigMap of response headers for every Ingress route and the default backend (ingress-nginx's add-headers key): name = header, value = its value (nginx variables expanded)" },
  'proxy-set-headers': { kind: 'secret', default: '', arg: 'NS/NAME', unset: 'none', help: "ConfigMap of request headers sent to the pods of every Ingress route (ingress-nginx's proxy-set-headers key), over Portico's own (nginx variables expanded)" },
  'whitelist-source-range': { kind: 'cidrs', default: '', arg: 'CIDR[,CIDR]', unset: 'none', field: null, help: "Only these client addresses may reach Ingress routes (403 otherwise), unless an Ingress's allowlist-source-range / whitelist-source-range annotation replaces the list" },
  'denylist-source-range': { kind: 'cidrs', default: '', arg: 'CIDR[,CIDR]', unset: 'none', field: null, help: "Client addresses that get 403 on Ingress routes (before any allow list), unless an Ingress's denylist-source-range annotation replaces the list" },
  'limit-req-status-code': { kind: 'status', default: '503', help: 'Status answered to a request over limit-rps / limit-rpm (400-599)' },
  'limit-conn-status-code': { kind: 'status', default: '503', help: 'Status answered to a request over limit-connections (400-599)' },
  'https-redirect-port': { kind: 'port', default: '443', help: 'Port in redirect Locations (the public HTTPS port; 443 is left out)' },
  hsts: { kind: 'bool', default: 'true', field: null, help: 'Send Strict-Transport-Security on HTTPS responses' },
  'hsts-max-age': { kind: 'int', default: '31536000', field: null, help: 'HSTS max-age in seconds' },
  'hsts-include-subdomains': { kind: 'bool', default: 'true', field: null, help: 'Add includeSubDomains to HSTS' },
  'hsts-preload': { kind: 'bool', default: 'false', field: null, help: 'Add preload to HSTS' },
  'ssl-protocols': { kind: 'protocols', default: 'TLSv1.2 TLSv1.3', arg: 'LIST', field: null, help: 'TLS versions to accept: TLSv1.2 and/or TLSv1.3' },
  'ssl-ciphers': { kind: 'string', default: DEFAULT_CIPHERS, arg: 'LIST', field: null, help: 'OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are always the secure defaults)' },
  'proxy-connect-timeout': { kind: 'duration', default: '5s', help: 'Upstream connect timeout (seconds, or with a unit: 500ms, 5s, 1m)' },
  'proxy-read-timeout': { kind: 'duration', default: '60s', help: 'Upstream timeout waiting for response headers and between body reads' },
  'proxy-send-timeout': { kind: 'duration', default: '60s', help: 'Upstream timeout between two reads of the request body by the pod' },
  'proxy-next-upstream': { kind: 'conditions', default: 'error timeout', arg: 'LIST', help: "When a request goes to another endpoint, as nginx's proxy_next_upstream: error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, http_429, non_idempotent, or off; per Ingress: proxy-next-upstream annotation" },
  'proxy-next-upstream-timeout': { kind: 'period', default: '0s', help: 'Stop retrying on other endpoints after this long (0 = no limit); per Ingress: proxy-next-upstream-timeout annotation' },
  'proxy-body-size': { kind: 'size', default: '1m', arg: 'SIZE', help: 'Largest request body (413 above it); 0 = unlimited; per Ingress: proxy-body-size annotation' },
  'upstream-max-fails': { kind: 'count', default: '3', help: 'Consecutive connect failures or resets that take an endpoint out of rotation' },
  'upstream-fail-timeout': { kind: 'duration', default: '10s', help: 'How long an ejected endpoint stays out of rotation' },
  'client-header-timeout': { kind: 'duration', default: '60s', help: 'Time a client has to send the request headers (408 after)' },
  'client-body-timeout': { kind: 'duration', default: '60s', help: 'Time allowed between two chunks of a request body (408 after)' },
  'keep-alive-timeout': { kind: 'duration', default: '75s', help: 'Idle time before a client keep-alive connection is closed' },
  'reuse-port': { kind: 'bool', default: 'true', help: "Several listening sockets per HTTP/HTTPS port (SO_REUSEPORT, ingress-nginx's reuse-port): a burst of new connections is accepted several per event-loop turn instead of one. Needs Node 22.12+ (the image's), where --workers processes bind their own sockets too; one socket on older Node" },
  'max-connections': { kind: 'int', default: '0', help: 'Open client connections per listener before new ones are refused (0 = no limit)' },
  'max-headers': { kind: 'count', default: '100', help: 'Most request header fields (431 above it)' },
  'http1-server': { kind: 'choice', choices: ['portico', 'node'], default: 'portico', help: "What reads HTTP/1.1 requests on both listeners: portico = Portico's own server side (llhttp, the parser of Node's server, without Node's HTTP server), node = Node's http server (the earlier front end)" },
  'allow-underscores-in-headers': { kind: 'bool', default: 'false', help: "Forward request headers whose names contain '_' (nginx's underscores_in_headers); off: they are dropped, so X_Real_IP cannot spoof X-Real-IP for CGI-style backends" },
  'upgrade-idle-timeout': { kind: 'period', default: '0s', help: "Close an upgraded connection (WebSocket) idle this long in both directions; 0 = the route's proxy-read-timeout, as nginx" },
  'http2-max-concurrent-streams': { kind: 'int', default: '128', help: 'HTTP/2 streams open at once per client connection (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused' },
  'ssl-handshake-timeout': { kind: 'duration', default: '10s', help: 'Time a client has to complete the TLS handshake on the HTTPS port' },
  'trusted-proxies': { kind: 'cidrs', default: '', arg: 'CIDR[,CIDR]', unset: 'none', help: 'Peers whose X-Forwarded-* headers are believed' },
  'use-proxy-protocol': { kind: 'bool', default: 'false', help: 'Expect a PROXY protocol v1/v2 header on every connection (both listeners)' },
  'tcp-services-configmap': { kind: 'secret', default: '', arg: 'NS/NAME', help: 'ConfigMap of TCP services, as ingress-nginx: "<port>": "<namespace>/<service>:<port>[:PROXY][:PROXY]"; each entry is a listener on --bind-address (docs/layer4.md)' },
  'udp-services-configmap': { kind: 'secret', default: '', arg: 'NS/NAME', help: 'ConfigMap of UDP services, same format (without PROXY): datagrams forwarded per client address' },
  'enable-ssl-passthrough': { kind: 'bool', default: 'false', help: 'Serve the ssl-passthrough annotation: TLS to those hosts is routed by SNI and spliced, unterminated, to the pods (TLSRoutes need no flag)' },
  'proxy-stream-timeout': { kind: 'duration', default: '600s', help: 'Close a TCP service or TLS passthrough connection, or a UDP flow, idle this long in both directions' },
  'udp-max-flows': { kind: 'positive', default: '4096', arg: 'N', help: 'UDP flows (client addresses) kept per UDP listener; past it the least recently active flow is closed for the new one (counted as flow_evicted)' },
  'load-balance': { kind: 'choice', choices: ['round_robin', 'ewma'], default: 'round_robin', help: 'How an endpoint is picked where no load-balance, upstream-hash-by or affinity annotation says (ingress-nginx ConfigMap key load-balance): round_robin, or ewma (the better of two random endpoints by response time)' },
  'proxy-next-upstream-tries': { kind: 'count', default: '3', help: 'Attempts in all (the first included) for a request --proxy-next-upstream retries; per Ingress: proxy-next-upstream-tries annotation' },
  'mirror-max-in-flight': { kind: 'int', default: '100', help: 'Request copies (RequestMirror, mirror-target) in flight per mirror destination and process; more are dropped and counted, never queued (0 = no copy is sent)' },
  'mirror-timeout': { kind: 'duration', default: '10s', help: 'Time a request copy may take, to the end of its answer; then it is aborted and counted' },
  'mirror-body-buffer': { kind: 'size', default: '256k', arg: 'SIZE', help: 'Request body bytes a copy may hold back (read from the client, not yet taken by its connection) beyond the chunk being passed; past it the copy is dropped and counted (0: any)' },
  'shutdown-grace-period': { kind: 'period', default: '5s', help: 'After SIGTERM: keep serving (with /readyz failing) this long, so load balancers notice' },
  'shutdown-timeout': { kind: 'duration', default: '30s', help: 'After the grace period: how long in-flight requests may take before connections are cut' },
  'access-log': { kind: 'bool', default: 'true', help: 'Log one line per request (per Ingress: enable-access-log: "false" turns it off)' },
  'access-log-format': { kind: 'choice', choices: ['json', 'text'], default: 'json', help: 'Access log format: json, or text (combined log format)' },
  'enable-metrics': { kind: 'bool', default: 'true', help: 'Record Prometheus request metrics (served on the admin port at /metrics)' },
  'metrics-compat': { kind: 'choice', choices: ['none', 'ingress-nginx'], default: 'none', help: "Also expose ingress-nginx's request metric names and labels" },
  workers: { kind: 'workers', default: '1', arg: 'N|auto', help: 'Serving processes sharing the ports (auto = one per CPU); the primary runs the control plane' },
  'log-level': { kind: 'choice', choices: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: 'info', help: 'Log lines at this level and above' },
} as const satisfies Record<string, FlagDef>;

type Flags = typeof FLAGS;
export type FlagName = keyof Flags;

type ValueOf<D> = D extends { readonly kind: 'choice'; readonly choices: readonly (infer C)[] } ? C : D extends { readonly kind: infer K extends keyof Kinds } ? Kinds[K] : never;
/** Every flag's parsed value, by flag name. */
export type FlagValues = { readonly [N in FlagName]: ValueOf<Flags[N]> };

type Camel<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<Camel<T>>}` : S;
type FieldOf<N extends FlagName> = Flags[N] extends { readonly field: infer F } ? F : Camel<N>;
/** The Config fields that are one flag each. */
type FlagFields = { readonly [N in FlagName as FieldOf<N> extends string ? FieldOf<N> : never]: FlagValues[N] };

/** The Config fields made from several flags, or from the environment. */
interface Derived {
  /** The Strict-Transport-Security value, or null when --hsts=false. */
  readonly hsts: string | null;
  readonly tls: TlsSettings;
  /** --admin-bind-address, else --bind-address. */
  readonly adminBindAddress: string;
  /** $KUBECONFIG and $HOME, read here so nothing else touches process.env. */
  readonly env: { readonly KUBECONFIG: string; readonly HOME: string; readonly KUBERNETES_SERVICE_HOST: string; readonly KUBERNETES_SERVICE_PORT: string; readonly HOSTNAME: string };
  /** --whitelist-source-range and --denylist-source-range: what Ingress annotations replace (ingress-nginx's ConfigMap keys). */
  readonly sourceRanges: { readonly allow: readonly string[]; readonly deny: readonly string[] };
  /** From the downward API (POD_NAMESPACE, POD_NAME); used in metric labels and leader election. */
  readonly podNamespace: string;
  readonly podName: string;
}

function derive(v: FlagValues, env: Readonly<Record<string, string | undefined>>): Derived {
  return {
    hsts: v.hsts ? `max-age=${v['hsts-max-age']}${v['hsts-include-subdomains'] ? '; includeSubDomains' : ''}${v['hsts-preload'] ? '; preload' : ''}` : null,
    tls: { ...v['ssl-protocols'], ciphers: v['ssl-ciphers'] },
    adminBindAddress: v['admin-bind-address'] || v['bind-address'],
    sourceRanges: { allow: v['whitelist-source-range'], deny: v['denylist-source-range'] },
    env: { KUBECONFIG: env.KUBECONFIG ?? '', HOME: env.HOME ?? '', KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST ?? '', KUBERNETES_SERVICE_PORT: env.KUBERNETES_SERVICE_PORT ?? '', HOSTNAME: env.HOSTNAME ?? '' },
    podNamespace: env.POD_NAMESPACE ?? '',
    podName: env.POD_NAME ?? '',
  };
}

/** Durations are in milliseconds; an interface extending both, so a field named twice does not compile. */
export interface Config extends FlagFields, Derived {}

/** A flag's Config field (the runtime twin of FieldOf), or null. */
export function fieldOf(name: string, def: FlagDef): string | null {
  return def.field !== undefined ? def.field : name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type Bad = (why: string) => never;
const list = (raw: string): string[] => raw.split(',').map((x) => x.trim()).filter(Boolean);
const NAMESPACED = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/;

/** One parser per kind; the mapped type makes each return what its kind promises. `given`: set on the command line. */
const PARSERS: { readonly [K in keyof Kinds]: (raw: string, bad: Bad, given: boolean) => Kinds[K] } = {
  string: (raw) => raw,
  path: (raw, bad, given) => (raw === '' && given ? bad('expected a file or directory') : raw),
  ip: (raw, bad, given) => (raw === '' && !given) || isIP(raw) !== 0 ? raw : bad('expected an IP address such as 0.0.0.0, 127.0.0.1 or ::'),
  addresses: (raw, bad) => {
    const wrong = list(raw).find((a) => isIP(a) === 0 && !isDnsSubdomain(a));
    return wrong === undefined ? list(raw) : bad(`${JSON.stringify(wrong)} is neither an IP address nor a DNS name`);
  },
  namespaces: (raw, bad) => {
    const wrong = list(raw).find((ns) => !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns) || ns.length > 63);
    return wrong === undefined ? list(raw) : bad(`${JSON.stringify(wrong)} is not a namespace name`);
  },
  bool: (raw, bad) => (raw === 'true' || raw === '1' ? true : raw === 'false' || raw === '0' ? false : bad('expected true or false')),
  port: (raw, bad) => {
    const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
    return n >= 0 && n <= 65535 ? n : bad('expected a port number from 0 to 65535');
  },
  count: (raw, bad) => {
    const n = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
    return n >= 1 && n <= 100 ? n : bad('expected a whole number from 1 to 100');
  },
  int: (raw, bad) => {
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    return Number.isSafeInteger(n) ? n : bad('expected a whole number');
  },
  positive: (raw, bad) => {
    const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    return n >= 1 ? n : bad('expected a whole number of at least 1');
  },
  status: (raw, bad) => (/^[45]\d\d$/.test(raw) ? Number(raw) : bad('expected an HTTP status from 400 to 599')),
  size: (raw, bad) => parseSize(raw) ?? bad('expected a size such as 1m, 512k or 1048576 (0 = unlimited)'),
  cidrs: (raw, bad) => {
    const r = parseCidrList(raw);
    return 'error' in r ? bad(r.error) : r.cidrs;
  },
  duration: (raw, bad) => {
    const ms = parseDuration(raw) ?? bad('expected seconds, or a number with ms, s or m');
    return ms > 0 && ms <= 86_400_000 ? ms : bad('must be more than 0 and at most 24h');
  },
  period: (raw, bad) => {
    const ms = parseDuration(raw) ?? bad('expected seconds, or a number with ms, s or m');
    return ms <= 3_600_000 ? ms : bad('must be at most 1h');
  },
  secret: (raw, bad) => {
    if (raw === '') return undefined;
    const m = NAMESPACED.exec(raw);
    return m ? { namespace: m[1] as string, name: m[2] as string } : bad('expected namespace/name');
  },
  service: (raw, bad) => {
    if (raw === '') return undefined;
    const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*):([0-9]+|[a-z0-9][-a-z0-9]*)$/.exec(raw);
    if (!m) return bad('expected namespace/name:port');
    return { namespace: m[1] as string, name: m[2] as string, port: /^\d+$/.test(m[3] as string) ? Number(m[3]) : (m[3] as string) };
  },
  protocols: (raw, bad) => {
    const versions = raw.split(/[\s,]+/).filter(Boolean);
    const wrong = versions.find((p) => p !== 'TLSv1.2' && p !== 'TLSv1.3');
    if (wrong !== undefined || versions.length === 0) return bad(`only TLSv1.2 and TLSv1.3 are supported${wrong ? ` (${wrong} is insecure or unknown)` : ''}`);
    return { minVersion: versions.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3', maxVersion: versions.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2' };
  },
  conditions: (raw, bad) => parseNextUpstream(raw) ?? bad(`expected conditions among ${CONDITIONS.join(', ')} separated by spaces`),
  workers: (raw, bad) => {
    if (raw === 'auto') return availableParallelism();
    const n = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
    return n >= 1 && n <= 256 ? n : bad('expected a number of workers (1-256) or auto');
  },
};

/** "a, b or c" */
const orList = (xs: readonly string[]): string => (xs.length < 2 ? xs.join('') : `${xs.slice(0, -1).join(', ')} or ${xs.at(-1)}`);

function parseValue(name: string, def: FlagDef, raw: string, given: boolean): unknown {
  const bad: Bad = (why) => {
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for --${name}: ${why}`);
  };
  if (def.kind !== 'choice') return PARSERS[def.kind](raw, bad, given);
  const choices = def.choices ?? [];
  return choices.includes(raw) ? raw : bad(`expected ${orList(choices)}`);
}

/** Parses every flag: those given in `raw`, the others from their defaults. */
function parseFlags(raw: ReadonlyMap<string, string>): FlagValues {
  const values: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(FLAGS) as [FlagName, FlagDef][]) values[name] = parseValue(name, def, raw.get(name) ?? def.default, raw.has(name));
  // the one cast: each value came from its kind's parser, whose type PARSERS checks
  return values as FlagValues;
}

export type Command =
  | { readonly kind: 'run'; readonly config: Config }
  | { readonly kind: 'check'; readonly config: Config }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' };

/** Whether two listeners on these addresses and the same port would collide. */
function overlap(a: string, b: string): boolean {
  const any = (x: string, y: string): boolean => x === '::' || (x === '0.0.0.0' && isIP(y) === 4);
  return a === b || any(a, b) || any(b, a);
}

/** What no single flag can check: combinations. */
function checkCombinations(c: Config): void {
  if (c.manifests !== '' && (c.kubeconfig !== '' || c.kubeContext !== '')) {
    throw new ConfigError('--manifests (standalone mode) cannot be combined with --kubeconfig or --kube-context');
  }
  const listeners = [
    ['--http-port', c.httpPort, c.bindAddress],
    ['--https-port', c.httpsPort, c.bindAddress],
    ['--admin-port', c.adminPort, c.adminBindAddress],
  ] as const;
  for (const [i, [a, port, addr]] of listeners.entries()) {
    for (const [b, other, otherAddr] of listeners.slice(i + 1)) {
      if (port !== 0 && port === other && overlap(addr, otherAddr)) throw new ConfigError(`${a} and ${b} are both ${port} on ${addr === otherAddr ? addr : `${addr} and ${otherAddr}`}: each listener needs its own port`);
    }
  }
}

/** Parses `portico [flags]` (argv without node and script). Throws ConfigError with a one-line message. */
export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Command {
  const raw = new Map<string, string>();
  let command: 'run' | 'check' = 'run';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { kind: 'help' };
    if (arg === '--version') return { kind: 'version' };
    if (arg === '--dry-run' || arg === '--check') {
      command = 'check';
      continue;
    }
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} (see --help)`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const def: FlagDef | undefined = Object.hasOwn(FLAGS, name) ? FLAGS[name as FlagName] : undefined;
    if (!def) throw new ConfigError(`unknown flag --${name} (see --help)`);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (def.kind === 'bool') value = 'true';
    else {
      const next = argv[i + 1];
      if (next === undefined) throw new ConfigError(`flag --${name} needs a value`);
      value = next;
      i++;
    }
    raw.set(name, value);
  }
  const values = parseFlags(raw);
  const fields: Record<string, unknown> = {};
  for (const [name, def] of Object.entries(FLAGS) as [FlagName, FlagDef][]) {
    const field = fieldOf(name, def);
    if (field !== null) fields[field] = values[name];
  }
  // FlagFields by construction: fieldOf is FieldOf at run time (config.test.ts checks every name)
  const config: Config = Object.freeze({ ...(fields as FlagFields), ...derive(values, env) });
  checkCombinations(config);
  return { kind: command, config };
}
