/**
 * The consistent-hash ring of ingress-nginx's Lua balancer (lua-resty-balancer's chash, "ketama"
 * style): 160 points per node, point i = CRC-32 of the node id followed by point i-1 (4 bytes,
 * little-endian; 0 before the first), points sorted; a key goes to the first point at or after
 * CRC-32(key), wrapping to the first. Built from the node ids alone, so every replica (and
 * ingress-nginx itself) with the same endpoints maps a key to the same endpoint; when one node of
 * n joins or leaves, only the keys of its arcs (about 1/n) move. Pure.
 */
import { crc32 } from 'node:zlib';
/** Points per node, as lua-resty-balancer. */
export const POINTS = 160;
/** A node's points, in order of generation. */
function points(id, out, index, weight) {
    const base = crc32(id);
    const prev = Buffer.alloc(4);
    for (let i = 0; i < POINTS * weight; i++) {
        const h = crc32(prev, base) >>> 0;
        // hash in the high bits, node index in the low 20: one numeric sort orders both
        out.push(h * 0x100000 + index);
        prev.writeUInt32LE(h, 0);
    }
}
/** Builds the ring of node ids (`ip:port`, `[v6]:port`), each of weight 1 unless `weights` says otherwise; at most 2^20 nodes. */
export function buildRing(ids, weights) {
    const all = [];
    for (let i = 0; i < ids.length; i++)
        points(ids[i], all, i, weights?.[i] ?? 1);
    const sorted = Float64Array.from(all).sort();
    const n = sorted.length;
    const hashes = new Uint32Array(n);
    const nodes = new Uint32Array(n);
    for (let i = 0; i < n; i++) {
        const v = sorted[i];
        const node = v % 0x100000;
        nodes[i] = node;
        hashes[i] = (v - node) / 0x100000;
    }
    return {
        size: ids.length,
        position(key) {
            const h = crc32(key) >>> 0;
            let lo = 0;
            let hi = n;
            while (lo < hi) {
                const mid = (lo + hi) >>> 1;
                if (hashes[mid] < h)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            return lo === n ? 0 : lo;
        },
        node: (p) => nodes[p],
        next: (p) => (p + 1 === n ? 0 : p + 1),
    };
}
/** The id ingress-nginx gives an endpoint on its ring: `ip:port`, IPv6 in brackets. */
export const nodeId = (ip, port) => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);
//# sourceMappingURL=chash.js.map