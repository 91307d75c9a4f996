/**
 * translate(snapshot) -> { table, diagnostics, references }: the whole step from objects to a
 * routing table, as one processor per source writing one shared table (model/build.ts). Pure: no
 * I/O, no clock, no logger. It never throws on user input; each problem becomes a Diagnostic and
 * the rest of the table keeps working.
 *
 * A translator owns its memos (checked Ingresses, resolved Service ports, keyed by object
 * identity: the store never modifies an object, a change is a new one), so a rebuild after one
 * edit re-checks only what changed, and two translators never share state.
 */
import { TableBuilder, type BuildOptions } from './build.js';
import { createResolutionMemo, indexServices } from './endpoints.js';
import { translateGateways, type GatewayOptions } from './gateway/translate.js';
import { createClassFilter, sortByAge, type ClassOptions } from './ingress/class.js';
import { addCorsFallbacks, globalHeaders, translateIngresses, type IngressMemo, type IngressOptions } from './ingress/translate.js';
import { isObject, type Snapshot } from './k8s.js';
import { translateServices, type L4Options } from './l4/services.js';
import { Memo } from './memo.js';
import type { Translation } from './types.js';

export interface TranslateOptions extends ClassOptions, IngressOptions, BuildOptions {
  /** The Gateway API: GatewayClasses with this controllerName are served. Without it, Gateway API objects are ignored. */
  readonly gateway?: GatewayOptions;
  /** `--default-ssl-certificate`: served for SNI names no Ingress has a certificate for. */
  readonly defaultSslCertificate?: { readonly namespace: string; readonly name: string } | undefined;
  /** Layer 4: the TCP/UDP services ConfigMaps and Portico's own ports (`sslPassthrough` is in IngressOptions). */
  readonly l4?: L4Options;
}

export interface Translator {
  translate(snapshot: Snapshot, opts: TranslateOptions): Translation;
}

/** A translator with its own memos: what one pipeline uses from one rebuild to the next. */
export function createTranslator(): Translator {
  const ingresses: IngressMemo = new Memo();
  const resolutions = createResolutionMemo();
  return {
    translate(snapshot, opts) {
      // Input is untrusted: anything that is not an object is dropped here, once, for every kind.
      const b = new TableBuilder(indexServices(objects(snapshot.services), objects(snapshot.endpointSlices), resolutions), objects(snapshot.secrets), opts, objects(snapshot.configMaps));
      const isOurs = createClassFilter(objects(snapshot.ingressClasses), opts);
      const global = globalHeaders(b, opts);
      const corsHosts = translateIngresses(b, sortByAge(objects(snapshot.ingresses).filter((ing) => isOurs(ing))), ingresses, opts, global);
      const d = opts.defaultBackendService;
      if (b.defaultBackend === null && d !== undefined) {
        const id = `${d.namespace}/${d.name}:${d.port}`;
        b.backend(id, d.namespace, d.name, d.port, { kind: 'Service', namespace: d.namespace, name: d.name }, 'HTTP');
        b.defaultBackend = { host: '', path: '', match: 'Prefix', source: { kind: 'DefaultBackend', namespace: d.namespace, name: d.name }, policies: global, backends: [{ backend: id, weight: 1 }], settings: {} };
      }
      addCorsFallbacks(b, corsHosts, global);
      if (opts.defaultSslCertificate) b.defaultCert(opts.defaultSslCertificate);
      // the TCP services' ports are the operator's (flags): Gateway listeners must not take them
      const taken = opts.l4 === undefined ? new Map<string, string>() : translateServices(b, opts.l4);
      const gw = opts.gateway === undefined ? null : translateGateways(b, snapshot, taken.size > 0 ? { ...opts.gateway, takenPorts: taken } : opts.gateway);
      const result = b.finish(gw?.listeners ?? []);
      ingresses.advance();
      resolutions.advance();
      return gw === null ? result : { ...result, gateway: gw.status };
    },
  };
}

/** Translates once with a fresh translator (tests, `--dry-run`): nothing is remembered. */
export function translate(snapshot: Snapshot, opts: TranslateOptions): Translation {
  return createTranslator().translate(snapshot, opts);
}

function objects<T>(v: readonly T[] | undefined): T[] {
  return Array.isArray(v) ? v.filter(isObject) : [];
}
