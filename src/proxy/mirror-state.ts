/**
 * What mirroring keeps across table swaps, one per data plane (proxy/mirror.ts has the rest): its
 * limits, the copies in flight per destination, the undici agent of mirror-target URLs, and where
 * outcomes are counted.
 */
import type { Agent, Dispatcher } from 'undici';
import { loadUndici } from './undici.js';

export interface MirrorLimits {
  /** Copies in flight per destination and process; more are dropped (0: no copy is sent). */
  readonly maxInFlight: number;
  /** ms from a copy's start to the end of its answer; then it is aborted. */
  readonly timeout: number;
  /** Body bytes a copy may hold back beyond the chunk being passed; past it the copy is dropped. */
  readonly bodyBuffer: number;
  /** ms to connect to a mirror-target. */
  readonly connectTimeout: number;
}

export const DEFAULT_MIRROR_LIMITS: MirrorLimits = { maxInFlight: 100, timeout: 10_000, bodyBuffer: 256 * 1024, connectTimeout: 5000 };

/** How a copy that was sent ended: its answer came (any status), it failed, or it timed out. */
export type MirrorResult = 'answered' | 'failed' | 'timeout';
/** Why a copy was dropped. */
export type MirrorDrop = 'in_flight' | 'body_buffer' | 'body_incomplete' | 'no_endpoints';
export const DROPS: ReadonlySet<string> = new Set<MirrorDrop>(['in_flight', 'body_buffer', 'body_incomplete', 'no_endpoints']);

export interface MirrorMetrics {
  mirrored(namespace: string, destination: string, result: MirrorResult): void;
  dropped(namespace: string, destination: string, reason: MirrorDrop): void;
}

/** What mirroring keeps across table swaps, one per data plane: the in-flight counts, the agent for mirror-target URLs. */
export interface MirrorState {
  readonly limits: MirrorLimits;
  readonly metrics: MirrorMetrics | null;
  /** Takes an in-flight slot of `destination`; false when it has `maxInFlight` already. */
  acquire(destination: string): boolean;
  release(destination: string): void;
  /** Copies in flight, to one destination or to all. */
  inFlight(destination?: string): number;
  /** The dispatcher of mirror-target URLs. */
  agent(): Dispatcher;
  close(): Promise<void>;
}

export function createMirrorState(limits: Partial<MirrorLimits> = {}, metrics: MirrorMetrics | null = null): MirrorState {
  const l: MirrorLimits = { ...DEFAULT_MIRROR_LIMITS, ...limits };
  const counts = new Map<string, number>();
  let total = 0;
  let agent: Agent | null = null;
  return {
    limits: l,
    metrics,
    acquire(d) {
      const n = counts.get(d) ?? 0;
      if (n >= l.maxInFlight) return false;
      counts.set(d, n + 1);
      total++;
      return true;
    },
    release(d) {
      const n = counts.get(d) ?? 0;
      if (n <= 1) counts.delete(d);
      else counts.set(d, n - 1);
      if (n > 0) total--;
    },
    inFlight: (d) => (d === undefined ? total : (counts.get(d) ?? 0)),
    agent() {
      // certificates are not verified, as nginx's proxy_pass does not by default; SNI is sent
      return (agent ??= new (loadUndici().Agent)({ connections: Math.max(1, l.maxInFlight), keepAliveTimeout: 30_000, connect: { timeout: l.connectTimeout, rejectUnauthorized: false } }));
    },
    async close() {
      const a = agent;
      agent = null;
      await a?.destroy().catch(() => undefined);
    },
  };
}

let fallback: MirrorState | null = null;
/** For compiles without a data plane's state (unit tests, benchmarks): one shared state. */
export const defaultMirrorState = (): MirrorState => (fallback ??= createMirrorState());

