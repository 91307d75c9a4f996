/**
 * nginx variables in header values, compiled once per table (model/headers.ts parses them, the
 * readers are proxy/nginx-vars.ts) and expanded per request. A literal value costs nothing; an
 * expanded value with a control byte is never written (the edit is skipped).
 */
import { parseTemplate, unsafeHeaderValue } from '../../model/headers.js';
import { compileVars, type VarRequest } from '../nginx-vars.js';

/** A compiled value: a constant, or a function of the request. */
export type Value = string | ((r: VarRequest) => string);

/** Compiles a value (checked when the table was built; anything unparsable here is the empty string). */
export function compileValue(value: string, literal = false): Value {
  if (literal) return value;
  const t = parseTemplate(value);
  return 'error' in t ? '' : compileVars(t.parts);
}

/** Expands a compiled value; null when the result cannot be a header value. */
export function expand(v: Value, r: VarRequest): string | null {
  if (typeof v === 'string') return v;
  const s = v(r);
  return unsafeHeaderValue(s) ? null : s;
}
