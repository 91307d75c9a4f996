/**
 * Parses Kubernetes YAML or JSON text (multi-document, `kind: List` expanded) into objects.
 * Never throws: a document that cannot be read becomes an error naming its position.
 *
 * Two parsers, one meaning (YAML 1.2 core schema: no timestamps, no merge keys, unique keys;
 * they differ only in the sign of a negative zero):
 * js-yaml reads the common case about 12x faster (10,000 Ingresses with their Services and
 * EndpointSlices, 16 MB: 0.67 s against 7.8 s), which is most of a cold start from files. Text
 * with an anchor or alias, or that js-yaml rejects, goes to `yaml`, which bounds alias expansion
 * (a "billion laughs" file) and names the failing document and line.
 */
import { CORE_SCHEMA, loadAll } from 'js-yaml';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../model/k8s.js';

export interface Parsed {
  readonly objects: readonly KubeObject[];
  readonly errors: readonly string[];
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Text the quick parser must not read: an anchor (`&a`) or alias (`*a`) where a node can start,
 * or a `0b101` scalar (an integer to js-yaml, a string in YAML 1.2). A false positive costs speed.
 */
const CAREFUL_ONLY = /(?:^|[\s[{,:-])(?:[&*][^\s,[\]{}]|[-+]?0b[01])/;

/** Parses one file's text. `errors` name the document (1-based) and, where YAML knows it, the line. */
export function parseManifests(text: string): Parsed {
  return parseQuickly(text) ?? parseCarefully(text);
}

/** js-yaml, when it can be trusted with the text and finds no problem; else null. */
export function parseQuickly(text: string): Parsed | null {
  if (!CAREFUL_ONLY.test(text)) {
    let values: unknown[] | null = null;
    try {
      values = loadAll(text, null, { schema: CORE_SCHEMA });
    } catch {
      values = null; // the careful parser below says precisely what is wrong
    }
    if (values !== null) {
      const objects: KubeObject[] = [];
      const errors: string[] = [];
      values.forEach((v, i) => collect(v, i, objects, errors));
      // a problem is reported by the careful parser, which numbers documents as it always has
      if (errors.length === 0) return { objects, errors };
    }
  }
  return null;
}

function collect(value: unknown, i: number, objects: KubeObject[], errors: string[]): void {
  if (value === null || value === undefined) return; // empty document, e.g. a trailing '---'
  const items = isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items) ? value.items : [value];
  for (const item of items) {
    if (!isRecord(item) || typeof item.kind !== 'string') {
      errors.push(`document ${i + 1}: not a Kubernetes object (no "kind")`);
      continue;
    }
    objects.push(item as KubeObject);
  }
}

/** `yaml`, with bounded aliases and precise errors. */
export function parseCarefully(text: string): Parsed {
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
    collect(value, i, objects, errors);
  });
  return { objects, errors };
}
