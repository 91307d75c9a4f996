/**
 * Every hash scheme against known vectors: made with `openssl passwd -1/-5/-6/-apr1` (OpenSSL 3.0)
 * and Apache's `htpasswd -B/-m/-s/-2/-5` (2.4), and checked again against a live `openssl passwd`.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';
import { hashScheme, md5Crypt, sameString, shaCrypt, verifyHash } from './crypt.js';

const LONG = 'a very long password that exceeds sixty-four bytes in length for sure ok';

/** [password, hash] */
const VECTORS: readonly (readonly [string, string])[] = [
  ['secret pw', '$1$saltsalt$ZtMHw9WXbhe3pPBkCQJKC1'],
  ['secret pw', '$5$saltsalt$vCVzagwpKquSflhQxH0D10Fgy2Km11eLAozR93EkXT6'],
  ['secret pw', '$6$saltsalt$zM85MwF7wzNFxhHekCkSASe1NaC/xUx1S2eoXlbcx1w6LkHRO4n1DK7q.d/HKoYFUjJ10GWDs5jLq2A53OAzU1'],
  ['secret pw', '$apr1$saltsalt$X8iAgaDJSyuAMkpLmM5/H/'],
  ['x', '$5$rounds=1000$abc$UxKib5kobt2BZp/yfOEWbjik.BPMiS9MzbXyO6zXMC0'],
  [LONG, '$1$abcdefgh$Ulxr5KqVLGE2b0tZ4aP/v0'],
  [LONG, '$apr1$xy$/B3YgSzvOD97f3u9mtaL4/'],
  [LONG, '$5$rounds=5000$toolongsaltstrin$vXSE4Ixf3ARoayLXNbUkb6e4yJOmjpatDpqh6BVP6s3'],
  [LONG, '$6$rounds=1234$s$rIpVlPUBVHw8Tqyqripxy0eu8WOmKFI/PuUXVwBwLGl/775fdhiwiss3apjvCKFcWM0eq.JFloBvXg4nkhjNj1'],
  // htpasswd
  ['p@ss:word', '$2y$05$ZrbMXcxqLXPGKdHk/0ro5OD4aYA4OCj7kq6MuC8x8GPGPUQocU9Ie'],
  ['é pw', '$2y$04$czWDIn1ALAtcKX516XHoEO0gU5.Kg7ssRnRMlDB0bvHtcwd1AohA6'],
  ['hunter2', '$apr1$MriUlIAF$spp5YkNCjoV1JrZxOJkcj/'],
  ['hunter2', '{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0='],
  ['', '{SHA}2jmj7l5rSw0yVb/vlWAYkK/YBwk='],
  ['x', '$5$G9XY3kElp3Q04GEv$NC6VU6XNiLMo2pFjBBvo//dPJfAvF6Z0rtSJwS7Ch83'],
  ['é pw', '$6$XaqhCgU1QnxfKiwj$MPU2xAUqO86OyBqf0SWUyjuVUgeTKVLcfFjTAnvP.nHIrcXSuhTUOrvAp5QzqTmRftZ2HZTHVEronBmgTYPRH1'],
  // OpenWall's crypt_blowfish test vectors ($2a$ and $2b$)
  ['U*U', '$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  ['U*U', '$2b$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW'],
  // {SSHA}: base64(sha1("secret" + "salt") + "salt"), made with openssl dgst
  ['secret', '{SSHA}gVK8WC9YyFT1gMsQHTGCgT3sSv5zYWx0'],
];

describe('htpasswd hashes', () => {
  for (const [pw, hash] of VECTORS) {
    test(`${hash.slice(0, 16)}… matches its password and nothing else`, () => {
      assert.equal(verifyHash(hash, Buffer.from(pw)), true);
      assert.equal(verifyHash(hash, Buffer.from(`${pw}!`)), false);
      assert.equal(verifyHash(hash, Buffer.from(pw.toUpperCase() === pw ? `${pw}a` : pw.toUpperCase())), false);
    });
  }

  test('the schemes are told apart; {PLAIN}, DES crypt and garbage are none of them and match nothing', () => {
    assert.equal(hashScheme('$2y$05$ZrbMXcxqLXPGKdHk/0ro5OD4aYA4OCj7kq6MuC8x8GPGPUQocU9Ie'), 'bcrypt');
    assert.equal(hashScheme('$apr1$xy$/B3YgSzvOD97f3u9mtaL4/'), 'apr1');
    assert.equal(hashScheme('$1$abcdefgh$Ulxr5KqVLGE2b0tZ4aP/v0'), 'md5-crypt');
    for (const bad of ['{PLAIN}secret', 'abJnggxhB/yWI', '', '$2y$05$short', '$7$x', 'secret']) {
      assert.equal(hashScheme(bad), undefined, bad);
      assert.equal(verifyHash(bad, Buffer.from('secret')), false, bad);
    }
  });

  test('rounds below 1000 count as 1000, as glibc does', () => {
    assert.equal(shaCrypt(Buffer.from('lo'), '$5$rounds=10$lowrounds$'), '$5$rounds=1000$lowrounds$QZFagDlgxPgBzBT3iy3KUDQxBDPDX8FYol3mQOL.i.9');
  });

  test('sameString compares whole strings', () => {
    assert.equal(sameString('abc', 'abc'), true);
    assert.equal(sameString('abc', 'abd'), false);
    assert.equal(sameString('abc', 'abcd'), false);
  });

  test('agrees with a live openssl passwd on other passwords and salts', () => {
    for (let i = 0; i < 6; i++) {
      const pw = `pw-${i}-${'x'.repeat(i * 13)}`;
      const salt = `s${i}Xy.${i}`;
      for (const [flag, ours] of [
        ['-1', md5Crypt(Buffer.from(pw), `$1$${salt}$`)],
        ['-apr1', md5Crypt(Buffer.from(pw), `$apr1$${salt}$`)],
        ['-5', shaCrypt(Buffer.from(pw), `$5$${salt}$`)],
        ['-6', shaCrypt(Buffer.from(pw), `$6$${salt}$`)],
      ] as const) {
        const r = spawnSync('openssl', ['passwd', flag, '-salt', salt, pw], { encoding: 'utf8' });
        assert.ifError(r.error); // (openssl not on PATH, as in the image: ENOENT)
        assert.equal(r.status, 0, r.stderr);
        assert.equal(ours, r.stdout.trim(), `${flag} ${pw}`);
      }
    }
  });
});
