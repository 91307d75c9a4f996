/**
 * Header edits (the model's `headerDirectives` policies: snippets, custom-headers, --add-headers,
 * --proxy-set-headers), compiled once per table into a request policy and response editors.
 * They combine as nginx combines the directives they come from, by where each would have been
 * written (its scope: http = global, server, location):
 * - more_set_headers / more_clear_headers and the input-header directives accumulate, outer
 *   scopes first (headers-more merges them so), later ones winning a name;
 * - add_header and proxy_hide_header apply from the innermost scope that has any (nginx inherits
 *   them only into a level without its own);
 * - proxy_set_header: the location's (a server-snippet's never reach a location; model/ingress/snippet.ts).
 * Response order: proxy_hide_header (pods' answers only), then the more_* edits, then add_header
 * (200, 201, 204, 206, 301, 302, 303, 304, 307, 308 only, unless `always`).
 */
import type { HeaderEdit, HeaderDirectivesPolicy } from '../../model/types.js';
import { errorBody } from '../errors.js';
import { dropHeader } from '../headers.js';
import { compileValue, expand, type Value } from './template.js';
import { Verdict, type PolicyExchange, type RequestPolicy, type ResponsePolicy } from './types.js';

/** The statuses nginx's add_header writes to without `always`. */
export const ADD_STATUSES: ReadonlySet<number> = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);

/** One edit, compiled. */
interface Edit {
  readonly op: HeaderEdit['op'];
  /** Lower-case name; for a wildcard clear, the prefix. */
  readonly lower: string;
  readonly prefix: boolean;
  readonly name: string;
  readonly value: Value;
  readonly statuses: ReadonlySet<number> | null;
  readonly types: readonly string[] | null;
  readonly always: boolean;
  readonly existing: boolean;
}

function compileEdit(e: HeaderEdit): Edit {
  const prefix = e.op === 'clear' && e.name.length > 1 && e.name.endsWith('*');
  const name = prefix ? e.name.slice(0, -1) : e.name;
  return {
    op: e.op,
    name,
    lower: name.toLowerCase(),
    prefix,
    value: e.value === undefined ? '' : compileValue(e.value, e.literal === true),
    statuses: e.statuses === undefined ? null : new Set(e.statuses),
    types: e.types ?? null,
    always: e.always === true,
    existing: e.existing === true,
  };
}

/** The media type of a Content-Type value: lower-case, without parameters. */
const mediaType = (v: string | undefined): string => (v === undefined ? '' : (v.split(';')[0] as string).trim().toLowerCase());

/** Removes the headers an edit names from a flat list. */
const remove = (h: string[], e: Edit): boolean => dropHeader(h, e.lower, e.prefix);

function contentType(h: readonly string[]): string {
  for (let i = 0; i < h.length; i += 2) if ((h[i] as string).length === 12 && (h[i] as string).toLowerCase() === 'content-type') return mediaType(h[i + 1]);
  return '';
}

/** A compiled response editor over a list of edits already in application order. */
function responseEditor(more: readonly Edit[], add: readonly Edit[], hide: readonly Edit[]): ResponsePolicy | null {
  if (more.length + add.length + hide.length === 0) return null;
  const typed = more.some((e) => e.types !== null);
  return {
    edit(status, h, ex, proxied) {
      if (proxied) for (const e of hide) remove(h, e);
      const type = typed ? contentType(h) : '';
      for (const e of more) {
        if (e.statuses !== null && !e.statuses.has(status)) continue;
        if (e.types !== null && !e.types.includes(type)) continue;
        if (e.op === 'clear') {
          remove(h, e);
          continue;
        }
        const v = expand(e.value, ex);
        if (v === null) continue;
        remove(h, e);
        if (v !== '') h.push(e.name, v);
      }
      for (const e of add) {
        if (!e.always && !ADD_STATUSES.has(status)) continue;
        const v = expand(e.value, ex);
        if (v !== null && v !== '') h.push(e.name, v);
      }
    },
  };
}

/** A route's header edits, compiled. */
export interface HeaderPlan {
  /** Input and upstream request edits (a request policy in the fixed order), or null. */
  readonly request: RequestPolicy | null;
  /** Response edits of every scope, or null. */
  readonly response: ResponsePolicy | null;
  /** Response edits of the server and global scopes: what an error page's answer gets (nginx serves it from another location). */
  readonly outer: ResponsePolicy | null;
}

const NONE: HeaderPlan = { request: null, response: null, outer: null };

/** Edits of one scope order, split by kind. */
function byScope(ps: readonly HeaderDirectivesPolicy[], scope: HeaderDirectivesPolicy['scope']): HeaderDirectivesPolicy[] {
  return ps.filter((p) => p.scope === scope);
}
const flat = (ps: readonly HeaderDirectivesPolicy[], list: 'input' | 'upstream' | 'response', ops: readonly HeaderEdit['op'][]): Edit[] => ps.flatMap((p) => p[list].filter((e) => ops.includes(e.op)).map(compileEdit));
/** add_header / proxy_hide_header: the innermost scope that has any. */
function innermost(scopes: readonly (readonly HeaderDirectivesPolicy[])[], op: 'add' | 'hide'): Edit[] {
  for (const ps of scopes) {
    const edits = flat(ps, 'response', [op]);
    if (edits.length > 0) return edits;
  }
  return [];
}

/** Compiles the `headerDirectives` policies of one route. */
export function compileHeaders(policies: readonly HeaderDirectivesPolicy[]): HeaderPlan {
  if (policies.length === 0) return NONE;
  const g = byScope(policies, 'global');
  const s = byScope(policies, 'server');
  const l = byScope(policies, 'location');
  const input = flat([...g, ...s, ...l], 'input', ['set', 'clear']);
  const upstream = flat([...g, ...l], 'upstream', ['set']);
  const response = responseEditor(flat([...g, ...s, ...l], 'response', ['set', 'clear']), innermost([l, s, g], 'add'), innermost([l, s, g], 'hide'));
  const outer = responseEditor(flat([...g, ...s], 'response', ['set', 'clear']), innermost([s, g], 'add'), innermost([s, g], 'hide'));
  return { request: input.length + upstream.length === 0 ? null : requestEdits(input, upstream), response, outer };
}

/** Applies the request edits: client header edits (as more_set_input_headers, so later variables see them), then the upstream headers. */
function applyRequest(ex: PolicyExchange, input: readonly Edit[], upstream: readonly Edit[], typed: boolean): void {
  const type = typed ? mediaType(ex.header('content-type')) : '';
  for (const e of input) {
    if (e.types !== null && !e.types.includes(type)) continue;
    if (e.op === 'clear') {
      ex.removeRequestHeader(e.prefix ? e.lower : e.name, e.prefix);
      continue;
    }
    const v = expand(e.value, ex);
    if (v === null) continue;
    if (v === '') ex.removeRequestHeader(e.name);
    else ex.setRequestHeader(e.name, v, e.existing);
  }
  for (const e of upstream) {
    const v = expand(e.value, ex);
    if (v === null) continue;
    // nginx: an empty proxy_set_header value means the header is not sent
    if (v === '') ex.removeUpstreamHeader(e.name);
    else ex.setUpstreamHeader(e.name, v);
  }
}

/** The request policy; it never throws (the data path must not), and an edit it cannot make answers 500, never left out. */
function requestEdits(input: readonly Edit[], upstream: readonly Edit[]): RequestPolicy {
  const typed = input.some((e) => e.types !== null);
  return {
    run(ex: PolicyExchange): Verdict {
      try {
        applyRequest(ex, input, upstream, typed);
      } catch {
        // not reached by the edits Portico compiles; an edit left out could open what it closes
        ex.answer(500, errorBody(500, "the route's header edits could not be applied"), 'text/plain; charset=utf-8', 'policy_error');
        return Verdict.Answered;
      }
      return Verdict.Continue;
    },
  };
}
