/**
 * Header edits from annotations and ConfigMaps: configuration-snippet and server-snippet (parsed
 * by snippet.ts, never executed), custom-headers (a ConfigMap of response headers, values
 * literal), and the ConfigMaps of --add-headers (response headers) and --proxy-set-headers
 * (request headers to the pods), whose values may use nginx variables. Pure.
 */
import { show } from '../k8s.js';
import { isHeaderName, MANAGED, parseTemplate, unsafeHeaderValue, MAX_VALUE } from '../headers.js';
import { isDnsSubdomain } from '../k8s.js';
import { parseSnippet } from './snippet.js';
function policy(scope, from, e) {
    if (e.input.length + e.upstream.length + e.response.length === 0)
        return undefined;
    return { kind: 'headerDirectives', scope, from, input: e.input, upstream: e.upstream, response: e.response };
}
function snippet(read, name, report, refused) {
    const v = read(name);
    if (v === undefined)
        return undefined;
    if (typeof v.value !== 'string') {
        report('InvalidAnnotation', `${v.key}: expected text, got ${show(v.value)}; the snippet cannot be honoured`);
        refused.push(v.key);
        return undefined;
    }
    if (v.value.trim() === '')
        return undefined; // ingress-nginx reads an empty value as absent
    const parsed = parseSnippet(v.value, name === 'server-snippet' ? 'server' : 'location');
    if ('error' in parsed) {
        report(parsed.unsupported ? 'UnsupportedAnnotation' : 'InvalidAnnotation', `${v.key}: ${parsed.error}; the snippet cannot be honoured`);
        refused.push(v.key);
        return undefined;
    }
    for (const note of parsed.notes)
        report('IgnoredAnnotation', `${v.key}: ${note}`, 'info');
    return policy(name === 'server-snippet' ? 'server' : 'location', name, parsed);
}
/** `namespace/name` or `name`, in the Ingress's own namespace only. */
function customHeaders(read, ns, report) {
    const v = read('custom-headers');
    if (v === undefined)
        return undefined;
    const parts = typeof v.value === 'string' ? v.value.split('/') : [];
    const [cmNs, name] = parts.length === 2 ? parts : [ns, parts[0]];
    if (parts.length === 0 || parts.length > 2 || name === undefined || !isDnsSubdomain(name)) {
        report('InvalidAnnotation', `${v.key}: expected "namespace/name" or "name" of a ConfigMap, got ${show(v.value)}; ignored`);
        return undefined;
    }
    if (cmNs !== ns) {
        report('InvalidAnnotation', `${v.key}: the ConfigMap must be in the Ingress's namespace (${ns}), got ${show(v.value)}; ignored`);
        return undefined;
    }
    return { key: v.key, ref: `${ns}/${name}` };
}
/** Reads the header annotations of one Ingress. */
export function parseHeaderAnnotations(read, ns, report) {
    const refused = [];
    const location = snippet(read, 'configuration-snippet', report, refused);
    const server = snippet(read, 'server-snippet', report, refused);
    return { location, server, customHeaders: customHeaders(read, ns, report), refused };
}
/**
 * A ConfigMap's `data` as one header policy: custom-headers and --add-headers set response
 * headers (custom-headers' values literal, as ingress-nginx escapes their `$`), --proxy-set-headers
 * sets request headers to the pods. Entries in key order; a bad entry is a problem and is skipped.
 */
export function configMapHeaders(cm, use, from) {
    const problems = [];
    const edits = [];
    const data = cm.data !== null && typeof cm.data === 'object' && !Array.isArray(cm.data) ? cm.data : {};
    for (const key of Object.keys(data).sort()) {
        const value = data[key];
        if (!isHeaderName(key)) {
            problems.push(`key ${show(key)} is not a header name; skipped`);
            continue;
        }
        if (MANAGED.has(key.toLowerCase())) {
            problems.push(`key ${key}: Portico manages ${key} itself; skipped`);
            continue;
        }
        if (typeof value !== 'string' || value.length > MAX_VALUE || unsafeHeaderValue(value)) {
            problems.push(`key ${key}: the value must be text without control characters; skipped`);
            continue;
        }
        if (use !== 'custom-headers') {
            const t = parseTemplate(value);
            if ('error' in t) {
                problems.push(`key ${key}: ${t.error}; skipped`);
                continue;
            }
        }
        edits.push({ op: 'set', name: key, value, ...(use === 'custom-headers' ? { literal: true } : {}) });
    }
    const e = use === '--proxy-set-headers' ? { input: [], upstream: edits, response: [] } : { input: [], upstream: [], response: edits };
    return { policy: policy(use === 'custom-headers' ? 'location' : 'global', from, e), problems };
}
//# sourceMappingURL=header-edits.js.map