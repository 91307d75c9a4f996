/**
 * The clientCert policy, request by request, against what nginx answers (ngx_http_process_request
 * for ssl_verify_client, then the server-level match-cn `if`): a table of verify modes and
 * connection states, with the exact headers it sets upstream.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { describe, test } from 'node:test';
import type { ClientCertVerify } from '../../model/types.js';
import { parseBundle, requestClientCertificate } from '../../tls/client-cert.js';
import { createSelfSigned, type NameAttributes } from '../../tls/selfsigned.js';
import { clientCert, type ClientCertPolicy } from './client-cert.js';
import { fakeExchange, type Answer } from '../../testing/exchange.js';
import { Verdict } from './types.js';

const rootSubject: NameAttributes = [['O', 'Portico Tests'], ['CN', 'Root']];
const root = createSelfSigned({ commonName: 'Root', dnsNames: [], isCA: true, subject: rootSubject });
const intSubject: NameAttributes = [['CN', 'Intermediate']];
const int1 = createSelfSigned({ commonName: 'i', dnsNames: [], isCA: true, subject: intSubject, issuer: { subject: rootSubject, keyPem: root.keyPem } });
const alice = createSelfSigned({ commonName: 'alice', dnsNames: [], subject: [['O', 'Acme, Inc.'], ['CN', 'alice']], issuer: { subject: rootSubject, keyPem: root.keyPem } });
const viaInt = createSelfSigned({ commonName: 'v', dnsNames: [], subject: [['CN', 'via']], issuer: { subject: intSubject, keyPem: int1.keyPem } });
const trusted = parseBundle(root.certPem);

/** A TLS connection as Node presents it to a request, verified (or not) against `ca`. */
function connection(opts: { ca?: string; cert?: string; chain?: string[]; error?: string; servername?: string }): TLSSocket {
  const linked = (pems: string[]): object | undefined => {
    const [first, ...rest] = pems;
    if (first === undefined) return undefined;
    const x = new X509Certificate(first);
    return { raw: x.raw, fingerprint256: x.fingerprint256, issuerCertificate: linked(rest) };
  };
  const s = {
    _handle: { setVerifyMode: () => {} },
    _requestCert: false,
    encrypted: true,
    servername: opts.servername ?? 'h.test',
    authorized: opts.cert !== undefined && opts.error === undefined,
    authorizationError: opts.error,
    getPeerCertificate: () => (opts.cert === undefined ? {} : linked([opts.cert, ...(opts.chain ?? [])])),
  };
  if (opts.ca !== undefined) assert.equal(requestClientCertificate(s, opts.ca), true);
  return s as unknown as TLSSocket;
}

function run(p: ClientCertPolicy, socket: TLSSocket | null, scheme: 'http' | 'https' = 'https'): { verdict: Verdict; answer: Answer | null; upstream: Record<string, string>; closed: boolean } {
  const ex = fakeExchange({ scheme, host: 'h.test', clientIp: '127.0.0.1', tlsSocket: socket, servername: socket?.servername === undefined ? undefined : String(socket.servername) });
  const verdict = clientCert(p, trusted).run(ex);
  const upstream: Record<string, string> = {};
  for (let i = 0; i < ex.upstream.length; i += 2) upstream[ex.upstream[i] as string] = ex.upstream[i + 1] as string;
  return { verdict, answer: ex.answered, upstream, closed: ex.closed };
}

const policy = (verify: ClientCertVerify, more: Partial<ClientCertPolicy> = {}): ClientCertPolicy => ({ kind: 'clientCert', secret: 'default/ca', ca: 'ca1', verify, depth: 1, passCertificate: false, ...more });
const ALICE_DN = 'CN=alice,O=Acme\\, Inc.';
const ROOT_DN = 'CN=Root,O=Portico Tests';

describe('ssl_verify_client as nginx answers it', () => {
  const cases: [ClientCertVerify, string, Parameters<typeof connection>[0], number | Record<string, string>][] = [
    ['on', 'no certificate', { ca: 'ca1' }, 400],
    ['on', 'a valid certificate', { ca: 'ca1', cert: alice.certPem }, { 'ssl-client-verify': 'SUCCESS', 'ssl-client-subject-dn': ALICE_DN, 'ssl-client-issuer-dn': ROOT_DN }],
    ['on', 'an unknown issuer', { ca: 'ca1', cert: alice.certPem, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 400],
    ['on', 'an expired certificate', { ca: 'ca1', cert: alice.certPem, error: 'CERT_HAS_EXPIRED' }, 400],
    ['optional', 'no certificate', { ca: 'ca1' }, { 'ssl-client-verify': 'NONE' }],
    ['optional', 'a valid certificate', { ca: 'ca1', cert: alice.certPem }, { 'ssl-client-verify': 'SUCCESS', 'ssl-client-subject-dn': ALICE_DN, 'ssl-client-issuer-dn': ROOT_DN }],
    ['optional', 'an unknown issuer', { ca: 'ca1', cert: alice.certPem, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, 400],
    ['optional_no_ca', 'no certificate', { ca: 'ca1' }, { 'ssl-client-verify': 'NONE' }],
    ['optional_no_ca', 'an unknown issuer', { ca: 'ca1', cert: alice.certPem, error: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, { 'ssl-client-verify': 'FAILED:unable to verify the first certificate', 'ssl-client-subject-dn': ALICE_DN, 'ssl-client-issuer-dn': ROOT_DN }],
    ['optional_no_ca', 'a self-signed certificate', { ca: 'ca1', cert: alice.certPem, error: 'DEPTH_ZERO_SELF_SIGNED_CERT' }, { 'ssl-client-verify': 'FAILED:self-signed certificate', 'ssl-client-subject-dn': ALICE_DN, 'ssl-client-issuer-dn': ROOT_DN }],
    ['optional_no_ca', 'an expired certificate', { ca: 'ca1', cert: alice.certPem, error: 'CERT_HAS_EXPIRED' }, 400],
    ['optional_no_ca', 'a revoked certificate', { ca: 'ca1', cert: alice.certPem, error: 'CERT_REVOKED' }, 400],
    ['off', 'a connection that asked for nothing', {}, { 'ssl-client-verify': 'NONE' }],
  ];
  for (const [verify, what, conn, want] of cases) {
    test(`${verify}, ${what}: ${typeof want === 'number' ? want : 'forwarded'}`, () => {
      const r = run(policy(verify), connection(conn));
      if (typeof want === 'number') {
        assert.equal(r.verdict, Verdict.Answered);
        assert.equal(r.answer?.status, want);
        assert.equal(r.answer?.body, conn.cert === undefined ? '400 Bad Request: No required SSL certificate was sent\n' : '400 Bad Request: The SSL certificate error\n');
        assert.equal(r.closed, true);
        assert.deepEqual(r.upstream, {});
      } else {
        assert.equal(r.verdict, Verdict.Continue);
        assert.equal(r.answer, null);
        assert.deepEqual(r.upstream, want);
      }
    });
  }
});

test('a connection verified against another CA, or set up for a host that asked for nothing (SNI and Host differ): 421, closed', () => {
  for (const conn of [connection({ ca: 'ca2', cert: alice.certPem }), connection({})]) {
    for (const verify of ['on', 'optional', 'optional_no_ca'] as const) {
      const r = run(policy(verify), conn);
      assert.equal(r.answer?.status, 421);
      assert.match(r.answer?.body ?? '', /^421 Misdirected Request: this TLS connection was set up for h\.test, not for h\.test, which verifies client certificates/);
      assert.equal(r.closed, true);
    }
  }
  // off asks for nothing: another host's verification is not reported as this one's
  assert.deepEqual(run(policy('off'), connection({ ca: 'ca2', cert: alice.certPem })).upstream, { 'ssl-client-verify': 'NONE' });
});

test('the depth counts intermediates: one is allowed at depth 1, two need depth 2', () => {
  const chained = { ca: 'ca1', cert: viaInt.certPem, chain: [int1.certPem] };
  assert.equal(run(policy('on'), connection(chained)).verdict, Verdict.Continue);
  const deepRoot = createSelfSigned({ commonName: 'r', dnsNames: [], isCA: true, subject: [['CN', 'R']] });
  const a = createSelfSigned({ commonName: 'a', dnsNames: [], isCA: true, subject: [['CN', 'A']], issuer: { subject: [['CN', 'R']], keyPem: deepRoot.keyPem } });
  const b = createSelfSigned({ commonName: 'b', dnsNames: [], isCA: true, subject: [['CN', 'B']], issuer: { subject: [['CN', 'A']], keyPem: a.keyPem } });
  const leaf = createSelfSigned({ commonName: 'l', dnsNames: [], subject: [['CN', 'L']], issuer: { subject: [['CN', 'B']], keyPem: b.keyPem } });
  const deep = { ca: 'ca1', cert: leaf.certPem, chain: [b.certPem, a.certPem] };
  const p1 = clientCert(policy('on'), parseBundle(deepRoot.certPem));
  const p2 = clientCert(policy('on', { depth: 2 }), parseBundle(deepRoot.certPem));
  const status = (p: typeof p1): number => {
    const ex = fakeExchange({ scheme: 'https', tlsSocket: connection(deep), servername: 'h.test', host: 'h.test' });
    p.run(ex);
    return ex.answered?.status ?? 0;
  };
  assert.equal(status(p1), 400);
  assert.equal(status(p2), 0);
});

test('match-cn is searched, unanchored and case-sensitive, in the RFC 2253 subject DN: 403 when absent', () => {
  const conn = { ca: 'ca1', cert: alice.certPem };
  assert.equal(run(policy('on', { matchCn: 'CN=alice' }), connection(conn)).verdict, Verdict.Continue);
  assert.equal(run(policy('on', { matchCn: 'CN=(bob|alice)' }), connection(conn)).verdict, Verdict.Continue);
  assert.equal(run(policy('on', { matchCn: 'CN=ali' }), connection(conn)).verdict, Verdict.Continue, 'unanchored, as nginx: CN=ali also matches CN=alice');
  for (const m of ['CN=bob', 'CN=ALICE', '^O=Acme']) {
    const r = run(policy('on', { matchCn: m }), connection(conn));
    assert.equal(r.answer?.status, 403, m);
    assert.equal(r.answer?.body, '403 Forbidden: client certificate unauthorized\n');
  }
  // no certificate: the DN is empty
  assert.equal(run(policy('optional', { matchCn: 'CN=alice' }), connection({ ca: 'ca1' })).answer?.status, 403);
});

test('an error page turns both 400s into a 302 to it', () => {
  for (const conn of [{ ca: 'ca1' }, { ca: 'ca1', cert: alice.certPem, error: 'CERT_HAS_EXPIRED' }]) {
    const r = run(policy('on', { errorPage: 'https://errors.test/cert' }), connection(conn));
    assert.equal(r.answer?.status, 302);
    assert.deepEqual(r.answer?.headers, ['location', 'https://errors.test/cert']);
  }
});

test('ssl-client-cert is the URL-encoded PEM, only when asked for', () => {
  const r = run(policy('on', { passCertificate: true }), connection({ ca: 'ca1', cert: alice.certPem }));
  assert.equal(r.upstream['ssl-client-cert'], encodeURIComponent(alice.certPem));
  assert.match(r.upstream['ssl-client-cert'] ?? '', /^-----BEGIN%20CERTIFICATE-----%0A[A-Za-z0-9%]+%0A-----END%20CERTIFICATE-----%0A$/);
  assert.equal(run(policy('optional', { passCertificate: true }), connection({ ca: 'ca1' })).upstream['ssl-client-cert'], undefined);
});

test('plain HTTP carries no certificate: on is 400, optional passes with NONE, match-cn is 403', () => {
  assert.equal(run(policy('on'), null, 'http').answer?.status, 400);
  assert.deepEqual(run(policy('optional'), null, 'http').upstream, { 'ssl-client-verify': 'NONE' });
  assert.equal(run(policy('optional', { matchCn: 'CN=a' }), null, 'http').answer?.status, 403);
});

test('the verdict is computed once per connection (HTTP/2 streams and keep-alive requests share it)', () => {
  let calls = 0;
  const s = connection({ ca: 'ca1', cert: alice.certPem });
  const get = s.getPeerCertificate.bind(s);
  (s as unknown as { getPeerCertificate: typeof get }).getPeerCertificate = ((d: boolean) => (calls++, get(d))) as typeof get;
  for (let i = 0; i < 3; i++) assert.equal(run(policy('on'), s).verdict, Verdict.Continue);
  assert.equal(calls, 1);
});

test('a surprise while judging is a 500, never a pass', () => {
  const s = connection({ ca: 'ca1', cert: alice.certPem });
  (s as unknown as { getPeerCertificate: () => never }).getPeerCertificate = () => {
    throw new Error('boom');
  };
  const r = run(policy('optional'), s);
  assert.equal(r.verdict, Verdict.Answered);
  assert.equal(r.answer?.status, 500);
});
