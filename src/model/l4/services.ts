/**
 * TCP and UDP services, ingress-nginx compatible (docs/user-guide/exposing-tcp-udp-services.md):
 * the ConfigMaps named by --tcp-services-configmap and --udp-services-configmap map a port to a
 * Service port, `"<port>": "<namespace>/<service>:<port>[:PROXY][:PROXY]"`. Each entry is a
 * listener on that port; the first PROXY reads the PROXY protocol from clients, the second sends
 * it to the pods (TCP only, as in ingress-nginx). A bad entry is a diagnostic naming it; the rest
 * serve. Pure.
 */
import type { TableBuilder } from '../build.js';
import { isObject, keyOf, show, str, type Service, type ServicePort } from '../k8s.js';
import type { L4Listener, L4Route, StreamProtocol } from '../types.js';

export interface NamespacedName {
  readonly namespace: string;
  readonly name: string;
}

/** What the Layer 4 processors need from the flags. */
export interface L4Options {
  /** `--tcp-services-configmap`. */
  readonly tcpServices?: NamespacedName | undefined;
  /** `--udp-services-configmap`. */
  readonly udpServices?: NamespacedName | undefined;
  /** Portico's own ports (--http-port, --https-port, --admin-port): no entry may take them. */
  readonly reservedPorts?: readonly number[];
}

/** One entry, read: where its port's traffic goes. */
export interface ServiceEntry {
  readonly port: number;
  readonly namespace: string;
  readonly service: string;
  /** The Service port, by number or name. */
  readonly servicePort: number | string;
  /** Read a PROXY protocol header from clients (TCP only). */
  readonly decode: boolean;
  /** Send a PROXY protocol (v1) header to the pods (TCP only). */
  readonly encode: boolean;
}

const PORT = /^[1-9][0-9]{0,4}$/;
const NAMESPACE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** A Service name: an RFC 1035 label. */
const SERVICE = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** A Service port name (IANA_SVC_NAME): at most 15 characters, a letter among them. */
const PORT_NAME = /^(?=.*[a-z])[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

const portNumber = (s: string): number | null => (PORT.test(s) && Number(s) <= 65535 ? Number(s) : null);

/**
 * Reads one entry (`key` is the port Portico listens on). PROXY fields are accepted in either
 * case and may be empty (`ns/svc:80::PROXY` sends PROXY without reading it); anything else there
 * is an error, never silently ignored: a typo must not change the bytes on the wire.
 */
export function parseServiceEntry(key: string, value: unknown): ServiceEntry | { readonly error: string } {
  const port = portNumber(key);
  if (port === null) return { error: `${show(key)} is not a port number (1-65535)` };
  if (typeof value !== 'string') return { error: `the value must be a string "<namespace>/<service>:<port>[:PROXY][:PROXY]", got ${show(value)}` };
  const fields = value.trim().split(':');
  if (fields.length < 2 || fields.length > 4) return { error: `${show(value)} is not "<namespace>/<service>:<port>[:PROXY][:PROXY]"` };
  const [ref = '', svcPort = '', decode = '', encode = ''] = fields;
  const slash = ref.indexOf('/');
  const namespace = slash === -1 ? '' : ref.slice(0, slash);
  const service = slash === -1 ? '' : ref.slice(slash + 1);
  if (!NAMESPACE.test(namespace) || namespace.length > 63) return { error: `${show(ref)} is not "<namespace>/<service>"` };
  if (!SERVICE.test(service) || service.length > 63) return { error: `${show(service)} is not a Service name` };
  const number = portNumber(svcPort);
  if (number === null && !(PORT_NAME.test(svcPort) && svcPort.length <= 15)) return { error: `${show(svcPort)} is neither a port number nor a port name` };
  for (const f of [decode, encode]) if (f !== '' && f.toUpperCase() !== 'PROXY') return { error: `${show(f)} is not PROXY (only PROXY, or nothing, may follow the port)` };
  return { port, namespace, service, servicePort: number ?? svcPort, decode: decode !== '', encode: encode !== '' };
}

/** The Service port an entry names, of the entry's protocol: its key for resolution (name, else number), or why there is none. */
function servicePort(svc: Service, wanted: number | string, protocol: StreamProtocol): { port: number | string } | { error: string } {
  const ports = Array.isArray(svc.spec?.ports) ? svc.spec.ports.filter(isObject) : [];
  const named = (p: ServicePort): boolean => (typeof wanted === 'number' ? p.port === wanted : p.name === wanted);
  const candidates = ports.filter(named);
  const found = candidates.find((p) => (str(p.protocol) || 'TCP') === protocol);
  if (found !== undefined) return { port: typeof found.name === 'string' && found.name !== '' ? found.name : (found.port as number) };
  if (candidates.length > 0) return { error: `Service ${keyOf(svc)} port ${wanted} is ${str(candidates[0]?.protocol) || 'TCP'}, not ${protocol}` };
  return { error: `Service ${keyOf(svc)} has no ${protocol} port ${wanted}` };
}

/**
 * Translates the configured ConfigMaps into listeners. Returns the ports they took (`TCP/<port>`,
 * `UDP/<port>`), each with what took it (for the Gateway listeners, which must not use them).
 */
export function translateServices(b: TableBuilder, opts: L4Options): Map<string, string> {
  const taken = new Map<string, string>();
  const reserved = new Set((opts.reservedPorts ?? []).filter((p) => p !== 0));
  for (const [protocol, ref] of [['TCP', opts.tcpServices], ['UDP', opts.udpServices]] as const) {
    if (ref === undefined) continue;
    const flag = protocol === 'TCP' ? '--tcp-services-configmap' : '--udp-services-configmap';
    const origin = { kind: 'ConfigMap', namespace: ref.namespace, name: ref.name };
    const cm = b.configMap(`${ref.namespace}/${ref.name}`);
    if (cm === undefined) {
      b.report(origin, 'ConfigMapNotFound', `${flag} ${ref.namespace}/${ref.name} not found; no ${protocol} services until it exists`);
      continue;
    }
    if (cm.data !== undefined && cm.data !== null && !isObject(cm.data)) {
      b.report(origin, 'InvalidObject', `${flag}: data must be a map of port to "<namespace>/<service>:<port>"`);
      continue;
    }
    const entries = Object.entries(cm.data ?? {}).sort(([a], [b2]) => (portNumber(a) ?? 0) - (portNumber(b2) ?? 0) || (a < b2 ? -1 : 1));
    for (const [key, value] of entries) {
      const where = `${protocol} services entry ${show(key)}`;
      const e = parseServiceEntry(key, value);
      if ('error' in e) {
        b.report(origin, 'InvalidServiceEntry', `${where}: ${e.error}; not served`);
        continue;
      }
      if (reserved.has(e.port)) {
        b.report(origin, 'PortConflict', `${where}: port ${e.port} is Portico's own (--http-port, --https-port or --admin-port); not served`);
        continue;
      }
      if (protocol === 'UDP' && (e.decode || e.encode)) b.report(origin, 'InvalidServiceEntry', `${where}: PROXY applies to TCP services only; ignored`);
      const route = entryRoute(b, e, protocol, origin, where, key);
      const listener: L4Listener = protocol === 'UDP' ? { protocol, port: e.port, route } : { protocol, port: e.port, route, ...(e.decode || e.encode ? { proxyProtocol: { decode: e.decode, encode: e.encode } } : {}) };
      // a flag's ConfigMap is the operator's: older than any object ('')
      b.l4.addListener(listener, '');
      taken.set(`${protocol}/${e.port}`, `${protocol} services entry ${e.port} of ConfigMap ${ref.namespace}/${ref.name}`);
    }
  }
  return taken;
}

/** The route of one entry: its Service port as a backend, or none (connections are closed) with the reason reported. */
function entryRoute(b: TableBuilder, e: ServiceEntry, protocol: StreamProtocol, origin: { kind: string; namespace: string; name: string }, where: string, key: string): L4Route {
  const source = { kind: 'ConfigMap' as const, namespace: origin.namespace, name: origin.name, entry: key };
  const svc = b.service(e.namespace, e.service);
  if (svc === undefined) {
    b.report(origin, 'ServiceNotFound', `${where}: Service ${e.namespace}/${e.service} not found; connections are closed until it exists`);
    return { source, backends: [] };
  }
  // an ExternalName Service's ports are not checked by protocol (resolution follows --allow-external-name-services)
  const p = svc.spec?.type === 'ExternalName' ? { port: e.servicePort } : servicePort(svc, e.servicePort, protocol);
  if ('error' in p) {
    b.report(origin, 'ServicePortNotFound', `${where}: ${p.error}; connections are closed`);
    return { source, backends: [] };
  }
  const id = `${e.namespace}/${e.service}:${e.servicePort}+${protocol.toLowerCase()}`;
  b.backend(id, e.namespace, e.service, p.port, origin, protocol);
  return { source, backends: [{ backend: id, weight: 1 }] };
}
