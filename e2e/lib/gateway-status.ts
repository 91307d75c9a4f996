/** What `/debug/gateways` answers: the Gateway API status Portico computes (src/model/gateway/status.ts), as the e2e tests read it. */

export interface Cond {
  type: string;
  status: string;
  reason: string;
  observedGeneration: number;
}

export interface DebugGateways {
  gatewayClasses: { name: string; conditions: Cond[]; supportedFeatures: string[] }[];
  gateways: { namespace: string; name: string; conditions: Cond[]; listeners: { name: string; attachedRoutes: number; supportedKinds: { kind: string }[]; conditions: Cond[] }[] }[];
  routes: { kind: string; namespace: string; name: string; parents: { parentRef: { name: string; namespace?: string; sectionName?: string; group: string; kind: string }; conditions: Cond[] }[] }[];
}
