/**
 * Flags and environment -> one frozen Config. The only module that reads argv or process.env.
 * Flag names follow ingress-nginx's controller flags and ConfigMap keys where the concept is the same.
 */

import { availableParallelism } from 'node:os';
import { parseCidrList } from './model/cidr.js';
import { parseDuration, parseSize } from './model/units.js';
import { DEFAULT_CIPHERS, type TlsSettings } from './tls/settings.js';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

type FlagKind = 'workers' | 'string' | 'bool' | 'port' | 'count' | 'int' | 'size' | 'cidrs' | 'duration' | 'period' | 'secret' | 'protocols' | 'level' | 'format' | 'compat' | 'service';

interface FlagDef {
  readonly kind: FlagKind;
  readonly default: string;
  readonly help: string;
  readonly arg?: string;
}

/** Every flag, in `--help` order. Defaults are strings, parsed like user input. */
const FLAGS = {
  manifests: { kind: 'string', default: '', arg: 'PATH', help: 'Standalone mode: serve the Kubernetes YAML in this file or directory, and follow its changes' },
  kubeconfig: { kind: 'string', default: '', arg: 'PATH', help: 'Kubernetes mode: kubeconfig file (default: in-cluster config, else $KUBECONFIG, else ~/.kube/config)' },
  'kube-context': { kind: 'string', default: '', arg: 'NAME', help: 'kubeconfig context to use (default: its current context)' },
  'watch-namespace': { kind: 'string', default: '', arg: 'NS[,NS]', help: 'Only watch these namespaces (default: all)' },
  'publish-service': { kind: 'secret', default: '', arg: 'NS/NAME', help: "Service whose addresses are written into each served Ingress's status" },
  'publish-status-address': { kind: 'string', default: '', arg: 'ADDR[,ADDR]', help: 'Addresses (IPs or hostnames) written into Ingress status instead of --publish-service' },
  'update-status': { kind: 'bool', default: 'true', help: 'Write status.loadBalancer of served Ingresses (leader only)' },
  'election-id': { kind: 'string', default: 'portico-leader', arg: 'NAME', help: "Lease name for leader election, in the controller's namespace" },
  'bind-address': { kind: 'string', default: '0.0.0.0', arg: 'IP', help: 'Address the HTTP, HTTPS and admin listeners bind to' },
  'http-port': { kind: 'port', default: '8080', help: 'HTTP listener port (0 = any free port)' },
  'https-port': { kind: 'port', default: '8443', help: 'HTTPS listener port (reserved for TLS)' },
  'admin-port': { kind: 'port', default: '10254', help: 'Admin listener port: /healthz, /readyz, /debug/routes' },
  'ingress-class': { kind: 'string', default: 'portico', arg: 'NAME', help: 'Ingress class name served even without an IngressClass object' },
  'controller-class': { kind: 'string', default: 'portico.dev/ingress-controller', arg: 'NAME', help: 'IngressClass spec.controller value that selects Portico' },
  'watch-ingress-without-class': { kind: 'bool', default: 'false', help: 'Also serve Ingresses that name no class' },
  'allow-external-name-services': { kind: 'bool', default: 'false', help: 'Proxy to ExternalName Services (their DNS name is resolved every 30 s); off by default: any namespace could point one anywhere' },
  'external-name-denied-cidrs': { kind: 'cidrs', default: '127.0.0.0/8,::1/128,169.254.0.0/16,fe80::/10,0.0.0.0/8,::/128', arg: 'CIDR[,CIDR]', help: 'Addresses an ExternalName may not resolve to (default: loopback, link-local such as cloud metadata, unspecified)' },
  'default-backend-service': { kind: 'service', default: '', arg: 'NS/NAME:PORT', help: 'Service that answers requests no rule matched (default: a built-in 404)' },
  'default-ssl-certificate': { kind: 'secret', default: '', arg: 'NS/NAME', help: 'TLS Secret served for unknown SNI names (default: a self-signed certificate generated at start)' },
  'ssl-redirect': { kind: 'bool', default: 'true', help: 'Redirect plain HTTP to HTTPS (308) on hosts listed in an Ingress spec.tls' },
  'https-redirect-port': { kind: 'port', default: '443', help: 'Port in redirect Locations (the public HTTPS port; 443 is left out)' },
  hsts: { kind: 'bool', default: 'true', help: 'Send Strict-Transport-Security on HTTPS responses' },
  'hsts-max-age': { kind: 'int', default: '31536000', help: 'HSTS max-age in seconds' },
  'hsts-include-subdomains': { kind: 'bool', default: 'true', help: 'Add includeSubDomains to HSTS' },
  'hsts-preload': { kind: 'bool', default: 'false', help: 'Add preload to HSTS' },
  'ssl-protocols': { kind: 'protocols', default: 'TLSv1.2 TLSv1.3', arg: 'LIST', help: 'TLS versions to accept: TLSv1.2 and/or TLSv1.3' },
  'ssl-ciphers': { kind: 'string', default: DEFAULT_CIPHERS, arg: 'LIST', help: 'OpenSSL cipher list for TLS 1.2 (TLS 1.3 suites are always the secure defaults)' },
  'proxy-connect-timeout': { kind: 'duration', default: '5s', help: 'Upstream connect timeout (seconds, or with a unit: 500ms, 5s, 1m)' },
  'proxy-read-timeout': { kind: 'duration', default: '60s', help: 'Upstream timeout waiting for response headers and between body reads' },
  'proxy-send-timeout': { kind: 'duration', default: '60s', help: 'Upstream timeout between two reads of the request body by the pod' },
  'proxy-next-upstream-timeout': { kind: 'period', default: '0s', help: 'Stop retrying on other endpoints after this long (0 = no limit)' },
  'proxy-body-size': { kind: 'size', default: '1m', arg: 'SIZE', help: 'Largest request body (413 above it); 0 = unlimited; per Ingress: proxy-body-size annotation' },
  'upstream-max-fails': { kind: 'count', default: '3', help: 'Consecutive connect failures or resets that take an endpoint out of rotation' },
  'upstream-fail-timeout': { kind: 'duration', default: '10s', help: 'How long an ejected endpoint stays out of rotation' },
  'client-header-timeout': { kind: 'duration', default: '60s', help: 'Time a client has to send the request headers (408 after)' },
  'client-body-timeout': { kind: 'duration', default: '60s', help: 'Time allowed between two chunks of a request body (408 after)' },
  'keep-alive-timeout': { kind: 'duration', default: '75s', help: 'Idle time before a client keep-alive connection is closed' },
  'max-connections': { kind: 'int', default: '0', help: 'Open client connections per listener before new ones are refused (0 = no limit)' },
  'max-headers': { kind: 'count', default: '100', help: 'Most request header fields (431 above it)' },
  'allow-underscores-in-headers': { kind: 'bool', default: 'false', help: "Forward request headers whose names contain '_' (nginx's underscores_in_headers); off: they are dropped, so X_Real_IP cannot spoof X-Real-IP for CGI-style backends" },
  'upgrade-idle-timeout': { kind: 'period', default: '0s', help: "Close an upgraded connection (WebSocket) idle this long in both directions; 0 = the route's proxy-read-timeout, as nginx" },
  'http2-max-concurrent-streams': { kind: 'int', default: '128', help: 'HTTP/2 streams open at once per client connection (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused' },
  'ssl-handshake-timeout': { kind: 'duration', default: '10s', help: 'Time a client has to complete the TLS handshake on the HTTPS port' },
  'trusted-proxies': { kind: 'cidrs', default: '', arg: 'CIDR[,CIDR]', help: 'Peers whose X-Forwarded-* headers are believed (default: none)' },
  'use-proxy-protocol': { kind: 'bool', default: 'false', help: 'Expect a PROXY protocol v1/v2 header on every connection (both listeners)' },
  'proxy-next-upstream-tries': { kind: 'count', default: '3', help: 'Attempts on different endpoints for a request that never reached a pod' },
  'shutdown-grace-period': { kind: 'period', default: '5s', help: 'After SIGTERM: keep serving (with /readyz failing) this long, so load balancers notice' },
  'shutdown-timeout': { kind: 'duration', default: '30s', help: 'After the grace period: how long in-flight requests may take before connections are cut' },
  'access-log': { kind: 'bool', default: 'true', help: 'Log one line per request' },
  'access-log-format': { kind: 'format', default: 'json', arg: 'json|text', help: 'Access log format: json, or text (combined log format)' },
  'enable-metrics': { kind: 'bool', default: 'true', help: 'Record Prometheus request metrics (served on the admin port at /metrics)' },
  'metrics-compat': { kind: 'compat', default: 'none', arg: 'none|ingress-nginx', help: "Also expose ingress-nginx's request metric names and labels" },
  workers: { kind: 'workers', default: '1', arg: 'N|auto', help: 'Serving processes sharing the ports (auto = one per CPU); the primary runs the control plane' },
  'log-level': { kind: 'level', default: 'info', arg: 'LEVEL', help: 'trace, debug, info, warn, error or fatal' },
} as const satisfies Record<string, FlagDef>;

type FlagName = keyof typeof FLAGS;

export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
  readonly port: string | number;
}

export interface Config {
  readonly manifests: string;
  readonly kubeconfig: string;
  readonly kubeContext: string;
  /** Empty = all namespaces. */
  readonly watchNamespaces: readonly string[];
  readonly publishService: { readonly namespace: string; readonly name: string } | undefined;
  readonly publishStatusAddress: readonly string[];
  readonly updateStatus: boolean;
  readonly electionId: string;
  /** $KUBECONFIG and $HOME, read here so nothing else touches process.env. */
  readonly env: { readonly KUBECONFIG: string; readonly HOME: string; readonly KUBERNETES_SERVICE_HOST: string; readonly KUBERNETES_SERVICE_PORT: string; readonly HOSTNAME: string };
  readonly bindAddress: string;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminPort: number;
  readonly ingressClass: string;
  readonly controllerClass: string;
  readonly watchWithoutClass: boolean;
  readonly defaultBackendService: ServiceRef | undefined;
  readonly allowExternalNameServices: boolean;
  readonly externalNameDeniedCidrs: readonly string[];
  readonly defaultSslCertificate: { readonly namespace: string; readonly name: string } | undefined;
  readonly sslRedirect: boolean;
  readonly httpsRedirectPort: number;
  /** The Strict-Transport-Security value, or null when --hsts=false. */
  readonly hsts: string | null;
  readonly tls: TlsSettings;
  /** Milliseconds. */
  readonly proxyConnectTimeout: number;
  readonly proxyReadTimeout: number;
  readonly proxyNextUpstreamTries: number;
  readonly proxySendTimeout: number;
  /** 0 = no limit. */
  readonly proxyNextUpstreamTimeout: number;
  /** Bytes; 0 = unlimited. */
  readonly proxyBodySize: number;
  readonly upstreamMaxFails: number;
  readonly upstreamFailTimeout: number;
  readonly clientHeaderTimeout: number;
  readonly clientBodyTimeout: number;
  readonly keepAliveTimeout: number;
  readonly maxConnections: number;
  readonly maxHeaders: number;
  readonly allowUnderscoresInHeaders: boolean;
  /** 0 = the route's read timeout. */
  readonly upgradeIdleTimeout: number;
  readonly http2MaxConcurrentStreams: number;
  readonly sslHandshakeTimeout: number;
  readonly trustedProxies: readonly string[];
  readonly useProxyProtocol: boolean;
  readonly shutdownGracePeriod: number;
  readonly shutdownTimeout: number;
  readonly accessLog: boolean;
  readonly accessLogFormat: 'json' | 'text';
  readonly logLevel: string;
  /** Serving processes; 1 = everything in one process. */
  readonly workers: number;
  readonly enableMetrics: boolean;
  readonly metricsCompat: 'none' | 'ingress-nginx';
  /** From the downward API (POD_NAMESPACE, POD_NAME); used in metric labels and, later, leader election. */
  readonly podNamespace: string;
  readonly podName: string;
}

export type Command =
  | { readonly kind: 'run'; readonly config: Config }
  | { readonly kind: 'check'; readonly config: Config }
  | { readonly kind: 'help' }
  | { readonly kind: 'version' }
  | { readonly kind: 'routes' | 'backends'; readonly adminUrl: string };

const SUBCOMMANDS = ['routes', 'backends'] as const;

/** `portico routes|backends [--admin-url URL]`: read views from a running instance. */
function parseSubcommand(kind: 'routes' | 'backends', argv: readonly string[]): Command {
  let adminUrl = 'http://127.0.0.1:10254';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--admin-url' && argv[i + 1] !== undefined) adminUrl = argv[++i] as string;
    else if (arg.startsWith('--admin-url=')) adminUrl = arg.slice('--admin-url='.length);
    else throw new ConfigError(`unexpected argument ${JSON.stringify(arg)} for portico ${kind} (only --admin-url URL)`);
  }
  if (!/^https?:\/\/[^/]+/.test(adminUrl)) throw new ConfigError(`invalid value ${JSON.stringify(adminUrl)} for --admin-url: expected http://host:port`);
  return { kind, adminUrl: adminUrl.replace(/\/+$/, '') };
}

const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'];

function parseValue(name: string, def: FlagDef, raw: string): unknown {
  const bad = (why: string): never => {
    throw new ConfigError(`invalid value ${JSON.stringify(raw)} for --${name}: ${why}`);
  };
  switch (def.kind) {
    case 'string':
      return raw;
    case 'bool':
      if (raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      return bad('expected true or false');
    case 'port': {
      const n = /^\d{1,5}$/.test(raw) ? Number(raw) : NaN;
      return n >= 0 && n <= 65535 ? n : bad('expected a port number from 0 to 65535');
    }
    case 'size':
      return parseSize(raw) ?? bad('expected a size such as 1m, 512k or 1048576 (0 = unlimited)');
    case 'cidrs': {
      const r = parseCidrList(raw);
      return 'error' in r ? bad(r.error) : r.cidrs;
    }
    case 'workers': {
      if (raw === 'auto') return availableParallelism();
      const n = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
      return n >= 1 && n <= 256 ? n : bad('expected a number of workers (1-256) or auto');
    }
    case 'int': {
      const n = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
      return Number.isSafeInteger(n) ? n : bad('expected a whole number');
    }
    case 'secret': {
      if (raw === '') return undefined;
      const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*)$/.exec(raw);
      return m ? { namespace: m[1] as string, name: m[2] as string } : bad('expected namespace/name');
    }
    case 'protocols': {
      const list = raw.split(/[\s,]+/).filter(Boolean);
      const ok = ['TLSv1.2', 'TLSv1.3'];
      const badOne = list.find((p) => !ok.includes(p));
      if (badOne !== undefined || list.length === 0) return bad(`only TLSv1.2 and TLSv1.3 are supported${badOne ? ` (${badOne} is insecure or unknown)` : ''}`);
      return { minVersion: list.includes('TLSv1.2') ? 'TLSv1.2' : 'TLSv1.3', maxVersion: list.includes('TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2' };
    }
    case 'count': {
      const n = /^\d{1,3}$/.test(raw) ? Number(raw) : NaN;
      return n >= 1 && n <= 100 ? n : bad('expected a whole number from 1 to 100');
    }
    case 'duration':
    case 'period': {
      const ms = parseDuration(raw) ?? bad('expected seconds, or a number with ms, s or m');
      if (def.kind === 'period') return ms <= 3_600_000 ? ms : bad('must be at most 1h');
      return ms > 0 && ms <= 86_400_000 ? ms : bad('must be more than 0 and at most 24h');
    }
    case 'level':
      return LEVELS.includes(raw) ? raw : bad(`expected one of ${LEVELS.join(', ')}`);
    case 'compat':
      return raw === 'none' || raw === 'ingress-nginx' ? raw : bad('expected none or ingress-nginx');
    case 'format':
      return raw === 'json' || raw === 'text' ? raw : bad('expected json or text');
    case 'service': {
      if (raw === '') return undefined;
      const m = /^([a-z0-9][-a-z0-9]*)\/([a-z0-9][-a-z0-9.]*):([0-9]+|[a-z0-9][-a-z0-9]*)$/.exec(raw);
      if (!m) return bad('expected namespace/name:port');
      const port = /^\d+$/.test(m[3] as string) ? Number(m[3]) : (m[3] as string);
      return { namespace: m[1] as string, name: m[2] as string, port } satisfies ServiceRef;
    }
  }
}

/** Parses argv (without node and script). Throws ConfigError with a one-line message. */
export function parseArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Command {
  const sub = SUBCOMMANDS.find((c) => c === argv[0]);
  if (sub !== undefined) return parseSubcommand(sub, argv.slice(1));
  const raw = new Map<FlagName, string>();
  let command: 'run' | 'help' | 'version' | 'check' = 'run';
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
    const name = (eq === -1 ? arg.slice(2) : arg.slice(2, eq)) as FlagName;
    const def: FlagDef | undefined = Object.hasOwn(FLAGS, name) ? FLAGS[name] : undefined;
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
  const get = (name: FlagName): unknown => parseValue(name, FLAGS[name], raw.get(name) ?? FLAGS[name].default);
  const config: Config = Object.freeze({
    manifests: get('manifests') as string,
    kubeconfig: get('kubeconfig') as string,
    kubeContext: get('kube-context') as string,
    watchNamespaces: (get('watch-namespace') as string).split(',').map((x) => x.trim()).filter(Boolean),
    publishService: get('publish-service') as Config['publishService'],
    publishStatusAddress: (get('publish-status-address') as string).split(',').map((x) => x.trim()).filter(Boolean),
    updateStatus: get('update-status') as boolean,
    electionId: get('election-id') as string,
    env: { KUBECONFIG: env.KUBECONFIG ?? '', HOME: env.HOME ?? '', KUBERNETES_SERVICE_HOST: env.KUBERNETES_SERVICE_HOST ?? '', KUBERNETES_SERVICE_PORT: env.KUBERNETES_SERVICE_PORT ?? '', HOSTNAME: env.HOSTNAME ?? '' },
    bindAddress: get('bind-address') as string,
    httpPort: get('http-port') as number,
    httpsPort: get('https-port') as number,
    adminPort: get('admin-port') as number,
    ingressClass: get('ingress-class') as string,
    controllerClass: get('controller-class') as string,
    watchWithoutClass: get('watch-ingress-without-class') as boolean,
    defaultBackendService: get('default-backend-service') as ServiceRef | undefined,
    allowExternalNameServices: get('allow-external-name-services') as boolean,
    externalNameDeniedCidrs: get('external-name-denied-cidrs') as string[],
    defaultSslCertificate: get('default-ssl-certificate') as Config['defaultSslCertificate'],
    sslRedirect: get('ssl-redirect') as boolean,
    httpsRedirectPort: get('https-redirect-port') as number,
    hsts: get('hsts')
      ? `max-age=${get('hsts-max-age') as number}${get('hsts-include-subdomains') ? '; includeSubDomains' : ''}${get('hsts-preload') ? '; preload' : ''}`
      : null,
    tls: { ...(get('ssl-protocols') as Pick<TlsSettings, 'minVersion' | 'maxVersion'>), ciphers: get('ssl-ciphers') as string },
    proxyConnectTimeout: get('proxy-connect-timeout') as number,
    proxyReadTimeout: get('proxy-read-timeout') as number,
    proxyNextUpstreamTries: get('proxy-next-upstream-tries') as number,
    proxySendTimeout: get('proxy-send-timeout') as number,
    proxyNextUpstreamTimeout: get('proxy-next-upstream-timeout') as number,
    proxyBodySize: get('proxy-body-size') as number,
    upstreamMaxFails: get('upstream-max-fails') as number,
    upstreamFailTimeout: get('upstream-fail-timeout') as number,
    clientHeaderTimeout: get('client-header-timeout') as number,
    clientBodyTimeout: get('client-body-timeout') as number,
    keepAliveTimeout: get('keep-alive-timeout') as number,
    maxConnections: get('max-connections') as number,
    maxHeaders: get('max-headers') as number,
    allowUnderscoresInHeaders: get('allow-underscores-in-headers') as boolean,
    upgradeIdleTimeout: get('upgrade-idle-timeout') as number,
    http2MaxConcurrentStreams: get('http2-max-concurrent-streams') as number,
    sslHandshakeTimeout: get('ssl-handshake-timeout') as number,
    trustedProxies: get('trusted-proxies') as string[],
    useProxyProtocol: get('use-proxy-protocol') as boolean,
    shutdownGracePeriod: get('shutdown-grace-period') as number,
    shutdownTimeout: get('shutdown-timeout') as number,
    accessLog: get('access-log') as boolean,
    accessLogFormat: get('access-log-format') as 'json' | 'text',
    logLevel: get('log-level') as string,
    workers: get('workers') as number,
    enableMetrics: get('enable-metrics') as boolean,
    metricsCompat: get('metrics-compat') as 'none' | 'ingress-nginx',
    podNamespace: env.POD_NAMESPACE ?? '',
    podName: env.POD_NAME ?? '',
  });
  if (config.manifests !== '' && (config.kubeconfig !== '' || config.kubeContext !== '')) {
    throw new ConfigError('--manifests (standalone mode) cannot be combined with --kubeconfig or --kube-context');
  }
  for (const ns of config.watchNamespaces) if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(ns)) throw new ConfigError(`invalid value ${JSON.stringify(ns)} in --watch-namespace: not a namespace name`);
  return { kind: command, config };
}

/** The `--help` text, generated from the flag table so it cannot drift. */
export function helpText(): string {
  const lines = [
    'Usage: portico [flags]',
    '       portico routes|backends [--admin-url http://127.0.0.1:10254]   print the views of a running instance',
    '',
    'Kubernetes Ingress controller and reverse proxy. Standalone mode: portico --manifests DIR',
    '',
    'Flags:',
  ];
  for (const [name, def] of Object.entries(FLAGS) as [string, FlagDef][]) {
    const left = `  --${name}${def.kind === 'bool' ? '[=false]' : ` ${def.arg ?? def.kind.toUpperCase()}`}`;
    const dflt = def.default === '' ? '' : ` (default ${def.default})`;
    lines.push(`${left.padEnd(46)}${def.help}${dflt.length > 40 ? ' (default: see README)' : dflt}`);
  }
  lines.push('  --dry-run                                   Parse flags, print the configuration and exit');
  lines.push('  --help, --version');
  return lines.join('\n');
}
