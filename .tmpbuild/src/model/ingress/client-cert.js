/**
 * Client certificates (mTLS from clients): the `auth-tls-*` annotations, read as ingress-nginx
 * documents them (annotations.md "Client Certificate Authentication"). Pure; problems go to
 * `report`. A value Portico cannot take as written makes the key `invalid`: the Ingress is then
 * refused (503), never served without the check its author asked for.
 */
import { isDnsSubdomain, show } from '../k8s.js';
import { patternProblem } from '../regex.js';
const VERIFY = ['on', 'off', 'optional', 'optional_no_ca'];
/** The absolute forms of ingress-nginx's redirectRegex: scheme, host, port, plain path segments. */
const ERROR_PAGE = /^https?:\/\/[A-Za-z0-9\-.]+(:\d{1,5})?(\/[A-Za-z0-9\-_.]+)*\/?$/;
/** OpenSSL's verify depth is unbounded in practice; nobody needs more than this. */
const MAX_DEPTH = 100;
export function parseClientCert(read, ns, report) {
    const invalid = [];
    const bad = (key, message) => {
        report('InvalidAnnotation', `${key}: ${message}; the Ingress is not served (its routes answer 503) until this is fixed`);
        invalid.push(key);
        return undefined;
    };
    const secret = read('auth-tls-secret');
    let secretKey;
    if (secret !== undefined) {
        const parts = typeof secret.value === 'string' ? secret.value.split('/') : [];
        const [secretNs, name] = parts.length === 2 ? parts : [ns, parts[0]];
        if (parts.length === 0 || parts.length > 2 || name === undefined || !isDnsSubdomain(name) || secretNs === '')
            bad(secret.key, `expected "namespace/name" or "name" of a Secret, got ${show(secret.value)}`);
        else if (secretNs !== ns)
            bad(secret.key, `the Secret must be in the Ingress's namespace (${ns}), got ${show(secret.value)}`);
        else
            secretKey = `${ns}/${name}`;
    }
    const v = read('auth-tls-verify-client');
    let verify = 'on';
    if (v !== undefined) {
        if (typeof v.value === 'string' && VERIFY.includes(v.value))
            verify = v.value;
        else
            bad(v.key, `expected one of ${VERIFY.join(', ')}, got ${show(v.value)}`);
    }
    const d = read('auth-tls-verify-depth');
    let depth = 1;
    if (d !== undefined) {
        const text = typeof d.value === 'number' ? String(d.value) : d.value;
        if (typeof text === 'string' && /^\d{1,3}$/.test(text) && Number(text) <= MAX_DEPTH)
            depth = Math.max(1, Number(text)); // 0 is 1, as in ingress-nginx
        else
            bad(d.key, `expected a whole number from 0 to ${MAX_DEPTH}, got ${show(d.value)}`);
    }
    const e = read('auth-tls-error-page');
    let errorPage;
    if (e !== undefined) {
        if (typeof e.value === 'string' && e.value.length <= 2048 && ERROR_PAGE.test(e.value))
            errorPage = e.value;
        else
            bad(e.key, `expected an absolute http:// or https:// URL (Portico has no internal locations for a path or @name), got ${show(e.value)}`);
    }
    const p = read('auth-tls-pass-certificate-to-upstream');
    let passCertificate = false;
    if (p !== undefined) {
        if (p.value === 'true' || p.value === true)
            passCertificate = true;
        else if (p.value !== 'false' && p.value !== false)
            bad(p.key, `expected "true" or "false", got ${show(p.value)}`);
    }
    const m = read('auth-tls-match-cn');
    let matchCn;
    if (m !== undefined) {
        const problem = typeof m.value === 'string' && m.value.startsWith('CN=') ? patternProblem(m.value) : 'it must start with "CN="';
        if (problem === null)
            matchCn = m.value;
        else
            bad(m.key, `expected "CN=" and a regular expression, got ${show(m.value)} (${problem})`);
    }
    if (secret === undefined) {
        // without a CA nothing is verified: what asks for a check cannot be honoured, the rest asks for nothing
        for (const [entry, asks] of [
            [v, verify !== 'off'],
            [m, true],
            [d, false],
            [e, false],
            [p, false],
        ]) {
            if (entry === undefined || invalid.includes(entry.key))
                continue;
            if (asks)
                bad(entry.key, 'needs nginx.ingress.kubernetes.io/auth-tls-secret (the CA to verify client certificates against)');
            else
                report('IgnoredAnnotation', `${entry.key}: no effect without auth-tls-secret; ignored`, 'info');
        }
        return { settings: null, invalid };
    }
    if (invalid.length > 0 || secretKey === undefined)
        return { settings: null, invalid };
    return {
        settings: { secret: secretKey, verify, depth, ...(errorPage !== undefined ? { errorPage } : {}), passCertificate, ...(matchCn !== undefined ? { matchCn } : {}) },
        invalid,
    };
}
//# sourceMappingURL=client-cert.js.map