export function createEndpointState() {
    const slots = new Map();
    return {
        slot(b) {
            let s = slots.get(b.id);
            if (s === undefined)
                slots.set(b.id, (s = { endpoints: b.endpoints }));
            return s;
        },
        apply(table) {
            for (const [id, b] of table.backends) {
                const s = slots.get(id);
                if (s === undefined)
                    slots.set(id, { endpoints: b.endpoints });
                else
                    s.endpoints = b.endpoints;
            }
            for (const id of slots.keys())
                if (!table.backends.has(id))
                    slots.delete(id);
        },
        patch(p) {
            for (const [id, endpoints] of p) {
                const s = slots.get(id);
                if (s !== undefined)
                    s.endpoints = endpoints;
            }
        },
        endpoints: (id) => slots.get(id)?.endpoints,
    };
}
//# sourceMappingURL=endpoints.js.map