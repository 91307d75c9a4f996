/**
 * Kubernetes Events (events.k8s.io/v1) on Ingresses for translator diagnostics, so
 * `kubectl describe ingress` says what is wrong. One Event per distinct problem while it lasts;
 * a problem that goes away and comes back is reported again.
 */
import { createHash } from 'node:crypto';
import { microTime } from './leader.js';
export function createEventRecorder(o) {
    let sent = new Set();
    return {
        async record(diagnostics, uidOf) {
            const next = new Set();
            for (const d of diagnostics) {
                if (d.source.kind !== 'Ingress' || d.source.namespace === '' || d.source.name === '')
                    continue;
                const key = `${d.source.namespace}/${d.source.name}\n${d.reason}\n${d.message}`;
                if (sent.has(key) || next.has(key)) {
                    next.add(key);
                    continue;
                }
                const hash = createHash('sha256').update(key).update(String(Date.now())).digest('hex').slice(0, 10);
                const uid = uidOf(d.source.namespace, d.source.name);
                const event = {
                    apiVersion: 'events.k8s.io/v1',
                    kind: 'Event',
                    metadata: { name: `${d.source.name}.${hash}`, namespace: d.source.namespace },
                    eventTime: microTime(Date.now()),
                    reportingController: o.controller,
                    reportingInstance: o.instance,
                    action: 'Sync',
                    reason: d.reason,
                    note: d.message.slice(0, 1024),
                    type: d.severity === 'info' ? 'Normal' : 'Warning',
                    regarding: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: d.source.namespace, name: d.source.name, ...(uid ? { uid } : {}) },
                };
                try {
                    await o.client.request('POST', `/apis/events.k8s.io/v1/namespaces/${d.source.namespace}/events`, event);
                }
                catch (err) {
                    o.log.warn({ ingress: `${d.source.namespace}/${d.source.name}`, reason: d.reason, err: err.message }, 'cannot create Event');
                    continue; // not marked as sent: retried on the next rebuild
                }
                next.add(key);
            }
            sent = next; // problems that went away are forgotten, so a recurrence is reported again
        },
    };
}
//# sourceMappingURL=events.js.map