/** What policy modules share: their verdicts, their view of a request, their compile-time settings. */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { RetryDefaults } from './retry.js';
import type { Limiters } from '../limiters.js';
import type { AuthState } from '../auth/state.js';
import type { MirrorState } from '../mirror-state.js';

/** What a policy decided. */
export const enum Verdict {
  /** On to the next policy, then the backend. */
  Continue,
  /** The policy answered the request itself. */
  Answered,
  /** The policy will call `resume()` (or answer) later: an asynchronous check. */
  Pending,
}

/** The matched route's names, for nginx variables ($namespace, $ingress_name, $service_name, $service_port, $server_name). */
export interface RouteNames {
  readonly namespace: string;
  readonly ingress: string;
  readonly service: string;
  /** The Service port as the route names it. */
  readonly servicePort: string;
  /** The rule host ('' for any host). */
  readonly host: string;
}

/** The request as a policy sees it, and what it may do with it. */
export interface PolicyExchange {
  readonly req: IncomingMessage;
  /** The target as the client sent it, before any rewrite (nginx's $request_uri). */
  readonly requestUri: string;
  /** The X-Request-ID sent upstream: the client's, else one generated for the request. */
  readonly requestId: string;
  /** The matched route's names (null before a route matched). */
  readonly names: RouteNames | null;
  /** A request header as forwarded (after input edits), several values joined by ", " (Cookie: "; "). */
  header(name: string): string | undefined;
  /** Replaces the client's header `name` (every value) by one, before forwarding; with `onlyExisting`, only if it has one. */
  setRequestHeader(name: string, value: string, onlyExisting?: boolean): void;
  /** Removes the client's header `name` before forwarding, or every header whose name starts with it (`prefix`). */
  removeRequestHeader(name: string, prefix?: boolean): void;
  readonly scheme: 'http' | 'https';
  /** The listener's port as Gateways name it: 80 for the HTTP port, 443 for the HTTPS port, else the port itself. */
  readonly listenerPort: number;
  /** The decoded, normalised path the request was matched with. */
  readonly path: string;
  /** The origin-form target as it will be forwarded (`/path?query`). */
  readonly forwardPath: string;
  /** The capture groups of the Regex route that matched ($0 first), or null. */
  readonly captures: readonly string[] | null;
  /** Replaces the origin-form target sent upstream (a rewrite): `/path?query`, checked by the wire rules before sending. */
  setForwardPath(target: string): void;
  /** The authority the request was routed by. */
  readonly host: string | undefined;
  /** The address access rules judge: the peer, the PROXY protocol's, or from a trusted proxy the X-Forwarded-For client. */
  readonly clientIp: string;
  /** The TLS server name the client sent (undefined over plain HTTP, or without SNI). */
  readonly servername: string | undefined;
  /** The TLS socket of an HTTPS request (HTTP/1.1 or HTTP/2), for client certificates; null over plain HTTP. */
  readonly tlsSocket: TLSSocket | null;
  /** Sets a header on the request sent upstream, replacing any the client sent (or Portico set) under that name. */
  setUpstreamHeader(name: string, value: string): void;
  /** Drops a header (any case) from the request sent upstream. */
  removeUpstreamHeader(name: string): void;
  /** Edits the response's headers (proxied or answered locally): remove, then set (replacing), then add (appending with ","). */
  editResponse(edit: ResponseEdit): void;
  /**
   * Adds a header to the response, proxied or answered locally; with `always` false, only to
   * responses of nginx's add_header statuses (200, 201, 204, 206, 301, 302, 303, 304, 307, 308).
   */
  addResponseHeader(name: string, value: string, always?: boolean): void;
  /** The connection closes after the answer (HTTP/1; an HTTP/2 stream just ends). */
  closeAfter(): void;
  /** Answers locally; the exchange is done. `type` '' sends no Content-Type. */
  answer(status: number, body: string, type: string, cause: string, headers?: readonly string[]): void;
  /** After {@link Verdict.Pending}: carry on with the next policy. */
  resume(): void;
  /**
   * Calls `fn` once when the exchange is over: its response sent or cut, the client gone, or for
   * an upgrade, its tunnel closed (what nginx's limit_conn counts as a request being processed).
   */
  onDone(fn: () => void): void;
}

/** Header edits of a response; names lower-case. */
export interface ResponseEdit {
  readonly set: readonly (readonly [string, string])[];
  readonly add: readonly (readonly [string, string])[];
  readonly remove: readonly string[];
}

/** One compiled policy of one route. */
export interface RequestPolicy {
  run(ex: PolicyExchange): Verdict;
}

/**
 * The response phase of a route: edits a response head (a flat name/value list, Portico's own
 * `server` and HSTS included) before it is written. `proxied`: the pod's answer (else Portico's own).
 */
export interface ResponsePolicy {
  edit(status: number, headers: string[], ex: PolicyExchange, proxied: boolean): void;
}

/** Listener-independent settings policies are compiled with. */
export interface PolicyEnv {
  /** Port in the Location of HTTP-to-HTTPS redirects (443 is left out). */
  readonly httpsRedirectPort: number;
  /** `--proxy-body-size`: bytes, 0 = unlimited. */
  readonly bodySize: number;
  /** `--proxy-next-upstream`, `--proxy-next-upstream-tries`, `--proxy-next-upstream-timeout` (ms); default: their defaults. */
  readonly retry?: RetryDefaults;
  /** Per-client limiter state of the data plane (outlives table swaps). */
  readonly limiters: Limiters;
  /** `--limit-req-status-code`, `--limit-conn-status-code`. */
  readonly limitReqStatus: number;
  readonly limitConnStatus: number;
  /** `--proxy-connect-timeout` and `--proxy-read-timeout` (ms), for sub-requests to auth services. */
  readonly connectTimeout?: number;
  readonly readTimeout?: number;
  /** State authentication keeps across tables (hash workers, caches, connections to auth services); one per data plane. */
  readonly auth?: AuthState;
  /** What mirroring keeps across tables (in-flight counts per destination, limits, the agent for mirror-target URLs); one per data plane. */
  readonly mirrors?: MirrorState;
}
