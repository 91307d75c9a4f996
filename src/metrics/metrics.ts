/**
 * Prometheus metrics (prom-client). Request labels come only from the matched route, never from
 * the raw Host header or URL, so cardinality is bounded by the table, not by clients.
 * Label children are cached per route target so the hot path does no label hashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Route, RouteTable } from '../model/types.js';
import { fastCounter, fastHistogram, observe, type CounterSeries, type HistogramSeries } from './fast.js';

/** What a request is recorded under: the matched route, never the raw Host header or URL. */
export interface RouteLabels {
  readonly namespace: string;
  /** The route's object name (an Ingress's name), '' for --default-backend-service. */
  readonly ingress: string;
  readonly service: string;
  /** The rule host ('' for any host). */
  readonly host: string;
  /** The rule path ('' for a default backend), a bounded label. */
  readonly path: string;
  /**
   * Set on the labels of a route's canary traffic (then `service` is the canary's): the main
   * route's Service, which ingress-nginx's series keep, with canary="true".
   */
  readonly canaryOf?: string;
}

/** A route's labels: its object, its (first) backend's Service, its host and written path. */
export function routeLabels(route: Route, table: RouteTable): RouteLabels {
  const src = route.source;
  const first = route.backends[0];
  return {
    namespace: src.namespace,
    ingress: src.kind === 'DefaultBackend' ? '' : src.name,
    service: (first === undefined ? undefined : table.backends.get(first.backend)?.service) ?? '',
    host: route.host,
    path: route.path,
  };
}

export interface MetricsOptions {
  readonly version: string;
  /** Also expose ingress-nginx's request series (`--metrics-compat=ingress-nginx`). */
  readonly nginxCompat: boolean;
  readonly controllerClass: string;
  readonly controllerNamespace: string;
  readonly controllerPod: string;
}

/** One finished request, as the data plane reports it. */
export interface RequestSample {
  readonly method: string;
  readonly status: number;
  readonly durationSec: number;
  /** -1 when no upstream answered. */
  readonly upstreamSec: number;
  readonly requestBytes: number;
  readonly responseBytes: number;
}

const METHOD_LIST = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'];
/** The standard methods by their index in a children key; OTHER is {@link OTHER}. */
const METHODS = new Map(METHOD_LIST.map((m, i) => [m, i]));
const OTHER = 15;
/** A method outside the standard set is counted as OTHER, so clients cannot mint series. */
export const methodLabel = (m: string): string => (METHODS.has(m) ? m : 'OTHER');

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
const NGINX_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NGINX_SIZE_BUCKETS = [10, 100, 1000, 10000, 100000, 1000000, 10000000];

const REQUEST_LABELS = ['namespace', 'ingress', 'service', 'host', 'method', 'status'] as const;
const ROUTE_LABELS = ['namespace', 'ingress', 'service', 'host'] as const;
const NGINX_LABELS = ['controller_namespace', 'controller_class', 'controller_pod', 'namespace', 'ingress', 'service', 'canary', 'host', 'path', 'method', 'status'] as const;
const NGINX_ROUTE_LABELS = ['controller_namespace', 'controller_class', 'controller_pod', 'namespace', 'ingress', 'service', 'canary', 'host', 'path', 'method'] as const;

/** The label children one (target, method, status) records into. */
interface Children {
  readonly requests: CounterSeries;
  readonly duration: HistogramSeries;
  readonly upstream: HistogramSeries;
  readonly reqSize: HistogramSeries;
  readonly resSize: HistogramSeries;
  readonly nginx: null | {
    readonly requests: CounterSeries;
    readonly duration: HistogramSeries;
    readonly upstream: HistogramSeries;
    readonly reqSize: HistogramSeries;
    readonly resSize: HistogramSeries;
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** Creates a registry with every Portico metric, process and Node.js metrics included. */
export function createMetrics(opts: MetricsOptions) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  // prom-client names these gauges *_total, which Prometheus naming (and promtool) reserve for
  // counters; nodejs_active_resources{type} (also prom-client's) carries the same information.
  for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) registry.removeSingleMetric(n);
  const reg = [registry];


  const requests = fastCounter(registry, 'portico_requests_total', 'Requests answered, by matched route, method and status', REQUEST_LABELS);
  const duration = fastHistogram(registry, 'portico_request_duration_seconds', 'Time from request start to the last byte of the response', ROUTE_LABELS, DURATION_BUCKETS);
  const upstream = fastHistogram(registry, 'portico_upstream_response_duration_seconds', 'Time from sending the request upstream to its response headers', ROUTE_LABELS, DURATION_BUCKETS);
  const connect = new Histogram({ name: 'portico_upstream_connect_duration_seconds', help: 'Time to open a new upstream connection', buckets: DURATION_BUCKETS, registers: reg });
  const reqSize = fastHistogram(registry, 'portico_request_size_bytes', 'Request length: request line, headers and body, as nginx $request_length', ROUTE_LABELS, SIZE_BUCKETS);
  const resSize = fastHistogram(registry, 'portico_response_size_bytes', 'Response body size', ROUTE_LABELS, SIZE_BUCKETS);
  const upstreamErrors = new Counter({ name: 'portico_upstream_errors_total', help: 'Upstream failures by cause (connect_refused, connect_timeout, reset, timeout, no_endpoints, ...)', labelNames: ['namespace', 'service', 'cause'], registers: reg });
  const retries = new Counter({ name: 'portico_upstream_retries_total', help: 'Requests sent again to another endpoint', labelNames: ['namespace', 'service'], registers: reg });
  const mirrors = new Counter({ name: 'portico_mirror_requests_total', help: 'Request copies sent to a mirror (Gateway API RequestMirror, mirror-target), by how they ended: answered (any status), failed, timeout', labelNames: ['namespace', 'destination', 'result'], registers: reg });
  const mirrorDrops = new Counter({ name: 'portico_mirror_dropped_total', help: 'Request copies not sent or abandoned: in_flight (--mirror-max-in-flight reached), body_buffer (--mirror-body-buffer passed), body_incomplete, no_endpoints', labelNames: ['namespace', 'destination', 'reason'], registers: reg });
  const ejections = new Counter({ name: 'portico_upstream_ejections_total', help: 'Endpoints taken out of rotation after consecutive failures (passive health)', labelNames: ['namespace', 'service'], registers: reg });
  const openConnections = new Gauge({ name: 'portico_open_connections', help: 'Open client connections per listener', labelNames: ['listener'], registers: reg });

  const rebuilds = new Counter({ name: 'portico_table_rebuilds_total', help: 'Routing table rebuilds by result (swapped, patched: endpoints only, unchanged, failed)', labelNames: ['result'], registers: reg });
  const lastRebuildDuration = new Gauge({ name: 'portico_table_last_rebuild_duration_seconds', help: 'Duration of the last rebuild (translate + compile)', registers: reg });
  const lastRebuildTime = new Gauge({ name: 'portico_table_last_rebuild_timestamp_seconds', help: 'Unix time of the last table swap', registers: reg });
  const routes = new Gauge({ name: 'portico_routes', help: 'Routes in the live table', registers: reg });
  const backends = new Gauge({ name: 'portico_backends', help: 'Backends (Service ports) in the live table', registers: reg });
  const endpoints = new Gauge({ name: 'portico_endpoints', help: 'Endpoints in the live table', registers: reg });
  const diagnostics = new Gauge({ name: 'portico_diagnostics', help: 'Current configuration problems by reason', labelNames: ['reason'], registers: reg });
  const configFiles = new Gauge({ name: 'portico_config_files', help: 'Manifest files (standalone mode) by state: valid, or invalid (a syntax error, an unknown kind, a removed API version)', labelNames: ['state'], registers: reg });
  // min: with --workers, the workers' own copies (always 1) must not hide the primary's 0
  const configValid = new Gauge({ name: 'portico_config_valid', help: '1 when every manifest file parsed and every object in it was readable (always 1 in Kubernetes mode), else 0', registers: reg, aggregator: 'min' });
  const watchRestarts = new Counter({ name: 'portico_watch_restarts_total', help: 'Restarts of a Kubernetes watch, by kind', labelNames: ['kind'], registers: reg });
  const propagation = new Histogram({ name: 'portico_propagation_duration_seconds', help: 'Time from a change being seen to the new table serving', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1], registers: reg });
  const leader = new Gauge({ name: 'portico_leader', help: '1 when this replica holds the leader lease', registers: reg, aggregator: 'max' });
  const handshakes = new Counter({ name: 'portico_ssl_handshakes_total', help: 'Completed TLS handshakes by listener and protocol version', labelNames: ['listener', 'protocol'], registers: reg });
  const handshakeErrors = new Counter({ name: 'portico_ssl_handshake_errors_total', help: 'Failed TLS handshakes by listener', labelNames: ['listener'], registers: reg });
  const certExpiry = new Gauge({ name: 'portico_ssl_certificate_expiry_timestamp_seconds', help: 'Expiry (Unix time) of each served certificate; host "" is --default-ssl-certificate', labelNames: ['namespace', 'secret', 'host'], registers: reg });
  // Layer 4: labels are the table's (backend Service, listener), never a client's
  const L4_LABELS = ['namespace', 'service', 'listener'] as const;
  const STREAM_BUCKETS = [0.01, 0.1, 1, 10, 60, 300, 900, 3600];
  const tcpConnections = new Counter({ name: 'portico_tcp_connections_total', help: 'TCP connections spliced to a pod (TCP services, TCPRoutes, TLS passthrough), by backend Service and listener', labelNames: L4_LABELS, registers: reg });
  const tcpOpen = new Gauge({ name: 'portico_tcp_open_connections', help: 'TCP connections spliced to a pod now', labelNames: L4_LABELS, registers: reg });
  const tcpBytes = new Counter({ name: 'portico_tcp_bytes_total', help: 'Bytes of spliced TCP connections: received from clients, sent to clients', labelNames: [...L4_LABELS, 'direction'], registers: reg });
  const tcpDuration = new Histogram({ name: 'portico_tcp_connection_duration_seconds', help: 'Lifetime of spliced TCP connections', labelNames: L4_LABELS, buckets: STREAM_BUCKETS, registers: reg });
  const tcpErrors = new Counter({ name: 'portico_tcp_errors_total', help: 'TCP connections not spliced or cut, by cause (connect_refused, connect_timeout, no_endpoints, rejected, proxy_protocol, reset, idle, shutdown, endpoint_removed, ...)', labelNames: [...L4_LABELS, 'cause'], registers: reg });
  const udpFlows = new Counter({ name: 'portico_udp_flows_total', help: 'UDP flows (client addresses) opened to a pod, by backend Service and listener', labelNames: L4_LABELS, registers: reg });
  const udpActive = new Gauge({ name: 'portico_udp_active_flows', help: 'UDP flows open now', labelNames: L4_LABELS, registers: reg });
  const udpDatagrams = new Counter({ name: 'portico_udp_datagrams_total', help: 'UDP datagrams forwarded: received from clients, sent to clients', labelNames: [...L4_LABELS, 'direction'], registers: reg });
  const udpBytes = new Counter({ name: 'portico_udp_bytes_total', help: 'UDP payload bytes forwarded: received from clients, sent to clients', labelNames: [...L4_LABELS, 'direction'], registers: reg });
  const udpDuration = new Histogram({ name: 'portico_udp_flow_duration_seconds', help: 'Lifetime of UDP flows (until idle for --proxy-stream-timeout)', labelNames: L4_LABELS, buckets: STREAM_BUCKETS, registers: reg });
  const udpErrors = new Counter({ name: 'portico_udp_errors_total', help: 'UDP datagrams dropped or flows closed, by cause (no_endpoints, rejected, flow_evicted, unreachable, queue_full, draining, ...)', labelNames: [...L4_LABELS, 'cause'], registers: reg });
  const clientHellos = new Counter({ name: 'portico_tls_client_hellos_total', help: 'ClientHellos read on listeners with TLS passthrough routes, by result (passthrough, terminated, rejected, invalid, timeout)', labelNames: ['listener', 'result'], registers: reg });
  const listenErrors = new Counter({ name: 'portico_l4_listen_errors_total', help: 'Layer 4 listeners that could not bind their port (retried while the table asks for them)', labelNames: ['listener'], registers: reg });

  const buildInfo = new Gauge({ name: 'portico_build_info', help: 'Version information; always 1', labelNames: ['version', 'node'], registers: reg, aggregator: 'max' });
  buildInfo.labels(opts.version, process.version).set(1);
  leader.set(0);
  configValid.set(1);

  const nginx = opts.nginxCompat
    ? {
        requests: fastCounter(registry, 'nginx_ingress_controller_requests', 'The total number of client requests (ingress-nginx compatible)', NGINX_LABELS),
        duration: fastHistogram(registry, 'nginx_ingress_controller_request_duration_seconds', 'The request processing time in seconds (ingress-nginx compatible)', NGINX_LABELS, NGINX_DURATION_BUCKETS),
        upstream: fastHistogram(registry, 'nginx_ingress_controller_response_duration_seconds', 'The time spent on receiving the response from the upstream server (ingress-nginx compatible)', NGINX_LABELS, NGINX_DURATION_BUCKETS),
        reqSize: fastHistogram(registry, 'nginx_ingress_controller_request_size', 'The request length (including request line, header, and request body)', NGINX_ROUTE_LABELS, NGINX_SIZE_BUCKETS),
        resSize: fastHistogram(registry, 'nginx_ingress_controller_response_size', 'The response body length (ingress-nginx compatible name)', NGINX_ROUTE_LABELS, NGINX_SIZE_BUCKETS),
      }
    : null;

  // Children per target: a WeakMap, so a swapped-out table's cache goes with it. Keyed by
  // status * 16 + the method's index: a number, no key string built and hashed per request.
  const cache = new WeakMap<RouteLabels, Map<number, Children>>();
  const unmatched = new Map<number, Children>();
  const controller = [opts.controllerNamespace, opts.controllerClass, opts.controllerPod] as const;

  function children(t: RouteLabels | null, methodIndex: number, status: number): Children {
    let byKey = t === null ? unmatched : cache.get(t);
    if (byKey === undefined) cache.set(t as RouteLabels, (byKey = new Map()));
    const key = status * 16 + methodIndex;
    let c = byKey.get(key);
    if (c !== undefined) return c;
    const method = methodIndex === OTHER ? 'OTHER' : (METHOD_LIST[methodIndex] as string);
    const ns = t?.namespace ?? '';
    const ing = t?.ingress ?? '';
    const svc = t?.service ?? '';
    const host = t?.host ?? '';
    const path = t?.path ?? '';
    const code = String(status);
    const nl = nginx;
    const route = [ns, ing, svc, host];
    const canaryOf = t?.canaryOf;
    const full = [...controller, ns, ing, canaryOf ?? svc, canaryOf === undefined ? 'false' : 'true', host, path, method, code];
    const noStatus = full.slice(0, -1);
    c = {
      requests: requests.series([...route, method, code]),
      duration: duration.series(route),
      upstream: upstream.series(route),
      reqSize: reqSize.series(route),
      resSize: resSize.series(route),
      nginx:
        nl === null
          ? null
          : {
              requests: nl.requests.series(full),
              duration: nl.duration.series(full),
              upstream: nl.upstream.series(full),
              reqSize: nl.reqSize.series(noStatus),
              resSize: nl.resSize.series(noStatus),
            },
    };
    byKey.set(key, c);
    return c;
  }

  return {
    registry,
    /** Records one finished request against its matched target (null = nothing matched). */
    request(t: RouteLabels | null, s: RequestSample): void {
      const c = children(t, METHODS.get(s.method) ?? OTHER, s.status);
      c.requests.value++;
      observe(c.duration, s.durationSec);
      if (s.upstreamSec >= 0) observe(c.upstream, s.upstreamSec);
      observe(c.reqSize, s.requestBytes);
      observe(c.resSize, s.responseBytes);
      const n = c.nginx;
      if (n !== null) {
        n.requests.value++;
        observe(n.duration, s.durationSec);
        if (s.upstreamSec >= 0) observe(n.upstream, s.upstreamSec);
        observe(n.reqSize, s.requestBytes);
        observe(n.resSize, s.responseBytes);
      }
    },
    upstreamError(t: RouteLabels | null, cause: string): void {
      upstreamErrors.labels(t?.namespace ?? '', t?.service ?? '', cause).inc();
    },
    ejection(t: RouteLabels | null): void {
      ejections.labels(t?.namespace ?? '', t?.service ?? '').inc();
    },
    retry(t: RouteLabels): void {
      retries.labels(t.namespace, t.service).inc();
    },
    /** A request copy ended (`destination`: a Service port `ns/name:port`, or a mirror-target origin; bounded by the table). */
    mirrored(namespace: string, destination: string, result: string): void {
      mirrors.labels(namespace, destination, result).inc();
    },
    /** A request copy was dropped. */
    mirrorDropped(namespace: string, destination: string, reason: string): void {
      mirrorDrops.labels(namespace, destination, reason).inc();
    },
    connectDuration(sec: number): void {
      connect.observe(sec);
    },
    openConnections,
    rebuild(result: 'swapped' | 'patched' | 'unchanged' | 'failed', seconds: number): void {
      rebuilds.labels(result).inc();
      lastRebuildDuration.set(seconds);
      if (result === 'swapped' || result === 'patched') lastRebuildTime.set(Date.now() / 1000);
    },
    table(counts: { routes: number; backends: number; endpoints: number; diagnostics: ReadonlyMap<string, number> }): void {
      routes.set(counts.routes);
      backends.set(counts.backends);
      endpoints.set(counts.endpoints);
      diagnostics.reset();
      for (const [reason, n] of counts.diagnostics) diagnostics.labels(reason).set(n);
    },
    /** The endpoints gauge alone, after an EndpointSlice patch (no table was built). */
    liveEndpoints(n: number): void {
      endpoints.set(n);
    },
    /** What the source says of its input: problems make the configuration invalid; files by state (standalone). */
    config(status: { readonly diagnostics: readonly unknown[]; readonly files?: { readonly valid: number; readonly invalid: number } }): void {
      configValid.set(status.diagnostics.length === 0 ? 1 : 0);
      if (status.files === undefined) return;
      configFiles.labels('valid').set(status.files.valid);
      configFiles.labels('invalid').set(status.files.invalid);
    },
    propagation(seconds: number): void {
      propagation.observe(seconds);
    },
    watchRestart(kind: string): void {
      watchRestarts.labels(kind).inc();
    },
    handshake(listener: string, protocol: string): void {
      handshakes.labels(listener, protocol).inc();
    },
    handshakeError(listener: string): void {
      handshakeErrors.labels(listener).inc();
    },
    /** Replaces the certificate expiry series with the live table's certificates. */
    certificates(certs: readonly { namespace: string; secret: string; host: string; expiry: number }[]): void {
      certExpiry.reset();
      for (const c of certs) certExpiry.labels(c.namespace, c.secret, c.host).set(c.expiry);
    },
    leader(isLeader: boolean): void {
      leader.set(isLeader ? 1 : 0);
    },
    /** The series one TCP backend of one listener records into (cached by the caller, per compiled table). */
    tcp(namespace: string, service: string, listener: string) {
      return {
        connections: tcpConnections.labels(namespace, service, listener),
        open: tcpOpen.labels(namespace, service, listener),
        received: tcpBytes.labels(namespace, service, listener, 'received'),
        sent: tcpBytes.labels(namespace, service, listener, 'sent'),
        duration: tcpDuration.labels(namespace, service, listener),
      };
    },
    tcpError(namespace: string, service: string, listener: string, cause: string): void {
      tcpErrors.labels(namespace, service, listener, cause).inc();
    },
    /** The series one UDP backend of one listener records into. */
    udp(namespace: string, service: string, listener: string) {
      return {
        flows: udpFlows.labels(namespace, service, listener),
        active: udpActive.labels(namespace, service, listener),
        receivedDatagrams: udpDatagrams.labels(namespace, service, listener, 'received'),
        sentDatagrams: udpDatagrams.labels(namespace, service, listener, 'sent'),
        received: udpBytes.labels(namespace, service, listener, 'received'),
        sent: udpBytes.labels(namespace, service, listener, 'sent'),
        duration: udpDuration.labels(namespace, service, listener),
      };
    },
    udpError(namespace: string, service: string, listener: string, cause: string): void {
      udpErrors.labels(namespace, service, listener, cause).inc();
    },
    clientHello(listener: string, result: 'passthrough' | 'terminated' | 'rejected' | 'invalid' | 'timeout'): void {
      clientHellos.labels(listener, result).inc();
    },
    listenError(listener: string): void {
      listenErrors.labels(listener).inc();
    },
  };
}
