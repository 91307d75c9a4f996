/**
 * proxy-ssl-verify-depth, proxy-ssl-ciphers and proxy-ssl-protocols: how Portico's TLS
 * connections to HTTPS/GRPCS backends are made, with ingress-nginx's validators (protocols
 * TLSv1.2 and TLSv1.3 only; an OpenSSL cipher list of letters, digits and `+:_-!`). A bad value
 * is an InvalidAnnotation and the default is kept. Pure.
 */
import { show } from '../k8s.js';
const str = (v) => (typeof v === 'string' ? v.trim() : typeof v === 'number' ? String(v) : undefined);
const CIPHERS = /^[A-Za-z0-9+:_\-!]+$/;
const PROTOCOLS = new Set(['TLSv1.2', 'TLSv1.3']);
/** The family's settings (only those set, and valid). */
export function parseBackendTls(read, report) {
    const out = {};
    const d = read('proxy-ssl-verify-depth');
    if (d !== undefined) {
        const s = str(d.value);
        if (s === undefined || !/^[0-9]{1,3}$/.test(s) || Number(s) > 100)
            report('InvalidAnnotation', `${d.key}: expected a whole number from 0 to 100, got ${show(d.value)}; ignored`);
        // ingress-nginx reads 0 as its default, 1
        else
            out.sslVerifyDepth = Number(s) === 0 ? 1 : Number(s);
    }
    const c = read('proxy-ssl-ciphers');
    if (c !== undefined) {
        const s = str(c.value);
        if (s === undefined || !CIPHERS.test(s))
            report('InvalidAnnotation', `${c.key}: expected an OpenSSL cipher list (letters, digits and + : _ - !), got ${show(c.value)}; ignored`);
        else
            out.sslCiphers = s;
    }
    const p = read('proxy-ssl-protocols');
    if (p !== undefined) {
        const words = (str(p.value) ?? '').split(/\s+/).filter((w) => w !== '');
        const bad = words.filter((w) => !PROTOCOLS.has(w));
        const good = [...new Set(words.filter((w) => PROTOCOLS.has(w)))].sort();
        if (bad.length > 0 || good.length === 0)
            report('InvalidAnnotation', `${p.key}: only TLSv1.2 and TLSv1.3 can be offered to backends, got ${show(p.value)}${good.length > 0 ? `; using ${good.join(' ')}` : '; ignored'}`);
        if (good.length > 0)
            out.sslProtocols = good;
    }
    return out;
}
//# sourceMappingURL=backend-tls.js.map