import assert from 'node:assert/strict';
import { test } from 'node:test';
import { requestLength } from './headers.js';
const req = (method, url, rawHeaders) => {
    const headers = {};
    for (let i = 0; i < rawHeaders.length; i += 2)
        headers[rawHeaders[i].toLowerCase()] = rawHeaders[i + 1];
    return { method, url, rawHeaders, headers };
};
test("request length counts the request line, header lines and declared body, as nginx's $request_length", () => {
    const head = 'GET /a?b=1 HTTP/1.1\r\nHost: x.test\r\nUser-Agent: t\r\n\r\n';
    assert.equal(requestLength(req('GET', '/a?b=1', ['Host', 'x.test', 'User-Agent', 't'])), Buffer.byteLength(head));
    const post = 'POST / HTTP/1.1\r\nHost: x.test\r\nContent-Length: 5\r\n\r\nhello';
    assert.equal(requestLength(req('POST', '/', ['Host', 'x.test', 'Content-Length', '5'])), Buffer.byteLength(post));
});
test('the client address access rules judge: the peer, or through trusted proxies the first untrusted X-Forwarded-For address from the right', async () => {
    const { clientIpOf } = await import('./headers.js');
    const { createCidrMatcher } = await import('../model/cidr.js');
    const at = (peer, xff) => ({ headers: xff === undefined ? {} : { 'x-forwarded-for': xff }, rawHeaders: [], socket: { remoteAddress: peer } });
    const none = createCidrMatcher([]);
    const lb = createCidrMatcher(['10.0.0.0/8']);
    assert.equal(clientIpOf(at('203.0.113.9', '6.6.6.6'), none), '203.0.113.9', 'an untrusted peer cannot speak for anyone');
    assert.equal(clientIpOf(at('::ffff:203.0.113.9'), none), '203.0.113.9', 'IPv4-mapped peers are their IPv4 address');
    assert.equal(clientIpOf(at('10.0.0.2', '198.51.100.7'), lb), '198.51.100.7');
    assert.equal(clientIpOf(at('10.0.0.2', '6.6.6.6, 198.51.100.7, 10.0.0.3'), lb), '198.51.100.7', 'the rightmost untrusted hop, not a forged leftmost one');
    assert.equal(clientIpOf(at('10.0.0.2'), lb), '10.0.0.2', 'a trusted peer without the header is the client');
});
test('client-certificate headers a client sends never reach a pod, on any host, spelt with dashes or underscores', async () => {
    const { forwardHeaders, TRUST_NONE } = await import('./headers.js');
    const raw = ['Host', 'x.test', 'SSL-Client-Verify', 'SUCCESS', 'ssl-client-subject-dn', 'CN=admin', 'ssl-client-issuer-dn', 'CN=CA', 'ssl-client-cert', 'x', 'ssl_client_verify', 'SUCCESS', 'SSL_Client_Subject_DN', 'CN=admin', 'ssl-client_cert', 'y', 'X-Kept', '1', 'ssl-client-other', 'kept'];
    const r = { ...req('GET', '/', raw), socket: { remoteAddress: '127.0.0.1', localPort: 443 } };
    for (const underscores of [false, true]) {
        const names = forwardHeaders(r, 'x.test', { scheme: 'https', trust: TRUST_NONE, underscores }, false).headers.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
        assert.ok(!names.some((n) => /^ssl[-_]client[-_](verify|subject[-_]dn|issuer[-_]dn|cert)$/.test(n)), `underscores ${underscores}: ${names.join(' ')}`);
        assert.ok(names.includes('x-kept') && names.includes('ssl-client-other'));
    }
});
//# sourceMappingURL=headers.test.js.map