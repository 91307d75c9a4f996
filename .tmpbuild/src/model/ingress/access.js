/**
 * Access-control and limit annotations, one small parser each, with ingress-nginx's semantics:
 * - `allowlist-source-range` (alias `whitelist-source-range`, read only when the canonical one is
 *   absent or empty) and `denylist-source-range`: comma-separated addresses or CIDRs; an
 *   annotation replaces the global `--whitelist-source-range` / `--denylist-source-range`;
 * - `limit-rps`, `limit-rpm`, `limit-connections`, `limit-burst-multiplier` (default 5),
 *   `limit-allowlist` (alias `limit-whitelist`): one set of counters per Ingress.
 * A bad value never leaves the control out: the key is returned in `invalid`, which refuses the
 * Ingress (its routes answer 503) whatever `--unsupported-annotations` says. Pure.
 */
import { parseCidrList } from '../cidr.js';
import { show } from '../k8s.js';
/** ingress-nginx's default `limit-burst-multiplier`. */
export const DEFAULT_BURST_MULTIPLIER = 5;
/** Largest rps, rpm or connections value (nine digits): the limiter's arithmetic stays exact. */
const MAX_LIMIT = 999_999_999;
const MAX_MULTIPLIER = 1000;
const REFUSED = 'the Ingress is not served (an access control is never left out)';
/** The canonical annotation, else its alias when the canonical one is absent or empty (ingress-nginx's checkAnnotation). */
function readAliased(read, name, alias, report) {
    const v = read(name);
    const a = read(alias);
    if (v !== undefined && !(typeof v.value === 'string' && v.value.trim() === '')) {
        if (a !== undefined)
            report('IgnoredAnnotation', `${a.key}: ignored: ${v.key} is set, and wins over its alias`, 'info');
        return v;
    }
    return a ?? v;
}
/** A source-range list: at least one entry, each an address or a CIDR. */
function ranges(v, invalid, report) {
    if (v === undefined)
        return undefined;
    const parsed = typeof v.value === 'string' ? parseCidrList(v.value) : { error: `expected a comma-separated list of addresses or CIDRs, got ${show(v.value)}` };
    const problem = 'error' in parsed ? parsed.error : parsed.cidrs.length === 0 ? 'the list is empty' : null;
    if (problem === null && !('error' in parsed))
        return parsed.cidrs;
    report('InvalidAnnotation', `${v.key}: ${problem ?? ''}; ${REFUSED}`);
    invalid.push(v.key);
    return undefined;
}
/** A whole number from 0 to `max` (a string, or a number in standalone YAML); undefined when absent or bad (then reported). */
function count(read, name, max, invalid, report) {
    const v = read(name);
    if (v === undefined)
        return undefined;
    const text = typeof v.value === 'string' ? v.value.trim() : typeof v.value === 'number' ? String(v.value) : '';
    const n = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
    if (n >= 0 && n <= max)
        return n;
    report('InvalidAnnotation', `${v.key}: expected a whole number from 0 to ${max}, got ${show(v.value)}; ${REFUSED}`);
    invalid.push(v.key);
    return undefined;
}
/** Reads the source-range and limit annotations of one Ingress (`id`: its `namespace/name`). */
export function parseAccess(read, report, id) {
    const invalid = [];
    const allow = ranges(readAliased(read, 'allowlist-source-range', 'whitelist-source-range', report), invalid, report);
    const deny = ranges(read('denylist-source-range'), invalid, report);
    const rps = count(read, 'limit-rps', MAX_LIMIT, invalid, report) ?? 0;
    const rpm = count(read, 'limit-rpm', MAX_LIMIT, invalid, report) ?? 0;
    const connections = count(read, 'limit-connections', MAX_LIMIT, invalid, report) ?? 0;
    const burstMultiplier = count(read, 'limit-burst-multiplier', MAX_MULTIPLIER, invalid, report) ?? DEFAULT_BURST_MULTIPLIER;
    // an empty limit-allowlist exempts nobody (ingress-nginx parses "" as no CIDRs)
    const exemptRaw = readAliased(read, 'limit-allowlist', 'limit-whitelist', report);
    const exempt = exemptRaw !== undefined && typeof exemptRaw.value === 'string' && exemptRaw.value.trim() === '' ? [] : (ranges(exemptRaw, invalid, report) ?? []);
    const limited = rps > 0 || rpm > 0 || connections > 0;
    if (!limited) {
        for (const name of ['limit-burst-multiplier', 'limit-allowlist', 'limit-whitelist']) {
            const v = read(name);
            if (v !== undefined && !invalid.includes(v.key))
                report('IgnoredAnnotation', `${v.key}: has no effect without limit-rps, limit-rpm or limit-connections`, 'info');
        }
    }
    return {
        allow,
        deny,
        rateLimit: limited && invalid.length === 0 ? { kind: 'rateLimit', id, rps, rpm, burstMultiplier, connections, exempt } : undefined,
        invalid: invalid.sort(),
    };
}
/**
 * The source-range policy of an Ingress: each annotation list replaces its global default
 * (ingress-nginx: "adding an annotation to an Ingress rule overrides any global restriction");
 * none when both lists end up empty.
 */
export function sourceRangePolicy(a, defaults) {
    const allow = a.allow ?? defaults?.allow ?? [];
    const deny = a.deny ?? defaults?.deny ?? [];
    return allow.length === 0 && deny.length === 0 ? undefined : { kind: 'sourceRange', allow, deny };
}
//# sourceMappingURL=access.js.map