/**
 * `limit-rate` and `limit-rate-after`: nginx's `limit_rate` / `limit_rate_after`, the bandwidth of
 * each response toward the client. ingress-nginx renders them as `limit_rate <n>k;`, so the values
 * are KiB per second and KiB (its docs say bytes; the template appends `k`); `0` is off. A bad
 * value refuses the Ingress, as for the other `limit-*` annotations (ingress-nginx falls back to
 * its ConfigMap's value, off by default). Pure.
 */
import { show } from '../k8s.js';
import type { DiagnosticReason, RouteSettings } from '../types.js';

type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;
type Read = (name: string) => { readonly key: string; readonly value: unknown } | undefined;

export interface BandwidthOptions {
  readonly settings: Pick<RouteSettings, 'limitRate' | 'limitRateAfter'>;
  /** Full keys whose bad value refuses the Ingress. */
  readonly invalid: readonly string[];
}

/** Nine digits of KiB: about 1 TiB/s, far past any link, and exact in a double once multiplied. */
const MAX_KIB = 999_999_999;
const NONE: BandwidthOptions = { settings: {}, invalid: [] };

function kib(read: Read, name: string, invalid: string[], report: Report): number | undefined {
  const v = read(name);
  if (v === undefined) return undefined;
  const text = typeof v.value === 'string' ? v.value.trim() : typeof v.value === 'number' ? String(v.value) : '';
  if (/^\d{1,9}$/.test(text) && Number(text) <= MAX_KIB) return Number(text);
  report('InvalidAnnotation', `${v.key}: expected a whole number of KiB${name === 'limit-rate' ? ' per second' : ''} from 0 to ${MAX_KIB} (ingress-nginx writes it as nginx's "<n>k"), got ${show(v.value)}; the Ingress is not served (a limit is never left out)`);
  invalid.push(v.key);
  return undefined;
}

/** Reads limit-rate and limit-rate-after of one Ingress. */
export function parseBandwidth(read: Read, report: Report): BandwidthOptions {
  if (read('limit-rate') === undefined && read('limit-rate-after') === undefined) return NONE;
  const invalid: string[] = [];
  const rate = kib(read, 'limit-rate', invalid, report);
  const after = kib(read, 'limit-rate-after', invalid, report);
  if (invalid.length > 0) return { settings: {}, invalid };
  if (rate === undefined || rate === 0) {
    const a = read('limit-rate-after');
    if (a !== undefined && after !== 0) report('IgnoredAnnotation', `${a.key}: has no effect without limit-rate`, 'info');
    return NONE;
  }
  return { settings: { limitRate: rate * 1024, ...(after !== undefined && after > 0 ? { limitRateAfter: after * 1024 } : {}) }, invalid };
}
