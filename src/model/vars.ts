/**
 * nginx variables in annotation values (auth-url, auth-signin, auth-cache-key): the ones that
 * appear in practice are read, every other `$name` is refused when the table is built. Pure: the
 * proxy expands the parts per request (proxy/auth/template.ts).
 */

/** A piece of a template: literal text, or a variable. */
export type TemplatePart =
  | { readonly text: string }
  /** `http`, `arg` and `cookie` carry the name after the prefix (a header name with `-` for `_`, lower-case). */
  | { readonly var: 'host' | 'scheme' | 'request_uri' | 'escaped_request_uri' | 'request_method' | 'remote_addr' | 'remote_user' }
  | { readonly var: 'http' | 'arg' | 'cookie'; readonly name: string };

const SIMPLE = new Set(['host', 'scheme', 'request_uri', 'escaped_request_uri', 'request_method', 'remote_addr', 'remote_user']);

/** The variables Portico expands, for messages. */
export const KNOWN_VARIABLES = '$host, $scheme, $request_uri, $escaped_request_uri, $request_method, $remote_addr, $remote_user, $http_<header>, $arg_<name>, $cookie_<name>';

/**
 * Splits a value into text and variables as nginx does (`$name` takes the longest run of letters,
 * digits and `_`; `${name}` is braced). Returns an error naming the first variable it cannot read.
 */
export function parseTemplate(value: string): { parts: TemplatePart[] } | { error: string } {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i] as string;
    if (c !== '$') {
      text += c;
      i++;
      continue;
    }
    let name: string;
    if (value[i + 1] === '{') {
      const end = value.indexOf('}', i + 2);
      if (end === -1) return { error: `unclosed "\${" at ${i}` };
      name = value.slice(i + 2, end);
      i = end + 1;
    } else {
      const m = /^[A-Za-z0-9_]+/.exec(value.slice(i + 1));
      name = m === null ? '' : m[0];
      i += 1 + name.length;
    }
    if (!/^[A-Za-z0-9_]+$/.test(name)) return { error: `"$" must start a variable name` };
    const part = variable(name);
    if (part === undefined) return { error: `$${name} is not a variable Portico reads (it reads ${KNOWN_VARIABLES})` };
    if (text !== '') parts.push({ text });
    text = '';
    parts.push(part);
  }
  if (text !== '') parts.push({ text });
  return { parts };
}

function variable(name: string): TemplatePart | undefined {
  if (SIMPLE.has(name)) return { var: name as 'host' };
  const m = /^(http|arg|cookie)_(.+)$/.exec(name);
  if (m === null) return undefined;
  const kind = m[1] as 'http' | 'arg' | 'cookie';
  // nginx: $http_x_foo is the header X-Foo; $arg_ and $cookie_ names are as written
  return { var: kind, name: kind === 'http' ? (m[2] as string).toLowerCase().replaceAll('_', '-') : (m[2] as string) };
}

/** Whether a template has variables (a literal one is used as it is). */
export const hasVariables = (parts: readonly TemplatePart[]): boolean => parts.some((p) => 'var' in p);
