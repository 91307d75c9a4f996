/**
 * spec.tls -> per-host certificates. Parsing and key checks need crypto, so they are injected
 * (src/tls/inspect.ts) and this module stays pure: expiry is judged against `now` from options.
 */
import type { Secret } from './k8s.js';
import type { DiagnosticReason } from './types.js';

/** What the inspector learned from a Secret: a usable pair, or why not. */
export type CertCheck =
  | {
      readonly ok: true;
      readonly id: string;
      readonly certPem: string;
      readonly keyPem: string;
      readonly notBefore: number;
      readonly notAfter: number;
      /** True when the certificate's SANs (or CN, when it has none) cover the host. */
      covers(host: string): boolean;
    }
  | { readonly ok: false; readonly reason: DiagnosticReason; readonly message: string };

export type InspectSecret = (secret: Secret) => CertCheck;

/** What the inspector learned from a `proxy-ssl-secret`: usable material, or why not. */
export type UpstreamTlsCheck =
  | { readonly ok: true; readonly id: string; readonly caPem?: string; readonly certPem?: string; readonly keyPem?: string }
  | { readonly ok: false; readonly reason: DiagnosticReason; readonly message: string };

export type InspectUpstreamTls = (secret: Secret) => UpstreamTlsCheck;

/** What the inspector learned from an `auth-tls-secret`: usable CAs (and CRLs), or why not. */
export type ClientCaCheck =
  | { readonly ok: true; readonly id: string; readonly caPem: string; readonly crlPem?: string }
  | { readonly ok: false; readonly reason: DiagnosticReason; readonly message: string };

export type InspectClientCa = (secret: Secret) => ClientCaCheck;

/** Judges a checked certificate at time `now` for one host; returns a problem or null. */
export function certProblem(check: CertCheck, host: string, now: number, secret: string): { reason: DiagnosticReason; message: string } | null {
  if (!check.ok) return { reason: check.reason, message: `Secret ${secret}: ${check.message}` };
  if (now > check.notAfter) return { reason: 'CertificateExpired', message: `Secret ${secret}: certificate expired on ${new Date(check.notAfter).toISOString()}` };
  if (now < check.notBefore) return { reason: 'CertificateNotYetValid', message: `Secret ${secret}: certificate is not valid before ${new Date(check.notBefore).toISOString()}` };
  if (host !== '' && !check.covers(host)) return { reason: 'CertificateHostMismatch', message: `Secret ${secret}: certificate does not cover host ${host}` };
  return null;
}
