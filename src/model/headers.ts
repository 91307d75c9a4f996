/**
 * Header names, values and nginx variable templates, as the header edits of the model carry them
 * (snippets, custom-headers, --add-headers, --proxy-set-headers). Pure: the proxy compiles the
 * templates parsed here once per table and expands them per request (proxy/policies/template.ts).
 */
import { HEADER_VARIABLES, parseVars, type VarPart } from './nginx-vars.js';

/** RFC 9110 5.6.2 token: what a header name is made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A header name: a token of at most 256 characters. */
export const isHeaderName = (s: string): boolean => s.length <= 256 && TOKEN.test(s);

/** A control byte other than tab: never in a header value (RFC 9110 5.5); CR and LF would split the head. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
export const unsafeHeaderValue = (s: string): boolean => CONTROL.test(s);

/** Longest header value a template may write literally (expanded values are checked when sent). */
export const MAX_VALUE = 8192;

/**
 * Headers Portico manages itself: framing and hop-by-hop ones. An edit of one could desynchronise
 * a message's framing (Content-Length, Transfer-Encoding) or the connection; it is ignored, with a note.
 */
export const MANAGED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'http2-settings', 'expect']);

/** Parses a header value with nginx variables ({@link HEADER_VARIABLES}); too long a value or a control byte is an error too. */
export function parseTemplate(value: string): { readonly parts: readonly VarPart[] } | { readonly error: string } {
  if (value.length > MAX_VALUE) return { error: `value longer than ${MAX_VALUE} characters` };
  if (unsafeHeaderValue(value)) return { error: 'control character in a header value' };
  return parseVars(value, HEADER_VARIABLES);
}
