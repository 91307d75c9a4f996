import { ApiError } from './client.js';
/**
 * ConfigMaps are watched for custom-headers and --add-headers / --proxy-set-headers: every one
 * is listed (no selector can name the referenced ones), but only its name and `data` are kept
 * (not binaryData, annotations or managedFields, often the bulk of it).
 */
export const trimConfigMap = (obj) => {
    const m = obj.metadata;
    const data = obj.data;
    return { apiVersion: obj.apiVersion, kind: 'ConfigMap', metadata: { name: m?.name, namespace: m?.namespace, resourceVersion: m?.resourceVersion }, ...(data !== undefined ? { data } : {}) };
};
export const RESOURCES = [
    { kind: 'Ingress', base: '/apis/networking.k8s.io/v1', plural: 'ingresses', namespaced: true },
    { kind: 'IngressClass', base: '/apis/networking.k8s.io/v1', plural: 'ingressclasses', namespaced: false },
    { kind: 'Service', base: '/api/v1', plural: 'services', namespaced: true },
    { kind: 'EndpointSlice', base: '/apis/discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
    // every Secret but the two kinds that are many and large and never named by an Ingress: TLS
    // certificates are kubernetes.io/tls, client-certificate CAs (auth-tls-secret) and basic-auth
    // users usually Opaque
    { kind: 'Secret', base: '/api/v1', plural: 'secrets', namespaced: true, fieldSelector: 'type!=helm.sh/release.v1,type!=kubernetes.io/service-account-token' },
    { kind: 'ConfigMap', base: '/api/v1', plural: 'configmaps', namespaced: true, trim: trimConfigMap },
    // Namespace labels select routes for Gateway listeners (allowedRoutes.namespaces.from: Selector)
    { kind: 'Namespace', base: '/api/v1', plural: 'namespaces', namespaced: false, gatewayApi: true },
    { kind: 'GatewayClass', base: '/apis/gateway.networking.k8s.io/v1', plural: 'gatewayclasses', namespaced: false, optional: true, gatewayApi: true },
    { kind: 'Gateway', base: '/apis/gateway.networking.k8s.io/v1', plural: 'gateways', namespaced: true, optional: true, gatewayApi: true },
    { kind: 'HTTPRoute', base: '/apis/gateway.networking.k8s.io/v1', plural: 'httproutes', namespaced: true, optional: true, gatewayApi: true },
    { kind: 'GRPCRoute', base: '/apis/gateway.networking.k8s.io/v1', plural: 'grpcroutes', namespaced: true, optional: true, gatewayApi: true },
    // v1beta1: the storage version, served by every Gateway API release that has ReferenceGrant
    { kind: 'ReferenceGrant', base: '/apis/gateway.networking.k8s.io/v1beta1', plural: 'referencegrants', namespaced: true, optional: true, gatewayApi: true },
];
export const resourcePath = (r, namespace) => (namespace ? `${r.base}/namespaces/${namespace}/${r.plural}` : `${r.base}/${r.plural}`);
const PAGE = 500;
const WATCH_SECONDS = 300;
export function createReflector(o) {
    const { client, resource: r, namespace, store, log } = o;
    const base = o.backoff?.base ?? 250;
    const cap = o.backoff?.cap ?? 30_000;
    const path = resourcePath(r, namespace);
    let rv = '';
    let stopped = false;
    let synced = false;
    let failures = 0;
    let stopWatch = null;
    let timer = null;
    let watchdog = null;
    const withKind = (obj) => (r.trim !== undefined ? r.trim(obj) : obj.kind === r.kind ? obj : { ...obj, kind: r.kind });
    const markSynced = () => {
        if (synced)
            return;
        synced = true;
        o.onSynced();
    };
    /** Capped exponential backoff with full jitter in [delay/2, delay]. */
    function retry(fn, why) {
        if (stopped)
            return;
        failures++;
        const delay = Math.min(cap, base * 2 ** Math.min(failures - 1, 16));
        const wait = Math.round(delay / 2 + Math.random() * (delay / 2));
        o.onRestart();
        log.warn({ kind: r.kind, namespace: namespace || undefined, retryInMs: wait, why }, 'watch interrupted; retrying');
        timer = setTimeout(fn, wait);
    }
    async function list() {
        if (stopped)
            return;
        try {
            const items = [];
            let cont = '';
            let listRv = '';
            do {
                const q = new URLSearchParams({ limit: String(PAGE) });
                if (cont)
                    q.set('continue', cont);
                if (r.fieldSelector)
                    q.set('fieldSelector', r.fieldSelector);
                const body = await client.request('GET', `${path}?${q}`);
                for (const it of body?.items ?? [])
                    items.push(withKind(it));
                cont = body?.metadata?.continue ?? '';
                listRv = body?.metadata?.resourceVersion ?? listRv;
            } while (cont !== '' && !stopped);
            if (stopped)
                return;
            store.replace(r.kind, items, r.namespaced ? namespace : undefined, r.owns);
            rv = listRv;
            log.info({ kind: r.kind, namespace: namespace || undefined, objects: items.length, resourceVersion: rv }, 'listed');
            o.onChange({ kind: r.kind, type: 'RELIST' });
            markSynced();
            failures = 0;
            void watch();
        }
        catch (err) {
            if (r.optional === true && err instanceof ApiError && err.status === 404) {
                // the CRD is not installed: nothing to serve, nothing wrong; look again later
                if (!synced)
                    log.info({ kind: r.kind, recheckInMs: o.crdRecheckMs }, `${r.plural} are not installed (no CRD); looking again every ${o.crdRecheckMs / 1000} s (--crd-recheck-interval)`);
                store.replace(r.kind, [], r.namespaced ? namespace : undefined, r.owns);
                markSynced();
                timer = setTimeout(() => void list(), o.crdRecheckMs);
                return;
            }
            if (err instanceof ApiError && (err.status === 403 || err.status === 401)) {
                log.error({ kind: r.kind, namespace: namespace || undefined, status: err.status, err: err.message }, `cannot list ${r.plural}: ${err.status === 403 ? 'forbidden by RBAC' : 'unauthorized'}; serving without them and retrying`);
                markSynced(); // a missing permission must not keep the controller unready forever
                failures = Math.max(failures, 6); // and need not be hammered
            }
            retry(() => void list(), err.message);
        }
    }
    function armWatchdog() {
        if (watchdog)
            clearTimeout(watchdog);
        // The server ends a watch after timeoutSeconds; silence well past that means a stalled stream.
        watchdog = setTimeout(() => {
            log.warn({ kind: r.kind }, 'watch silent for too long; restarting it');
            stopWatch?.();
        }, (WATCH_SECONDS + 30) * 1000);
    }
    async function watch() {
        if (stopped)
            return;
        let gone = false;
        let ended = false;
        const started = Date.now();
        const done = (err) => {
            if (ended)
                return;
            ended = true;
            if (watchdog)
                clearTimeout(watchdog);
            stopWatch = null;
            if (stopped)
                return;
            const status = err?.statusCode;
            if (gone || status === 410) {
                log.info({ kind: r.kind, resourceVersion: rv }, 'resourceVersion expired (410 Gone); re-listing');
                failures = 0;
                void list();
                return;
            }
            if (err === null || err === undefined) {
                // A normal end (timeoutSeconds): resume from the last resourceVersion right away.
                if (Date.now() - started > 1000) {
                    failures = 0;
                    void watch();
                    return;
                }
            }
            retry(() => void watch(), err ? String(err.message ?? err) : 'watch closed immediately');
        };
        try {
            armWatchdog();
            stopWatch = await client.watch(path, { resourceVersion: rv, allowWatchBookmarks: true, timeoutSeconds: WATCH_SECONDS, fieldSelector: r.fieldSelector }, (type, raw) => {
                armWatchdog();
                const obj = raw;
                if (type === 'BOOKMARK') {
                    rv = obj.metadata?.resourceVersion ?? rv;
                    return;
                }
                if (type === 'ERROR') {
                    if (obj.code === 410)
                        gone = true;
                    stopWatch?.();
                    done(gone ? null : new Error(`watch error: ${JSON.stringify(obj).slice(0, 200)}`));
                    return;
                }
                if (type !== 'ADDED' && type !== 'MODIFIED' && type !== 'DELETED')
                    return;
                const o2 = withKind(obj);
                rv = o2.metadata?.resourceVersion ?? rv;
                if (type === 'DELETED')
                    store.remove(r.kind, `${o2.metadata?.namespace ?? ''}/${o2.metadata?.name ?? ''}`);
                else
                    store.upsert(o2);
                o.onChange({ kind: r.kind, type, object: o2 });
            }, done);
            if (stopped)
                stopWatch?.();
        }
        catch (err) {
            done(err);
        }
    }
    return {
        start: () => void list(),
        stop() {
            stopped = true;
            if (timer)
                clearTimeout(timer);
            if (watchdog)
                clearTimeout(watchdog);
            stopWatch?.();
        },
    };
}
//# sourceMappingURL=watch.js.map