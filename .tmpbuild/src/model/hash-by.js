/**
 * `upstream-hash-by` expressions: literal text and nginx variables (`$var` or `${var}`), read as
 * ingress-nginx's Lua balancer reads them (util.parse_complex_value). Only the variables Portico
 * can compute are accepted: the translator reports any other as a bad value, and the proxy
 * compiles the parts once per table. Pure.
 */
const VARIABLES = new Set(['request_uri', 'uri', 'args', 'query_string', 'remote_addr', 'host', 'scheme', 'request_method']);
/** `${name}` or `$name` (nginx variable names: letters, digits, `_`), or text up to the next `$`. */
const TOKEN = /\$\{([0-9a-zA-Z_]+)\}|\$([0-9a-zA-Z_]+)|(\$|[^$]+)/g;
/** Parses an expression; an error names what cannot be computed. */
export function parseHashBy(expr) {
    if (expr === '')
        return { error: 'the expression is empty' };
    const parts = [];
    for (const m of expr.matchAll(TOKEN)) {
        const name = m[1] ?? m[2];
        if (name === undefined) {
            const text = m[3];
            const last = parts[parts.length - 1];
            if (last?.kind === 'text')
                parts[parts.length - 1] = { kind: 'text', text: last.text + text };
            else
                parts.push({ kind: 'text', text });
            continue;
        }
        const lower = name.toLowerCase();
        if (/^[1-9]$/.test(name))
            parts.push({ kind: 'capture', index: Number(name) });
        else if (VARIABLES.has(lower))
            parts.push({ kind: 'var', name: lower });
        else if (lower.startsWith('arg_') && lower.length > 4)
            parts.push({ kind: 'arg', name: lower.slice(4) });
        else if (lower.startsWith('http_') && lower.length > 5)
            parts.push({ kind: 'http', name: lower.slice(5).replaceAll('_', '-') });
        else if (lower.startsWith('cookie_') && lower.length > 7)
            parts.push({ kind: 'cookie', name: name.slice(7) });
        else
            return { error: `$${name} is not a variable Portico can hash by (use $request_uri, $uri, $args, $remote_addr, $host, $scheme, $request_method, $arg_<name>, $http_<name>, $cookie_<name> or $1-$9)` };
    }
    if (!parts.some((p) => p.kind !== 'text'))
        return { error: 'the expression names no variable, so every request would go to one endpoint' };
    return { parts };
}
//# sourceMappingURL=hash-by.js.map