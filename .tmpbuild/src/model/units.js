/** Value syntaxes shared by flags and annotations (nginx's): sizes and durations. Pure. */
const SIZE_UNITS = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };
/** `8m`, `512k`, `1g` or bytes, in bytes; undefined when malformed. */
export function parseSize(v) {
    const m = /^(\d{1,12})([kmg]?)$/i.exec(v.trim());
    return m ? Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()] : undefined;
}
/** Seconds (`60`, `1.5`) or a number with `ms`, `s` or `m`, in milliseconds; undefined when malformed. */
export function parseDuration(v) {
    const m = /^(\d{1,9}(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
    return m ? Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000)) : undefined;
}
//# sourceMappingURL=units.js.map