import { sliceService } from '../model/endpoints.js';
import { createReflector, RESOURCES } from './watch.js';
/** Whether a change can alter the table, given what the last translation referred to. */
export function relevant(c, refs) {
    if (c.type === 'RELIST')
        return true;
    const ns = c.object.metadata?.namespace ?? '';
    switch (c.kind) {
        // routing objects, and Namespaces (their labels select routes for Gateway listeners)
        case 'Ingress':
        case 'IngressClass':
        case 'Namespace':
        case 'GatewayClass':
        case 'Gateway':
        case 'HTTPRoute':
        case 'GRPCRoute':
        case 'ReferenceGrant':
            return true;
        case 'Service':
            return refs.services.has(`${ns}/${c.object.metadata?.name ?? ''}`);
        case 'Secret':
            return refs.secrets.has(`${ns}/${c.object.metadata?.name ?? ''}`);
        case 'ConfigMap':
            return refs.configMaps.has(`${ns}/${c.object.metadata?.name ?? ''}`);
        case 'EndpointSlice':
            return refs.services.has(sliceService(c.object));
    }
}
export function createKubeSource(o) {
    const reflectors = [];
    return {
        start() {
            return new Promise((resolve) => {
                const namespaces = o.namespaces.length > 0 ? o.namespaces : [''];
                let pending = 0;
                for (const resource of RESOURCES.filter((r) => o.gatewayApi || r.gatewayApi !== true)) {
                    for (const namespace of resource.namespaced ? namespaces : ['']) {
                        pending++;
                        const refl = createReflector({
                            client: o.client,
                            resource,
                            namespace,
                            store: o.store,
                            log: o.log,
                            ...(o.backoff ? { backoff: o.backoff } : {}),
                            crdRecheckMs: o.crdRecheckMs,
                            onChange: (c) => {
                                if (!relevant(c, o.references()))
                                    return;
                                o.onChange(c.type !== 'RELIST' && c.kind === 'EndpointSlice' ? sliceService(c.object) : undefined);
                            },
                            onSynced: () => {
                                if (--pending === 0)
                                    resolve();
                            },
                            onRestart: () => o.onRestart(resource.kind),
                        });
                        reflectors.push(refl);
                        refl.start();
                    }
                }
            });
        },
        close() {
            for (const r of reflectors)
                r.stop();
        },
    };
}
//# sourceMappingURL=source.js.map