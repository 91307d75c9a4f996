/**
 * Gateways of Portico's GatewayClasses and their listeners: validated, checked for conflicts,
 * their certificates resolved, with the conditions the spec names. Every Gateway of Portico's
 * classes is served on Portico's own addresses: a listener on port 80 on --http-port, one on 443
 * on --https-port, any other port P on P itself. Listeners with the same port and protocol are
 * merged (their routes share the port); the same port with another protocol is a conflict
 * (Conflicted=True, ProtocolConflict), and neither is served, except HTTPS and TLS (passthrough),
 * which share a port by SNI; a UDP listener shares its port number with any other protocol (UDP
 * and TCP ports are distinct). TLS listeners take TLSRoutes (mode Passthrough only), TCP listeners
 * TCPRoutes, UDP listeners UDPRoutes.
 */
import type { TableBuilder } from '../build.js';
import { isObject, keyOf, str, type KubeObject } from '../k8s.js';
import { validHostname } from './hostnames.js';
import type { GrantIndex } from './grants.js';
import { GATEWAY_GROUP, type Gateway, type GatewayClass, type LabelSelector, type Listener } from './objects.js';
import { condition, type Condition } from './status.js';

/** The route kinds a listener can take. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** The route kinds of each protocol Portico serves. */
const KINDS_OF: Readonly<Record<string, readonly RouteKind[]>> = { HTTP: ['HTTPRoute', 'GRPCRoute'], HTTPS: ['HTTPRoute', 'GRPCRoute'], TLS: ['TLSRoute'], TCP: ['TCPRoute'], UDP: ['UDPRoute'] };

/** Protocols that may share a port: HTTPS and TLS passthrough, told apart by SNI. */
const SHARE_A_PORT = new Set(['HTTPS', 'TLS']);

export interface GatewayOptions {
  /** `--gateway-controller-name`: GatewayClasses with this spec.controllerName are Portico's. */
  readonly controllerName: string;
  /** Ports Portico itself uses besides 80 and 443 (its admin port, and its real HTTP/HTTPS ports): no listener may take them. */
  readonly reservedPorts?: readonly number[];
  /** TCP ports taken by the TCP services ConfigMap (--tcp-services-configmap), with what took them: no listener may use them. */
  readonly takenPorts?: ReadonlyMap<string, string>;
}

/** One listener of one Gateway, as routes attach to it. */
export interface ListenerState {
  readonly gateway: { readonly namespace: string; readonly name: string; readonly generation: number; readonly created: string };
  readonly name: string;
  readonly port: number;
  readonly protocol: string;
  /** '' = any host. */
  readonly hostname: string;
  /** Route kinds it takes (protocol-compatible and in allowedRoutes.kinds). */
  readonly kinds: readonly RouteKind[];
  /** Whether a route in `namespace` may attach (allowedRoutes.namespaces). */
  readonly allows: (namespace: string) => boolean;
  /** Accepted and not conflicted: its routes are served. */
  valid: boolean;
  /** Routes attached (Accepted on this listener), for status. */
  attached: number;
  readonly conditions: Condition[];
}

export interface GatewayState {
  readonly object: Gateway;
  readonly namespace: string;
  readonly name: string;
  readonly generation: number;
  readonly listeners: ListenerState[];
  readonly conditions: Condition[];
}

const gen = (o: KubeObject): number => (typeof o.metadata?.generation === 'number' ? o.metadata.generation : 0);

/** The GatewayClasses whose controllerName is Portico's, by name. */
export function ourClasses(classes: readonly GatewayClass[], opts: GatewayOptions): Map<string, GatewayClass> {
  const out = new Map<string, GatewayClass>();
  for (const c of classes) if (isObject(c.spec) && c.spec?.controllerName === opts.controllerName && str(c.metadata?.name) !== '') out.set(str(c.metadata?.name), c);
  return out;
}

/** Compiles a LabelSelector into a predicate over a label map; null for one that cannot be read. */
export function selectorOf(sel: LabelSelector | undefined): ((labels: Readonly<Record<string, string>>) => boolean) | null {
  if (!isObject(sel)) return null;
  const match = isObject(sel?.matchLabels) ? Object.entries(sel?.matchLabels ?? {}) : [];
  const exprs = Array.isArray(sel?.matchExpressions) ? (sel?.matchExpressions ?? []) : [];
  for (const e of exprs) if (!isObject(e) || !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(str(e.operator))) return null;
  return (labels) =>
    match.every(([k, v]) => labels[k] === v) &&
    exprs.every((e) => {
      const has = Object.hasOwn(labels, str(e.key));
      const v = labels[str(e.key)];
      const values = Array.isArray(e.values) ? e.values : [];
      switch (e.operator) {
        case 'In':
          return has && values.includes(v as string);
        case 'NotIn':
          return !has || !values.includes(v as string);
        case 'Exists':
          return has;
        default:
          return !has;
      }
    });
}

/** Which protocols Portico serves on a listener port: plain HTTP on 80, TLS (HTTPS, and passthrough by SNI) on 443, any elsewhere. */
function portProblem(port: number, protocol: string, opts: GatewayOptions): string | null {
  if (protocol === 'UDP') {
    if (port === 80 || port === 443) return `port ${port} is Portico's ${port === 80 ? 'HTTP' : 'HTTPS'} port: a UDP listener needs a port of its own`;
    const taken = opts.takenPorts?.get(`UDP/${port}`);
    return taken === undefined ? null : `port ${port} is used by the ${taken}`;
  }
  if (port === 80 && protocol !== 'HTTP') return 'port 80 is Portico\'s plain HTTP port (--http-port): only an HTTP listener can use it';
  if (port === 443 && protocol !== 'HTTPS' && protocol !== 'TLS') return 'port 443 is Portico\'s HTTPS port (--https-port): only an HTTPS or TLS listener can use it';
  if ((opts.reservedPorts ?? []).includes(port)) return `port ${port} is used by Portico itself (its listeners or the admin port)`;
  const taken = opts.takenPorts?.get(`TCP/${port}`);
  if (taken !== undefined) return `port ${port} is used by the ${taken}`;
  return null;
}

/**
 * Reads the Gateways of Portico's classes: their listeners, conditions, certificates (into the
 * table, per listener hostname), and the namespace labels their selectors need.
 */
export function readGateways(b: TableBuilder, gateways: readonly Gateway[], classes: ReadonlyMap<string, GatewayClass>, namespaces: readonly KubeObject[], grants: GrantIndex, opts: GatewayOptions): GatewayState[] {
  const labelsOf = new Map<string, Readonly<Record<string, string>>>();
  for (const n of namespaces) labelsOf.set(str(n.metadata?.name), isObject(n.metadata?.labels) ? (n.metadata?.labels ?? {}) : {});
  const states: GatewayState[] = [];
  for (const gw of gateways) {
    const ns = str(gw.metadata?.namespace);
    const name = str(gw.metadata?.name);
    if (ns === '' || name === '' || !classes.has(str(gw.spec?.gatewayClassName))) continue;
    const generation = gen(gw);
    const listeners = (Array.isArray(gw.spec?.listeners) ? (gw.spec?.listeners ?? []) : []).filter(isObject).map((l) => readListener(b, gw, l, labelsOf, grants, opts));
    states.push({ object: gw, namespace: ns, name, generation, listeners, conditions: [] });
  }
  markConflicts(states);
  for (const g of states) {
    const valid = g.listeners.filter((l) => l.valid).length;
    const all = g.listeners.length;
    if (all > 0 && valid === 0) g.conditions.push(condition('Accepted', false, 'ListenersNotValid', 'no listener is valid', g.generation));
    else g.conditions.push(condition('Accepted', true, valid < all ? 'ListenersNotValid' : 'Accepted', valid < all ? `${all - valid} of ${all} listeners are not valid (see their conditions)` : 'the Gateway is served by Portico', g.generation));
    g.conditions.push(condition('Programmed', valid > 0, valid > 0 ? 'Programmed' : 'Invalid', valid > 0 ? 'served on Portico\'s addresses' : 'nothing to serve', g.generation));
    for (const l of g.listeners) {
      const accepted = l.conditions.find((c) => c.type === 'Accepted');
      if (accepted === undefined) l.conditions.push(condition('Accepted', true, 'Accepted', 'the listener is served', g.generation));
      if (!l.conditions.some((c) => c.type === 'Conflicted')) l.conditions.push(condition('Conflicted', false, 'NoConflicts', 'no conflicts', g.generation));
      if (!l.conditions.some((c) => c.type === 'ResolvedRefs')) l.conditions.push(condition('ResolvedRefs', true, 'ResolvedRefs', 'all references resolved', g.generation));
      l.conditions.push(condition('Programmed', l.valid, l.valid ? 'Programmed' : 'Invalid', l.valid ? 'programmed' : 'not served (see the other conditions)', g.generation));
    }
  }
  return states;
}

function readListener(b: TableBuilder, gw: Gateway, l: Listener, labelsOf: ReadonlyMap<string, Readonly<Record<string, string>>>, grants: GrantIndex, opts: GatewayOptions): ListenerState {
  const ns = str(gw.metadata?.namespace);
  const generation = gen(gw);
  const conditions: Condition[] = [];
  const protocol = str(l.protocol);
  const port = typeof l.port === 'number' && Number.isInteger(l.port) && l.port > 0 && l.port < 65536 ? l.port : 0;
  const hostname = l.hostname === undefined || l.hostname === null ? '' : str(l.hostname);
  let valid = true;
  const reject = (reason: string, message: string): void => {
    if (valid) conditions.push(condition('Accepted', false, reason, message, generation));
    valid = false;
  };
  const supported = KINDS_OF[protocol];
  if (supported === undefined) reject('UnsupportedProtocol', `protocol ${JSON.stringify(protocol)} is not supported (HTTP, HTTPS, TLS, TCP and UDP are)`);
  if (port === 0) reject('PortUnavailable', 'port must be 1-65535');
  const portIssue = port === 0 ? null : portProblem(port, protocol, opts);
  if (portIssue !== null) reject('PortUnavailable', portIssue);
  if (hostname !== '' && !validHostname(hostname)) reject('UnsupportedValue', `hostname ${JSON.stringify(hostname)} is not a valid hostname`);
  if (hostname !== '' && (protocol === 'TCP' || protocol === 'UDP')) reject('UnsupportedValue', `a ${protocol} listener cannot have a hostname`);
  // TLS listeners: passthrough only (terminating TLS for a TLSRoute is the Extended feature TLSRouteModeTerminate)
  const tlsMode = protocol === 'TLS' ? str(isObject(l.tls) ? l.tls?.mode : undefined) || 'Terminate' : '';
  const terminating = protocol === 'TLS' && tlsMode !== 'Passthrough';
  if (terminating) reject('UnsupportedValue', `tls.mode ${tlsMode} is not supported on TLS listeners: Portico passes TLS through to TLSRoutes' backends (mode Passthrough); to terminate TLS use an HTTPS listener`);

  // allowedRoutes.kinds: default by protocol; listed ones must be the protocol's
  const listed = Array.isArray(l.allowedRoutes?.kinds) ? (l.allowedRoutes?.kinds ?? []) : undefined;
  const own = terminating ? [] : (supported ?? []);
  let kinds: RouteKind[] = [...own];
  if (listed !== undefined && listed.length > 0 && kinds.length > 0) {
    const ok = listed.filter((k) => isObject(k) && (k.group === undefined || str(k.group) === GATEWAY_GROUP) && (own as readonly string[]).includes(str(k.kind))).map((k) => str(k.kind) as RouteKind);
    if (ok.length < listed.length) conditions.push(condition('ResolvedRefs', false, 'InvalidRouteKinds', `allowedRoutes.kinds: only ${own.join(' and ')} (group ${GATEWAY_GROUP}) can attach to a${protocol === 'HTTP' || protocol === 'HTTPS' ? 'n' : ''} ${protocol} listener`, generation));
    kinds = [...new Set(ok)];
  }

  // allowedRoutes.namespaces
  const from = str(l.allowedRoutes?.namespaces?.from) || 'Same';
  let allows: (namespace: string) => boolean;
  if (from === 'All') allows = () => true;
  else if (from === 'Selector') {
    const sel = selectorOf(l.allowedRoutes?.namespaces?.selector);
    if (sel === null) {
      conditions.push(condition('ResolvedRefs', false, 'InvalidRouteKinds', 'allowedRoutes.namespaces.selector is missing or not a valid label selector: no route can attach', generation));
      allows = () => false;
    } else allows = (n) => sel({ ...labelsOf.get(n), 'kubernetes.io/metadata.name': n }); // the label every Namespace carries
  } else allows = (n) => n === ns;

  if (protocol === 'HTTPS') {
    const tls = isObject(l.tls) ? l.tls : undefined;
    const mode = str(tls?.mode) || 'Terminate';
    if (mode !== 'Terminate') reject('UnsupportedValue', `tls.mode ${mode} is not supported on HTTPS listeners (TLS passthrough needs a TLS listener and a TLSRoute)`);
    else readCertificates(b, gw, hostname, Array.isArray(tls?.certificateRefs) ? (tls?.certificateRefs ?? []) : [], grants, conditions, generation);
    if (conditions.some((c) => c.type === 'ResolvedRefs' && c.status === 'False' && c.reason !== 'InvalidRouteKinds')) valid = false;
  }
  return { gateway: { namespace: ns, name: str(gw.metadata?.name), generation, created: str(gw.metadata?.creationTimestamp) }, name: str(l.name), port, protocol, hostname, kinds, allows, valid, attached: 0, conditions };
}

/** An HTTPS listener's certificateRefs: Secrets of type kubernetes.io/tls, cross-namespace only with a ReferenceGrant. */
function readCertificates(b: TableBuilder, gw: Gateway, hostname: string, refs: readonly unknown[], grants: GrantIndex, conditions: Condition[], generation: number): void {
  const ns = str(gw.metadata?.namespace);
  const origin = { kind: 'Gateway', namespace: ns, name: str(gw.metadata?.name) };
  const fail = (reason: string, message: string): void => {
    conditions.push(condition('ResolvedRefs', false, reason, message, generation));
    b.report(origin, reason === 'RefNotPermitted' ? 'RefNotPermitted' : 'InvalidCertificate', message);
  };
  if (refs.length === 0) return fail('InvalidCertificateRef', 'an HTTPS listener needs tls.certificateRefs');
  for (const raw of refs) {
    if (!isObject(raw)) return fail('InvalidCertificateRef', 'a certificateRef must be an object');
    const ref = raw as { group?: unknown; kind?: unknown; name?: unknown; namespace?: unknown };
    const group = str(ref.group);
    const kind = str(ref.kind) || 'Secret';
    const name = str(ref.name);
    const refNs = str(ref.namespace) || ns;
    if (group !== '' || kind !== 'Secret') return fail('InvalidCertificateRef', `certificateRef ${group}/${kind} is not a Secret`);
    if (!grants.allows({ group: GATEWAY_GROUP, kind: 'Gateway', namespace: ns }, { group: '', kind: 'Secret', namespace: refNs, name })) return fail('RefNotPermitted', `Secret ${refNs}/${name} is in another namespace and no ReferenceGrant there allows it`);
    const key = `${refNs}/${name}`;
    if (b.secret(key) === undefined) return fail('InvalidCertificateRef', `Secret ${key} not found (it must be of type kubernetes.io/tls)`);
    const problem = b.certFor(hostname, key, origin, { kind: 'Gateway', namespace: ns, name: str(gw.metadata?.name) }, `listener certificateRef ${key}`);
    if (problem !== null) return fail('InvalidCertificateRef', problem);
  }
}

/**
 * Listeners of different Gateways on one port must speak one protocol (or HTTPS and TLS, by SNI):
 * else all of them are Conflicted. UDP ports are apart from TCP ones (DNS is both on 53).
 */
function markConflicts(states: readonly GatewayState[]): void {
  const byPort = new Map<string, ListenerState[]>();
  for (const g of states) {
    for (const l of g.listeners) {
      if (l.port === 0) continue;
      const key = `${l.protocol === 'UDP' ? 'UDP' : 'TCP'}/${l.port}`;
      byPort.set(key, [...(byPort.get(key) ?? []), l]);
    }
  }
  for (const [key, ls] of byPort) {
    const port = Number(key.slice(4));
    const protocols = new Set(ls.map((l) => l.protocol));
    if (protocols.size < 2 || [...protocols].every((p) => SHARE_A_PORT.has(p))) continue;
    for (const l of ls) {
      l.conditions.push(condition('Conflicted', true, 'ProtocolConflict', `port ${port} is used with protocols ${[...protocols].sort().join(' and ')}`, l.gateway.generation));
      if (l.valid) l.conditions.push(condition('Accepted', false, 'ProtocolConflict', `port ${port} is used with another protocol`, l.gateway.generation));
      l.valid = false;
    }
  }
}

export { keyOf };
