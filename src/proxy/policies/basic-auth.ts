/**
 * auth-type: basic. Credentials are checked against the Secret's hashes: the slow schemes
 * (bcrypt, crypt(3)) on worker threads so a burst of wrong passwords never stalls other requests
 * (`npm run bench:auth` measures it), `{SHA}`/`{SSHA}` inline; comparisons are constant-time. A
 * verified Authorization header is remembered for a short while by a SHA-256 digest of it and
 * of the user list (never the password itself), so a changed Secret is checked afresh at once.
 * An unknown user costs a verification too, against another user's hash, so timing does not tell
 * which users exist. The pod never receives the Authorization header (as ingress-nginx does).
 */
import { createHash } from 'node:crypto';
import type { BasicAuthPolicy } from '../../model/types.js';
import { hashScheme, isFast, verifyHash } from '../auth/crypt.js';
import type { AuthState } from '../auth/state.js';
import { settle } from './settle.js';
import { Verdict, type PolicyExchange, type RequestPolicy } from './types.js';

const TEXT = 'text/plain; charset=utf-8';
const UNAUTHORIZED = '401 Authorization Required: this route needs a user name and password\n';
const BUSY = '503 Service Unavailable: too many password checks are waiting; try again\n';
const FAILED = '500 Internal Server Error: the password could not be checked\n';

export function basicAuth(p: BasicAuthPolicy, state: AuthState): RequestPolicy {
  const users = new Map<string, string>();
  for (const u of p.users) if (!users.has(u.user)) users.set(u.user, u.hash);
  // the cache namespace: changes whenever a user or a hash does
  const id = createHash('sha256').update(JSON.stringify([p.secret, p.users])).digest('hex');
  const challenge = ['www-authenticate', `Basic realm="${p.realm}"`];
  const decoy = p.users[0]?.hash ?? '';

  const deny = (ex: PolicyExchange): void => ex.answer(401, UNAUTHORIZED, TEXT, 'unauthorized', challenge);
  const allow = (ex: PolicyExchange, key: string): void => {
    state.credentials.set(key, true, state.credentialTtl);
    ex.removeUpstreamHeader('authorization');
  };

  return {
    run(ex: PolicyExchange): Verdict {
      const h = ex.req.headers.authorization;
      if (typeof h !== 'string' || h.length > 8192 || !/^basic /i.test(h)) {
        deny(ex);
        return Verdict.Answered;
      }
      const key = createHash('sha256').update(id).update('\0').update(h).digest('base64');
      if (state.credentials.get(key) === true) {
        ex.removeUpstreamHeader('authorization');
        return Verdict.Continue;
      }
      const raw = Buffer.from(h.slice(6).trim(), 'base64');
      const colon = raw.indexOf(0x3a);
      if (colon <= 0) {
        deny(ex);
        return Verdict.Answered;
      }
      const hash = users.get(raw.subarray(0, colon).toString('utf8'));
      const password = raw.subarray(colon + 1);
      const target = hash ?? decoy;
      if (isFast(hashScheme(target))) {
        if (verifyHash(target, password) && hash !== undefined) {
          allow(ex, key);
          return Verdict.Continue;
        }
        deny(ex);
        return Verdict.Answered;
      }
      // a copy of its own: a pooled Buffer would carry its whole pool to the worker
      state.hashes().verify(target, new Uint8Array(password), (r) =>
        settle(ex, FAILED, () => {
          if (r === 'ok' && hash !== undefined) {
            allow(ex, key);
            ex.resume();
          } else if (r === 'error') ex.answer(503, BUSY, TEXT, 'auth_busy', ['retry-after', '1']);
          else deny(ex);
        }),
      );
      return Verdict.Pending;
    },
  };
}
