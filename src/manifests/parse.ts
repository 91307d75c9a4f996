/**
 * Parses Kubernetes YAML or JSON text (multi-document, `kind: List` expanded) into objects.
 * Never throws: what cannot be read is a problem naming its line, and the rest is still read.
 *
 * One parser, js-yaml, with YAML 1.2's core schema (no timestamps, no merge keys, no `0b101`
 * integers, unique keys). It reads 10,000 Ingresses with their Services and EndpointSlices (16 MB)
 * about 12x faster than `yaml` did (0.67 s against 7.8 s), which is most of a cold start from files.
 * The whole text is read at once; only when that fails is it split at its document markers and
 * read document by document, so one broken document costs only itself, with its line and column.
 *
 * Aliases: js-yaml shares an aliased node instead of copying it, so a "billion laughs" document
 * costs no memory to parse, but any walk of it (the translator's) would never end. A document
 * whose aliases would expand past {@link ALIAS_EXPANSION_LIMIT} nodes is refused.
 */
import * as jsYaml from 'js-yaml';
import { FAILSAFE_SCHEMA, Type, YAMLException, load, loadAll, type LoadOptions } from 'js-yaml';
import type { KubeObject } from '../model/k8s.js';
import type { Diagnostic } from '../model/types.js';
import { checkKind, type ManifestReason } from './kinds.js';

/** One thing in a file that could not be read. */
export interface ManifestProblem {
  readonly reason: ManifestReason;
  /** 1-based line in the file (of the problem, or of the document it is in); absent for a file that cannot be read. */
  readonly line?: number;
  /** 1-based column, for a syntax error. */
  readonly column?: number;
  /** The whole problem: where it is, what the parser said, and for a syntax error the offending line. */
  readonly message: string;
}

export interface Parsed {
  /** Every readable object (also kinds Portico leaves to other controllers). */
  readonly objects: readonly KubeObject[];
  readonly problems: readonly ManifestProblem[];
}

/** How many nodes a document's aliases may add when expanded (beyond the document's own nodes). */
export const ALIAS_EXPANSION_LIMIT = 100_000;

/** js-yaml's built-in types (exported; @types/js-yaml does not declare them). */
const { types } = jsYaml as unknown as { types: Record<'null' | 'bool' | 'int' | 'float', Type> };

/** YAML 1.2 core integers: js-yaml's, less the YAML 1.1 binary form (`0b101` stays a string). */
const coreInt = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (data: string) => types.int.resolve(data) && !/^[-+]?0b/.test(data),
  construct: (data: string) => types.int.construct(data),
  predicate: (v: object) => types.int.predicate?.(v) ?? false,
});
const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [types.null, types.bool, coreInt, types.float] });
const OPTIONS: LoadOptions = { schema: SCHEMA };

/** An alias (`*a`) where a node can start; a false positive costs one walk of the document. */
const ALIAS = /(?:^|[\s[{,:-])\*[^\s,[\]{}]/;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses one file's text. */
export function parseManifests(text: string): Parsed {
  let values: unknown[] | null = null;
  try {
    values = loadAll(text, null, OPTIONS);
  } catch {
    values = null; // read again document by document, below
  }
  if (values !== null) {
    const out: Out = { objects: [], problems: [] };
    const aliased = ALIAS.test(text);
    values.forEach((v, i) => read(v, { number: i + 1, line: 1 }, aliased, out));
    // a problem is reported with its document's line, which only the per-document reading knows
    if (out.problems.length === 0) return out;
  }
  return parseByDocument(text);
}

/** The problems of one file as diagnostics (shown with the translator's, and in `/debug/routes`). */
export function fileDiagnostics(file: string, problems: readonly ManifestProblem[]): Diagnostic[] {
  return problems.map((p) => ({ source: { kind: 'File', namespace: '', name: file }, reason: p.reason, message: p.message }));
}

interface Out {
  objects: KubeObject[];
  problems: ManifestProblem[];
}

/** A document of the text: its number (1-based), and the line (1-based) where its content starts. */
interface Doc {
  readonly number: number;
  readonly line: number;
}

/** Reads each document on its own: a syntax error costs only its document. */
function parseByDocument(text: string): Parsed {
  const lines = text.split('\n');
  const out: Out = { objects: [], problems: [] };
  for (const d of documents(lines)) {
    let value: unknown;
    try {
      value = load(d.text, OPTIONS);
    } catch (err) {
      out.problems.push(syntaxProblem(err, d, lines));
      continue;
    }
    read(value, d, ALIAS.test(d.text), out);
  }
  return out;
}

/** The problem js-yaml reports, placed in the whole file, with the offending line. */
function syntaxProblem(err: unknown, d: Doc & { readonly start: number }, lines: readonly string[]): ManifestProblem {
  if (!(err instanceof YAMLException) || err.mark === undefined) {
    return { reason: 'InvalidManifest', line: d.line, message: `document ${d.number} (line ${d.line}): ${(err as Error).message}` };
  }
  const line = d.start + err.mark.line + 1;
  const column = err.mark.column + 1;
  const shown = (n: number): string => JSON.stringify((lines[n - 1] ?? '').replace(/\r$/, ''));
  let offending = `: ${shown(line)}`;
  if (lines.slice(line - 1).every((l) => BLANK.test(l))) {
    // at the end of the text (an unclosed bracket or quote): the last line with content says more
    let last = line - 1;
    while (last > 0 && BLANK.test(lines[last - 1]!)) last--;
    offending = last > 0 ? ` (at the end of the file; its last line, ${last}: ${shown(last)})` : ' (at the end of the file)';
  }
  return { reason: 'InvalidManifest', line, column, message: `line ${line}, column ${column}: ${err.reason}${offending}` };
}

const MARKER = /^(?:---|\.\.\.)(?:[ \t\r]|$)/;
const BLANK = /^[ \t\r]*(?:#.*)?$/;

/**
 * The documents of a YAML stream, split at its markers (`---` starts one, `...` ends one). No
 * content may begin with either at column 0 (YAML 1.2, 9.1.3), so this split is exact. Text before
 * the first `---` and after a `...` is a document only if it has content; directives (`%YAML`)
 * go with the document they precede.
 */
function documents(lines: readonly string[]): (Doc & { readonly start: number; readonly text: string })[] {
  const out: (Doc & { start: number; text: string })[] = [];
  let start = 0;
  let explicit = false;
  const close = (end: number): void => {
    const body = lines.slice(start, end);
    const first = body.findIndex((l) => !l.startsWith('%') && !BLANK.test(MARKER.test(l) ? l.slice(3) : l));
    if (explicit || first >= 0) out.push({ number: out.length + 1, start, line: start + 1 + Math.max(first, 0), text: body.join('\n') });
  };
  let directives = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.startsWith('%')) {
      if (directives < 0) directives = i;
      continue;
    }
    if (l.startsWith('---') && MARKER.test(l)) {
      const at = directives >= 0 ? directives : i;
      close(at);
      start = at;
      explicit = true;
    } else if (l.startsWith('...') && MARKER.test(l)) {
      close(i + 1);
      start = i + 1;
      explicit = false;
    }
    if (!BLANK.test(l)) directives = -1;
  }
  close(lines.length);
  return out;
}

/** One document's value: an object, a `kind: List` of them, or nothing (an empty document). */
function read(value: unknown, d: Doc, aliased: boolean, out: Out): void {
  if (value === null || value === undefined) return; // empty document, e.g. a trailing '---'
  const where = `document ${d.number} (line ${d.line})`;
  if (aliased) {
    const extra = aliasExpansion(value);
    if (extra > ALIAS_EXPANSION_LIMIT) {
      out.problems.push({ reason: 'InvalidManifest', line: d.line, message: `${where}: its aliases expand to more than ${ALIAS_EXPANSION_LIMIT} nodes (a "billion laughs" document?); write the repeated parts out, or alias less` });
      return;
    }
  }
  const list = isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
  const items: unknown[] = list ? (value.items as unknown[]) : [value];
  items.forEach((item, k) => {
    const at = list ? `${where}, item ${k + 1}` : where;
    if (!isRecord(item) || typeof item.kind !== 'string') {
      out.problems.push({ reason: 'InvalidManifest', line: d.line, message: `${at}: not a Kubernetes object (no "kind")` });
      return;
    }
    const problem = checkKind(item as KubeObject);
    if (problem !== null) out.problems.push({ reason: problem.reason, line: d.line, message: `${at}: ${problem.message}` });
    else out.objects.push(item as KubeObject);
  });
}

/**
 * How many nodes `value`'s aliases add when expanded: its size as a tree less its size as a graph
 * (shared nodes once). Counted with a memo per node, so a bomb costs its own size, not its expansion.
 */
export function aliasExpansion(value: unknown): number {
  const sizes = new Map<object, number>();
  let unique = 0;
  const cap = Number.MAX_SAFE_INTEGER / 2;
  const size = (v: unknown): number => {
    if (typeof v !== 'object' || v === null) return 1;
    const known = sizes.get(v);
    if (known !== undefined) return known;
    sizes.set(v, cap); // a cycle (js-yaml makes none) would count as unbounded
    unique++;
    let n = 1;
    for (const c of Array.isArray(v) ? v : Object.values(v)) {
      if (typeof c !== 'object' || c === null) unique++;
      n = Math.min(cap, n + size(c));
    }
    sizes.set(v, n);
    return n;
  };
  return size(value) - Math.max(unique, 1);
}
