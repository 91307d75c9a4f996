/** TLS listener settings as flags give them: no crypto here, so parsing flags loads none. */
/** Mozilla "intermediate" TLS 1.2 suites; TLS 1.3 suites are OpenSSL's defaults. */
export const DEFAULT_CIPHERS = [
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
//# sourceMappingURL=settings.js.map