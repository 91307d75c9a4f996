/**
 * Authentication annotations: basic authentication (`auth-type`, `auth-secret`,
 * `auth-secret-type`, `auth-realm`) and external authentication (`auth-url` and its companions),
 * with ingress-nginx's semantics. Access control never fails open: a bad value, a companion without
 * the annotation that turns it on, or a Secret that cannot be used refuses the Ingress (503), also
 * where ingress-nginx drops the whole check (auth-request-redirect, auth-always-set-cookie,
 * auth-cache-duration). Pure.
 */
import type { Origin, TableBuilder } from '../build.js';
import { localRef, show, type Secret } from '../k8s.js';
import type { AuthCacheDuration, BasicUser, DiagnosticReason, ExtAuthPolicy, Policy, RouteSettings } from '../types.js';
import { AUTH_VARIABLES, HEADER_VARIABLES, parseVars } from '../nginx-vars.js';

type Report = (reason: DiagnosticReason, message: string, severity?: 'info') => void;
/** An annotation by its name after the prefix: its full key and value, or undefined. */
export type Read = (name: string) => { key: string; value: unknown } | undefined;

/** Basic authentication as the annotations ask for it; the Secret is read when the table is built. */
export interface BasicAuthRequest {
  /** `namespace/name`. */
  readonly secret: string;
  readonly type: 'auth-file' | 'auth-map';
  readonly realm: string;
  /** The auth-secret annotation's full key, for the refusal. */
  readonly key: string;
}

export interface AuthAnnotations {
  readonly basic?: BasicAuthRequest;
  readonly ext?: ExtAuthPolicy;
  /** `auth-proxy-set-headers` of a usable `ext`: the annotation's key and `namespace/name` of its ConfigMap (read when the table is built). */
  readonly proxySetHeaders?: { readonly key: string; readonly ref: string };
  /** Full keys of authentication annotations that cannot be honoured as written: the Ingress is refused whatever --unsupported-annotations says. */
  readonly broken: readonly string[];
  /** Full keys asking for what Portico does not implement (`auth-type: digest`): refused unless --unsupported-annotations=warn. */
  readonly unsupported: readonly string[];
}

/** ingress-nginx's CharsWithSpace: what a realm may hold (it is written into a quoted header parameter). */
const REALM = /^[A-Za-z0-9\-._~/: ]*$/;
/** ingress-nginx's URLWithNginxVariable character set, with `${}` for braced variables. */
const URL_CHARS = /^[A-Za-z0-9\-._~/:,?&=${}]*$/;
/** ingress-nginx's URLIsValid character set (no variables). */
const URL_PLAIN = /^[A-Za-z0-9\-._~/:,?&=]*$/;
const HOST_PORT = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[-A-Za-z0-9]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE']);
const HEADER = /^[A-Za-z0-9\-_]+$/;
const CACHE_KEY = /^[A-Za-z0-9\-_${}]*$/;
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, M: 2_592_000_000, y: 31_536_000_000 };
/** ingress-nginx's default auth-cache-duration. */
const DEFAULT_DURATIONS: readonly AuthCacheDuration[] = [{ statuses: [200, 202, 401], ms: 300_000 }];

const BASIC = ['auth-type', 'auth-secret', 'auth-secret-type', 'auth-realm'] as const;
const EXT = ['auth-url', 'auth-method', 'auth-signin', 'auth-signin-redirect-param', 'auth-response-headers', 'auth-request-redirect', 'auth-always-set-cookie', 'auth-cache-key', 'auth-cache-duration', 'auth-proxy-set-headers'] as const;

/** Reads the authentication annotations of one Ingress in namespace `ns`. */
export function parseAuth(read: Read, ns: string, settings: RouteSettings, report: Report): AuthAnnotations {
  const broken: string[] = [];
  const bad = (key: string, message: string): undefined => {
    report('InvalidAnnotation', `${key}: ${message}; the Ingress is not served (access control never fails open)`);
    broken.push(key);
    return undefined;
  };
  const unsupported: string[] = [];
  const basic = parseBasic(read, ns, bad, (key) => {
    report('UnsupportedAnnotation', `${key}: "digest" is not supported (use basic); it restricts access or changes where traffic goes`);
    unsupported.push(key);
  });
  const ext = parseExt(read, settings, bad, report);
  const headers = ext === undefined ? undefined : proxySetHeaders(read, ns, bad);
  return { ...(basic !== undefined ? { basic } : {}), ...(ext !== undefined ? { ext } : {}), ...(headers !== undefined ? { proxySetHeaders: headers } : {}), broken, unsupported };
}

/** `auth-proxy-set-headers`: a ConfigMap in the Ingress's namespace (`name` or `namespace/name`). */
function proxySetHeaders(read: Read, ns: string, bad: Bad): { key: string; ref: string } | undefined {
  const v = read('auth-proxy-set-headers');
  if (v === undefined) return undefined;
  const r = localRef(v.value, ns, 'ConfigMap');
  if ('error' in r) return bad(v.key, r.error);
  return { key: v.key, ref: r.ref };
}

type Bad = (key: string, message: string) => undefined;

/** Companions set without `main` ask for protection they would not get (ingress-nginx serves them open): each is bad. */
function companions(read: Read, names: readonly string[], main: string, bad: Bad): undefined {
  for (const name of names) {
    const v = read(name);
    if (v !== undefined) bad(v.key, `has no effect without ${main}, and serving without the protection it implies could open what its author meant to close`);
  }
  return undefined;
}

function parseBasic(read: Read, ns: string, bad: Bad, digest: (key: string) => void): BasicAuthRequest | undefined {
  const type = read('auth-type');
  if (type === undefined) {
    return companions(read, BASIC, 'auth-type: basic', bad);
  }
  const t = typeof type.value === 'string' ? type.value.trim() : '';
  if (t === 'digest') {
    digest(type.key);
    return undefined;
  }
  if (t !== 'basic') return bad(type.key, `expected "basic" (or the unsupported "digest"), got ${show(type.value)}`);
  const secret = read('auth-secret');
  const kind = read('auth-secret-type');
  const realm = read('auth-realm');
  let ok = true;
  let secretKey = '';
  if (secret === undefined) ok = bad(type.key, 'needs auth-secret (the Secret holding the users)') ?? false;
  else {
    const r = localRef(secret.value, ns, 'Secret');
    if ('error' in r) ok = bad(secret.key, r.error) ?? false;
    else secretKey = r.ref;
  }
  let secretType: BasicAuthRequest['type'] = 'auth-file';
  if (kind !== undefined) {
    const k = typeof kind.value === 'string' ? kind.value.trim() : '';
    if (k === 'auth-file' || k === 'auth-map') secretType = k;
    else ok = bad(kind.key, `expected "auth-file" or "auth-map", got ${show(kind.value)}`) ?? false;
  }
  let realmValue = '';
  if (realm !== undefined) {
    if (typeof realm.value === 'string' && realm.value.length <= 256 && REALM.test(realm.value)) realmValue = realm.value;
    else ok = bad(realm.key, `expected letters, digits, spaces and - . _ ~ / : only, got ${show(realm.value)}`) ?? false;
  }
  if (!ok || secret === undefined) return undefined;
  return { secret: secretKey, type: secretType, realm: realmValue, key: secret.key };
}

/** A URL with variables: http(s), an authority (literal ones validated), variables known. */
function urlTemplate(v: { key: string; value: unknown }, bad: Bad): string | undefined {
  const s = typeof v.value === 'string' ? v.value.trim() : '';
  if (s.length > 2048 || !URL_CHARS.test(s)) return bad(v.key, `expected a URL (letters, digits, - . _ ~ / : , ? & = and nginx variables), got ${show(v.value)}`);
  const m = /^(https?):\/\/([^/?]*)(.*)$/.exec(s);
  if (m === null || m[2] === '') return bad(v.key, `expected an http:// or https:// URL with a host, got ${show(v.value)}`);
  const authority = m[2] as string;
  if (!authority.includes('$') && (!HOST_PORT.test(authority) || authority.includes('..'))) return bad(v.key, `${show(authority)} is not a host name or address with an optional port`);
  const t = parseVars(s, AUTH_VARIABLES);
  if ('error' in t) return bad(v.key, t.error);
  return s;
}

function parseExt(read: Read, settings: RouteSettings, bad: Bad, report: Report): ExtAuthPolicy | undefined {
  const url = read('auth-url');
  if (url === undefined) {
    return companions(read, EXT, 'auth-url', bad);
  }
  let ok = true;
  const fail = (key: string, message: string): void => {
    bad(key, message);
    ok = false;
  };
  const u = urlTemplate(url, bad);
  if (u === undefined) ok = false;
  const out: { -readonly [K in keyof ExtAuthPolicy]: ExtAuthPolicy[K] } = { kind: 'extAuth', url: u ?? '', signinParam: 'rd', responseHeaders: [], alwaysSetCookie: false };

  const method = read('auth-method');
  if (method !== undefined) {
    const m = typeof method.value === 'string' ? method.value.trim() : '';
    if (METHODS.has(m)) out.method = m;
    else fail(method.key, `expected one of ${[...METHODS].join(', ')}, got ${show(method.value)}`);
  }
  const signin = read('auth-signin');
  if (signin !== undefined) {
    const s = urlTemplate(signin, bad);
    if (s === undefined) ok = false;
    else out.signin = s;
  }
  const param = read('auth-signin-redirect-param');
  if (param !== undefined) {
    const p = typeof param.value === 'string' ? param.value.trim() : '';
    if (/^[A-Za-z0-9\-._~]{1,64}$/.test(p)) out.signinParam = p;
    else fail(param.key, `expected a query parameter name (letters, digits, - . _ ~), got ${show(param.value)}`);
    if (signin === undefined) report('InvalidAnnotation', `${param.key}: has no effect without auth-signin`);
  }
  const headers = read('auth-response-headers');
  if (headers !== undefined) {
    const names = typeof headers.value === 'string' ? headers.value.split(',').map((h) => h.trim()).filter((h) => h !== '') : undefined;
    if (names === undefined || names.length === 0 || !names.every((h) => HEADER.test(h) && h.length <= 128)) fail(headers.key, `expected a comma-separated list of header names, got ${show(headers.value)}`);
    else out.responseHeaders = [...new Set(names.map((h) => h.toLowerCase()))];
  }
  const redirect = read('auth-request-redirect');
  if (redirect !== undefined) {
    const r = typeof redirect.value === 'string' ? redirect.value.trim() : '';
    if (r !== '' && r.length <= 2048 && URL_PLAIN.test(r)) out.requestRedirect = r;
    else fail(redirect.key, `expected a URL or path (letters, digits, - . _ ~ / : , ? & =), got ${show(redirect.value)} (ingress-nginx drops external authentication on this value; Portico refuses)`);
  }
  const always = read('auth-always-set-cookie');
  if (always !== undefined) {
    if (always.value === 'true' || always.value === true) out.alwaysSetCookie = true;
    else if (!(always.value === 'false' || always.value === false)) fail(always.key, `expected "true" or "false", got ${show(always.value)} (ingress-nginx drops external authentication on this value; Portico refuses)`);
  }
  const key = read('auth-cache-key');
  const dur = read('auth-cache-duration');
  let durations = DEFAULT_DURATIONS;
  if (dur !== undefined) {
    const d = typeof dur.value === 'string' ? cacheDurations(dur.value) : undefined;
    if (d === undefined) fail(dur.key, `expected entries "[code ...] time" separated by commas, such as "200 202 401 5m", got ${show(dur.value)} (ingress-nginx drops external authentication on some such values; Portico refuses)`);
    else durations = d;
    if (key === undefined) report('InvalidAnnotation', `${dur.key}: has no effect without auth-cache-key`);
  }
  if (key !== undefined) {
    const k = typeof key.value === 'string' ? key.value.trim() : '';
    const t = CACHE_KEY.test(k) ? parseVars(k, AUTH_VARIABLES) : { error: 'expected letters, digits, - _ and nginx variables' };
    if ('error' in t || k === '') fail(key.key, `${'error' in t ? t.error : 'empty'}, got ${show(key.value)}`);
    else out.cache = { key: k, durations };
  }
  if (settings.connectTimeout !== undefined) out.connectTimeout = settings.connectTimeout;
  if (settings.readTimeout !== undefined) out.readTimeout = settings.readTimeout;
  return ok ? out : undefined;
}

/** `200 202 401 5m, 404 1m 30s`: statuses (none: 200, 301, 302, as nginx's proxy_cache_valid) then durations, summed. */
export function cacheDurations(value: string): AuthCacheDuration[] | undefined {
  const out: AuthCacheDuration[] = [];
  for (const entry of value.split(',')) {
    const words = entry.trim().split(/\s+/).filter((w) => w !== '');
    if (words.length === 0) continue;
    const statuses: (number | 'any')[] = [];
    let ms = 0;
    let times = 0;
    for (const w of words) {
      if (/^[1-5]\d\d$/.test(w) || w === 'any') {
        if (times > 0) return undefined; // a code after a time
        statuses.push(w === 'any' ? 'any' : Number(w));
        continue;
      }
      const m = /^(\d{1,9})(ms|s|m|h|d|w|M|y)$/.exec(w);
      if (m === null) return undefined;
      ms += Number(m[1]) * (UNITS[m[2] as string] as number);
      times++;
    }
    if (times === 0 || ms <= 0) return undefined;
    out.push({ statuses: statuses.length > 0 ? statuses : [200, 301, 302], ms: Math.min(ms, 31_536_000_000) });
  }
  return out.length > 0 ? out : undefined;
}

/** A Secret's key as text: `data` (base64, as the API server returns it) or `stringData` (manifest files). */
function field(secret: Secret, key: string): string | undefined {
  const data = secret.data?.[key];
  if (typeof data === 'string') return Buffer.from(data, 'base64').toString('utf8');
  const plain = (secret as { stringData?: Record<string, unknown> }).stringData?.[key];
  return typeof plain === 'string' ? plain : undefined;
}

function keys(secret: Secret): string[] {
  const a = secret.data !== null && typeof secret.data === 'object' ? Object.keys(secret.data) : [];
  const s = (secret as { stringData?: unknown }).stringData;
  const b = s !== null && typeof s === 'object' ? Object.keys(s) : [];
  return [...new Set([...a, ...b])];
}

/** Hashes Portico verifies (proxy/auth/crypt.ts); `{PLAIN}` and DES crypt are refused. */
const SCHEMES = /^(\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}|\$apr1\$[^$]{0,8}\$[./A-Za-z0-9]{22}|\$1\$[^$]{0,8}\$[./A-Za-z0-9]{22}|\$5\$(rounds=\d{1,10}\$)?[^$]{0,16}\$[./A-Za-z0-9]{43}|\$6\$(rounds=\d{1,10}\$)?[^$]{0,16}\$[./A-Za-z0-9]{86}|\{SHA\}[A-Za-z0-9+/]{27}=|\{SSHA\}[A-Za-z0-9+/=]{28,})$/;

/**
 * The basic-auth policy for an Ingress, from its Secret as it is now: a refusal (503) when the
 * Secret is missing or holds no usable user, so a removed or emptied Secret never opens the route.
 * Lines that cannot be used (`{PLAIN}`, unknown schemes, no password) are reported on the Secret
 * and left out: those users never match.
 */
export function basicAuthPolicy(b: TableBuilder, origin: Origin, req: BasicAuthRequest): Policy {
  const secret = b.secret(req.secret);
  const refuse = (reason: DiagnosticReason, message: string): Policy => {
    b.report(origin, reason, `${req.key}: ${message}; its routes answer 503 (access control never fails open)`);
    return { kind: 'refuse', because: [req.key] };
  };
  if (secret === undefined) return refuse('SecretNotFound', `Secret ${req.secret} not found (in Kubernetes mode Portico reads Secrets of types Opaque and kubernetes.io/tls)`);
  const [ns, name] = req.secret.split('/') as [string, string];
  const where: Origin = { kind: 'Secret', namespace: ns, name };
  const users: BasicUser[] = [];
  const seen = new Set<string>();
  const add = (user: string, hash: string, at: string): void => {
    if (seen.has(user)) return; // nginx reads the first line of a user
    seen.add(user);
    if (hash.startsWith('{PLAIN}')) b.report(where, 'InvalidSecret', `${at}: user ${show(user)} has a {PLAIN} password, which Portico refuses (store a hash: htpasswd -B); that user is never let in`);
    else if (!SCHEMES.test(hash)) b.report(where, 'InvalidSecret', `${at}: user ${show(user)} has ${hash === '' ? 'no password hash' : 'a hash in no scheme Portico verifies (bcrypt $2y$/$2a$/$2b$, $apr1$, $1$, $5$, $6$, {SHA}, {SSHA})'}; that user is never let in`);
    else users.push({ user, hash });
  };
  if (req.type === 'auth-file') {
    const text = field(secret, 'auth');
    if (text === undefined) return refuse('InvalidSecret', `Secret ${req.secret} has no key "auth" (an htpasswd file; use auth-secret-type: auth-map for one key per user)`);
    text.split(/\r?\n/).forEach((line, i) => {
      if (line.trim() === '' || line.startsWith('#')) return;
      const colon = line.indexOf(':');
      if (colon <= 0) {
        b.report(where, 'InvalidSecret', `auth line ${i + 1}: expected "user:hash"; ignored`);
        return;
      }
      const rest = line.slice(colon + 1);
      const end = rest.indexOf(':'); // nginx ignores what follows a second colon
      add(line.slice(0, colon), (end === -1 ? rest : rest.slice(0, end)).trim(), `auth line ${i + 1}`);
    });
  } else {
    for (const user of keys(secret).sort()) add(user, (field(secret, user) ?? '').trim(), `key ${show(user)}`);
  }
  if (users.length === 0) return refuse('InvalidSecret', `Secret ${req.secret} holds no user Portico can verify`);
  return { kind: 'basicAuth', realm: req.realm, secret: req.secret, users };
}

/** Headers the sub-request's framing or Portico's connection handling owns: a ConfigMap may not set them. */
const FRAMING = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect', 'http2-settings']);

/**
 * The external-auth policy with its `auth-proxy-set-headers` ConfigMap as it is now, or a refusal
 * (503) when the ConfigMap is missing or holds an entry that cannot be sent (ingress-nginx denies
 * the location for a missing ConfigMap or a bad header name; Portico also for a value it cannot
 * expand, since an auth input must never be silently dropped).
 */
export function authHeadersPolicy(b: TableBuilder, origin: Origin, ext: ExtAuthPolicy, req: { readonly key: string; readonly ref: string }): Policy {
  const cm = b.configMap(req.ref);
  const refuse = (message: string): Policy => {
    b.report(origin, 'InvalidAnnotation', `${req.key}: ${message}; its routes answer 503 (authentication never fails open)`);
    return { kind: 'refuse', because: [], invalid: [req.key] };
  };
  if (cm === undefined) return refuse(`ConfigMap ${req.ref} not found`);
  const data = cm.data !== null && typeof cm.data === 'object' && !Array.isArray(cm.data) ? (cm.data as Record<string, unknown>) : {};
  const out: [string, string][] = [];
  for (const name of Object.keys(data).sort()) {
    const raw = data[name];
    // a manifest file's YAML may leave a number unquoted (the API server only stores strings)
    const value = typeof raw === 'number' || typeof raw === 'boolean' ? String(raw) : raw;
    if (!HEADER.test(name) || name.length > 128) return refuse(`ConfigMap ${req.ref}: key ${show(name)} is not a header name (letters, digits, - and _)`);
    if (FRAMING.has(name.toLowerCase())) return refuse(`ConfigMap ${req.ref}: ${name} is set by Portico for the sub-request itself`);
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || value.length > 4096 || /[\x00-\x08\x0a-\x1f\x7f]/.test(value)) return refuse(`ConfigMap ${req.ref}: the value of ${name} must be text without control characters`);
    const t = parseVars(value, HEADER_VARIABLES);
    if ('error' in t) return refuse(`ConfigMap ${req.ref}: the value of ${name}: ${t.error}`);
    out.push([name, value]);
  }
  return { ...ext, setHeaders: out, setHeadersFrom: req.ref };
}
