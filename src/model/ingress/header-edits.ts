/**
 * Header edits from annotations and ConfigMaps: configuration-snippet and server-snippet (parsed
 * by snippet.ts, never executed), custom-headers (a ConfigMap of response headers, values
 * literal), and the ConfigMaps of --add-headers (response headers) and --proxy-set-headers
 * (request headers to the pods), whose values may use nginx variables. Pure.
 */
import { localRef, show, type ConfigMap } from '../k8s.js';
import type { HeaderEdit, HeaderDirectivesPolicy } from '../types.js';
import { isHeaderName, MANAGED, parseTemplate, unsafeHeaderValue, MAX_VALUE } from '../headers.js';
import { parseSnippet, type SnippetEdits } from './snippet.js';
import type { Read, Report } from './traffic.js';

export interface HeaderOptions {
  /** configuration-snippet's edits, for every route of the Ingress. */
  readonly location: HeaderDirectivesPolicy | undefined;
  /** server-snippet's edits, for every route on the Ingress's hosts (the oldest Ingress with one wins a host). */
  readonly server: HeaderDirectivesPolicy | undefined;
  /** custom-headers: its key, and `namespace/name` of a ConfigMap in the Ingress's namespace. */
  readonly customHeaders: { readonly key: string; readonly ref: string } | undefined;
  /** Snippet keys that cannot be honoured (a directive other than the header ones, or text that does not parse). */
  readonly refused: readonly string[];
}

function policy(scope: HeaderDirectivesPolicy['scope'], from: string, e: Pick<SnippetEdits, 'input' | 'upstream' | 'response'>): HeaderDirectivesPolicy | undefined {
  if (e.input.length + e.upstream.length + e.response.length === 0) return undefined;
  return { kind: 'headerDirectives', scope, from, input: e.input, upstream: e.upstream, response: e.response };
}

function snippet(read: Read, name: 'configuration-snippet' | 'server-snippet', report: Report, refused: string[]): HeaderDirectivesPolicy | undefined {
  const v = read(name);
  if (v === undefined) return undefined;
  if (typeof v.value !== 'string') {
    report('InvalidAnnotation', `${v.key}: expected text, got ${show(v.value)}; the snippet cannot be honoured`);
    refused.push(v.key);
    return undefined;
  }
  if (v.value.trim() === '') return undefined; // ingress-nginx reads an empty value as absent
  const parsed = parseSnippet(v.value, name === 'server-snippet' ? 'server' : 'location');
  if ('error' in parsed) {
    report(parsed.unsupported ? 'UnsupportedAnnotation' : 'InvalidAnnotation', `${v.key}: ${parsed.error}; the snippet cannot be honoured`);
    refused.push(v.key);
    return undefined;
  }
  for (const note of parsed.notes) report('IgnoredAnnotation', `${v.key}: ${note}`, 'info');
  return policy(name === 'server-snippet' ? 'server' : 'location', name, parsed);
}

/** `namespace/name` or `name`, in the Ingress's own namespace only. */
function customHeaders(read: Read, ns: string, report: Report): { key: string; ref: string } | undefined {
  const v = read('custom-headers');
  if (v === undefined) return undefined;
  const r = localRef(v.value, ns, 'ConfigMap');
  if ('error' in r) {
    report('InvalidAnnotation', `${v.key}: ${r.error}; ignored`);
    return undefined;
  }
  return { key: v.key, ref: r.ref };
}

/** Reads the header annotations of one Ingress. */
export function parseHeaderAnnotations(read: Read, ns: string, report: Report): HeaderOptions {
  const refused: string[] = [];
  const location = snippet(read, 'configuration-snippet', report, refused);
  const server = snippet(read, 'server-snippet', report, refused);
  return { location, server, customHeaders: customHeaders(read, ns, report), refused };
}

/** How a ConfigMap's entries become edits. */
export type ConfigMapUse = 'custom-headers' | '--add-headers' | '--proxy-set-headers';

/**
 * A ConfigMap's `data` as one header policy: custom-headers and --add-headers set response
 * headers (custom-headers' values literal, as ingress-nginx escapes their `$`), --proxy-set-headers
 * sets request headers to the pods. Entries in key order; a bad entry is a problem and is skipped.
 */
export function configMapHeaders(cm: ConfigMap, use: ConfigMapUse, from: string): { readonly policy: HeaderDirectivesPolicy | undefined; readonly problems: readonly string[] } {
  const problems: string[] = [];
  const edits: HeaderEdit[] = [];
  const data = cm.data !== null && typeof cm.data === 'object' && !Array.isArray(cm.data) ? cm.data : {};
  for (const key of Object.keys(data).sort()) {
    const value: unknown = data[key];
    if (!isHeaderName(key)) {
      problems.push(`key ${show(key)} is not a header name; skipped`);
      continue;
    }
    if (MANAGED.has(key.toLowerCase())) {
      problems.push(`key ${key}: Portico manages ${key} itself; skipped`);
      continue;
    }
    if (typeof value !== 'string' || value.length > MAX_VALUE || unsafeHeaderValue(value)) {
      problems.push(`key ${key}: the value must be text without control characters; skipped`);
      continue;
    }
    if (use !== 'custom-headers') {
      const t = parseTemplate(value);
      if ('error' in t) {
        problems.push(`key ${key}: ${t.error}; skipped`);
        continue;
      }
    }
    edits.push({ op: 'set', name: key, value, ...(use === 'custom-headers' ? { literal: true } : {}) });
  }
  const e = use === '--proxy-set-headers' ? { input: [], upstream: edits, response: [] } : { input: [], upstream: [], response: edits };
  return { policy: policy(use === 'custom-headers' ? 'location' : 'global', from, e), problems };
}
