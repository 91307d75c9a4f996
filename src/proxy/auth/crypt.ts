/**
 * Password hashes of htpasswd files, as nginx's auth_basic_user_file reads them on Linux (glibc
 * crypt(3) plus nginx's own schemes): bcrypt `$2a$`/`$2b$`/`$2y$` (bcryptjs), MD5-crypt `$1$`,
 * Apache MD5 `$apr1$`, SHA-256-crypt `$5$`, SHA-512-crypt `$6$` (the published algorithms of
 * Poul-Henning Kamp and Ulrich Drepper, on node:crypto), `{SHA}` and `{SSHA}`. `{PLAIN}` and DES
 * crypt are not accepted (the translator reports them). Comparisons are constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createRequire } from 'node:module';

type Bcrypt = typeof import('bcryptjs');
let bcryptjs: Bcrypt | null = null;
/**
 * bcryptjs, required on first use: bcrypt hashes are checked on the auth worker threads, so the
 * main thread of a process without them never loads it (src/lazy-modules.test.ts).
 */
const bcrypt = (): Bcrypt => (bcryptjs ??= createRequire(import.meta.url)('bcryptjs') as Bcrypt);

/** The schemes Portico verifies. */
export type HashScheme = 'bcrypt' | 'md5-crypt' | 'apr1' | 'sha256-crypt' | 'sha512-crypt' | 'sha1' | 'ssha';

/** The scheme of a stored hash, or undefined for one Portico refuses or does not know. */
export function hashScheme(hash: string): HashScheme | undefined {
  if (/^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return 'bcrypt';
  if (hash.startsWith('$apr1$')) return 'apr1';
  if (hash.startsWith('$1$')) return 'md5-crypt';
  if (hash.startsWith('$5$')) return 'sha256-crypt';
  if (hash.startsWith('$6$')) return 'sha512-crypt';
  if (hash.startsWith('{SHA}')) return 'sha1';
  if (hash.startsWith('{SSHA}')) return 'ssha';
  return undefined;
}

/** Schemes cheap enough to check on the event loop (one SHA-1); the others go to worker threads. */
export const isFast = (scheme: HashScheme | undefined): boolean => scheme === 'sha1' || scheme === 'ssha';

const ITOA64 = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

function to64(v: number, n: number): string {
  let s = '';
  while (n-- > 0) {
    s += ITOA64[v & 0x3f] as string;
    v >>>= 6;
  }
  return s;
}

const b24 = (f: Buffer, a: number, b: number, c: number, n: number): string => to64(((f[a] as number) << 16) | ((f[b] as number) << 8) | (f[c] as number), n);

/** Compares two strings in time that depends only on their lengths. */
export function sameString(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** MD5-crypt (`$1$`) and Apache's variant (`$apr1$`): the same algorithm with another magic. */
export function md5Crypt(password: Buffer, setting: string): string | undefined {
  const magic = setting.startsWith('$apr1$') ? '$apr1$' : setting.startsWith('$1$') ? '$1$' : undefined;
  if (magic === undefined) return undefined;
  const rest = setting.slice(magic.length);
  const end = rest.indexOf('$');
  const salt = Buffer.from((end === -1 ? rest : rest.slice(0, end)).slice(0, 8));
  const alt = createHash('md5').update(password).update(salt).update(password).digest();
  const ctx = createHash('md5').update(password).update(magic).update(salt);
  for (let pl = password.length; pl > 0; pl -= 16) ctx.update(alt.subarray(0, Math.min(16, pl)));
  const zero = Buffer.alloc(1);
  const first = password.subarray(0, 1);
  for (let i = password.length; i > 0; i >>= 1) ctx.update(i & 1 ? zero : first);
  let f = ctx.digest();
  for (let i = 0; i < 1000; i++) {
    const c = createHash('md5');
    c.update(i & 1 ? password : f);
    if (i % 3) c.update(salt);
    if (i % 7) c.update(password);
    c.update(i & 1 ? f : password);
    f = c.digest();
  }
  return `${magic}${salt.toString('latin1')}$${b24(f, 0, 6, 12, 4)}${b24(f, 1, 7, 13, 4)}${b24(f, 2, 8, 14, 4)}${b24(f, 3, 9, 15, 4)}${b24(f, 4, 10, 5, 4)}${to64(f[11] as number, 2)}`;
}

/** Byte triples of the SHA-crypt output encodings (Drepper, "Unix crypt using SHA-256 and SHA-512"). */
const ORDER256 = [[0, 10, 20], [21, 1, 11], [12, 22, 2], [3, 13, 23], [24, 4, 14], [15, 25, 5], [6, 16, 26], [27, 7, 17], [18, 28, 8], [9, 19, 29]] as const;
const ORDER512 = [
  [0, 21, 42], [22, 43, 1], [44, 2, 23], [3, 24, 45], [25, 46, 4], [47, 5, 26], [6, 27, 48], [28, 49, 7], [50, 8, 29], [9, 30, 51], [31, 52, 10],
  [53, 11, 32], [12, 33, 54], [34, 55, 13], [56, 14, 35], [15, 36, 57], [37, 58, 16], [59, 17, 38], [18, 39, 60], [40, 61, 19], [62, 20, 41],
] as const;

/** `n` bytes of `block` repeated. */
function stretch(block: Buffer, n: number): Buffer {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i += block.length) block.copy(out, i, 0, Math.min(block.length, n - i));
  return out;
}

/** SHA-256-crypt (`$5$`) and SHA-512-crypt (`$6$`), with `rounds=N$` (1000 to 999999999; default 5000). */
export function shaCrypt(password: Buffer, setting: string): string | undefined {
  const magic = setting.startsWith('$5$') ? '$5$' : setting.startsWith('$6$') ? '$6$' : undefined;
  if (magic === undefined) return undefined;
  const algo = magic === '$5$' ? 'sha256' : 'sha512';
  const size = magic === '$5$' ? 32 : 64;
  let rest = setting.slice(3);
  let rounds = 5000;
  let custom = false;
  const r = /^rounds=(\d{1,10})\$/.exec(rest);
  if (r !== null) {
    rounds = Math.min(999_999_999, Math.max(1000, Number(r[1])));
    custom = true;
    rest = rest.slice(r[0].length);
  }
  const end = rest.indexOf('$');
  const salt = Buffer.from((end === -1 ? rest : rest.slice(0, end)).slice(0, 16));
  const h = (): ReturnType<typeof createHash> => createHash(algo);
  const b = h().update(password).update(salt).update(password).digest();
  const ctx = h().update(password).update(salt);
  let cnt = password.length;
  for (; cnt > size; cnt -= size) ctx.update(b);
  ctx.update(b.subarray(0, cnt));
  for (cnt = password.length; cnt > 0; cnt >>= 1) ctx.update(cnt & 1 ? b : password);
  const a = ctx.digest();
  const dp = h();
  for (let i = 0; i < password.length; i++) dp.update(password);
  const p = stretch(dp.digest(), password.length);
  const ds = h();
  for (let i = 0; i < 16 + (a[0] as number); i++) ds.update(salt);
  const s = stretch(ds.digest(), salt.length);
  let c = a;
  for (let i = 0; i < rounds; i++) {
    const x = h();
    x.update(i & 1 ? p : c);
    if (i % 3) x.update(s);
    if (i % 7) x.update(p);
    x.update(i & 1 ? c : p);
    c = x.digest();
  }
  let out = '';
  if (size === 32) {
    for (const [x, y, z] of ORDER256) out += b24(c, x, y, z, 4);
    out += to64(((c[31] as number) << 8) | (c[30] as number), 3);
  } else {
    for (const [x, y, z] of ORDER512) out += b24(c, x, y, z, 4);
    out += to64(c[63] as number, 2);
  }
  return `${magic}${custom ? `rounds=${rounds}$` : ''}${salt.toString('latin1')}$${out}`;
}

/** Whether `password` matches a stored hash. Never throws: a malformed hash matches nothing. */
export function verifyHash(hash: string, password: Buffer): boolean {
  try {
    switch (hashScheme(hash)) {
      case 'bcrypt':
        // bcryptjs reads the password as a string and encodes it as UTF-8
        return bcrypt().compareSync(password.toString('utf8'), hash);
      case 'md5-crypt':
      case 'apr1':
        return sameString(md5Crypt(password, hash) ?? '', hash);
      case 'sha256-crypt':
      case 'sha512-crypt':
        return sameString(shaCrypt(password, hash) ?? '', hash);
      case 'sha1':
        return sameString(`{SHA}${createHash('sha1').update(password).digest('base64')}`, hash);
      case 'ssha': {
        const raw = Buffer.from(hash.slice(6), 'base64');
        if (raw.length <= 20) return false;
        const salt = raw.subarray(20);
        const d = createHash('sha1').update(password).update(salt).digest();
        return timingSafeEqual(d, raw.subarray(0, 20));
      }
      case undefined:
        return false;
    }
  } catch {
    return false;
  }
}
