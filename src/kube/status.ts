/**
 * Ingress status: the leader writes status.loadBalancer.ingress of every Ingress it serves, from
 * --publish-status-address or the --publish-service Service, and clears it from Ingresses that
 * stopped being ours (only when it holds exactly our addresses). Writes happen only on change;
 * a 409 conflict re-reads and retries. The addresses, and their order, are the ones ingress-nginx
 * writes (internal/ingress/status/status.go), so taking over its Ingresses changes nothing that
 * DNS tools such as external-dns read.
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

type PublishedService = Service & { status?: { loadBalancer?: { ingress?: LbIngress[] } }; spec?: Service['spec'] & { externalIPs?: string[] } };

/**
 * A Service's published addresses by its type, as ingress-nginx's statusAddressFromService:
 * LoadBalancer, its load balancer's entries (an IP and a hostname both kept) then its external IPs
 * (a pending load balancer publishes none: never the ClusterIP, which DNS tools would publish);
 * NodePort, its external IPs, else the ClusterIP; ClusterIP, the ClusterIP; ExternalName, the name.
 */
export function serviceAddresses(svc: PublishedService): LbIngress[] {
  const spec = svc.spec;
  const cip = spec?.clusterIP;
  const clusterIP = cip && cip !== 'None' ? [{ ip: cip }] : [];
  const ext = (spec?.externalIPs ?? []).filter((ip) => typeof ip === 'string' && ip !== '');
  switch (spec?.type ?? 'ClusterIP') {
    case 'ExternalName':
      return spec?.externalName ? [{ hostname: spec.externalName }] : [];
    case 'ClusterIP':
      return clusterIP;
    case 'NodePort':
      return ext.length > 0 ? ext.map((ip) => ({ ip })) : clusterIP;
    case 'LoadBalancer': {
      const out: LbIngress[] = [];
      for (const x of svc.status?.loadBalancer?.ingress ?? []) {
        const e: { ip?: string; hostname?: string } = {};
        if (x.hostname) e.hostname = x.hostname;
        if (x.ip) e.ip = x.ip;
        out.push(e);
      }
      for (const ip of ext) if (!out.some((x) => x.ip === ip || x.hostname === ip)) out.push({ ip });
      return out;
    }
    default:
      return [];
  }
}

/** ingress-nginx's order: by hostname (entries with none first), then by IP, as plain strings. */
export function sortAddresses(list: readonly LbIngress[]): LbIngress[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...list].sort((a, b) => cmp(a.hostname ?? '', b.hostname ?? '') || cmp(a.ip ?? '', b.ip ?? ''));
}

const canon = (l: readonly LbIngress[] | undefined): string =>
  JSON.stringify(
    (l ?? [])
      .map((x) => `${x.ip ?? ''}|${x.hostname ?? ''}`)
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
    if (o.publishStatusAddress.length > 0) return sortAddresses(addressesOf(o.publishStatusAddress));
    if (!o.publishService) return [];
    if (cached !== null && Date.now() - cached.at < PUBLISH_TTL_MS) return cached.addresses;
    const { namespace, name } = o.publishService;
    try {
      const addresses = sortAddresses(serviceAddresses(await o.client.request<Service>('GET', `/api/v1/namespaces/${namespace}/services/${name}`)));
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
