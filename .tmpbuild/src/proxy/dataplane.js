import { ConfigError } from '../config.js';
import { stdoutSink } from '../log.js';
import { createCidrMatcher } from '../model/cidr.js';
import { EMPTY_TABLE } from '../model/types.js';
import { createAccessLog } from './access-log.js';
import { createAuthState } from './auth/state.js';
import { createBalancer } from './balance.js';
import { createEndpointState } from './endpoints.js';
import { createHandler } from './front.js';
import { compileTable } from './route.js';
import { createLimiters } from './limiters.js';
import { createPools, endpointKey } from './pools.js';
import { createHttpsServer, createProxyServer, frontOf } from './server.js';
import { createEndpointStats } from './stats.js';
import { createTlsContexts, expiryOf, listenerContextOptions, verifiesClients } from '../tls/contexts.js';
function listen(server, port, host) {
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port, host }, () => {
            server.off('error', reject);
            resolve(server.address().port);
        });
    });
}
function countConnections(server, metrics, listener) {
    if (!metrics)
        return;
    const open = metrics.openConnections.labels(listener);
    const count = (socket) => {
        open.inc();
        socket.once('close', () => open.dec());
    };
    if ('h2c' in server) {
        server.on('connection', count);
        server.h2c.on('connection', count);
    }
    else
        server.on('secureConnection', count);
}
/** `defaultCert`: the generated fallback certificate, if made ahead (else generated now). */
export function createDataPlane(config, log, metrics, defaultCert) {
    const pools = createPools({ connectTimeout: config.proxyConnectTimeout, keepAliveTimeout: 60_000 });
    const live = createEndpointState();
    const limiters = createLimiters();
    const auth = createAuthState();
    const env = {
        httpsRedirectPort: config.httpsRedirectPort,
        bodySize: config.proxyBodySize,
        limiters,
        limitReqStatus: config.limitReqStatusCode,
        limitConnStatus: config.limitConnStatusCode,
        connectTimeout: config.proxyConnectTimeout,
        readTimeout: config.proxyReadTimeout,
        auth,
        retry: { nextUpstream: config.proxyNextUpstream, tries: config.proxyNextUpstreamTries, timeout: config.proxyNextUpstreamTimeout },
    };
    /** Every target of the live table, for releasing what it no longer uses. */
    let targets = [];
    const stats = createEndpointStats({ maxFails: config.upstreamMaxFails, failTimeout: config.upstreamFailTimeout });
    const balancer = createBalancer(stats.ejected);
    const balance = { balancer, algorithm: config.loadBalance };
    const prepare = (table) => compileTable(table, { pools, endpoints: live, env, balance });
    const first = prepare(EMPTY_TABLE);
    /** What each listener serves: a matcher per listener port (80: --http-port, 443: --https-port, Gateway listeners' own ports). */
    let matchers = first.matchers;
    let table = EMPTY_TABLE;
    const stateOf = (port) => ({ matcher: matchers.get(port) ?? first.matchers.get(80), draining: false });
    const state = stateOf(80);
    const httpsState = stateOf(443);
    let contexts;
    try {
        contexts = createTlsContexts(config.tls, defaultCert);
        contexts.select(EMPTY_TABLE, ''); // builds the default context now, so bad --ssl-ciphers fail at start
    }
    catch (err) {
        throw new ConfigError(`invalid TLS settings (--ssl-ciphers / --ssl-protocols): ${err.message}`);
    }
    const tls = contexts;
    const accessLog = config.accessLog ? createAccessLog(config.accessLogFormat, stdoutSink()) : null;
    const trust = createCidrMatcher(config.trustedProxies);
    const tunnels = new Set();
    const common = {
        pools,
        balancer,
        readTimeout: config.proxyReadTimeout,
        accessLog,
        metrics,
        stats,
        limits: {
            bodySize: config.proxyBodySize,
            clientBodyTimeout: config.clientBodyTimeout,
            sendTimeout: config.proxySendTimeout,
            maxHeaders: config.maxHeaders,
            upgradeIdleTimeout: config.upgradeIdleTimeout,
        },
        tunnels,
    };
    const listenerOptions = { keepAliveTimeout: config.keepAliveTimeout, headersTimeout: config.clientHeaderTimeout, maxConnections: config.maxConnections, proxyProtocol: config.useProxyProtocol, http1Server: config.http1Server };
    const forward = (scheme) => ({ scheme, trust, underscores: config.allowUnderscoresInHeaders });
    const def = tls.listenerCert(table);
    let listenerCertId = def.id;
    let noTickets = false;
    const makeHttp = (s, port) => createProxyServer(createHandler({ ...common, state: s, scheme: 'http', listenerPort: port, hsts: null, forward: forward('http') }), { ...listenerOptions, maxConcurrentStreams: config.http2MaxConcurrentStreams });
    const makeHttps = (s, port) => createHttpsServer(createHandler({ ...common, state: s, scheme: 'https', listenerPort: port, hsts: config.hsts, forward: forward('https') }), {
        settings: config.tls,
        handshakeTimeout: config.sslHandshakeTimeout,
        maxConcurrentStreams: config.http2MaxConcurrentStreams,
        defaultCert: def,
        sni: (servername) => tls.select(table, servername),
        metrics,
        ...listenerOptions,
    });
    const http = makeHttp(state, 80);
    const https = makeHttps(httpsState, 443);
    countConnections(http, metrics, 'http');
    countConnections(https, metrics, 'https');
    const httpFront = frontOf(http, listenerOptions);
    const httpsFront = frontOf(https, listenerOptions);
    /** Gateway API listeners on ports of their own: opened when a table asks for them, closed when none does. */
    const extras = new Map();
    const reconcileListeners = () => {
        const want = new Map((table.listeners ?? []).map((l) => [l.port, l.protocol]));
        for (const [port, x] of extras) {
            if (want.get(port) === x.protocol) {
                x.state.matcher = matchers.get(port) ?? x.state.matcher;
                continue;
            }
            extras.delete(port);
            x.front.close();
            x.server.drain();
            log.info({ listener: `gateway:${port}`, port }, 'listener closed');
        }
        for (const [port, protocol] of want) {
            if (extras.has(port))
                continue;
            const s = { matcher: matchers.get(port) ?? state.matcher, draining: state.draining };
            const server = protocol === 'HTTPS' ? makeHttps(s, port) : makeHttp(s, port);
            countConnections(server, metrics, protocol === 'HTTPS' ? 'https' : 'http');
            const front = frontOf(server, listenerOptions);
            extras.set(port, { protocol, state: s, server, front });
            listen(front, port, config.bindAddress).then(() => log.info({ listener: `gateway:${port}`, protocol, address: config.bindAddress, port }, 'listening'), (err) => log.error({ listener: `gateway:${port}`, port, err: err.message }, 'cannot listen on a Gateway listener port'));
        }
    };
    /** Closes the pools and forgets the stats of endpoints no live route reaches any more. */
    const retainLive = () => {
        const byDispatch = new Map();
        const liveEndpoints = new Set();
        const add = (d, key) => {
            let set = byDispatch.get(d);
            if (set === undefined)
                byDispatch.set(d, (set = new Set()));
            if (key !== '')
                set.add(key);
        };
        for (const t of targets) {
            for (const bt of t.errors === null ? t.backends : [...t.backends, ...t.errors.all]) {
                add(bt.dispatch, '');
                add(bt.upgrade, '');
                for (const e of bt.slot.endpoints) {
                    const key = endpointKey(e.ip, e.port);
                    add(bt.dispatch, key);
                    add(bt.upgrade, key);
                    liveEndpoints.add(key);
                }
            }
        }
        pools.retain(byDispatch);
        stats.retain(liveEndpoints);
    };
    let retainPending = false;
    return {
        table: () => table,
        stats,
        endpoints: (id) => live.endpoints(id),
        endpointViews: async () => (endpoint) => stats.view(endpoint),
        metrics: metrics === null ? null : { contentType: metrics.registry.contentType, text: () => metrics.registry.metrics() },
        patch(p) {
            live.patch(p);
            // the patch is live; releasing old endpoints' pools can wait a turn (and coalesce)
            if (retainPending)
                return;
            retainPending = true;
            setImmediate(() => {
                retainPending = false;
                retainLive();
            });
        },
        apply(next) {
            const compiled = prepare(next);
            live.apply(next);
            table = next;
            matchers = compiled.matchers;
            // one assignment per listener
            state.matcher = matchers.get(80) ?? state.matcher;
            httpsState.matcher = matchers.get(443) ?? httpsState.matcher;
            reconcileListeners();
            balancer.retain(new Set(next.backends.keys()));
            targets = compiled.targets;
            retainLive();
            // limiters the new table's routes did not ask for are forgotten (kept ones keep their counts)
            limiters.retain();
            tls.retain(table);
            const cert = tls.listenerCert(table);
            const mtls = verifiesClients(table);
            if (cert.id !== listenerCertId || mtls !== noTickets) {
                // a new context also has new ticket keys: no ticket issued before can resume a session
                const ctx = listenerContextOptions(config.tls, cert, mtls);
                https.setSecureContext(ctx);
                for (const x of extras.values())
                    if ('setSecureContext' in x.server)
                        x.server.setSecureContext(ctx);
                listenerCertId = cert.id;
                noTickets = mtls;
            }
            metrics?.certificates([...table.certs.values()].map((c) => ({ namespace: c.source.namespace, secret: c.secret.split('/')[1] ?? '', host: c.host, expiry: c.notAfter / 1000 })));
        },
        async listen() {
            const httpPort = await listen(httpFront, config.httpPort, config.bindAddress);
            const httpsPort = await listen(httpsFront, config.httpsPort, config.bindAddress);
            log.info({ listener: 'http', address: config.bindAddress, port: httpPort }, 'listening');
            log.info({ listener: 'https', address: config.bindAddress, port: httpsPort, defaultCertExpiry: new Date(expiryOf(def.certPem) * 1000).toISOString() }, 'listening');
            return { httpPort, httpsPort };
        },
        startDraining() {
            state.draining = true;
            httpsState.draining = true;
            for (const x of extras.values())
                x.state.draining = true;
        },
        async close() {
            state.draining = true;
            httpsState.draining = true;
            const all = [{ server: http, front: httpFront }, { server: https, front: httpsFront }, ...extras.values()];
            for (const x of all)
                if (x.front !== x.server)
                    x.front.close();
            const closed = Promise.all(all.map((x) => new Promise((r) => x.server.close(() => r()))));
            for (const x of all)
                x.server.drain();
            const deadline = Date.now() + config.shutdownTimeout;
            const cut = setTimeout(() => {
                for (const x of all)
                    x.server.cut();
                for (const s of tunnels)
                    s.destroy();
            }, config.shutdownTimeout);
            await closed;
            while (tunnels.size > 0 && Date.now() < deadline)
                await new Promise((r) => setTimeout(r, 50));
            clearTimeout(cut);
            for (const s of tunnels)
                s.destroy();
            await pools.close();
            await auth.close();
        },
    };
}
//# sourceMappingURL=dataplane.js.map