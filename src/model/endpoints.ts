/**
 * Resolves an Ingress backend (Service + port) to pod endpoints from EndpointSlices,
 * the way kube-proxy does: the slice port is found by the Service port's name.
 */
import { isIP } from 'node:net';
import { isDnsSubdomain, nameKey, show, type EndpointSlice, type Service, type ServicePort } from './k8s.js';
import { Memo } from './memo.js';
import type { Backend, DiagnosticReason, Endpoint } from './types.js';

type BackendProtocol = Backend['protocol'];

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** Services by `ns/name` and EndpointSlices by `ns/service`, built once per translation. */
export interface ServiceIndex {
  readonly services: ReadonlyMap<string, Service>;
  readonly slices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** Resolutions kept from earlier translations (the translator's own); none: resolve afresh. */
  readonly memo?: ResolutionMemo;
}

/** `namespace/service` an EndpointSlice belongs to (its kubernetes.io/service-name label), or ''. */
export function sliceService(slice: { readonly metadata?: { readonly namespace?: unknown; readonly labels?: unknown } | undefined }): string {
  const ns = slice.metadata?.namespace;
  const svc = (slice.metadata?.labels as Record<string, unknown> | undefined)?.[SERVICE_NAME_LABEL];
  return typeof ns === 'string' && typeof svc === 'string' ? nameKey(ns, svc) : '';
}

export function indexServices(services: readonly Service[], slices: readonly EndpointSlice[], memo?: ResolutionMemo): ServiceIndex {
  const byName = new Map<string, Service>();
  for (const s of services) {
    const ns = s.metadata?.namespace;
    const name = s.metadata?.name;
    if (typeof ns === 'string' && typeof name === 'string') byName.set(`${ns}/${name}`, s);
  }
  const byService = new Map<string, EndpointSlice[]>();
  for (const sl of slices) {
    const key = sliceService(sl);
    if (key === '') continue;
    const list = byService.get(key);
    if (list) list.push(sl);
    else byService.set(key, [sl]);
  }
  return { services: byName, slices: byService, ...(memo !== undefined ? { memo } : {}) };
}

/** A resolved backend, with the problem that left it without endpoints, if any. */
export interface Resolved {
  readonly backend: Backend;
  readonly problem?: { readonly reason: DiagnosticReason; readonly message: string };
}

function findServicePort(svc: Service, port: string | number): ServicePort | undefined {
  const ports = Array.isArray(svc.spec?.ports) ? svc.spec.ports : [];
  return ports.find((p) => (typeof port === 'number' ? p?.port === port : p?.name === port));
}

/** True unless explicitly false: discovery/v1 says a nil `ready` or `serving` means true. */
const notFalse = (v: boolean | null | undefined): boolean => v !== false;

/** What resolving one Service port found, from which EndpointSlices: the reusable part of a Resolved. */
interface Resolution {
  /** The backend id it was resolved for. */
  readonly id: string;
  readonly slices: readonly EndpointSlice[];
  readonly endpoints: readonly Endpoint[];
  readonly problem: Resolved['problem'];
}

/**
 * Resolutions by Service object, then backend id. Objects from the store are never modified (a
 * change is a new object), so a Service object with the same EndpointSlice objects resolves the
 * same way: a rebuild re-resolves only the Services whose objects changed. Owned by a translator,
 * which advances it after each translation.
 */
export type ResolutionMemo = Memo<Service, Resolution | Map<string, Resolution>>;
export const createResolutionMemo = (): ResolutionMemo => new Memo();

const sameSlices = (a: readonly EndpointSlice[], b: readonly EndpointSlice[]): boolean => a.length === b.length && a.every((s, i) => s === b[i]);

/** The last resolution of an ExternalName: its addresses (the denied ones removed, and counted), or why it failed. */
export type ExternalNameState = { readonly addresses: readonly string[]; readonly denied: number } | { readonly error: string };

/** ExternalName Services: whether they are served, and their names' resolutions (done outside: translation stays pure). */
export interface ExternalNameOptions {
  readonly allow: boolean;
  /** undefined until a name's first resolution completes. */
  readonly lookup: (name: string) => ExternalNameState | undefined;
}

const validPort = (p: unknown): p is number => typeof p === 'number' && Number.isInteger(p) && p > 0 && p < 65536;

/**
 * The port an ExternalName backend is reached on, as ingress-nginx does: the matching Service
 * port's numeric targetPort, else its port; a Service that lists no ports takes the Ingress's number.
 */
function externalPort(svc: Service, port: string | number): number | undefined {
  const sp = findServicePort(svc, port);
  if (sp !== undefined) return validPort(sp.targetPort) ? sp.targetPort : validPort(sp.port) ? sp.port : undefined;
  const listed = Array.isArray(svc.spec?.ports) && svc.spec.ports.length > 0;
  return !listed && typeof port === 'number' ? port : undefined;
}

/** An ExternalName Service's backend: its name's addresses on the chosen port. Not memoised: it follows the resolutions. */
function resolveExternal(svc: Service, ns: string, service: string, port: string | number, id: string, protocol: BackendProtocol, external: ExternalNameOptions | undefined): Resolved {
  const raw = svc.spec?.externalName;
  const name = typeof raw === 'string' ? raw : '';
  const valid = isIP(name) !== 0 || isDnsSubdomain(name);
  // only a usable name is carried (and so resolved)
  const backend = (endpoints: readonly Endpoint[]): Backend => ({ id, namespace: ns, service, port: String(port), protocol, endpoints, ...(valid ? { externalName: name } : {}) });
  const fail = (reason: DiagnosticReason, message: string): Resolved => ({ backend: backend([]), problem: { reason, message } });
  const what = `Service ${ns}/${service} (ExternalName ${show(raw ?? null)})`;
  if (external?.allow !== true) return fail('UnsupportedBackend', `${what}: ExternalName Services are proxied only with --allow-external-name-services`);
  if (!valid) return fail('InvalidBackend', `${what}: spec.externalName must be a DNS name or an IP address`);
  const target = externalPort(svc, port);
  if (target === undefined) return fail('ServicePortNotFound', `${what} has no port ${typeof port === 'number' ? port : show(port)}`);
  const state = external.lookup(name);
  if (state === undefined) return { backend: backend([]) }; // resolving: the table is rebuilt when it completes
  if ('error' in state) return fail('NoEndpoints', `${what}: cannot resolve ${name}: ${state.error}`);
  if (state.addresses.length === 0) return fail('UnsupportedBackend', `${what}: ${name} resolves only to addresses --external-name-denied-cidrs refuses (${state.denied})`);
  return { backend: backend(state.addresses.map((ip): Endpoint => ({ ip, port: target, terminating: false })).sort(compareEndpoints)) };
}

/**
 * `service-upstream`: the Service's ClusterIP and port as the one endpoint (kube-proxy picks the
 * pod), or undefined when it has none (headless, or not an IP): then its endpoints are used, as
 * ingress-nginx does.
 */
function clusterEndpoint(svc: Service, port: string | number): Endpoint | 'no-port' | undefined {
  const ip = svc.spec?.clusterIP;
  if (typeof ip !== 'string' || isIP(ip) === 0) return undefined;
  const sp = findServicePort(svc, port);
  if (sp === undefined || !validPort(sp.port)) return 'no-port';
  return { ip, port: sp.port, terminating: false };
}

/**
 * Resolves one Service port to its endpoints (ready ones, else terminating-but-serving ones);
 * with `serviceUpstream`, to the Service's ClusterIP when it has one (the backend is marked).
 */
export function resolveBackend(index: ServiceIndex, ns: string, service: string, port: string | number, id: string, protocol: BackendProtocol = 'HTTP', external?: ExternalNameOptions, serviceUpstream = false): Resolved {
  const svc = index.services.get(`${ns}/${service}`);
  const resolved = (r: Pick<Resolution, 'endpoints' | 'problem'>): Resolved => {
    const backend: Backend = { id, namespace: ns, service, port: String(port), protocol, endpoints: r.endpoints };
    return r.problem === undefined ? { backend } : { backend, problem: r.problem };
  };
  if (!svc) return resolved({ endpoints: [], problem: { reason: 'ServiceNotFound', message: `Service ${ns}/${service} not found` } });
  if (svc.spec?.type === 'ExternalName') return resolveExternal(svc, ns, service, port, id, protocol, external);
  if (serviceUpstream) {
    const ep = clusterEndpoint(svc, port);
    if (ep === 'no-port') return resolved({ endpoints: [], problem: { reason: 'ServicePortNotFound', message: `Service ${ns}/${service} has no port ${typeof port === 'number' ? port : show(port)}` } });
    if (ep !== undefined) return { backend: { id, namespace: ns, service, port: String(port), protocol, endpoints: [ep], serviceUpstream: true } };
  }
  const slices = index.slices.get(`${ns}/${service}`) ?? [];
  const memo = index.memo;
  // nearly every Service is reached by one backend id: its one resolution, else a Map of them by id
  const byId = memo?.get(svc);
  const known = byId instanceof Map ? byId.get(id) : byId?.id === id ? byId : undefined;
  if (known !== undefined && sameSlices(known.slices, slices)) return resolved(known);
  const found = resolveService(svc, slices, ns, service, port);
  const r: Resolution = { id, slices, endpoints: found.endpoints, problem: found.problem };
  if (memo === undefined) return resolved(r);
  if (byId instanceof Map) byId.set(id, r);
  else if (byId === undefined || byId.id === id) memo.set(svc, r);
  else memo.set(svc, new Map([[byId.id, byId], [id, r]]));
  return resolved(r);
}

function resolveService(svc: Service, slices: readonly EndpointSlice[], ns: string, service: string, port: string | number): Omit<Resolution, 'slices' | 'id'> {
  const empty = (reason: DiagnosticReason, message: string): Omit<Resolution, 'slices' | 'id'> => ({ endpoints: [], problem: { reason, message } });
  const sp = findServicePort(svc, port);
  if (!sp) return empty('ServicePortNotFound', `Service ${ns}/${service} has no port ${typeof port === 'number' ? port : show(port)}`);

  const portName = sp.name ?? '';
  const ready = new Map<string, Endpoint>();
  const fallback = new Map<string, Endpoint>();
  for (const slice of slices) {
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const slicePort = (Array.isArray(slice.ports) ? slice.ports : []).find((p) => (p?.name ?? '') === portName);
    const num = slicePort?.port;
    if (typeof num !== 'number' || !Number.isInteger(num) || num <= 0 || num > 65535) continue;
    for (const ep of Array.isArray(slice.endpoints) ? slice.endpoints : []) {
      const c = ep?.conditions ?? {};
      const isReady = notFalse(c.ready);
      const servingTerminating = !isReady && notFalse(c.serving) && c.terminating === true;
      if (!isReady && !servingTerminating) continue;
      const addresses = ep?.addresses; // a getter on stored slices (kube/slim.ts): read once
      for (const ip of Array.isArray(addresses) ? addresses : []) {
        if (typeof ip !== 'string' || ip === '') continue;
        const key = `${ip}:${num}`;
        if (isReady) ready.set(key, { ip, port: num, terminating: false });
        else fallback.set(key, { ip, port: num, terminating: true });
      }
    }
  }
  const chosen = ready.size > 0 ? ready : fallback;
  const endpoints = [...chosen.values()].sort(compareEndpoints);
  if (endpoints.length === 0) return empty('NoEndpoints', `Service ${ns}/${service} port ${String(port)} has no ready endpoints`);
  return { endpoints, problem: undefined };
}

function compareEndpoints(a: Endpoint, b: Endpoint): number {
  if (a.ip !== b.ip) return a.ip < b.ip ? -1 : 1;
  return a.port - b.port;
}

/** New endpoint lists by backend id: the EndpointSlice fast path's message to the data plane. */
export type EndpointPatch = ReadonlyMap<string, readonly Endpoint[]>;
