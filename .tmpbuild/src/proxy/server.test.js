import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sniffPlain } from './server.js';
const preface = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';
test('a plain connection speaks h2c when it starts with the HTTP/2 preface, HTTP/1.1 otherwise, and waits while undecided', () => {
    assert.equal(sniffPlain(Buffer.from(preface)), 'h2c');
    assert.equal(sniffPlain(Buffer.from(preface + '\x00\x00\x12\x04')), 'h2c', 'the SETTINGS frame may follow in the same read');
    for (let n = 1; n < preface.length; n++)
        assert.equal(sniffPlain(Buffer.from(preface.slice(0, n))), 'more', `${n} bytes of the preface`);
    assert.equal(sniffPlain(Buffer.from('GET / HTTP/1.1\r\n')), 'http/1.1');
    assert.equal(sniffPlain(Buffer.from('P')), 'more');
    assert.equal(sniffPlain(Buffer.from('POST / HTTP/1.1\r\n')), 'http/1.1');
    assert.equal(sniffPlain(Buffer.from('PRI * HTTP/1.1\r\n\r\n')), 'http/1.1', 'PRI with another version is HTTP/1 (and refused there)');
    assert.equal(sniffPlain(Buffer.from('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n')), 'http/1.1', 'a broken preface is not HTTP/2');
    assert.equal(sniffPlain(Buffer.from([0x16, 0x03, 0x01])), 'http/1.1', 'TLS on the plain port is HTTP/1 garbage (400)');
});
//# sourceMappingURL=server.test.js.map