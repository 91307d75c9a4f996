/**
 * SNI with client certificates: which host's CAs a handshake verifies against follows the same
 * host decision the router makes for the Host header; contexts are cached by certificate and CA,
 * so a rotated CA is a new context; the listener issues no tickets while any host verifies.
 */
import assert from 'node:assert/strict';
import { constants } from 'node:crypto';
import { test } from 'node:test';
import { EMPTY_TABLE } from '../model/types.js';
import { createTlsContexts, generateDefaultCert, listenerContextOptions, verifiesClients } from './contexts.js';
import { createSelfSigned } from './selfsigned.js';
const settings = { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256' };
const generated = generateDefaultCert();
const ca = (id, host, request = true) => ({ host, secret: `default/${id}`, id, caPem: createSelfSigned({ commonName: id, dnsNames: [], isCA: true }).certPem, request, source: { kind: 'Ingress', namespace: 'default', name: id } });
const route = (host) => ({ host, path: '/', match: 'Prefix', source: { kind: 'Ingress', namespace: 'default', name: 'x' }, policies: [], backends: [], settings: {} });
function table(hosts, auth) {
    return { ...EMPTY_TABLE, routes: hosts.map(route), clientAuth: new Map(auth.map((a) => [a.host, a])) };
}
test('the CAs of the host whose routes the name reaches: exact, then a wildcard one label up, then rules without a host', () => {
    const t = createTlsContexts(settings, generated);
    const tab = table(['exact.test', 'open.wild.test', '*.wild.test', ''], [ca('e', 'exact.test'), ca('w', '*.wild.test'), ca('any', '')]);
    assert.equal(t.select(tab, 'exact.test').clientCa, 'e');
    assert.equal(t.select(tab, 'EXACT.test.').clientCa, 'e');
    assert.equal(t.select(tab, 'a.wild.test').clientCa, 'w');
    assert.equal(t.select(tab, 'open.wild.test').clientCa, null, 'an exact host without client certificates is not its wildcard');
    assert.equal(t.select(tab, 'elsewhere.test').clientCa, 'any');
    assert.equal(t.select(table(['a.test'], [ca('x', 'b.test')]), 'a.test').clientCa, null);
    assert.equal(t.select(table(['off.test'], [ca('off', 'off.test', false)]), 'off.test').clientCa, null, 'verify-client off asks for nothing');
    assert.equal(t.select(EMPTY_TABLE, 'a.test').clientCa, null);
});
test('contexts are cached by certificate and CA: a rotated CA gets a new context, retain drops the old one', () => {
    const t = createTlsContexts(settings, generated);
    const one = table(['m.test'], [ca('ca-1', 'm.test')]);
    const two = table(['m.test'], [ca('ca-2', 'm.test')]);
    const a = t.select(one, 'm.test').context;
    assert.equal(t.select(one, 'm.test').context, a);
    const b = t.select(two, 'm.test').context;
    assert.notEqual(b, a);
    assert.notEqual(t.select(EMPTY_TABLE, 'm.test').context, a, 'the same certificate without CAs is another context');
    t.retain(two);
    assert.equal(t.select(two, 'm.test').context, b);
    assert.notEqual(t.select(one, 'm.test').context, a, 'dropped, so built anew');
});
test('the listener issues no session tickets while any host asks for client certificates', () => {
    assert.equal(verifiesClients(EMPTY_TABLE), false);
    assert.equal(verifiesClients(table(['off.test'], [ca('off', 'off.test', false)])), false);
    assert.equal(verifiesClients(table(['m.test'], [ca('m', 'm.test')])), true);
    const on = listenerContextOptions(settings, generated, true).secureOptions ?? 0;
    const off = listenerContextOptions(settings, generated, false).secureOptions ?? 0;
    assert.equal(on & constants.SSL_OP_NO_TICKET, constants.SSL_OP_NO_TICKET);
    assert.equal(off & constants.SSL_OP_NO_TICKET, 0);
    assert.equal(on & constants.SSL_OP_NO_RENEGOTIATION, constants.SSL_OP_NO_RENEGOTIATION, 'the base options stay');
});
//# sourceMappingURL=contexts.test.js.map