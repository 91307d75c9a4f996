/** Judges a checked certificate at time `now` for one host; returns a problem or null. */
export function certProblem(check, host, now, secret) {
    if (!check.ok)
        return { reason: check.reason, message: `Secret ${secret}: ${check.message}` };
    if (now > check.notAfter)
        return { reason: 'CertificateExpired', message: `Secret ${secret}: certificate expired on ${new Date(check.notAfter).toISOString()}` };
    if (now < check.notBefore)
        return { reason: 'CertificateNotYetValid', message: `Secret ${secret}: certificate is not valid before ${new Date(check.notBefore).toISOString()}` };
    if (host !== '' && !check.covers(host))
        return { reason: 'CertificateHostMismatch', message: `Secret ${secret}: certificate does not cover host ${host}` };
    return null;
}
//# sourceMappingURL=certs.js.map