/**
 * custom-http-errors / default-backend (the model's `errorPages` policy), compiled once per table;
 * the exchange serves the pages (exchange.ts `errorPage`), with the request ingress-nginx's
 * `@custom_*` locations send: `GET /` with the original query, and the X-Code... headers.
 */
import type { ErrorPagesPolicy, RouteSource } from '../../model/types.js';
import { targetQuery } from '../request-target.js';
import type { PolicyExchange } from './types.js';

/** When no error backend has endpoints: ingress-nginx's built-in default backend answers 404. */
export const ERROR_PAGE_404 = '<!doctype html><title>404 Not Found</title><h1>404 Not Found</h1><hr><small>portico</small>\n';

/** The error pages of a route, compiled: its error backends (`B`: ready to dispatch to). */
export interface ErrorPlan<B> {
  /** Statuses replaced by the error backend's answer. */
  readonly codes: ReadonlySet<number>;
  /** Whether the pods' answers are replaced (Portico's own 502/503/504 always are). */
  readonly intercept: boolean;
  /** In order of preference; none with endpoints: the built-in 404 page. */
  readonly backends: readonly B[];
  /** The default-backend annotation's: serves the request when the route's backends have no endpoints. */
  readonly whenEmpty: B | null;
  /** Every backend above, once (their pools stay open while the route lives). */
  readonly all: readonly B[];
}

/** Compiles the policy; `target` makes (once per id) what an error backend is dispatched through. */
export function compileErrorPages<B>(p: ErrorPagesPolicy, target: (id: string) => B): ErrorPlan<B> {
  const byId = new Map<string, B>();
  const get = (id: string): B => {
    let t = byId.get(id);
    if (t === undefined) byId.set(id, (t = target(id)));
    return t;
  };
  const backends = p.backends.map(get);
  const whenEmpty = p.whenEmpty === undefined ? null : get(p.whenEmpty);
  return { codes: new Set(p.codes), intercept: p.intercept, backends, whenEmpty, all: [...byId.values()] };
}

/**
 * ingress-nginx's error headers, as a flat list: X-Code, X-Format (the Accept header),
 * X-Original-URI (for an error page; not when the default backend serves a route without
 * endpoints), X-Namespace, X-Ingress-Name, X-Service-Name, X-Service-Port (of the route's backend).
 */
export function errorHeaders(code: number, originalUri: boolean, ex: PolicyExchange, source: RouteSource, backend: { readonly service: string; readonly port: string } | undefined): string[] {
  const out = ['x-code', String(code)];
  const accept = ex.header('accept');
  if (accept !== undefined && accept !== '') out.push('x-format', accept);
  if (originalUri) out.push('x-original-uri', ex.requestUri);
  out.push('x-namespace', source.namespace, 'x-ingress-name', source.kind === 'DefaultBackend' ? '' : source.name, 'x-service-name', backend?.service ?? '', 'x-service-port', backend?.port ?? '');
  return out;
}

/** What an error backend is asked for: `/` with the original query (nginx's `rewrite (.*) / break` keeps the arguments). */
export function errorPath(requestUri: string): string {
  return `/${targetQuery(requestUri)}`;
}
