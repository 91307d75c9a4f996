import { errorBody } from '../errors.js';
import { compileValue, expand } from './template.js';
import { Verdict } from './types.js';
/** The statuses nginx's add_header writes to without `always`. */
export const ADD_STATUSES = new Set([200, 201, 204, 206, 301, 302, 303, 304, 307, 308]);
function compileEdit(e) {
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
const mediaType = (v) => (v === undefined ? '' : v.split(';')[0].trim().toLowerCase());
/** Removes the headers an edit names from a flat list; returns whether any was there. */
function remove(h, e) {
    let found = false;
    for (let i = h.length - 2; i >= 0; i -= 2) {
        const n = h[i].toLowerCase();
        if (e.prefix ? n.startsWith(e.lower) : n === e.lower) {
            h.splice(i, 2);
            found = true;
        }
    }
    return found;
}
function contentType(h) {
    for (let i = 0; i < h.length; i += 2)
        if (h[i].length === 12 && h[i].toLowerCase() === 'content-type')
            return mediaType(h[i + 1]);
    return '';
}
/** A compiled response editor over a list of edits already in application order. */
function responseEditor(more, add, hide) {
    if (more.length + add.length + hide.length === 0)
        return null;
    const typed = more.some((e) => e.types !== null);
    return {
        edit(status, h, ex, proxied) {
            if (proxied)
                for (const e of hide)
                    remove(h, e);
            const type = typed ? contentType(h) : '';
            for (const e of more) {
                if (e.statuses !== null && !e.statuses.has(status))
                    continue;
                if (e.types !== null && !e.types.includes(type))
                    continue;
                if (e.op === 'clear') {
                    remove(h, e);
                    continue;
                }
                const v = expand(e.value, ex);
                if (v === null)
                    continue;
                remove(h, e);
                if (v !== '')
                    h.push(e.name, v);
            }
            for (const e of add) {
                if (!e.always && !ADD_STATUSES.has(status))
                    continue;
                const v = expand(e.value, ex);
                if (v !== null && v !== '')
                    h.push(e.name, v);
            }
        },
    };
}
const NONE = { request: null, response: null, outer: null };
/** Edits of one scope order, split by kind. */
function byScope(ps, scope) {
    return ps.filter((p) => p.scope === scope);
}
const flat = (ps, list, ops) => ps.flatMap((p) => p[list].filter((e) => ops.includes(e.op)).map(compileEdit));
/** add_header / proxy_hide_header: the innermost scope that has any. */
function innermost(scopes, op) {
    for (const ps of scopes) {
        const edits = flat(ps, 'response', [op]);
        if (edits.length > 0)
            return edits;
    }
    return [];
}
/** Compiles the `headerDirectives` policies of one route. */
export function compileHeaders(policies) {
    if (policies.length === 0)
        return NONE;
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
function applyRequest(ex, input, upstream, typed) {
    const type = typed ? mediaType(ex.header('content-type')) : '';
    for (const e of input) {
        if (e.types !== null && !e.types.includes(type))
            continue;
        if (e.op === 'clear') {
            ex.removeRequestHeader(e.prefix ? e.lower : e.name, e.prefix);
            continue;
        }
        const v = expand(e.value, ex);
        if (v === null)
            continue;
        if (v === '')
            ex.removeRequestHeader(e.name);
        else
            ex.setRequestHeader(e.name, v, e.existing);
    }
    for (const e of upstream) {
        const v = expand(e.value, ex);
        if (v === null)
            continue;
        // nginx: an empty proxy_set_header value means the header is not sent
        if (v === '')
            ex.removeUpstreamHeader(e.name);
        else
            ex.setUpstreamHeader(e.name, v);
    }
}
/** The request policy; it never throws (the data path must not), and an edit it cannot make answers 500, never left out. */
function requestEdits(input, upstream) {
    const typed = input.some((e) => e.types !== null);
    return {
        run(ex) {
            try {
                applyRequest(ex, input, upstream, typed);
            }
            catch {
                // not reached by the edits Portico compiles; an edit left out could open what it closes
                ex.answer(500, errorBody(500, "the route's header edits could not be applied"), 'text/plain; charset=utf-8', 'policy_error');
                return Verdict.Answered;
            }
            return Verdict.Continue;
        },
    };
}
//# sourceMappingURL=header-directives.js.map