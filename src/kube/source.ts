/**
 * Kubernetes source: list+watch of every kind Portico reads into the store. Changes to Services,
 * EndpointSlices, Secrets and ConfigMaps that no served Ingress refers to are stored without a rebuild, so
 * translation cost does not grow with unrelated churn.
 */
import type { Logger } from '../log.js';
import type { Translation } from '../model/types.js';
import { sliceService } from '../model/endpoints.js';
import type { Store } from '../control/store.js';
import type { KubeClient } from './client.js';
import { createReflector, namedConfigMap, RESOURCES, type Change, type Reflector, type Resource } from './watch.js';

export interface KubeSourceOptions {
  readonly client: KubeClient;
  readonly store: Store;
  /** Empty = all namespaces. */
  readonly namespaces: readonly string[];
  /** `endpointsOf` names the Service (`namespace/name`) when only its EndpointSlices changed. */
  readonly onChange: (endpointsOf?: string) => void;
  readonly references: () => Translation['references'];
  readonly onRestart: (kind: string) => void;
  readonly log: Logger;
  readonly backoff?: { readonly base: number; readonly cap: number };
  /** Watch the Gateway API kinds (false: --enable-gateway-api=false). */
  readonly gatewayApi: boolean;
  /** How often an absent CRD is looked for again. */
  readonly crdRecheckMs: number;
  /** The TCP/UDP services ConfigMaps: one outside the watched namespaces is watched alone, by name (RBAC can name it). */
  readonly configMaps?: readonly { readonly namespace: string; readonly name: string }[];
}

export interface KubeSource {
  /** Resolves when every kind has finished its first list (a forbidden kind counts as done). */
  start(): Promise<void>;
  close(): void;
}

/** Whether a change can alter the table, given what the last translation referred to. */
export function relevant(c: Change, refs: Translation['references']): boolean {
  if (c.type === 'RELIST') return true;
  const ns = c.object.metadata?.namespace ?? '';
  switch (c.kind) {
    // routing objects, and Namespaces (their labels select routes for Gateway listeners)
    case 'Ingress':
    case 'IngressClass':
    case 'Namespace':
    case 'GatewayClass':
    case 'Gateway':
    case 'HTTPRoute':
    case 'GRPCRoute':
    case 'TLSRoute':
    case 'TCPRoute':
    case 'UDPRoute':
    case 'ReferenceGrant':
    case 'BackendTLSPolicy':
      return true;
    case 'Service':
      return refs.services.has(`${ns}/${c.object.metadata?.name ?? ''}`);
    case 'Secret':
      return refs.secrets.has(`${ns}/${c.object.metadata?.name ?? ''}`);
    case 'ConfigMap':
      return refs.configMaps.has(`${ns}/${c.object.metadata?.name ?? ''}`);
    case 'EndpointSlice':
      return refs.services.has(sliceService(c.object));
  }
}

export function createKubeSource(o: KubeSourceOptions): KubeSource {
  const reflectors: Reflector[] = [];
  return {
    start() {
      return new Promise((resolve) => {
        const namespaces = o.namespaces.length > 0 ? o.namespaces : [''];
        let pending = 0;
        const watched: [Resource, readonly string[]][] = RESOURCES.filter((r) => o.gatewayApi || r.gatewayApi !== true).map((r) => [r, r.namespaced ? namespaces : ['']]);
        // a services ConfigMap outside the watched namespaces (--watch-namespace): watched alone, by name
        const named = new Set<string>();
        for (const cm of o.configMaps ?? []) {
          if (o.namespaces.length === 0 || o.namespaces.includes(cm.namespace) || named.has(`${cm.namespace}/${cm.name}`)) continue;
          named.add(`${cm.namespace}/${cm.name}`);
          watched.push([namedConfigMap(cm.name), [cm.namespace]]);
        }
        for (const [resource, inNamespaces] of watched) {
          for (const namespace of inNamespaces) {
            pending++;
            const refl = createReflector({
              client: o.client,
              resource,
              namespace,
              store: o.store,
              log: o.log,
              ...(o.backoff ? { backoff: o.backoff } : {}),
              crdRecheckMs: o.crdRecheckMs,
              onChange: (c) => {
                if (!relevant(c, o.references())) return;
                o.onChange(c.type !== 'RELIST' && c.kind === 'EndpointSlice' ? sliceService(c.object) : undefined);
              },
              onSynced: () => {
                if (--pending === 0) resolve();
              },
              onRestart: () => o.onRestart(resource.kind),
            });
            reflectors.push(refl);
            refl.start();
          }
        }
      });
    },
    close() {
      for (const r of reflectors) r.stop();
    },
  };
}
