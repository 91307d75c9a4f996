/**
 * ExternalName Services' DNS names, resolved outside the translator (which stays pure): each name
 * the last table needed is looked up once when it first appears and every REFRESH_MS after, with
 * the system resolver (getaddrinfo: /etc/hosts, search domains, cluster DNS), as a pod would.
 * Addresses in `--external-name-denied-cidrs` are dropped: an ExternalName is written by whoever
 * may create Services in a namespace, and loopback or link-local addresses would reach the node
 * itself (Portico's admin port, the kubelet, a cloud metadata endpoint). A change of what a name
 * resolves to calls `onChange` (a rebuild); a failed refresh keeps the last good addresses. A name
 * that fails is retried sooner: after RETRY_MS, doubling up to REFRESH_MS.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { Logger } from '../log.js';
import type { ExternalNameOptions, ExternalNameState } from '../model/endpoints.js';
import { createCidrMatcher } from '../model/cidr.js';

export const REFRESH_MS = 30_000;
export const RETRY_MS = 1000;

export interface ExternalNameResolver extends ExternalNameOptions {
  /** The names the last translation needed: new ones are resolved now; the others are forgotten. */
  want(names: ReadonlySet<string>): void;
  /** Resolves when no lookup is in flight, or after `timeoutMs`; true if any name was looked up. */
  settle(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export interface ExternalNameResolverOptions {
  readonly denied: readonly string[];
  readonly log: Logger;
  /** A resolution changed what a name resolves to. */
  readonly onChange: () => void;
  readonly refreshMs?: number;
  /** First retry after a failed lookup; doubles up to refreshMs. */
  readonly retryMs?: number;
  /** The system resolver by default; tests pass their own. */
  readonly resolve?: (name: string) => Promise<string[]>;
}

const systemResolve = async (name: string): Promise<string[]> => (await dnsLookup(name, { all: true, verbatim: true })).map((a) => a.address);

const sameState = (a: ExternalNameState | undefined, b: ExternalNameState): boolean =>
  a !== undefined && ('error' in a ? 'error' in b && a.error === b.error : 'addresses' in b && a.denied === b.denied && a.addresses.join() === b.addresses.join());

export function createExternalNameResolver(o: ExternalNameResolverOptions): ExternalNameResolver {
  const denied = createCidrMatcher(o.denied);
  const resolve = o.resolve ?? systemResolve;
  const states = new Map<string, ExternalNameState>();
  const inflight = new Set<string>();
  const refreshMs = o.refreshMs ?? REFRESH_MS;
  const retryMs = Math.min(o.retryMs ?? RETRY_MS, refreshMs);
  /** When each wanted name is next looked up, and its failures in a row. */
  const due = new Map<string, { at: number; failures: number }>();
  let idle: (() => void)[] = [];
  let wanted: ReadonlySet<string> = new Set();
  let closed = false;

  function refresh(name: string): void {
    if (inflight.has(name) || closed) return;
    inflight.add(name);
    resolve(name)
      .then(
        (all): ExternalNameState => {
          const unique = [...new Set(all)];
          const addresses = unique.filter((ip) => !denied(ip)).sort();
          return { addresses, denied: unique.length - addresses.length };
        },
        (err: NodeJS.ErrnoException): ExternalNameState => ({ error: err.code ?? err.message }),
      )
      .then((next) => {
        inflight.delete(name);
        if (inflight.size === 0) for (const done of idle.splice(0)) done();
        if (closed || !wanted.has(name)) return;
        const failures = 'error' in next ? (due.get(name)?.failures ?? 0) + 1 : 0;
        due.set(name, { at: Date.now() + (failures === 0 ? refreshMs : Math.min(retryMs * 2 ** (failures - 1), refreshMs)), failures });
        const prev = states.get(name);
        if (prev !== undefined && 'addresses' in prev && 'error' in next) {
          o.log.warn({ name, err: next.error }, 'ExternalName lookup failed; keeping its last addresses');
          return;
        }
        if (sameState(prev, next)) return;
        states.set(name, next);
        o.log.info({ name, ...next }, 'ExternalName resolved');
        o.onChange();
      })
      .catch((err: Error) => o.log.error({ name, err: err.message }, 'ExternalName update failed'));
  }

  const timer = setInterval(() => {
    const now = Date.now();
    for (const name of wanted) if ((due.get(name)?.at ?? 0) <= now) refresh(name);
  }, retryMs);
  timer.unref();

  return {
    allow: true,
    lookup: (name) => states.get(name),
    want(names) {
      wanted = names;
      for (const name of states.keys()) if (!names.has(name)) states.delete(name);
      for (const name of due.keys()) if (!names.has(name)) due.delete(name);
      for (const name of names) if (!states.has(name)) refresh(name);
    },
    settle(timeoutMs) {
      if (inflight.size === 0) return Promise.resolve(false);
      return new Promise<boolean>((resolve) => {
        const t = setTimeout(() => {
          idle = idle.filter((d) => d !== done);
          resolve(true);
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(t);
          resolve(true);
        };
        idle.push(done);
      });
    },
    close() {
      closed = true;
      clearInterval(timer);
      for (const done of idle.splice(0)) done();
    },
  };
}
