/**
 * Error pages, retries, the upstream choice and per-Ingress logging: custom-http-errors,
 * default-backend, disable-proxy-intercept-errors, proxy-next-upstream(-tries, -timeout),
 * service-upstream, enable-access-log. One small parser each, with ingress-nginx's semantics; a
 * bad value is an InvalidAnnotation diagnostic and the default is kept. Pure.
 */
import { show } from '../k8s.js';
import type { DiagnosticReason, NextUpstream, RouteSettings } from '../types.js';

/** Reads one annotation by its name after the prefix: its full key and value, or undefined. */
export type Read = (name: string) => { readonly key: string; readonly value: unknown } | undefined;
export type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;

/** What custom-http-errors, default-backend and disable-proxy-intercept-errors ask for (the backend is resolved when translating). */
export interface ErrorPagesOptions {
  readonly codes: readonly number[];
  /** The default-backend annotation's Service (in the Ingress's namespace). */
  readonly service?: string;
  readonly intercept: boolean;
}

/** What this family reads from one Ingress. */
export interface TrafficOptions {
  readonly errorPages: ErrorPagesOptions | undefined;
  readonly serviceUpstream: boolean;
  /** proxy-next-upstream*, enable-access-log. */
  readonly settings: RouteSettings;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined);

/** "true"/"false", else a diagnostic and `fallback` (the value ingress-nginx uses for a bad one). */
function bool(read: Read, name: string, report: Report, fallback: boolean): boolean | undefined {
  const v = read(name);
  if (v === undefined) return undefined;
  const s = str(v.value);
  if (s === 'true') return true;
  if (s === 'false') return false;
  report('InvalidAnnotation', `${v.key}: expected "true" or "false", got ${show(v.value)}; using "${fallback}"`);
  return fallback;
}

/** `404,503` (spaces allowed), 4xx and 5xx only, as ingress-nginx validates it. */
export function parseCodes(raw: string): number[] | undefined {
  const s = raw.replace(/\s+/g, '');
  if (!/^(?:[45]\d\d)(?:,[45]\d\d)*,?$/.test(s)) return undefined;
  return [...new Set(s.split(',').filter(Boolean).map(Number))].sort((a, b) => a - b);
}

/** A DNS-1035 label: what a Service name is. */
const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

function errorPages(read: Read, report: Report): ErrorPagesOptions | undefined {
  let codes: number[] = [];
  const c = read('custom-http-errors');
  if (c !== undefined) {
    const parsed = str(c.value) === undefined || str(c.value) === '' ? undefined : parseCodes(str(c.value) as string);
    if (parsed === undefined) report('InvalidAnnotation', `${c.key}: expected a comma-separated list of 4xx and 5xx status codes such as "404,503", got ${show(c.value)}; ignored`);
    else codes = parsed;
  }
  let service: string | undefined;
  const d = read('default-backend');
  if (d !== undefined) {
    const name = str(d.value) ?? '';
    if (name.length <= 63 && SERVICE_NAME.test(name)) service = name;
    else report('InvalidAnnotation', `${d.key}: expected the name of a Service in the Ingress's namespace, got ${show(d.value)}; ignored`);
  }
  const disable = bool(read, 'disable-proxy-intercept-errors', report, false);
  if (codes.length === 0 && service === undefined) return undefined;
  return { codes, ...(service !== undefined ? { service } : {}), intercept: disable !== true };
}

/** nginx's proxy_next_upstream conditions, in the order printed (non_idempotent last, as ingress-nginx renders it). */
export const CONDITIONS: readonly NextUpstream[] = ['error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503', 'http_504', 'http_403', 'http_404', 'http_429', 'non_idempotent', 'off'];

/** `error timeout http_502`: the conditions, deduplicated, in a fixed order (`off` alone wins, as in nginx); undefined when malformed. */
export function parseNextUpstream(raw: string): NextUpstream[] | undefined {
  const words = raw.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0 || !words.every((w) => (CONDITIONS as readonly string[]).includes(w))) return undefined;
  if (words.includes('off')) return ['off'];
  return CONDITIONS.filter((c) => words.includes(c));
}

/** A whole number from 0 to `max` (ingress-nginx's ValidateInt), or undefined. */
function whole(v: unknown, max: number): number | undefined {
  const s = str(v)?.trim();
  if (s === undefined || !/^\d{1,10}$/.test(s)) return undefined;
  const n = Number(s);
  return n <= max ? n : undefined;
}

function settings(read: Read, report: Report): RouteSettings {
  const out: { -readonly [K in keyof RouteSettings]: RouteSettings[K] } = {};
  const nu = read('proxy-next-upstream');
  if (nu !== undefined) {
    const parsed = str(nu.value) === undefined ? undefined : parseNextUpstream(str(nu.value) as string);
    if (parsed === undefined) report('InvalidAnnotation', `${nu.key}: expected conditions among ${CONDITIONS.join(', ')} separated by spaces, got ${show(nu.value)}; ignored (--proxy-next-upstream applies)`);
    else out.nextUpstream = parsed;
  }
  const tries = read('proxy-next-upstream-tries');
  if (tries !== undefined) {
    const n = whole(tries.value, 1_000_000_000);
    if (n === undefined) report('InvalidAnnotation', `${tries.key}: expected a whole number of attempts (0 = no limit), got ${show(tries.value)}; ignored (--proxy-next-upstream-tries applies)`);
    else out.nextUpstreamTries = n;
  }
  const timeout = read('proxy-next-upstream-timeout');
  if (timeout !== undefined) {
    const n = whole(timeout.value, 1_000_000_000);
    if (n === undefined) report('InvalidAnnotation', `${timeout.key}: expected whole seconds (0 = no limit), got ${show(timeout.value)}; ignored (--proxy-next-upstream-timeout applies)`);
    else out.nextUpstreamTimeout = n * 1000;
  }
  if (bool(read, 'enable-access-log', report, true) === false) out.accessLog = false;
  return out;
}

/** Reads this family's annotations of one Ingress. */
export function parseTraffic(read: Read, report: Report): TrafficOptions {
  return {
    errorPages: errorPages(read, report),
    serviceUpstream: bool(read, 'service-upstream', report, false) === true,
    settings: settings(read, report),
  };
}
