/**
 * Upstream connect durations: Portico's HTTP/1.1 client publishes them on its own channel; for the
 * gRPC pools, undici's diagnostics channels give them. undici publishes a fresh params object per
 * event, so starts are queued per connector (one per pool) and matched first-in first-out.
 */
import diagnostics from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
/** The channel Portico's HTTP/1.1 client publishes `{ seconds }` on for each new upstream connection. */
export const CONNECT_CHANNEL = 'portico:upstream:connected';
const connectChannel = diagnostics.channel(CONNECT_CHANNEL);
/** Subscribes; returns the unsubscribe function. */
export function observeConnects(observe) {
    const starts = new WeakMap();
    const before = (msg) => {
        const { connector } = msg;
        let q = starts.get(connector);
        if (!q)
            starts.set(connector, (q = []));
        q.push(performance.now());
    };
    const done = (msg) => {
        const { connector } = msg;
        const t0 = starts.get(connector)?.shift();
        if (t0 !== undefined)
            observe((performance.now() - t0) / 1000);
    };
    const failed = (msg) => {
        starts.get(msg.connector)?.shift();
    };
    const own = (msg) => observe(msg.seconds);
    connectChannel.subscribe(own);
    diagnostics.subscribe('undici:client:beforeConnect', before);
    diagnostics.subscribe('undici:client:connected', done);
    diagnostics.subscribe('undici:client:connectError', failed);
    return () => {
        connectChannel.unsubscribe(own);
        diagnostics.unsubscribe('undici:client:beforeConnect', before);
        diagnostics.unsubscribe('undici:client:connected', done);
        diagnostics.unsubscribe('undici:client:connectError', failed);
    };
}
//# sourceMappingURL=connect-timing.js.map