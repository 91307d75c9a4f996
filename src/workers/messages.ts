/** What the primary and its workers say to each other over IPC (structured clone: Maps travel as they are). */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { EndpointPatch } from '../model/endpoints.js';
import type { RouteTable } from '../model/types.js';
import type { EndpointView } from '../proxy/stats.js';
import type { ServedCert } from '../tls/contexts.js';

export type MetricFamily = MetricObjectWithValues<MetricValue<string>>;
export type Views = Record<string, EndpointView>;

/** Questions the primary asks every worker (for /metrics and /debug/backends). */
export type Question = 'portico:metrics' | 'portico:endpoint-views';

export type ToWorker =
  /**
   * `udp`: this worker serves the UDP services (exactly one does: a client's flow must stay in one
   * process). `ports`: with SO_REUSEPORT, the HTTP and HTTPS ports the primary claimed (port 0
   * resolved), which every worker binds itself.
   */
  | { type: 'portico:cert'; cert: ServedCert; udp: boolean; ports: { httpPort: number; httpsPort: number } | null }
  /** The answer to a claim: the port to bind, or why not. */
  | { type: 'portico:claimed'; id: number; port: number }
  | { type: 'portico:claimed'; id: number; error: { message: string; code?: string } }
  | { type: 'portico:table'; table: RouteTable }
  | { type: 'portico:endpoints'; patch: EndpointPatch }
  | { type: 'portico:drain' }
  | { type: 'portico:close' }
  | { type: Question; id: number };

export type ToPrimary =
  | { type: 'portico:hello' }
  | { type: 'portico:listening'; httpPort: number; httpsPort: number }
  /** May this worker bind `port` with SO_REUSEPORT (listeners.ts, Claim)? */
  | { type: 'portico:claim'; id: number; port: number; host: string }
  /** This worker's sockets on `port` are closed. */
  | { type: 'portico:release'; port: number; host: string }
  | { type: 'portico:metrics'; id: number; metrics: MetricFamily[] }
  | { type: 'portico:endpoint-views'; id: number; views: Views };
