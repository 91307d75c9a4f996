export function createTtlCache(max) {
    const m = new Map();
    return {
        get(key, now = Date.now()) {
            const e = m.get(key);
            if (e === undefined)
                return undefined;
            if (e.expires <= now) {
                m.delete(key);
                return undefined;
            }
            return e.value;
        },
        set(key, value, ttlMs, now = Date.now()) {
            if (!(ttlMs > 0))
                return;
            m.delete(key);
            m.set(key, { value, expires: now + ttlMs });
            while (m.size > max)
                m.delete(m.keys().next().value);
        },
        get size() {
            return m.size;
        },
        clear() {
            m.clear();
        },
    };
}
//# sourceMappingURL=cache.js.map