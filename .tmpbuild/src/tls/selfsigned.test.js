/** Generated certificates are valid DER whatever the serial (a random one once produced illegal padding). */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { test } from 'node:test';
import { createSelfSigned } from './selfsigned.js';
test('a serial starting with a zero byte still encodes as valid DER', () => {
    const c = createSelfSigned({ commonName: 'x', dnsNames: ['x.test'], serial: Buffer.from([0x00, 0x01, 0x02, 0x03]) });
    assert.doesNotThrow(() => new X509Certificate(c.certPem));
    assert.doesNotThrow(() => createSecureContext({ cert: c.certPem, key: c.keyPem }));
});
test('generated certificates parse and load, RSA and ECDSA', () => {
    for (let i = 0; i < 50; i++) {
        const c = createSelfSigned({ commonName: 'x', dnsNames: ['x.test'], ipAddresses: ['127.0.0.1'], keyType: i < 3 ? 'rsa' : 'ec' });
        const x = new X509Certificate(c.certPem);
        assert.equal(x.subjectAltName, 'DNS:x.test, IP Address:127.0.0.1');
        assert.doesNotThrow(() => createSecureContext({ cert: c.certPem, key: c.keyPem }), `context ${i}`);
    }
});
//# sourceMappingURL=selfsigned.test.js.map