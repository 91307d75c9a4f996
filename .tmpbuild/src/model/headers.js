/**
 * Header names, values and nginx variable templates, as the header edits of the model carry them
 * (snippets, custom-headers, --add-headers, --proxy-set-headers). Pure: the proxy compiles the
 * templates parsed here once per table and expands them per request (proxy/policies/template.ts).
 */
/** RFC 9110 5.6.2 token: what a header name is made of. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header name: a token of at most 256 characters. */
export const isHeaderName = (s) => s.length <= 256 && TOKEN.test(s);
/** A control byte other than tab: never in a header value (RFC 9110 5.5); CR and LF would split the head. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
export const unsafeHeaderValue = (s) => CONTROL.test(s);
/** Longest header value a template may write literally (expanded values are checked when sent). */
export const MAX_VALUE = 8192;
/**
 * Headers Portico manages itself: framing and hop-by-hop ones. An edit of one could desynchronise
 * a message's framing (Content-Length, Transfer-Encoding) or the connection; it is ignored, with a note.
 */
export const MANAGED = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'content-length', 'http2-settings', 'expect']);
/**
 * The nginx variables a header value may use: those of ingress-nginx manifests in practice.
 * `http_`, `arg_` and `cookie_` take a name: `$http_user_agent` is the User-Agent header.
 */
export const VARIABLES = [
    'request_uri', 'uri', 'document_uri', 'args', 'query_string', 'is_args', 'request_method', 'remote_addr', 'proxy_add_x_forwarded_for',
    'host', 'scheme', 'request_id', 'server_name', 'namespace', 'ingress_name', 'service_name', 'service_port',
];
const NAMED = new Set(VARIABLES);
const PREFIXED = ['http', 'arg', 'cookie'];
const NAME_CHAR = /[A-Za-z0-9_]/;
/**
 * Parses an nginx value with `$name` and `${name}` variables. An unknown variable, a `$` without a
 * name, or a control byte is an error (the message names it). nginx has no escape for `$`.
 */
export function parseTemplate(value) {
    if (value.length > MAX_VALUE)
        return { error: `value longer than ${MAX_VALUE} characters` };
    if (unsafeHeaderValue(value))
        return { error: 'control character in a header value' };
    const parts = [];
    let lit = '';
    let i = 0;
    while (i < value.length) {
        const c = value[i];
        if (c !== '$') {
            lit += c;
            i++;
            continue;
        }
        let name;
        if (value[i + 1] === '{') {
            const close = value.indexOf('}', i + 2);
            if (close === -1)
                return { error: `unterminated \${ in ${JSON.stringify(value)}` };
            name = value.slice(i + 2, close);
            if (!/^[A-Za-z0-9_]+$/.test(name))
                return { error: `invalid variable name \${${name}}` };
            i = close + 1;
        }
        else {
            let j = i + 1;
            while (j < value.length && NAME_CHAR.test(value[j]))
                j++;
            name = value.slice(i + 1, j);
            if (name === '')
                return { error: `"$" without a variable name in ${JSON.stringify(value)} (nginx has no escape for "$")` };
            i = j;
        }
        const lower = name.toLowerCase();
        let part;
        if (NAMED.has(lower))
            part = { v: lower };
        else {
            for (const p of PREFIXED) {
                if (lower.startsWith(`${p}_`) && lower.length > p.length + 1) {
                    const arg = lower.slice(p.length + 1);
                    // $http_x_forwarded_for is the X-Forwarded-For header
                    part = { v: p, arg: p === 'http' ? arg.replace(/_/g, '-') : arg };
                    break;
                }
            }
        }
        if (part === undefined)
            return { error: `variable $${name} is not supported (supported: ${[...VARIABLES, 'http_<name>', 'arg_<name>', 'cookie_<name>'].map((v) => `$${v}`).join(', ')})` };
        if (lit !== '')
            parts.push(lit);
        lit = '';
        parts.push(part);
    }
    if (lit !== '')
        parts.push(lit);
    return { parts };
}
//# sourceMappingURL=headers.js.map