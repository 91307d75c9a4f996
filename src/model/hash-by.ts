/**
 * `upstream-hash-by` expressions: literal text and nginx variables (`$var` or `${var}`), read as
 * ingress-nginx's Lua balancer reads them (util.parse_complex_value). Only the variables Portico
 * can compute are accepted: the translator reports any other as a bad value, and the proxy
 * compiles the parts once per table. Pure.
 */

/** A variable whose value comes from the request as a whole. */
export type HashVariable = 'request_uri' | 'uri' | 'args' | 'query_string' | 'remote_addr' | 'host' | 'scheme' | 'request_method';

/** One piece of a key: text, a request variable, a query argument, a header, a cookie, or a capture of a Regex path. */
export type HashPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'var'; readonly name: HashVariable }
  /** `$arg_<name>`: the raw value of the first query argument of that name (case-insensitive, as nginx). */
  | { readonly kind: 'arg'; readonly name: string }
  /** `$http_<name>`: a request header, `_` read as `-`. */
  | { readonly kind: 'http'; readonly name: string }
  /** `$cookie_<name>`. */
  | { readonly kind: 'cookie'; readonly name: string }
  /** `$1`...`$9`: a capture group of the route's Regex path ('' without one). */
  | { readonly kind: 'capture'; readonly index: number };

const VARIABLES: ReadonlySet<string> = new Set<HashVariable>(['request_uri', 'uri', 'args', 'query_string', 'remote_addr', 'host', 'scheme', 'request_method']);

/** `${name}` or `$name` (nginx variable names: letters, digits, `_`), or text up to the next `$`. */
const TOKEN = /\$\{([0-9a-zA-Z_]+)\}|\$([0-9a-zA-Z_]+)|(\$|[^$]+)/g;

/** Parses an expression; an error names what cannot be computed. */
export function parseHashBy(expr: string): { parts: HashPart[] } | { error: string } {
  if (expr === '') return { error: 'the expression is empty' };
  const parts: HashPart[] = [];
  for (const m of expr.matchAll(TOKEN)) {
    const name = m[1] ?? m[2];
    if (name === undefined) {
      const text = m[3] as string;
      const last = parts[parts.length - 1];
      if (last?.kind === 'text') parts[parts.length - 1] = { kind: 'text', text: last.text + text };
      else parts.push({ kind: 'text', text });
      continue;
    }
    const lower = name.toLowerCase();
    if (/^[1-9]$/.test(name)) parts.push({ kind: 'capture', index: Number(name) });
    else if (VARIABLES.has(lower)) parts.push({ kind: 'var', name: lower as HashVariable });
    else if (lower.startsWith('arg_') && lower.length > 4) parts.push({ kind: 'arg', name: lower.slice(4) });
    else if (lower.startsWith('http_') && lower.length > 5) parts.push({ kind: 'http', name: lower.slice(5).replaceAll('_', '-') });
    else if (lower.startsWith('cookie_') && lower.length > 7) parts.push({ kind: 'cookie', name: name.slice(7) });
    else return { error: `$${name} is not a variable Portico can hash by (use $request_uri, $uri, $args, $remote_addr, $host, $scheme, $request_method, $arg_<name>, $http_<name>, $cookie_<name> or $1-$9)` };
  }
  if (!parts.some((p) => p.kind !== 'text')) return { error: 'the expression names no variable, so every request would go to one endpoint' };
  return { parts };
}
