import { ConfigError } from '../config.js';
import { createExternalNameResolver } from './externalnames.js';
import { createManifestSource } from '../manifests/source.js';
import { createPipeline } from './pipeline.js';
import { createStore } from './store.js';
import { createInspector, inspectClientCaSecret, inspectUpstreamSecret } from '../tls/inspect.js';
/** Certificates expire without any object changing: re-judge them this often. */
const RECHECK_MS = 60_000;
/** At start-up, how long ExternalName lookups may hold back readiness. */
const STARTUP_LOOKUP_MS = 2000;
/**
 * The translator's options from the flags: the one place they are paired (the control plane and
 * `--dry-run` both translate with them). `names` resolves ExternalName Services (null: refused).
 */
export function translateOptionsFor(config, inspect, names) {
    return {
        controllerClass: config.controllerClass,
        ingressClass: config.ingressClass,
        watchWithoutClass: config.watchWithoutClass,
        defaultBackendService: config.defaultBackendService,
        defaultSslCertificate: config.defaultSslCertificate,
        addHeaders: config.addHeaders,
        proxySetHeaders: config.proxySetHeaders,
        sslRedirect: config.sslRedirect,
        unsupportedAnnotations: config.unsupportedAnnotations,
        ...(config.enableGatewayApi
            ? { gateway: { controllerName: config.gatewayControllerName, reservedPorts: [config.httpPort, config.httpsPort, config.adminPort].filter((p) => p !== 0 && p !== 80 && p !== 443) } }
            : {}),
        sourceRanges: config.sourceRanges,
        inspect,
        inspectUpstream: inspectUpstreamSecret,
        inspectClientCa: inspectClientCaSecret,
        ...(names !== null ? { externalNames: names } : {}),
    };
}
export async function createControlPlane(o) {
    const { config, log, metrics } = o;
    const store = createStore();
    const inspect = createInspector();
    // a resolution that changes what a name means rebuilds (rare: first resolution, DNS changes)
    const names = config.allowExternalNameServices
        ? createExternalNameResolver({ denied: config.externalNameDeniedCidrs, log: log.child({ component: 'external-names' }), onChange: () => pipeline.schedule() })
        : null;
    const base = translateOptionsFor(config, inspect, names);
    let kube = null;
    let files = null;
    const pipeline = createPipeline({
        store,
        log: log.child({ component: 'pipeline' }),
        metrics,
        translateOptions: () => {
            inspect.sweep();
            return { ...base, now: Date.now() };
        },
        swap: o.swap,
        patch: o.patch,
        onRebuilt: () => {
            names?.want(pipeline.references().externalNames);
            kube?.rebuilt();
        },
        sourceStatus: () => files?.status() ?? { diagnostics: [] },
    });
    let source;
    if (config.manifests !== '') {
        const m = (files = createManifestSource({ path: config.manifests, store, onChange: pipeline.schedule, log: log.child({ component: 'manifests' }) }));
        source = {
            start: () => m.start().catch((err) => {
                throw new ConfigError(`--manifests ${config.manifests}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
            }),
            close: m.close,
        };
    }
    else {
        // Loaded only in Kubernetes mode (and @kubernetes/client-node only for credential plugins).
        const { createKubeController } = await import('../kube/controller.js');
        kube = await createKubeController({ config, store, pipeline, log, metrics });
        source = kube;
    }
    const recheck = setInterval(pipeline.schedule, RECHECK_MS);
    recheck.unref();
    return {
        pipeline,
        syncBeforeListen: config.manifests !== '',
        async start() {
            await source.start();
            pipeline.rebuildNow();
            // ExternalName backends are served from their first resolution: wait for it (bounded) before ready
            if (names !== null && (await names.settle(STARTUP_LOOKUP_MS)))
                pipeline.rebuildNow();
        },
        async close() {
            clearInterval(recheck);
            names?.close();
            await source.close();
        },
    };
}
//# sourceMappingURL=controlplane.js.map