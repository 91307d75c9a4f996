/** Records one observation: a scan over at most a dozen bounds, no allocation. */
export function observe(h, v) {
    const b = h.bounds;
    let i = 0;
    while (i < b.length && v > b[i])
        i++;
    h.counts[i]++;
    h.sum += v;
    h.count++;
}
function labelsOf(names, values) {
    const o = {};
    names.forEach((n, i) => (o[n] = values[i] ?? ''));
    return o;
}
function family(registry, name, help, type, labelNames, make, values) {
    const all = new Map();
    const f = {
        name,
        help,
        type,
        aggregator: 'sum',
        series(vals) {
            const key = vals.join('\u0000');
            let s = all.get(key);
            if (s === undefined)
                all.set(key, (s = make(labelsOf(labelNames, vals))));
            return s;
        },
        async get() {
            const out = [];
            for (const s of all.values())
                out.push(...values(s));
            return { name, help, type, aggregator: 'sum', values: out };
        },
    };
    registry.registerMetric(f);
    return f;
}
export function fastCounter(registry, name, help, labelNames) {
    return family(registry, name, help, 'counter', labelNames, (labels) => ({ labels, value: 0 }), (s) => [{ labels: s.labels, value: s.value }]);
}
export function fastHistogram(registry, name, help, labelNames, bounds) {
    return family(registry, name, help, 'histogram', labelNames, (labels) => ({ labels, counts: new Float64Array(bounds.length + 1), bounds, sum: 0, count: 0 }), (s) => {
        const out = [];
        let acc = 0;
        bounds.forEach((le, i) => {
            acc += s.counts[i];
            out.push({ labels: { ...s.labels, le }, value: acc, metricName: `${name}_bucket` });
        });
        out.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${name}_bucket` });
        out.push({ labels: s.labels, value: s.sum, metricName: `${name}_sum` });
        out.push({ labels: s.labels, value: s.count, metricName: `${name}_count` });
        return out;
    });
}
//# sourceMappingURL=fast.js.map