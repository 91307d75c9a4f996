import { compilePattern } from '../../model/regex.js';
import { peerOf, UNKNOWN_ISSUER, verificationOf, VERIFY_REASONS } from '../../tls/client-cert.js';
import { Verdict } from './types.js';
const TEXT = 'text/plain; charset=utf-8';
const NO_CERT = '400 Bad Request: No required SSL certificate was sent\n';
const CERT_ERROR = '400 Bad Request: The SSL certificate error\n';
const UNAUTHORIZED = '403 Forbidden: client certificate unauthorized\n';
const NO_PEER = { der: null, error: null, chainLength: 0, subject: '', issuer: '', escapedPem: '' };
const reasonOf = (code) => VERIFY_REASONS[code] ?? code.toLowerCase().replaceAll('_', ' ');
/** Compiles one host's client-certificate check; `trusted` is its CA bundle (for the depth). */
export function clientCert(p, trusted) {
    const cn = p.matchCn === undefined ? null : compilePattern(p.matchCn, 'search');
    const maxChain = p.depth + 2; // depth counts intermediates: the client's certificate and the trust anchor come on top
    const fail = (ex, body, cause) => {
        ex.closeAfter(); // the connection's certificate will not change: nor will the answer (nginx closes too)
        if (p.errorPage !== undefined)
            ex.answer(302, `302 Found: ${p.errorPage}\n`, TEXT, cause, ['location', p.errorPage]);
        else
            ex.answer(400, body, TEXT, cause);
        return Verdict.Answered;
    };
    function judge(ex) {
        let peer = NO_PEER;
        const socket = ex.scheme === 'https' ? ex.tlsSocket : null;
        if (socket !== null) {
            const v = verificationOf(socket);
            if (v === undefined || v.ca !== p.ca) {
                if (p.verify !== 'off') {
                    ex.closeAfter();
                    const sni = ex.servername === undefined ? 'without a server name (SNI)' : `for ${ex.servername}`;
                    ex.answer(421, `421 Misdirected Request: this TLS connection was set up ${sni}, not for ${ex.host ?? 'this host'}, which verifies client certificates; connect again with its name\n`, TEXT, 'client_cert_misdirected');
                    return Verdict.Answered;
                }
            }
            else
                peer = v.peer ??= peerOf(socket, trusted);
        }
        let verify;
        if (peer.der === null) {
            if (p.verify === 'on')
                return fail(ex, NO_CERT, 'client_cert_missing');
            verify = 'NONE';
        }
        else if (peer.error !== null) {
            if (p.verify === 'on' || p.verify === 'optional' || (p.verify === 'optional_no_ca' && !UNKNOWN_ISSUER.has(peer.error)))
                return fail(ex, CERT_ERROR, 'client_cert_invalid');
            verify = `FAILED:${reasonOf(peer.error)}`;
        }
        else if (peer.chainLength > maxChain) {
            if (p.verify !== 'off')
                return fail(ex, CERT_ERROR, 'client_cert_invalid');
            verify = `FAILED:${reasonOf('CERT_CHAIN_TOO_LONG')}`;
        }
        else
            verify = 'SUCCESS';
        if (cn !== null && !cn.test(peer.subject)) {
            ex.answer(403, UNAUTHORIZED, TEXT, 'client_cert_unauthorized');
            return Verdict.Answered;
        }
        ex.setUpstreamHeader('ssl-client-verify', verify);
        if (peer.subject !== '')
            ex.setUpstreamHeader('ssl-client-subject-dn', peer.subject);
        if (peer.issuer !== '')
            ex.setUpstreamHeader('ssl-client-issuer-dn', peer.issuer);
        if (p.passCertificate && peer.escapedPem !== '')
            ex.setUpstreamHeader('ssl-client-cert', peer.escapedPem);
        return Verdict.Continue;
    }
    return {
        run(ex) {
            try {
                return judge(ex);
            }
            catch {
                // never serve open on a surprise: the request is refused
                ex.answer(500, '500 Internal Server Error: the client certificate could not be checked\n', TEXT, 'client_cert_error');
                return Verdict.Answered;
            }
        },
    };
}
//# sourceMappingURL=client-cert.js.map