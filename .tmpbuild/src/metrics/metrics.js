/**
 * Prometheus metrics (prom-client). Request labels come only from the matched route, never from
 * the raw Host header or URL, so cardinality is bounded by the table, not by clients.
 * Label children are cached per route target so the hot path does no label hashing.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { fastCounter, fastHistogram, observe } from './fast.js';
/** A route's labels: its object, its (first) backend's Service, its host and written path. */
export function routeLabels(route, table) {
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
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
/** A method outside the standard set is counted as OTHER, so clients cannot mint series. */
export const methodLabel = (m) => (METHODS.has(m) ? m : 'OTHER');
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const SIZE_BUCKETS = [64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216];
const NGINX_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const NGINX_SIZE_BUCKETS = [10, 100, 1000, 10000, 100000, 1000000, 10000000];
const REQUEST_LABELS = ['namespace', 'ingress', 'service', 'host', 'method', 'status'];
const ROUTE_LABELS = ['namespace', 'ingress', 'service', 'host'];
const NGINX_LABELS = ['controller_namespace', 'controller_class', 'controller_pod', 'namespace', 'ingress', 'service', 'canary', 'host', 'path', 'method', 'status'];
const NGINX_ROUTE_LABELS = ['controller_namespace', 'controller_class', 'controller_pod', 'namespace', 'ingress', 'service', 'canary', 'host', 'path', 'method'];
/** Creates a registry with every Portico metric, process and Node.js metrics included. */
export function createMetrics(opts) {
    const registry = new Registry();
    collectDefaultMetrics({ register: registry });
    // prom-client names these gauges *_total, which Prometheus naming (and promtool) reserve for
    // counters; nodejs_active_resources{type} (also prom-client's) carries the same information.
    for (const n of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
        registry.removeSingleMetric(n);
    const reg = [registry];
    const requests = fastCounter(registry, 'portico_requests_total', 'Requests answered, by matched route, method and status', REQUEST_LABELS);
    const duration = fastHistogram(registry, 'portico_request_duration_seconds', 'Time from request start to the last byte of the response', ROUTE_LABELS, DURATION_BUCKETS);
    const upstream = fastHistogram(registry, 'portico_upstream_response_duration_seconds', 'Time from sending the request upstream to its response headers', ROUTE_LABELS, DURATION_BUCKETS);
    const connect = new Histogram({ name: 'portico_upstream_connect_duration_seconds', help: 'Time to open a new upstream connection', buckets: DURATION_BUCKETS, registers: reg });
    const reqSize = fastHistogram(registry, 'portico_request_size_bytes', 'Request length: request line, headers and body, as nginx $request_length', ROUTE_LABELS, SIZE_BUCKETS);
    const resSize = fastHistogram(registry, 'portico_response_size_bytes', 'Response body size', ROUTE_LABELS, SIZE_BUCKETS);
    const upstreamErrors = new Counter({ name: 'portico_upstream_errors_total', help: 'Upstream failures by cause (connect_refused, connect_timeout, reset, timeout, no_endpoints, ...)', labelNames: ['namespace', 'service', 'cause'], registers: reg });
    const retries = new Counter({ name: 'portico_upstream_retries_total', help: 'Requests sent again to another endpoint', labelNames: ['namespace', 'service'], registers: reg });
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
    // Children per target: a WeakMap, so a swapped-out table's cache goes with it.
    const cache = new WeakMap();
    const unmatched = new Map();
    const controller = [opts.controllerNamespace, opts.controllerClass, opts.controllerPod];
    function children(t, method, status) {
        let byKey = t === null ? unmatched : cache.get(t);
        if (byKey === undefined)
            cache.set(t, (byKey = new Map()));
        const key = `${method} ${status}`;
        let c = byKey.get(key);
        if (c !== undefined)
            return c;
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
            nginx: nl === null
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
        request(t, s) {
            const c = children(t, methodLabel(s.method), s.status);
            c.requests.value++;
            observe(c.duration, s.durationSec);
            if (s.upstreamSec >= 0)
                observe(c.upstream, s.upstreamSec);
            observe(c.reqSize, s.requestBytes);
            observe(c.resSize, s.responseBytes);
            const n = c.nginx;
            if (n !== null) {
                n.requests.value++;
                observe(n.duration, s.durationSec);
                if (s.upstreamSec >= 0)
                    observe(n.upstream, s.upstreamSec);
                observe(n.reqSize, s.requestBytes);
                observe(n.resSize, s.responseBytes);
            }
        },
        upstreamError(t, cause) {
            upstreamErrors.labels(t?.namespace ?? '', t?.service ?? '', cause).inc();
        },
        ejection(t) {
            ejections.labels(t?.namespace ?? '', t?.service ?? '').inc();
        },
        retry(t) {
            retries.labels(t.namespace, t.service).inc();
        },
        connectDuration(sec) {
            connect.observe(sec);
        },
        openConnections,
        rebuild(result, seconds) {
            rebuilds.labels(result).inc();
            lastRebuildDuration.set(seconds);
            if (result === 'swapped' || result === 'patched')
                lastRebuildTime.set(Date.now() / 1000);
        },
        table(counts) {
            routes.set(counts.routes);
            backends.set(counts.backends);
            endpoints.set(counts.endpoints);
            diagnostics.reset();
            for (const [reason, n] of counts.diagnostics)
                diagnostics.labels(reason).set(n);
        },
        /** What the source says of its input: problems make the configuration invalid; files by state (standalone). */
        config(status) {
            configValid.set(status.diagnostics.length === 0 ? 1 : 0);
            if (status.files === undefined)
                return;
            configFiles.labels('valid').set(status.files.valid);
            configFiles.labels('invalid').set(status.files.invalid);
        },
        propagation(seconds) {
            propagation.observe(seconds);
        },
        watchRestart(kind) {
            watchRestarts.labels(kind).inc();
        },
        handshake(listener, protocol) {
            handshakes.labels(listener, protocol).inc();
        },
        handshakeError(listener) {
            handshakeErrors.labels(listener).inc();
        },
        /** Replaces the certificate expiry series with the live table's certificates. */
        certificates(certs) {
            certExpiry.reset();
            for (const c of certs)
                certExpiry.labels(c.namespace, c.secret, c.host).set(c.expiry);
        },
        leader(isLeader) {
            leader.set(isLeader ? 1 : 0);
        },
    };
}
//# sourceMappingURL=metrics.js.map