/**
 * Distinguished names as nginx shows them: certificateNames() must print what
 * `openssl x509 -nameopt RFC2253` prints (the same X509_NAME_print_ex flags nginx uses for
 * $ssl_client_s_dn), for names that exercise every escaping rule and string type.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { certificateNames, pemOf } from './dn.js';
import { createSelfSigned } from './selfsigned.js';

const dir = mkdtempSync(join(tmpdir(), 'portico-dn-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function openssl(args: string[]): string {
  const r = spawnSync('openssl', args, { encoding: 'utf8', timeout: 10_000 });
  assert.ifError(r.error); // (openssl not on PATH, as in the image: ENOENT)
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** A self-signed certificate made by openssl with `-subj` (and a string mask). */
function made(name: string, subj: string, mask = 'utf8only'): string {
  const cnf = join(dir, `${name}.cnf`);
  writeFileSync(cnf, `[req]\ndistinguished_name=dn\nstring_mask=${mask}\n[dn]\n`);
  openssl(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', join(dir, `${name}.key`), '-config', cnf, '-utf8', '-multivalue-rdn', '-subj', subj, '-days', '1', '-out', join(dir, `${name}.crt`)]);
  return join(dir, `${name}.crt`);
}

function expected(file: string): { subject: string; issuer: string } {
  const out = openssl(['x509', '-in', file, '-noout', '-subject', '-issuer', '-nameopt', 'RFC2253']);
  const line = (p: string): string => (out.split('\n').find((l) => l.startsWith(p)) ?? '').slice(p.length);
  return { subject: line('subject='), issuer: line('issuer=') };
}

const cases: Record<string, [subj: string, mask?: string]> = {
  'escaped characters': ['/C=US/ST=CA/O=Acme, Inc./OU=R\\+D/CN=Jos\u00e9 "Pepe" <x>;\\\\back'],
  'leading and trailing spaces and #': ['/CN= lead#/O=#hash/OU=trail /emailAddress=a@b.c/DC=example/DC=com'],
  'a lone # and a lone space': ['/CN=#/O= '],
  'multi-valued RDN and = in a value': ['/CN=a+UID=b/O=x=y/serialNumber=123/title=Dr/GN=G/SN=S/L=Z\u00fcrich'],
  'non-Latin UTF-8': ['/CN=\u65e5\u672c\u8a9e/O=\u041f\u0440\u0438\u0432\u0435\u0442'],
  'BMPString': ['/CN=caf\u00e9 \u65e5/O=plain', 'MASK:0x800'],
  'PrintableString and IA5String': ['/C=DE/CN=plain name/emailAddress=x@y.z', 'default'],
  'an OID OpenSSL does not name': ['/1.3.6.1.4.1.99999.1=custom value/CN=x'],
};

for (const [title, [dn, mask]] of Object.entries(cases)) {
  test(`RFC 2253 as OpenSSL prints it: ${title}`, () => {
    const file = made(title.replace(/\W+/g, '-'), dn, mask);
    const cert = new X509Certificate(readFileSync(file));
    assert.deepEqual(certificateNames(cert.raw), expected(file));
  });
}

test('subjects and issuers of certificates Portico makes (tests\' CAs) print as OpenSSL prints them', () => {
  const ca = createSelfSigned({ commonName: 'CA', dnsNames: [], isCA: true, subject: [['O', 'Portico Tests'], ['CN', 'Client CA']] });
  const leaf = createSelfSigned({ commonName: 'x', dnsNames: [], subject: [['C', 'US'], ['O', 'Acme, Inc.'], ['CN', 'alice'], ['emailAddress', 'alice@example.com']], issuer: { subject: [['O', 'Portico Tests'], ['CN', 'Client CA']], keyPem: ca.keyPem } });
  const file = join(dir, 'leaf.crt');
  writeFileSync(file, leaf.certPem);
  assert.deepEqual(certificateNames(new X509Certificate(leaf.certPem).raw), expected(file));
  assert.equal(certificateNames(new X509Certificate(leaf.certPem).raw).subject, 'emailAddress=alice@example.com,CN=alice,O=Acme\\, Inc.,C=US');
});

test('the PEM is what OpenSSL writes ($ssl_client_raw_cert): 64-character lines and a final newline', () => {
  const file = made('pem', '/CN=pem');
  const pem = openssl(['x509', '-in', file]);
  assert.equal(pemOf(new X509Certificate(readFileSync(file)).raw), pem);
});

test('what is not a certificate gives empty names, never an exception', () => {
  for (const junk of [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff]), Buffer.from('not der')]) assert.deepEqual(certificateNames(junk), { subject: '', issuer: '' });
});
