/**
 * Gateway API status, written by the leader: GatewayClasses of Portico's controller name, their
 * Gateways (addresses, conditions, listeners) and the parents of every HTTPRoute, GRPCRoute,
 * TLSRoute, TCPRoute and UDPRoute, and the ancestors of every BackendTLSPolicy: entries that carry Portico's controller name, nothing else (TLSRoutes
 * and TCPRoutes at the API version they were read with: v1, or v1alpha2). Read-modify-write through the
 * status subresource, only on change; a condition keeps its lastTransitionTime while its status
 * stays; a 409 re-reads and retries.
 */
import { isIP } from 'node:net';
import type { Logger } from '../log.js';
import type { Condition, GatewayApiStatus } from '../model/gateway/status.js';
import type { KubeObject, Snapshot } from '../model/k8s.js';
import { ApiError, type KubeClient } from './client.js';
import type { LbIngress } from './status.js';

const BASE = '/apis/gateway.networking.k8s.io/v1';

type WithStatus = KubeObject & { status?: Record<string, unknown> };
type KubeCondition = Condition & { lastTransitionTime: string };

/** Our conditions, each keeping the lastTransitionTime it has while its status does not change. */
function withTimes(next: readonly Condition[], current: unknown, now: string): KubeCondition[] {
  const old = Array.isArray(current) ? (current as KubeCondition[]) : [];
  return next.map((c) => {
    const prev = old.find((o) => o?.type === c.type);
    return { ...c, lastTransitionTime: prev !== undefined && prev.status === c.status && typeof prev.lastTransitionTime === 'string' ? prev.lastTransitionTime : now };
  });
}

/** A status value compared without transition times (which alone never make a write). */
const canon = (v: unknown): string => JSON.stringify(v, (k, x: unknown) => (k === 'lastTransitionTime' ? undefined : x));

export interface GatewayStatusWriter {
  /** Brings every object's status in line with the last translation; returns how many were written. */
  sync(status: GatewayApiStatus | undefined, snapshot: Snapshot, addresses: readonly LbIngress[]): Promise<number>;
}

export function createGatewayStatusWriter(o: { client: KubeClient; log: Logger }): GatewayStatusWriter {
  /** PUTs `status` made from the current object, re-reading on a conflict. */
  async function put(path: string, obj: WithStatus, make: (current: WithStatus) => Record<string, unknown> | null): Promise<boolean> {
    let current = obj;
    for (let attempt = 1; ; attempt++) {
      const status = make(current);
      if (status === null) return false;
      try {
        await o.client.request('PUT', `${path}/status`, { ...current, status });
        return true;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409 || attempt >= 5) throw err;
        current = await o.client.request<WithStatus>('GET', path);
      }
    }
  }

  return {
    async sync(status, snapshot, addresses) {
      if (status === undefined) return 0;
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      let written = 0;
      const attempt = async (what: string, f: () => Promise<boolean>): Promise<void> => {
        try {
          if (await f()) {
            written++;
            o.log.info({ object: what }, 'gateway status updated');
          }
        } catch (err) {
          o.log.warn({ object: what, err: (err as Error).message }, 'gateway status update failed; will retry');
        }
      };
      const find = (list: readonly KubeObject[] | undefined, ns: string, name: string): WithStatus | undefined => list?.find((x) => (x.metadata?.namespace ?? '') === ns && x.metadata?.name === name) as WithStatus | undefined;

      for (const c of status.gatewayClasses) {
        const obj = find(snapshot.gatewayClasses, '', c.name);
        if (obj === undefined) continue;
        await attempt(`GatewayClass ${c.name}`, () =>
          put(`${BASE}/gatewayclasses/${c.name}`, obj, (cur) => {
            const next = { ...(cur.status ?? {}), conditions: withTimes(c.conditions, cur.status?.conditions, now), supportedFeatures: c.supportedFeatures.map((name) => ({ name })) };
            return canon(next) === canon(cur.status ?? {}) ? null : next;
          }),
        );
      }
      const statusAddresses = addresses.map((a) => (a.ip !== undefined && isIP(a.ip) ? { type: 'IPAddress', value: a.ip } : { type: 'Hostname', value: a.hostname ?? '' }));
      for (const g of status.gateways) {
        const obj = find(snapshot.gateways, g.namespace, g.name);
        if (obj === undefined) continue;
        await attempt(`Gateway ${g.namespace}/${g.name}`, () =>
          put(`${BASE}/namespaces/${g.namespace}/gateways/${g.name}`, obj, (cur) => {
            const oldListeners = Array.isArray(cur.status?.listeners) ? (cur.status.listeners as { name?: string; conditions?: unknown }[]) : [];
            const next = {
              ...(cur.status ?? {}),
              addresses: statusAddresses,
              conditions: withTimes(g.conditions, cur.status?.conditions, now),
              listeners: g.listeners.map((l) => ({ name: l.name, supportedKinds: l.supportedKinds, attachedRoutes: l.attachedRoutes, conditions: withTimes(l.conditions, oldListeners.find((x) => x?.name === l.name)?.conditions, now) })),
            };
            return canon(next) === canon(cur.status ?? {}) ? null : next;
          }),
        );
      }
      // every route: our parent entries as computed (none for a route that no longer has a parent of ours)
      const ours = new Map(status.routes.map((r) => [`${r.kind}/${r.namespace}/${r.name}`, r]));
      for (const [kind, plural, list] of [['HTTPRoute', 'httproutes', snapshot.httpRoutes], ['GRPCRoute', 'grpcroutes', snapshot.grpcRoutes], ['TLSRoute', 'tlsroutes', snapshot.tlsRoutes], ['TCPRoute', 'tcproutes', snapshot.tcpRoutes], ['UDPRoute', 'udproutes', snapshot.udpRoutes]] as const) {
        for (const obj of (list ?? []) as WithStatus[]) {
          const base = typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith('gateway.networking.k8s.io/') ? `/apis/${obj.apiVersion}` : BASE;
          const ns = obj.metadata?.namespace ?? '';
          const name = obj.metadata?.name ?? '';
          const r = ours.get(`${kind}/${ns}/${name}`);
          const current = Array.isArray(obj.status?.parents) ? (obj.status.parents as { controllerName?: string }[]) : [];
          if (r === undefined && !current.some((p) => p?.controllerName === status.controllerName)) continue;
          await attempt(`${kind} ${ns}/${name}`, () =>
            put(`${base}/namespaces/${ns}/${plural}/${name}`, obj, (cur) => {
              const parents = Array.isArray(cur.status?.parents) ? (cur.status.parents as { controllerName?: string; parentRef?: unknown; conditions?: unknown }[]) : [];
              const others = parents.filter((p) => p?.controllerName !== status.controllerName);
              const mine = (r?.parents ?? []).map((p) => ({
                parentRef: p.parentRef,
                controllerName: status.controllerName,
                conditions: withTimes(p.conditions, parents.find((x) => x?.controllerName === status.controllerName && canon(x.parentRef) === canon(p.parentRef))?.conditions, now),
              }));
              const next = { ...(cur.status ?? {}), parents: [...others, ...mine] };
              return canon(next) === canon(cur.status ?? {}) ? null : next;
            }),
          );
        }
      }
      // BackendTLSPolicies: one ancestor entry of ours per Gateway (GEP-713 PolicyAncestorStatus), others' entries kept
      const policies = new Map((status.policies ?? []).map((p) => [`${p.namespace}/${p.name}`, p]));
      for (const obj of (snapshot.backendTlsPolicies ?? []) as WithStatus[]) {
        const ns = obj.metadata?.namespace ?? '';
        const name = obj.metadata?.name ?? '';
        const p = policies.get(`${ns}/${name}`);
        const current = Array.isArray(obj.status?.ancestors) ? (obj.status.ancestors as { controllerName?: string }[]) : [];
        if ((p === undefined || p.ancestors.length === 0) && !current.some((a) => a?.controllerName === status.controllerName)) continue;
        await attempt(`BackendTLSPolicy ${ns}/${name}`, () =>
          put(`${BASE}/namespaces/${ns}/backendtlspolicies/${name}`, obj, (cur) => {
            const ancestors = Array.isArray(cur.status?.ancestors) ? (cur.status.ancestors as { controllerName?: string; ancestorRef?: unknown; conditions?: unknown }[]) : [];
            const others = ancestors.filter((a) => a?.controllerName !== status.controllerName);
            const mine = (p?.ancestors ?? []).map((g) => {
              const ancestorRef = { group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: g.namespace, name: g.name };
              const before = ancestors.find((x) => x?.controllerName === status.controllerName && canon(x.ancestorRef) === canon(ancestorRef));
              return { ancestorRef, controllerName: status.controllerName, conditions: withTimes(p?.conditions ?? [], before?.conditions, now) };
            });
            const next = { ...(cur.status ?? {}), ancestors: [...others, ...mine] };
            return canon(next) === canon(cur.status ?? {}) ? null : next;
          }),
        );
      }
      return written;
    },
  };
}
