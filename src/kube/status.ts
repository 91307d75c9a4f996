/**
 * Ingress status: the leader writes status.loadBalancer.ingress of every Ingress it serves, from
 * --publish-status-address or the --publish-service Service, and clears it from Ingresses that
 * stopped being ours (only when it holds exactly our addresses). Writes happen only on change;
 * a 409 conflict re-reads and retries.
 */
import { isIP } from 'node:net';
import type { Logger } from '../log.js';
import { createClassFilter, type ClassOptions } from '../model/ingress/class.js';
import type { Ingress, Service, Snapshot } from '../model/k8s.js';
import { ApiError, type KubeClient } from './client.js';

export interface LbIngress {
  readonly ip?: string;
  readonly hostname?: string;
}

export interface StatusOptions {
  readonly client: KubeClient;
  readonly log: Logger;
  readonly classes: ClassOptions;
  readonly publishStatusAddress: readonly string[];
  readonly publishService: { readonly namespace: string; readonly name: string } | undefined;
}

/** `--publish-status-address` values as load-balancer entries. */
export function addressesOf(list: readonly string[]): LbIngress[] {
  return list.map((a) => (isIP(a) ? { ip: a } : { hostname: a }));
}

/** A Service's published addresses: its load balancer's, else external IPs, else the ClusterIP. */
export function serviceAddresses(svc: Service & { status?: { loadBalancer?: { ingress?: LbIngress[] } }; spec?: Service['spec'] & { externalIPs?: string[] } }): LbIngress[] {
  const lb = svc.status?.loadBalancer?.ingress ?? [];
  if (lb.length > 0) return lb.map((x) => (x.ip ? { ip: x.ip } : { hostname: x.hostname ?? '' }));
  const ext = svc.spec?.externalIPs ?? [];
  if (ext.length > 0) return ext.map((ip) => ({ ip }));
  const cip = svc.spec?.clusterIP;
  return cip && cip !== 'None' ? [{ ip: cip }] : [];
}

const canon = (l: readonly LbIngress[] | undefined): string =>
  JSON.stringify(
    (l ?? [])
      .map((x) => (x.ip ? `ip:${x.ip}` : `host:${x.hostname ?? ''}`))
      .sort(),
  );

type IngressWithStatus = Ingress & { status?: { loadBalancer?: { ingress?: LbIngress[] } } };

export interface StatusWriter {
  /** Brings every Ingress's status in line with the snapshot; returns how many were written. */
  sync(snapshot: Snapshot): Promise<number>;
  /** The addresses Portico publishes (--publish-status-address, else the --publish-service Service's); [] when unknown. */
  addresses(): Promise<LbIngress[]>;
}

/** How long a read of the --publish-service addresses is reused: sync runs after every rebuild. */
const PUBLISH_TTL_MS = 10_000;

export function createStatusWriter(o: StatusOptions): StatusWriter {
  let cached: { at: number; addresses: LbIngress[] } | null = null;

  async function desiredAddresses(): Promise<LbIngress[]> {
    if (o.publishStatusAddress.length > 0) return addressesOf(o.publishStatusAddress);
    if (!o.publishService) return [];
    if (cached !== null && Date.now() - cached.at < PUBLISH_TTL_MS) return cached.addresses;
    const { namespace, name } = o.publishService;
    try {
      const addresses = serviceAddresses(await o.client.request<Service>('GET', `/api/v1/namespaces/${namespace}/services/${name}`));
      cached = { at: Date.now(), addresses };
      return addresses;
    } catch (err) {
      o.log.warn({ service: `${namespace}/${name}`, err: (err as Error).message }, '--publish-service unreadable; status not updated');
      throw err;
    }
  }

  async function write(ing: IngressWithStatus, addresses: LbIngress[]): Promise<void> {
    const ns = ing.metadata?.namespace ?? '';
    const name = ing.metadata?.name ?? '';
    const path = `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}/status`;
    let current: IngressWithStatus = ing;
    for (let attempt = 1; ; attempt++) {
      if (canon(current.status?.loadBalancer?.ingress) === canon(addresses)) return;
      try {
        await o.client.request('PUT', path, { ...current, status: { ...(current.status ?? {}), loadBalancer: { ingress: addresses } } });
        o.log.info({ ingress: `${ns}/${name}`, addresses }, 'ingress status updated');
        return;
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 409 || attempt >= 5) throw err;
        current = await o.client.request<IngressWithStatus>('GET', `/apis/networking.k8s.io/v1/namespaces/${ns}/ingresses/${name}`);
      }
    }
  }

  return {
    addresses: () => desiredAddresses().catch(() => []),
    async sync(snapshot) {
      let desired: LbIngress[];
      try {
        desired = await desiredAddresses();
      } catch {
        return 0;
      }
      if (desired.length === 0 && o.publishStatusAddress.length === 0 && !o.publishService) return 0;
      const isOurs = createClassFilter(snapshot.ingressClasses, o.classes);
      let written = 0;
      for (const ing of snapshot.ingresses as IngressWithStatus[]) {
        const current = ing.status?.loadBalancer?.ingress;
        let want: LbIngress[] | null = null;
        if (isOurs(ing)) want = desired;
        else if (current && current.length > 0 && canon(current) === canon(desired)) want = []; // no longer ours: remove our address
        if (want === null || canon(current) === canon(want)) continue;
        try {
          await write(ing, want);
          written++;
        } catch (err) {
          o.log.warn({ ingress: `${ing.metadata?.namespace}/${ing.metadata?.name}`, err: (err as Error).message }, 'ingress status update failed; will retry');
        }
      }
      return written;
    },
  };
}
