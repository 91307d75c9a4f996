/**
 * Parses Kubernetes YAML or JSON text (multi-document, `kind: List` expanded) into objects.
 * Never throws: a document that cannot be read becomes an error naming its position.
 */
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../model/k8s.js';

export interface Parsed {
  readonly objects: readonly KubeObject[];
  readonly errors: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses one file's text. `errors` name the document (1-based) and, where YAML knows it, the line. */
export function parseManifests(text: string): Parsed {
  const objects: KubeObject[] = [];
  const errors: string[] = [];
  let docs;
  try {
    docs = parseAllDocuments(text, { prettyErrors: true });
  } catch (err) {
    return { objects, errors: [(err as Error).message] };
  }
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const first = doc.errors[0];
    if (first) {
      errors.push(`document ${i + 1}: ${first.message.split('\n')[0]}`);
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      errors.push(`document ${i + 1}: ${(err as Error).message}`);
      return;
    }
    if (value === null || value === undefined) return; // empty document, e.g. a trailing '---'
    const items = isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items) ? value.items : [value];
    for (const item of items) {
      if (!isRecord(item) || typeof item.kind !== 'string') {
        errors.push(`document ${i + 1}: not a Kubernetes object (no "kind")`);
        continue;
      }
      objects.push(item as KubeObject);
    }
  });
  return { objects, errors };
}
