/**
 * IP addresses and CIDR ranges, IPv4 and IPv6: parsed from user input (flags, annotations) with a
 * message instead of an exception, and matched with node:net's BlockList. An IPv4-mapped IPv6
 * address (`::ffff:10.1.2.3`) is matched as the IPv4 address it is. Pure.
 */
import { BlockList, isIP } from 'node:net';
export const MATCH_NONE = () => false;
/** Checks one entry: an address (a /32 or /128) or `address/prefix`; returns an error message or null. */
export function cidrProblem(entry) {
    const [addr = '', prefix, extra] = entry.split('/');
    const v = isIP(addr);
    if (v === 0 || extra !== undefined)
        return `${JSON.stringify(entry)} is not an IP address or CIDR`;
    if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (v === 6 ? 128 : 32)))
        return `${JSON.stringify(entry)} has an invalid prefix length`;
    return null;
}
/** Splits a comma-separated list (spaces allowed) and checks each entry. */
export function parseCidrList(raw) {
    const cidrs = raw.split(',').map((x) => x.trim()).filter(Boolean);
    for (const c of cidrs) {
        const problem = cidrProblem(c);
        if (problem !== null)
            return { error: problem };
    }
    return { cidrs };
}
/** An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, or `::ffff:a01:203` as URL parsers write it) as its IPv4 address. */
export function unmapped(ip) {
    if (!ip.startsWith('::ffff:'))
        return ip;
    const rest = ip.slice(7);
    if (isIP(rest) === 4)
        return rest;
    const m = /^([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(rest);
    if (m === null)
        return ip;
    const hi = parseInt(m[1], 16);
    const lo = parseInt(m[2], 16);
    return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
}
/** Builds a matcher for valid entries (check them with {@link parseCidrList} first). */
export function createCidrMatcher(cidrs) {
    if (cidrs.length === 0)
        return MATCH_NONE;
    const list = new BlockList();
    for (const c of cidrs) {
        const [addr = '', prefix] = c.split('/');
        const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
        list.addSubnet(addr, prefix === undefined ? (type === 'ipv6' ? 128 : 32) : Number(prefix), type);
    }
    return (raw) => {
        const ip = unmapped(raw);
        const v = isIP(ip);
        return v !== 0 && list.check(ip, v === 6 ? 'ipv6' : 'ipv4');
    };
}
//# sourceMappingURL=cidr.js.map