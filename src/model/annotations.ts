/**
 * ingress-nginx annotations Portico understands, one small parser each. Values are validated
 * and a bad one is a diagnostic with the default kept, never an exception. Both the
 * `nginx.ingress.kubernetes.io/` prefix (for migrations) and `portico.dev/` are read.
 */
import type { BackendProtocol, DiagnosticReason } from './types.js';

export const PREFIXES = ['nginx.ingress.kubernetes.io/', 'portico.dev/'] as const;

/** Per-Ingress options from annotations. */
export interface IngressOptions {
  /** undefined = follow `--ssl-redirect`. */
  readonly sslRedirect: boolean | undefined;
  readonly forceSslRedirect: boolean;
  readonly backendProtocol: BackendProtocol;
}

type Report = (reason: DiagnosticReason, message: string) => void;

function read(annotations: Readonly<Record<string, unknown>> | undefined, name: string): { key: string; value: unknown } | undefined {
  if (annotations === undefined || annotations === null || typeof annotations !== 'object') return undefined;
  for (const p of PREFIXES) {
    const key = p + name;
    if (Object.hasOwn(annotations, key)) return { key, value: annotations[key] };
  }
  return undefined;
}

function bool(a: Readonly<Record<string, unknown>> | undefined, name: string, report: Report): boolean | undefined {
  const v = read(a, name);
  if (v === undefined) return undefined;
  if (v.value === 'true' || v.value === true) return true;
  if (v.value === 'false' || v.value === false) return false;
  report('InvalidAnnotation', `${v.key}: expected "true" or "false", got ${JSON.stringify(v.value)}; ignored`);
  return undefined;
}

const PROTOCOLS: readonly BackendProtocol[] = ['HTTP', 'HTTPS', 'GRPC', 'GRPCS'];

function protocol(a: Readonly<Record<string, unknown>> | undefined, report: Report): BackendProtocol {
  const v = read(a, 'backend-protocol');
  if (v === undefined) return 'HTTP';
  const up = typeof v.value === 'string' ? v.value.toUpperCase() : '';
  if ((PROTOCOLS as readonly string[]).includes(up)) return up as BackendProtocol;
  report('InvalidAnnotation', `${v.key}: ${JSON.stringify(v.value)} is not supported (use ${PROTOCOLS.join(', ')}); using HTTP`);
  return 'HTTP';
}

/** Reads every supported annotation of one Ingress. */
export function parseAnnotations(annotations: Readonly<Record<string, unknown>> | undefined, report: Report): IngressOptions {
  return {
    sslRedirect: bool(annotations, 'ssl-redirect', report),
    forceSslRedirect: bool(annotations, 'force-ssl-redirect', report) ?? false,
    backendProtocol: protocol(annotations, report),
  };
}
