/**
 * proxy-redirect-from / proxy-redirect-to, proxy-cookie-domain and proxy-cookie-path: nginx's
 * proxy_redirect, proxy_cookie_domain and proxy_cookie_path, which rewrite the Location, Refresh
 * and Set-Cookie headers of the pod's answers. As ingress-nginx renders them: "off" (the default)
 * and, for proxy-redirect-from, "default" ask for nothing; otherwise both values are plain text
 * with nginx variables. nginx's regular-expression forms (`~`, `~*`) are refused with a diagnostic
 * (the header is then left as the pod sent it, which is what nginx does without the directive).
 * Pure.
 */
import { show } from '../k8s.js';
import { parseTemplate } from '../headers.js';
const str = (v) => (typeof v === 'string' ? v.trim() : undefined);
/** One value: plain text with nginx variables, no spaces (ingress-nginx: "a string without spaces"); a reason when it cannot be used. */
function problem(value) {
    if (value === '')
        return 'it is empty';
    if (/\s/.test(value))
        return 'it has a space (one value without spaces is expected)';
    if (value.startsWith('~'))
        return "nginx's regular-expression form (~) is not supported; write the text to replace";
    const t = parseTemplate(value);
    return 'error' in t ? t.error : null;
}
/** A `from to` pair of one annotation (proxy-cookie-domain, proxy-cookie-path), or undefined after reporting why not. */
function pair(read, name, report) {
    const v = read(name);
    if (v === undefined)
        return undefined;
    const s = str(v.value);
    if (s === 'off')
        return undefined;
    const parts = s === undefined ? [] : s.split(/\s+/);
    if (parts.length !== 2) {
        report('InvalidAnnotation', `${v.key}: expected "off" or two values separated by a space (the text to replace and its replacement), got ${show(v.value)}; ignored`);
        return undefined;
    }
    const [from, to] = parts;
    const p = problem(from) ?? problem(to);
    if (p !== null) {
        report('InvalidAnnotation', `${v.key}: ${show(v.value)} cannot be used: ${p}; ignored`);
        return undefined;
    }
    return { from, to };
}
/** proxy-redirect-from and proxy-redirect-to, as ingress-nginx's template reads them. */
function redirect(read, report) {
    const f = read('proxy-redirect-from');
    const t = read('proxy-redirect-to');
    const from = str(f?.value);
    const to = str(t?.value);
    if (f === undefined) {
        if (t !== undefined && to !== 'off')
            report('IgnoredAnnotation', `${t.key}: without proxy-redirect-from it asks for nothing; ignored`, 'info');
        return undefined;
    }
    if (from === 'off')
        return undefined;
    if (from === 'default') {
        // nginx's "default" replaces the proxy_pass URL (ingress-nginx's upstream_balancer), which no pod sends
        report('IgnoredAnnotation', `${f.key}: "default" replaces nginx's own upstream name, which pods never send: it asks for nothing; ignored`, 'info');
        return undefined;
    }
    if (from === undefined || to === undefined || to === 'off') {
        if (from === undefined)
            report('InvalidAnnotation', `${f.key}: expected a string, got ${show(f.value)}; ignored`);
        else
            report('InvalidAnnotation', `${f.key}: needs proxy-redirect-to (the replacement); ${t === undefined ? 'it is missing' : `it is ${show(t.value)}`}; ignored`);
        return undefined;
    }
    const pf = problem(from);
    const pt = problem(to);
    if (pf !== null || pt !== null) {
        report('InvalidAnnotation', `${pf !== null ? f.key : t.key}: cannot be used: ${pf ?? pt}; ignored`);
        return undefined;
    }
    return { from, to };
}
/** The family's policy, or undefined when it asks for nothing. */
export function parseResponseRewrite(read, report) {
    const r = redirect(read, report);
    const domain = pair(read, 'proxy-cookie-domain', report);
    const path = pair(read, 'proxy-cookie-path', report);
    if (r === undefined && domain === undefined && path === undefined)
        return undefined;
    return { kind: 'responseRewrite', ...(r !== undefined ? { redirect: r } : {}), ...(domain !== undefined ? { cookieDomain: domain } : {}), ...(path !== undefined ? { cookiePath: path } : {}) };
}
//# sourceMappingURL=proxy-rewrite.js.map