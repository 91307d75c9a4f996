import { isHeaderName, MANAGED, parseTemplate } from '../headers.js';
/** The longest snippet read (ingress-nginx has no limit; a header snippet is a few hundred bytes). */
export const MAX_SNIPPET = 64 * 1024;
/**
 * Splits nginx configuration text into directives, as nginx's own reader does for what it accepts
 * here: whitespace separates arguments, `;` ends a directive, `#` at the start of a word comments
 * to the end of the line, "..." and '...' quote, and a backslash escapes the next character
 * (`\"`, `\'`, `\\`, `\t`, `\r`, `\n` are replaced; any other pair is kept as written). Blocks
 * (`{`, except in `${var}`) and control characters are errors. Returns the directives or why not.
 */
export function tokenize(text) {
    if (text.length > MAX_SNIPPET)
        return { error: `longer than ${MAX_SNIPPET} characters` };
    const directives = [];
    let args = [];
    let first = 0;
    let line = 1;
    let i = 0;
    const n = text.length;
    const at = () => `line ${line}`;
    while (i < n) {
        const c = text[i];
        const code = c.charCodeAt(0);
        if (c === '\n') {
            line++;
            i++;
            continue;
        }
        if (c === ' ' || c === '\t' || c === '\r') {
            i++;
            continue;
        }
        if (code < 32 || code === 127)
            return { error: `control character (0x${code.toString(16).padStart(2, '0')}) at ${at()}` };
        if (c === '#') {
            while (i < n && text[i] !== '\n') {
                const k = text.charCodeAt(i);
                if ((k < 32 && k !== 9) || k === 127)
                    return { error: `control character in a comment at ${at()}` };
                i++;
            }
            continue;
        }
        if (c === ';') {
            if (args.length === 0)
                return { error: `unexpected ";" at ${at()}` };
            const [name, ...rest] = args;
            directives.push({ name, args: rest, line: first });
            args = [];
            i++;
            continue;
        }
        if (c === '{' || c === '}')
            return { error: `unexpected "${c}" at ${at()}: blocks are not supported` };
        if (args.length === 0)
            first = line;
        if (c === '"' || c === "'") {
            // a quoted word: up to the same unescaped quote; then whitespace or ";" must follow
            let word = '';
            let j = i + 1;
            for (;;) {
                if (j >= n)
                    return { error: `unterminated ${c === '"' ? 'double' : 'single'}-quoted string starting at ${at()}` };
                const d = text[j];
                if (d === c)
                    break;
                if (d === '\\' && j + 1 < n) {
                    word += unescape(text[j + 1]);
                    j += 2;
                    continue;
                }
                if (d === '\n')
                    line++;
                word += d;
                j++;
            }
            const next = text[j + 1];
            if (next !== undefined && next !== ' ' && next !== '\t' && next !== '\r' && next !== '\n' && next !== ';') {
                return { error: `unexpected ${JSON.stringify(next)} after a quoted string at ${at()}` };
            }
            args.push(word);
            i = j + 1;
            continue;
        }
        // an unquoted word: up to whitespace or ";"
        let word = '';
        let j = i;
        while (j < n) {
            const d = text[j];
            if (d === ' ' || d === '\t' || d === '\r' || d === '\n' || d === ';')
                break;
            const k = d.charCodeAt(0);
            if (k < 32 || k === 127)
                return { error: `control character (0x${k.toString(16).padStart(2, '0')}) at ${at()}` };
            if (d === '{' && text[j - 1] !== '$')
                return { error: `unexpected "{" at ${at()}: blocks are not supported` };
            if (d === '\\' && j + 1 < n) {
                word += unescape(text[j + 1]);
                j += 2;
                continue;
            }
            word += d;
            j++;
        }
        args.push(word);
        i = j;
    }
    if (args.length > 0)
        return { error: `directive "${args[0]}" at line ${first} does not end with ";"` };
    return { directives };
}
/** nginx's escapes: these pairs are replaced, any other is kept with its backslash. */
function unescape(c) {
    switch (c) {
        case '"':
        case "'":
        case '\\':
            return c;
        case 't':
            return '\t';
        case 'r':
            return '\r';
        case 'n':
            return '\n';
        default:
            return `\\${c}`;
    }
}
/** The directives a snippet may hold. */
export const SUPPORTED = ['more_set_headers', 'more_clear_headers', 'more_set_input_headers', 'more_clear_input_headers', 'add_header', 'proxy_set_header', 'proxy_hide_header'];
/**
 * Reads a snippet's text as header edits. `where`: a configuration-snippet is a location's, a
 * server-snippet a server's (there nginx never applies proxy_set_header: ingress-nginx's locations
 * set their own, which replace the server's; it is accepted with a note, as it changes nothing).
 */
export function parseSnippet(text, where) {
    const t = tokenize(text);
    if ('error' in t)
        return { error: `cannot be parsed: ${t.error}`, unsupported: false };
    const out = { input: [], upstream: [], response: [], notes: [] };
    for (const d of t.directives) {
        const problem = directive(d, where, out);
        if (problem !== null)
            return { error: `directive ${JSON.stringify(d.name)} at line ${d.line}: ${problem}`, unsupported: !SUPPORTED.includes(d.name) };
    }
    return out;
}
/** Applies one directive to `out`; returns what is wrong with it, or null. */
function directive(d, where, out) {
    switch (d.name) {
        case 'more_set_headers':
        case 'more_clear_headers':
        case 'more_set_input_headers':
        case 'more_clear_input_headers':
            return headersMore(d, out);
        case 'add_header': {
            if (d.args.length < 2 || d.args.length > 3 || (d.args.length === 3 && d.args[2] !== 'always'))
                return 'expected: add_header Name value [always]';
            const [name, value] = d.args;
            return edit(out.response, out.notes, d, { op: 'add', name, value, ...(d.args.length === 3 ? { always: true } : {}) });
        }
        case 'proxy_set_header': {
            if (d.args.length !== 2)
                return 'expected: proxy_set_header Name value';
            const [name, value] = d.args;
            if (where === 'server') {
                const bad = checkName(name) ?? checkValue(value);
                if (bad !== null)
                    return bad;
                out.notes.push(`proxy_set_header ${name} in a server-snippet has no effect (nginx applies a server's proxy_set_header only to locations without their own, and ingress-nginx's locations all have theirs); use configuration-snippet`);
                return null;
            }
            return edit(out.upstream, out.notes, d, { op: 'set', name, value });
        }
        case 'proxy_hide_header': {
            if (d.args.length !== 1)
                return 'expected: proxy_hide_header Name';
            return edit(out.response, out.notes, d, { op: 'hide', name: d.args[0] });
        }
        default:
            return `not supported: snippets are parsed, never executed, and only header directives are applied (${SUPPORTED.join(', ')})`;
    }
}
const STATUS = /^[1-5]\d\d$/;
const MIME = /^[!#$%&'*+\-.^_`|~0-9a-z]+\/[!#$%&'*+\-.^_`|~0-9a-z]+$/;
/** The headers-more directives: options (`-s`, `-t`, and `-r` for input headers) anywhere, then the headers. */
function headersMore(d, out) {
    const input = d.name.includes('_input_');
    const clear = d.name.includes('_clear_');
    const statuses = [];
    const types = [];
    let existing = false;
    const specs = [];
    for (let i = 0; i < d.args.length; i++) {
        const a = d.args[i];
        if (a.length === 2 && a.charCodeAt(0) === 45 /* - */) {
            const opt = a[1];
            if (opt === 'r' && input && !clear) {
                existing = true;
                continue;
            }
            if ((opt === 's' && !input) || opt === 't') {
                const v = d.args[++i];
                if (v === undefined)
                    return `option ${a} needs a value`;
                for (const w of v.split(/[ \t]+/).filter(Boolean)) {
                    if (opt === 's') {
                        if (!STATUS.test(w))
                            return `-s: ${JSON.stringify(w)} is not a status code`;
                        statuses.push(Number(w));
                    }
                    else {
                        const type = w.toLowerCase();
                        if (!MIME.test(type))
                            return `-t: ${JSON.stringify(w)} is not a content type`;
                        types.push(type);
                    }
                }
                continue;
            }
            return `option ${a} is not valid here`;
        }
        specs.push(a);
    }
    if (specs.length === 0)
        return 'names no header';
    const list = input ? out.input : out.response;
    const filters = { ...(statuses.length > 0 ? { statuses } : {}), ...(types.length > 0 ? { types } : {}) };
    for (const spec of specs) {
        let e;
        if (clear) {
            e = { op: 'clear', name: spec, ...filters };
        }
        else {
            // "Name: value"; "Name:" or "Name" clears
            const colon = spec.indexOf(':');
            const name = (colon === -1 ? spec : spec.slice(0, colon)).trim();
            const value = colon === -1 ? '' : spec.slice(colon + 1).trim();
            e = value === '' ? { op: 'clear', name, ...filters } : { op: 'set', name, value, ...filters, ...(existing ? { existing: true } : {}) };
        }
        const bad = edit(list, out.notes, d, e);
        if (bad !== null)
            return bad;
    }
    return null;
}
function checkName(name) {
    if (name.includes('$'))
        return `${JSON.stringify(name)}: variables are not allowed in header names`;
    return isHeaderName(name) ? null : `${JSON.stringify(name)} is not a valid header name`;
}
function checkValue(value) {
    const t = parseTemplate(value);
    return 'error' in t ? t.error : null;
}
/** Checks an edit and adds it to `list`, or notes why a managed header is left alone; returns a problem or null. */
function edit(list, notes, d, e) {
    // headers-more reads a trailing * as a prefix: "*" alone would clear every header
    if (e.name === '*')
        return '"*" is not a valid header name (clearing every header is not supported)';
    const wildcard = e.op === 'clear' && e.name.length > 1 && e.name.endsWith('*');
    const bad = checkName(wildcard ? e.name.slice(0, -1) : e.name) ?? (e.value === undefined ? null : checkValue(e.value));
    if (bad !== null)
        return bad;
    if (MANAGED.has(e.name.toLowerCase())) {
        notes.push(`${d.name} ${e.name}: ignored, Portico manages ${e.name} itself (framing and connection headers are never taken from configuration)`);
        return null;
    }
    list.push(e);
    return null;
}
//# sourceMappingURL=snippet.js.map