/**
 * Client certificates (mTLS from clients): the `auth-tls-*` annotations, read as ingress-nginx
 * documents them (annotations.md "Client Certificate Authentication"). Pure; problems go to
 * `report`. A value Portico cannot take as written makes the key `invalid`: the Ingress is then
 * refused (503), never served without the check its author asked for.
 */
import { localRef, show } from '../k8s.js';
import { patternProblem } from '../regex.js';
import type { ClientCertVerify, DiagnosticReason } from '../types.js';

/** The settings of one Ingress, when `auth-tls-secret` is set and every value is valid. */
export interface ClientCertSettings {
  /** `namespace/name`, always the Ingress's own namespace. */
  readonly secret: string;
  readonly verify: ClientCertVerify;
  readonly depth: number;
  readonly errorPage?: string;
  readonly passCertificate: boolean;
  readonly matchCn?: string;
}

export interface ClientCertAnnotations {
  readonly settings: ClientCertSettings | null;
  /** Full keys whose values cannot be honoured: the Ingress is refused. */
  readonly invalid: readonly string[];
}

type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;
/** Reads one annotation under either prefix (annotations.ts passes its reader: no import cycle). */
type Read = (name: string) => { key: string; value: unknown } | undefined;

const VERIFY: readonly ClientCertVerify[] = ['on', 'off', 'optional', 'optional_no_ca'];
/** The absolute forms of ingress-nginx's redirectRegex: scheme, host, port, plain path segments. */
const ERROR_PAGE = /^https?:\/\/[A-Za-z0-9\-.]+(:\d{1,5})?(\/[A-Za-z0-9\-_.]+)*\/?$/;
/** OpenSSL's verify depth is unbounded in practice; nobody needs more than this. */
const MAX_DEPTH = 100;

export function parseClientCert(read: Read, ns: string, report: Report): ClientCertAnnotations {
  const invalid: string[] = [];
  const bad = (key: string, message: string): undefined => {
    report('InvalidAnnotation', `${key}: ${message}; the Ingress is not served (its routes answer 503) until this is fixed`);
    invalid.push(key);
    return undefined;
  };

  const secret = read('auth-tls-secret');
  let secretKey: string | undefined;
  if (secret !== undefined) {
    const r = localRef(secret.value, ns, 'Secret');
    if ('error' in r) bad(secret.key, r.error);
    else secretKey = r.ref;
  }

  const v = read('auth-tls-verify-client');
  let verify: ClientCertVerify = 'on';
  if (v !== undefined) {
    if (typeof v.value === 'string' && (VERIFY as readonly string[]).includes(v.value)) verify = v.value as ClientCertVerify;
    else bad(v.key, `expected one of ${VERIFY.join(', ')}, got ${show(v.value)}`);
  }

  const d = read('auth-tls-verify-depth');
  let depth = 1;
  if (d !== undefined) {
    const text = typeof d.value === 'number' ? String(d.value) : d.value;
    if (typeof text === 'string' && /^\d{1,3}$/.test(text) && Number(text) <= MAX_DEPTH) depth = Math.max(1, Number(text)); // 0 is 1, as in ingress-nginx
    else bad(d.key, `expected a whole number from 0 to ${MAX_DEPTH}, got ${show(d.value)}`);
  }

  const e = read('auth-tls-error-page');
  let errorPage: string | undefined;
  if (e !== undefined) {
    if (typeof e.value === 'string' && e.value.length <= 2048 && ERROR_PAGE.test(e.value)) errorPage = e.value;
    else bad(e.key, `expected an absolute http:// or https:// URL (Portico has no internal locations for a path or @name), got ${show(e.value)}`);
  }

  const p = read('auth-tls-pass-certificate-to-upstream');
  let passCertificate = false;
  if (p !== undefined) {
    if (p.value === 'true' || p.value === true) passCertificate = true;
    else if (p.value !== 'false' && p.value !== false) bad(p.key, `expected "true" or "false", got ${show(p.value)}`);
  }

  const m = read('auth-tls-match-cn');
  let matchCn: string | undefined;
  if (m !== undefined) {
    const problem = typeof m.value === 'string' && m.value.startsWith('CN=') ? patternProblem(m.value) : 'it must start with "CN="';
    if (problem === null) matchCn = m.value as string;
    else bad(m.key, `expected "CN=" and a regular expression, got ${show(m.value)} (${problem})`);
  }

  if (secret === undefined) {
    // without a CA nothing is verified: what asks for a check cannot be honoured, the rest asks for nothing
    for (const [entry, asks] of [
      [v, verify !== 'off'],
      [m, true],
      [d, false],
      [e, false],
      [p, false],
    ] as const) {
      if (entry === undefined || invalid.includes(entry.key)) continue;
      if (asks) bad(entry.key, 'needs nginx.ingress.kubernetes.io/auth-tls-secret (the CA to verify client certificates against)');
      else report('IgnoredAnnotation', `${entry.key}: no effect without auth-tls-secret; ignored`, 'info');
    }
    return { settings: null, invalid };
  }
  if (invalid.length > 0 || secretKey === undefined) return { settings: null, invalid };
  return {
    settings: { secret: secretKey, verify, depth, ...(errorPage !== undefined ? { errorPage } : {}), passCertificate, ...(matchCn !== undefined ? { matchCn } : {}) },
    invalid,
  };
}
