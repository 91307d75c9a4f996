/**
 * translate(snapshot) -> { table, diagnostics, references }: the whole step from objects to a
 * routing table, as one processor per source writing one shared table (model/build.ts). Pure: no
 * I/O, no clock, no logger. It never throws on user input; each problem becomes a Diagnostic and
 * the rest of the table keeps working.
 *
 * A translator owns its memos (checked Ingresses, resolved Service ports, keyed by object
 * identity: the store never modifies an object, a change is a new one), so a rebuild after one
 * edit re-checks only what changed, and two translators never share state.
 */
import { TableBuilder } from './build.js';
import { createResolutionMemo, indexServices } from './endpoints.js';
import { translateGateways } from './gateway/translate.js';
import { createClassFilter, sortByAge } from './ingress/class.js';
import { addCorsFallbacks, globalHeaders, translateIngresses } from './ingress/translate.js';
import { isObject } from './k8s.js';
import { Memo } from './memo.js';
/** A translator with its own memos: what one pipeline uses from one rebuild to the next. */
export function createTranslator() {
    const ingresses = new Memo();
    const resolutions = createResolutionMemo();
    return {
        translate(snapshot, opts) {
            // Input is untrusted: anything that is not an object is dropped here, once, for every kind.
            const b = new TableBuilder(indexServices(objects(snapshot.services), objects(snapshot.endpointSlices), resolutions), objects(snapshot.secrets), opts, objects(snapshot.configMaps));
            const isOurs = createClassFilter(objects(snapshot.ingressClasses), opts);
            const global = globalHeaders(b, opts);
            const corsHosts = translateIngresses(b, sortByAge(objects(snapshot.ingresses).filter((ing) => isOurs(ing))), ingresses, opts, global);
            const d = opts.defaultBackendService;
            if (b.defaultBackend === null && d !== undefined) {
                const id = `${d.namespace}/${d.name}:${d.port}`;
                b.backend(id, d.namespace, d.name, d.port, { kind: 'Service', namespace: d.namespace, name: d.name }, 'HTTP');
                b.defaultBackend = { host: '', path: '', match: 'Prefix', source: { kind: 'DefaultBackend', namespace: d.namespace, name: d.name }, policies: global, backends: [{ backend: id, weight: 1 }], settings: {} };
            }
            addCorsFallbacks(b, corsHosts, global);
            if (opts.defaultSslCertificate)
                b.defaultCert(opts.defaultSslCertificate);
            const gw = opts.gateway === undefined ? null : translateGateways(b, snapshot, opts.gateway);
            const result = b.finish(gw?.listeners ?? []);
            ingresses.advance();
            resolutions.advance();
            return gw === null ? result : { ...result, gateway: gw.status };
        },
    };
}
/** Translates once with a fresh translator (tests, `--dry-run`): nothing is remembered. */
export function translate(snapshot, opts) {
    return createTranslator().translate(snapshot, opts);
}
function objects(v) {
    return Array.isArray(v) ? v.filter(isObject) : [];
}
//# sourceMappingURL=translate.js.map