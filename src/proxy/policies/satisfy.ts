/**
 * `satisfy: any`: nginx's access phase under `satisfy any`. Its checks run in nginx's order
 * (allow/deny, auth_basic, auth_request) and the first that lets the request in ends the phase:
 * the request goes on. A check that turns it down (403, 401, or the 302 to auth-signin) is
 * remembered and the next one runs. When all have run and none let it in: the last 401 (or
 * sign-in 302: nginx's `error_page 401`) if any, with the WWW-Authenticate challenges of the
 * others, else 403. Any other answer of a check (the auth service failed: 500; too many password
 * checks waiting: 503) ends the request at once, as nginx finalizes on an error: never a pass.
 *
 * A source range with only a deny list lets nobody in by itself: nginx's access module declines
 * when no rule matches (so a client outside the deny list still needs credentials), and a client
 * in the deny list with valid credentials gets in, as in nginx.
 *
 * The basic and external checks are the ordinary policies (basic-auth.ts, ext-auth.ts), run
 * against a view of the exchange whose answer() and resume() report to this module instead of
 * ending the request. What they do on a pass (drop Authorization, copy auth-response-headers) is
 * done; when another check lets the request in, the headers a skipped check would have set are
 * removed instead, so a client cannot send them itself (nginx sets them from empty variables).
 */
import { isIP } from 'node:net';
import { createCidrMatcher, unmapped } from '../../model/cidr.js';
import type { SatisfyCheck, SourceRangePolicy } from '../../model/types.js';
import { errorBody } from '../errors.js';
import { settle } from './settle.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

const TEXT = 'text/plain; charset=utf-8';
const FORBIDDEN = errorBody(403, 'your address may not reach this route');
const FAILED = '500 Internal Server Error: the access checks could not be completed\n';

/** An answer a check gave (through the view): what the request would get. */
interface Answer {
  readonly status: number;
  readonly body: string;
  readonly type: string;
  readonly cause: string;
  readonly headers: readonly string[];
}

type Outcome = 'pass' | 'fail' | 'declined';

/** A compiled check: synchronous (source ranges) or a policy run against a view. */
type Check = { readonly range: (ip: string) => Outcome } | { readonly policy: RequestPolicy };

/** allow/deny as nginx's access module judges it: a matching deny fails, a matching allow passes, no match declines (`deny all` closes an allow list). */
function range(p: SourceRangePolicy): (ip: string) => Outcome {
  const denied = createCidrMatcher(p.deny);
  const allowed = p.allow.length === 0 ? null : createCidrMatcher(p.allow);
  return (ip) => {
    if (isIP(unmapped(ip)) === 0 || denied(ip)) return 'fail';
    if (allowed === null) return 'declined';
    return allowed(ip) ? 'pass' : 'fail';
  };
}

/** What an auth check's answer counts as: a refusal that lets the next check run, or final. */
const refusal = (a: Answer): boolean => a.status === 401 || a.status === 403 || (a.status === 302 && a.cause === 'auth_signin');

/**
 * Compiles `satisfy: any` over `checks`; `compile` compiles a basic or external auth policy as
 * its own module does (index.ts passes the same factories and state).
 */
export function satisfyAny(checks: readonly SatisfyCheck[], compile: (p: Exclude<SatisfyCheck, SourceRangePolicy>) => RequestPolicy): RequestPolicy {
  const compiled: Check[] = checks.map((c) => (c.kind === 'sourceRange' ? { range: range(c) } : { policy: compile(c) }));
  const basic = checks.some((c) => c.kind === 'basicAuth');
  // headers an external check sets on a pass: removed when it is not the one that let the request in
  const copied = checks.flatMap((c) => (c.kind === 'extAuth' ? c.responseHeaders : []));

  /** The request goes on (admitted by check `by`). */
  function admit(ex: PolicyExchange, by: number): void {
    const kind = checks[by]?.kind;
    // nginx's basic-auth location always sends Authorization "" upstream
    if (basic && kind !== 'basicAuth') ex.removeUpstreamHeader('authorization');
    if (kind !== 'extAuth') for (const h of copied) ex.removeUpstreamHeader(h);
  }

  /** No check let the request in: the answer nginx's post-access phase gives. */
  function refuse(ex: PolicyExchange, failures: readonly Answer[]): void {
    let auth: Answer | undefined;
    for (const f of failures) if (f.status !== 403) auth = f;
    if (auth === undefined) {
      const first = failures[0] as Answer;
      ex.answer(403, first.body, first.type, first.cause, first.headers);
      return;
    }
    const headers = [...auth.headers];
    if (auth.status === 401) {
      for (const f of failures) {
        if (f === auth || f.status !== 401) continue;
        for (let i = 0; i < f.headers.length; i += 2) if (f.headers[i] === 'www-authenticate') headers.push('www-authenticate', f.headers[i + 1] as string);
      }
    }
    ex.answer(auth.status, auth.body, auth.type, auth.cause, headers);
  }

  /**
   * Runs checks from `from` on; `async` once a check went pending (then the result is given by
   * resume() or answer() instead of the verdict).
   */
  function step(ex: PolicyExchange, from: number, failures: Answer[], async: boolean): Verdict {
    for (let i = from; i < compiled.length; i++) {
      const c = compiled[i] as Check;
      if ('range' in c) {
        const o = c.range(ex.clientIp);
        if (o === 'pass') return pass(ex, i, async);
        if (o === 'fail') failures.push({ status: 403, body: FORBIDDEN, type: TEXT, cause: 'source_range', headers: [] });
        continue;
      }
      let settled = false;
      let answered: Answer | null = null;
      let sync = true;
      const index = i;
      const onResult = (a: Answer | null): void => {
        if (settled) return;
        settled = true;
        if (sync) {
          answered = a;
          return;
        }
        // a pending check finished: carry on from here
        settle(ex, FAILED, () => {
          if (a === null) pass(ex, index, true);
          else if (!refusal(a)) ex.answer(a.status, a.body, a.type, a.cause, a.headers);
          else {
            failures.push(a);
            step(ex, index + 1, failures, true);
          }
        });
      };
      const v = c.policy.run(view(ex, onResult));
      sync = false;
      if (v === Verdict.Pending && !settled) return Verdict.Pending;
      if (v === Verdict.Continue || (settled && answered === null)) return pass(ex, i, async);
      const a = answered as Answer | null;
      // a check that says it answered without answering: never a pass
      if (a === null) return final(ex, { status: 500, body: FAILED, type: TEXT, cause: 'auth_error', headers: [] }, async);
      if (!refusal(a)) return final(ex, a, async);
      failures.push(a);
    }
    if (failures.length === 0) return pass(ex, -1, async);
    refuse(ex, failures);
    return async ? Verdict.Pending : Verdict.Answered;
  }

  function pass(ex: PolicyExchange, by: number, async: boolean): Verdict {
    admit(ex, by);
    if (async) ex.resume();
    return Verdict.Continue;
  }

  function final(ex: PolicyExchange, a: Answer, async: boolean): Verdict {
    ex.answer(a.status, a.body, a.type, a.cause, a.headers);
    return async ? Verdict.Pending : Verdict.Answered;
  }

  return {
    run(ex: PolicyExchange): Verdict {
      try {
        return step(ex, 0, [], false);
      } catch {
        ex.answer(500, FAILED, TEXT, 'auth_error');
        return Verdict.Answered;
      }
    },
  };
}

/** The exchange as a check sees it: answer() and resume() report the check's result (null: a pass) instead of ending the request. */
function view(ex: PolicyExchange, result: (a: Answer | null) => void): PolicyExchange {
  const answer = (status: number, body: string, type: string, cause: string, headers: readonly string[] = []): void => result({ status, body, type, cause, headers });
  const resume = (): void => result(null);
  return new Proxy(ex, {
    get(target, prop) {
      if (prop === 'answer') return answer;
      if (prop === 'resume') return resume;
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
