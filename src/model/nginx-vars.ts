/**
 * nginx variables in annotation values: one grammar for every place that takes them (auth-url,
 * auth-signin and auth-cache-key; header edits, snippets, proxy-redirect and proxy-cookie values;
 * upstream-hash-by). Each place reads its own set of variables ({@link VarContext}); any other is
 * refused when the table is built, with that place's message. Pure: the proxy compiles the parts
 * once per table and reads the variables per request (proxy/nginx-vars.ts).
 *
 * The grammar is nginx's (ngx_http_script_compile): `$name` takes the longest run of letters,
 * digits and `_`; `${name}` is braced; `$1`-`$9` is one digit, a capture of the route's regex;
 * nothing escapes a `$`. Variable names are case-insensitive (nginx lower-cases them).
 */

/** The variables without an argument that some place reads. */
export type NamedVariable =
  | 'host' | 'scheme' | 'request_uri' | 'escaped_request_uri' | 'uri' | 'document_uri' | 'args' | 'query_string' | 'is_args'
  | 'request_method' | 'remote_addr' | 'remote_user' | 'proxy_add_x_forwarded_for' | 'request_id'
  | 'server_name' | 'namespace' | 'ingress_name' | 'service_name' | 'service_port';

/** `$http_<name>`, `$arg_<name>`, `$cookie_<name>`. */
export type PrefixedVariable = 'http' | 'arg' | 'cookie';

/** A piece of a value: literal text, a variable, or a capture of the route's regex. */
export type VarPart =
  | { readonly text: string }
  | { readonly var: NamedVariable }
  /** `name` is lower-case; for `http`, a header name (`$http_x_team` is X-Team: `_` read as `-`). */
  | { readonly var: PrefixedVariable; readonly name: string }
  /** `$1`...`$9`. */
  | { readonly var: 'capture'; readonly index: number };

/** What one place reads, and how it refuses the rest. */
export interface VarContext {
  /** The named variables it reads. */
  readonly named: ReadonlySet<NamedVariable>;
  /** The prefixed variables it reads. */
  readonly prefixed: ReadonlySet<PrefixedVariable>;
  /** Whether it reads `$1`-`$9`. */
  readonly captures: boolean;
  /** The error for a variable it does not read (`name` as written, without the `$`). */
  refuse(name: string): string;
}

const ALL_PREFIXED: ReadonlySet<PrefixedVariable> = new Set(['http', 'arg', 'cookie']);

/** auth-url, auth-signin, auth-cache-key: what ingress-nginx's auth examples use. */
export const AUTH_VARIABLES: VarContext = {
  named: new Set(['host', 'scheme', 'request_uri', 'escaped_request_uri', 'request_method', 'remote_addr', 'remote_user']),
  prefixed: ALL_PREFIXED,
  captures: false,
  refuse: (name) =>
    `$${name} is not a variable Portico reads (it reads $host, $scheme, $request_uri, $escaped_request_uri, $request_method, $remote_addr, $remote_user, $http_<header>, $arg_<name>, $cookie_<name>)`,
};

const HEADER_NAMED = [
  'request_uri', 'uri', 'document_uri', 'args', 'query_string', 'is_args', 'request_method', 'remote_addr', 'proxy_add_x_forwarded_for',
  'host', 'scheme', 'request_id', 'server_name', 'namespace', 'ingress_name', 'service_name', 'service_port',
] as const satisfies readonly NamedVariable[];

/** Header values (snippets, custom-headers, --add-headers, --proxy-set-headers), proxy-redirect and proxy-cookie: those of ingress-nginx manifests in practice. */
export const HEADER_VARIABLES: VarContext = {
  named: new Set(HEADER_NAMED),
  prefixed: ALL_PREFIXED,
  captures: false,
  refuse: (name) => `variable $${name} is not supported (supported: ${[...HEADER_NAMED, 'http_<name>', 'arg_<name>', 'cookie_<name>'].map((v) => `$${v}`).join(', ')})`,
};

/** upstream-hash-by: what ingress-nginx's Lua balancer can hash by and Portico computes. */
export const HASH_VARIABLES: VarContext = {
  named: new Set(['request_uri', 'uri', 'args', 'query_string', 'remote_addr', 'host', 'scheme', 'request_method']),
  prefixed: ALL_PREFIXED,
  captures: true,
  refuse: (name) =>
    `$${name} is not a variable Portico can hash by (use $request_uri, $uri, $args, $remote_addr, $host, $scheme, $request_method, $arg_<name>, $http_<name>, $cookie_<name> or $1-$9)`,
};

const NAMED: ReadonlySet<string> = new Set<NamedVariable>([...HEADER_NAMED, 'escaped_request_uri', 'remote_user']);

const isNameChar = (c: number): boolean => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;

/** Splits a value into text and variables; an error names the first thing it cannot read. */
export function parseVars(value: string, ctx: VarContext): { readonly parts: readonly VarPart[] } | { readonly error: string } {
  const parts: VarPart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i] as string;
    if (c !== '$') {
      text += c;
      i++;
      continue;
    }
    let written: string;
    let part: VarPart | undefined;
    const next = value.charCodeAt(i + 1);
    if (next >= 0x31 && next <= 0x39) {
      written = value[i + 1] as string;
      part = { var: 'capture', index: next - 0x30 };
      i += 2;
    } else {
      const braced = next === 0x7b; /* { */
      const start = braced ? i + 2 : i + 1;
      let j = start;
      while (j < value.length && isNameChar(value.charCodeAt(j))) j++;
      if (braced && value[j] !== '}') return { error: `unclosed "\${" at ${i}` };
      written = value.slice(start, j);
      if (written === '') return { error: '"$" must start a variable name' };
      i = braced ? j + 1 : j;
      part = variable(written, braced);
    }
    if (part === undefined || !reads(ctx, part)) return { error: ctx.refuse(written) };
    if (text !== '') parts.push({ text });
    text = '';
    parts.push(part);
  }
  if (text !== '') parts.push({ text });
  return { parts };
}

function variable(written: string, braced: boolean): VarPart | undefined {
  const name = written.toLowerCase();
  // ${1} is a capture too, as ingress-nginx's Lua reads it (nginx's own $1 is one digit)
  if (braced && /^[1-9]$/.test(name)) return { var: 'capture', index: Number(name) };
  if (NAMED.has(name)) return { var: name as NamedVariable };
  const u = name.indexOf('_');
  const prefix = name.slice(0, u);
  if (u === -1 || u === name.length - 1 || !ALL_PREFIXED.has(prefix as PrefixedVariable)) return undefined;
  const arg = name.slice(u + 1);
  return { var: prefix as PrefixedVariable, name: prefix === 'http' ? arg.replaceAll('_', '-') : arg };
}

function reads(ctx: VarContext, p: VarPart): boolean {
  if (!('var' in p)) return true;
  if (p.var === 'capture') return ctx.captures;
  return 'name' in p ? ctx.prefixed.has(p.var) : ctx.named.has(p.var);
}

/** Whether parts have variables (a value without is used as it is). */
export const hasVariables = (parts: readonly VarPart[]): boolean => parts.some((p) => 'var' in p);

/** An upstream-hash-by expression: variables as {@link parseVars} reads them, and at least one (a constant key sends every request to one endpoint). */
export function parseHashBy(expr: string): { readonly parts: readonly VarPart[] } | { readonly error: string } {
  if (expr === '') return { error: 'the expression is empty' };
  const t = parseVars(expr, HASH_VARIABLES);
  if ('parts' in t && !hasVariables(t.parts)) return { error: 'the expression names no variable, so every request would go to one endpoint' };
  return t;
}
