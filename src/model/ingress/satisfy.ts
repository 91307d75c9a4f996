/**
 * `satisfy`: nginx's `satisfy any | all` over the checks of its access phase (allow/deny,
 * auth_basic, auth_request; ingress-nginx renders `satisfy <value>;` in the location). `all` is
 * what Portico always does; `any` groups the Ingress's source ranges, basic and external
 * authentication into one `satisfyAny` policy once the basic-auth Secret is read (translate.ts).
 * A bad value refuses the Ingress: ingress-nginx ignores it (satisfy all), Portico does not guess
 * which of the two its author meant. Pure.
 */
import { show } from '../k8s.js';
import type { DiagnosticReason, Policy, SatisfyCheck } from '../types.js';

type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;
type Read = (name: string) => { readonly key: string; readonly value: unknown } | undefined;

export interface SatisfyOptions {
  /** `satisfy: any`. */
  readonly any: boolean;
  /** The full key when its value is bad (the Ingress is refused). */
  readonly invalid: string | undefined;
  /** The annotation's full key, when it is set. */
  readonly key?: string;
}

const ALL: SatisfyOptions = { any: false, invalid: undefined };

/** Reads `satisfy` ("any" or "all", as ingress-nginx compares them: exact, lower case). */
export function parseSatisfy(read: Read, report: Report): SatisfyOptions {
  const v = read('satisfy');
  if (v === undefined) return ALL;
  const text = typeof v.value === 'string' ? v.value.trim() : '';
  if (text === 'all') return ALL;
  if (text === 'any') return { any: true, invalid: undefined, key: v.key };
  report('InvalidAnnotation', `${v.key}: expected "any" or "all", got ${show(v.value)}; the Ingress is not served (access control never fails open)`);
  return { any: false, invalid: v.key };
}

const isCheck = (p: Policy): p is SatisfyCheck => p.kind === 'sourceRange' || p.kind === 'basicAuth' || p.kind === 'extAuth';

/**
 * `policies` with their source range, basic and external authentication replaced by one
 * `satisfyAny` policy where the first of them was (the proxy orders it anyway); unchanged when
 * fewer than two of them are there (`any` over one check is that check).
 */
export function groupAny(policies: readonly Policy[]): readonly Policy[] {
  const checks = policies.filter(isCheck);
  if (checks.length < 2) return policies;
  // nginx's order of its access handlers, whatever order the list has
  const rank = { sourceRange: 0, basicAuth: 1, extAuth: 2 } as const;
  const sorted = [...checks].sort((a, b) => rank[a.kind] - rank[b.kind]);
  const out: Policy[] = [];
  let placed = false;
  for (const p of policies) {
    if (!isCheck(p)) out.push(p);
    else if (!placed) {
      out.push({ kind: 'satisfyAny', checks: sorted });
      placed = true;
    }
  }
  return out;
}
