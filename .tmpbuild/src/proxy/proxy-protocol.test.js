import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyHeader } from './proxy-protocol.js';
const SIG = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
/** A v2 PROXY header for TCP over IPv4 (family 0x11) or IPv6 (0x21) from `src`. */
function v2(src, family) {
    const dst = family === 0x11 ? [10, 0, 0, 1] : new Array(16).fill(0);
    const addr = Buffer.from([...src, ...dst, 0xc8, 0x1c, 0, 80]);
    return Buffer.concat([Buffer.from([...SIG, 0x21, family, 0, addr.length]), addr]);
}
const v6 = (text) => {
    // expand "a:b::c" into 16 bytes
    const [head = '', tail = ''] = text.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t];
    return groups.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
};
test('PROXY v1 and v2 source addresses in their canonical text form', () => {
    const cases = [
        ['v1 IPv4', Buffer.from('PROXY TCP4 203.0.113.9 10.0.0.1 51234 80\r\n'), '203.0.113.9'],
        ['v1 IPv6 loopback', Buffer.from('PROXY TCP6 ::1 ::1 51234 80\r\n'), '::1'],
        ['v1 IPv6 written long', Buffer.from('PROXY TCP6 2001:0DB8:0000:0000:0000:0000:0000:0001 ::1 51234 80\r\n'), '2001:db8::1'],
        ['v1 IPv4-mapped IPv6', Buffer.from('PROXY TCP6 ::ffff:10.1.2.3 ::1 51234 80\r\n'), '10.1.2.3'],
        ['v2 IPv4', v2([198, 51, 100, 23], 0x11), '198.51.100.23'],
        ['v2 IPv6 loopback', v2(v6('::1'), 0x21), '::1'],
        ['v2 IPv6 all zeros', v2(v6('::'), 0x21), '::'],
        ['v2 IPv6 documentation prefix', v2(v6('2001:db8::8:800:200c:417a'), 0x21), '2001:db8::8:800:200c:417a'],
        ['v2 IPv6 zero run in the middle', v2(v6('2001:db8:0:0:1:0:0:1'), 0x21), '2001:db8::1:0:0:1'],
        ['v2 IPv6 no zero run', v2(v6('fe80:1:2:3:4:5:6:7'), 0x21), 'fe80:1:2:3:4:5:6:7'],
        ['v2 IPv4-mapped IPv6', v2(v6('::ffff:a01:203'), 0x21), '10.1.2.3'],
    ];
    for (const [name, buf, address] of cases) {
        const h = parseProxyHeader(buf);
        assert.ok(h !== null && h !== 'more', name);
        assert.equal(h.address, address, name);
        assert.equal(h.length, buf.length, name);
    }
});
test('PROXY headers that are invalid, incomplete or local', () => {
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 not-an-ip 10.0.0.1 1 80\r\n')), null);
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 ::1 10.0.0.1 1 80\r\n')), null, 'an IPv6 address in a TCP4 line');
    assert.equal(parseProxyHeader(Buffer.from('GET / HTTP/1.1\r\n')), null);
    assert.equal(parseProxyHeader(Buffer.from('PROXY TCP4 1.2.3.4')), 'more');
    assert.equal(parseProxyHeader(Buffer.from(SIG)), 'more');
    assert.deepEqual(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n')), { length: 15, address: null });
    const local = Buffer.from([...SIG, 0x20, 0x00, 0, 0]);
    assert.deepEqual(parseProxyHeader(local), { length: 16, address: null });
});
//# sourceMappingURL=proxy-protocol.test.js.map