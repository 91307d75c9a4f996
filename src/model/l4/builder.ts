/**
 * The Layer 4 part of the table under construction: listeners on ports of their own and TLS
 * passthrough routes by SNI, from every source (the TCP/UDP services ConfigMaps, Ingresses with
 * ssl-passthrough, TCPRoutes and TLSRoutes). Where two sources claim one place (a port and
 * protocol, or a port and SNI name), the older object keeps it, as with HTTP routes; the caller
 * reports the conflict. Lives for one translation; pure.
 */
import type { L4Listener, L4Table, SniRoute } from '../types.js';

interface Held<T> {
  readonly value: T;
  readonly created: string;
}

const byPort = (a: { port: number; protocol?: string; host?: string }, b: { port: number; protocol?: string; host?: string }): number =>
  a.port - b.port || ((a.protocol ?? '') < (b.protocol ?? '') ? -1 : (a.protocol ?? '') > (b.protocol ?? '') ? 1 : 0) || ((a.host ?? '') < (b.host ?? '') ? -1 : (a.host ?? '') > (b.host ?? '') ? 1 : 0);

export class L4Builder {
  private readonly listeners = new Map<string, Held<L4Listener>>();
  private readonly sni = new Map<string, Held<SniRoute>>();

  /**
   * Adds a listener unless its port and protocol are taken: the older object (`created`, its
   * creationTimestamp; '' = as old as can be, a flag's ConfigMap) keeps the place. Returns the
   * listener that lost, or null.
   */
  addListener(l: L4Listener, created = ''): L4Listener | null {
    return keep(this.listeners, `${l.protocol}/${l.port}`, l, created);
  }

  /** Adds a passthrough route unless its port and SNI name are taken (the older object wins). Returns the loser, or null. */
  addSni(r: SniRoute, created = ''): SniRoute | null {
    return keep(this.sni, `${r.port} ${r.host}`, r, created);
  }

  /** The listener holding a port and protocol. */
  listenerAt(protocol: L4Listener['protocol'], port: number): L4Listener | undefined {
    return this.listeners.get(`${protocol}/${port}`)?.value;
  }

  /** The route holding a port and SNI name. */
  sniAt(port: number, host: string): SniRoute | undefined {
    return this.sni.get(`${port} ${host}`)?.value;
  }

  /** The Layer 4 table, sorted; undefined when there is nothing. */
  finish(): L4Table | undefined {
    if (this.listeners.size === 0 && this.sni.size === 0) return undefined;
    return {
      listeners: [...this.listeners.values()].map((h) => h.value).sort(byPort),
      sni: [...this.sni.values()].map((h) => h.value).sort(byPort),
    };
  }
}

function keep<T>(m: Map<string, Held<T>>, key: string, value: T, created: string): T | null {
  const held = m.get(key);
  if (held === undefined) {
    m.set(key, { value, created });
    return null;
  }
  if (created < held.created) {
    m.set(key, { value, created });
    return held.value;
  }
  return value;
}
