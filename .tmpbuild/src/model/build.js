/**
 * The table under construction, shared by the processors of every source (Ingress now, the
 * Gateway API next): routes with their precedence and conflicts, backends resolved once,
 * certificates, diagnostics reported once, and the references that decide which object changes
 * can matter. Lives for one translation.
 */
import { certProblem } from './certs.js';
import { resolveBackend } from './endpoints.js';
import { keyOf } from './k8s.js';
/** The human name of a route's source, for messages: `Ingress ns/name`. */
export const sourceName = (s) => (s.kind === 'DefaultBackend' ? '--default-backend-service' : `${s.kind} ${s.namespace}/${s.name}`);
export class TableBuilder {
    index;
    opts;
    routes = new Map();
    certs = new Map();
    hostFallbacks = new Map();
    defaultBackend = null;
    /** proxy-ssl-secret material by Secret; a Secret checked in this translation is in `upstreamChecked`. */
    upstreamTls = new Map();
    upstreamChecked = new Map();
    /** auth-tls-secret checks of this translation, by Secret. */
    clientCaChecked = new Map();
    /** Client-certificate verification by route host (the Ingress processor decides which host gets what). */
    clientAuth = new Map();
    secrets = new Map();
    configMaps = new Map();
    backends = new Map();
    secretRefs = new Set();
    configMapRefs = new Set();
    serviceRefs = new Set();
    /** ExternalName DNS names the table's backends need resolved. */
    externalNames = new Set();
    diagnostics = [];
    reported = new Set();
    constructor(index, secrets, opts, configMaps = []) {
        this.index = index;
        this.opts = opts;
        for (const s of secrets)
            this.secrets.set(keyOf(s), s);
        for (const c of configMaps)
            this.configMaps.set(keyOf(c), c);
    }
    /** Records a problem once per object, reason and message. */
    report(source, reason, message, severity) {
        const key = `${source.kind}/${source.namespace}/${source.name}\n${reason}\n${message}`;
        if (this.reported.has(key))
            return;
        this.reported.add(key);
        this.diagnostics.push(severity === undefined ? { source, reason, message } : { source, reason, message, severity });
    }
    /** A Secret by `namespace/name`, recorded as referenced (its changes rebuild). */
    secret(key) {
        this.secretRefs.add(key);
        return this.secrets.get(key);
    }
    /** A ConfigMap by `namespace/name`, recorded as referenced (its changes rebuild). */
    configMap(key) {
        this.configMapRefs.add(key);
        return this.configMaps.get(key);
    }
    /**
     * Resolves a backend once per translation, and reports its problem once per referring object.
     * `serviceUpstream`: the Service's ClusterIP; a Service without one keeps its endpoints (noted).
     */
    backend(id, ns, service, port, origin, protocol, serviceUpstream = false) {
        let r = this.backends.get(id);
        if (!r) {
            // one id is one namespace/service: its reference is recorded with its first use
            this.serviceRefs.add(`${ns}/${service}`);
            r = resolveBackend(this.index, ns, service, port, id, protocol, this.opts.externalNames, serviceUpstream);
            this.backends.set(id, r);
            if (r.backend.externalName !== undefined && this.opts.externalNames?.allow === true)
                this.externalNames.add(r.backend.externalName);
        }
        if (r.problem)
            this.report(origin, r.problem.reason, r.problem.message);
        else if (serviceUpstream && r.backend.serviceUpstream !== true) {
            this.report(origin, 'InvalidAnnotation', `service-upstream: Service ${ns}/${service} has no ClusterIP (${r.backend.externalName !== undefined ? 'ExternalName' : 'headless'}); its ${r.backend.externalName !== undefined ? "name's addresses" : 'endpoints'} are used`);
        }
    }
    /** The number (else the name) of a Service's first port, for the default-backend annotation; undefined when the Service or its ports are missing. */
    firstPort(ns, service) {
        this.serviceRefs.add(`${ns}/${service}`);
        const ports = this.index.services.get(`${ns}/${service}`)?.spec?.ports;
        const p = Array.isArray(ports) ? ports[0] : undefined;
        if (typeof p?.port === 'number' && Number.isInteger(p.port) && p.port > 0 && p.port < 65536)
            return p.port;
        return typeof p?.name === 'string' && p.name !== '' ? p.name : undefined;
    }
    /** Whether a Service the table refers to is absent (the reference is invalid, not merely without endpoints). */
    serviceMissing(namespace, name) {
        return !this.index.services.has(`${namespace}/${name}`);
    }
    /** The resolved backend for an id used in this translation. */
    resolved(id) {
        return this.backends.get(id)?.backend;
    }
    /**
     * Adds a route unless one with the same host, match and path exists (and, for routes with
     * conditions, the same conditions): the older object's route keeps the place (`created`: its
     * creationTimestamp; on a tie, the one added first). Returns the route that lost, or null.
     */
    addRoute(r, created = '') {
        let host = this.routes.get(r.host);
        if (host === undefined)
            this.routes.set(r.host, (host = { Exact: new Map(), Prefix: new Map(), Regex: new Map() }));
        const byPath = host[r.match];
        const same = byPath.get(r.path);
        this.created.set(r, created);
        if (same === undefined) {
            byPath.set(r.path, [r]);
            return null;
        }
        const key = conditionsKey(r);
        const i = same.findIndex((x) => conditionsKey(x) === key && sharePort(x, r));
        if (i === -1) {
            same.push(r);
            return null;
        }
        const existing = same[i];
        const theirs = this.created.get(existing) ?? '';
        if (created !== '' && theirs !== '' && created < theirs) {
            same[i] = r;
            return existing;
        }
        return r;
    }
    /** The route holding the place `r` asked for (same host, match, path and conditions). */
    routeAt(r) {
        const key = conditionsKey(r);
        return this.routes.get(r.host)?.[r.match].get(r.path)?.find((x) => conditionsKey(x) === key && sharePort(x, r));
    }
    /** When each added route's object was created (for conflicts between sources). */
    created = new Map();
    /**
     * The route a canary path splits traffic off: the Ingress route without conditions at that host, path
     * and match (a Prefix path also finds a Regex route of the same path: the same location in
     * ingress-nginx, where use-regex keeps the path type).
     */
    findRoute(host, match, path) {
        const h = this.routes.get(host);
        if (h === undefined)
            return undefined;
        const plain = (m) => h[m].get(path)?.find((r) => r.conditions === undefined && r.source.kind === 'Ingress');
        return plain(match) ?? (match === 'Prefix' ? plain('Regex') : undefined);
    }
    /** Replaces a route found with {@link findRoute} (routes are immutable: a canary makes a new one). */
    replaceRoute(old, next) {
        const list = this.routes.get(old.host)?.[old.match].get(old.path);
        const i = list === undefined ? -1 : list.indexOf(old);
        if (list !== undefined && i >= 0)
            list[i] = next;
    }
    /** Whether a host has a Prefix `/` route for every port and without conditions: it matches every path, so a fallback would never serve. */
    coversAll(host) {
        return (this.routes.get(host)?.Prefix.get('/') ?? []).some((r) => r.conditions === undefined && r.ports === undefined);
    }
    /** Sets a host's fallback route unless it has one; returns the one that holds the place, or null. */
    addFallback(host, r) {
        const existing = this.hostFallbacks.get(host);
        if (existing !== undefined)
            return existing;
        this.hostFallbacks.set(host, r);
        return null;
    }
    /** Serves host `to` with copies of host `from`'s routes and fallback, as they are now (server-alias). */
    copyHost(from, to) {
        const h = this.routes.get(from);
        if (h !== undefined)
            for (const m of ['Exact', 'Prefix', 'Regex'])
                for (const list of h[m].values())
                    for (const r of list)
                        this.addRoute({ ...r, host: to }, this.created.get(r) ?? '');
        const f = this.hostFallbacks.get(from);
        if (f !== undefined)
            this.addFallback(to, { ...f, host: to });
    }
    /**
     * Gives host `to` the certificate of host `from` when it covers `to` and `to` has none of its
     * own (another name of the same host: server-alias, from-to-www-redirect); otherwise `to` is
     * served the default certificate, which is reported.
     */
    shareCert(from, to, origin, why) {
        const cert = this.certs.get(from);
        if (cert === undefined || this.certs.has(to) || this.opts.inspect === undefined)
            return;
        const secret = this.secret(cert.secret);
        const check = secret === undefined ? undefined : this.opts.inspect(secret);
        if (check?.ok === true && check.covers(to))
            this.certs.set(to, { ...cert, host: to });
        else
            this.report(origin, 'CertificateHostMismatch', `${why}: the certificate of host ${from} (Secret ${cert.secret}) does not cover ${to}; HTTPS requests for ${to} get the default certificate`);
    }
    /** Checks a proxy-ssl-secret once per translation; reports its problem for each object using it. */
    upstreamSecret(key, origin) {
        const inspect = this.opts.inspectUpstream;
        if (inspect === undefined)
            return;
        let problem = this.upstreamChecked.get(key);
        if (problem === undefined) {
            const secret = this.secret(key);
            const check = secret === undefined ? undefined : inspect(secret);
            if (check === undefined)
                problem = ['SecretNotFound', `proxy-ssl-secret ${key} not found`];
            else if (!check.ok)
                problem = [check.reason, `proxy-ssl-secret ${key}: ${check.message}`];
            else {
                problem = null;
                this.upstreamTls.set(key, { id: check.id, ...(check.caPem !== undefined ? { caPem: check.caPem } : {}), ...(check.certPem !== undefined && check.keyPem !== undefined ? { certPem: check.certPem, keyPem: check.keyPem } : {}) });
            }
            this.upstreamChecked.set(key, problem);
        }
        else
            this.secretRefs.add(key);
        if (problem !== null)
            this.report(origin, ...problem);
    }
    /** Checks an auth-tls-secret once per translation: usable CAs, or why not (the caller reports it where it applies). */
    clientCa(key) {
        let check = this.clientCaChecked.get(key);
        if (check === undefined) {
            const secret = this.secret(key);
            const inspect = this.opts.inspectClientCa;
            if (secret === undefined)
                check = { ok: false, reason: 'SecretNotFound', message: `auth-tls-secret ${key} not found` };
            else if (inspect === undefined)
                check = { ok: false, reason: 'InvalidCertificate', message: `auth-tls-secret ${key}: client certificates cannot be checked in this mode` };
            else {
                const c = inspect(secret);
                check = c.ok ? c : { ok: false, reason: c.reason, message: `auth-tls-secret ${key}: ${c.message}` };
            }
            this.clientCaChecked.set(key, check);
        }
        return check;
    }
    /**
     * A certificate for `host` from a TLS Secret, checked at `now`: stored unless the host has one
     * (the first object wins); problems are reported and leave the host on the default certificate.
     */
    cert(host, secretKey, origin, source, where) {
        const inspect = this.opts.inspect;
        if (inspect === undefined)
            return;
        const secret = this.secret(secretKey);
        if (secret === undefined)
            return; // the caller reports a missing Secret once for all its hosts
        const check = inspect(secret);
        const problem = certProblem(check, host, this.opts.now ?? 0, secretKey);
        if (problem !== null || !check.ok) {
            if (problem)
                this.report(origin, problem.reason, `${where}: ${problem.message}; host ${host} uses the default certificate`);
            return;
        }
        const existing = this.certs.get(host);
        if (existing !== undefined) {
            if (existing.secret !== secretKey)
                this.report(origin, 'DuplicateTLSHost', `${where}: host ${host} already has Secret ${existing.secret} from ${sourceName(existing.source)}; ignored`);
            return;
        }
        this.certs.set(host, { host, secret: secretKey, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source });
    }
    /**
     * A certificate for `host` ('' = any host: the fallback certificate unless --default-ssl-certificate
     * set one) from a TLS Secret, for a Gateway listener: stored unless the host has one; returns the
     * problem (for the listener's conditions) or null.
     */
    certFor(host, secretKey, origin, source, where) {
        const inspect = this.opts.inspect;
        const secret = this.secret(secretKey);
        if (inspect === undefined)
            return null;
        if (secret === undefined)
            return `Secret ${secretKey} not found`;
        const check = inspect(secret);
        const problem = certProblem(check, host.startsWith('*.') ? host.slice(2) : host, this.opts.now ?? 0, secretKey);
        if (problem !== null || !check.ok)
            return problem?.message ?? 'unusable certificate';
        const existing = this.certs.get(host);
        if (existing !== undefined) {
            if (existing.secret !== secretKey)
                this.report(origin, 'DuplicateTLSHost', `${where}: host ${host || '(any)'} already has Secret ${existing.secret} from ${sourceName(existing.source)}; ignored`);
            return null;
        }
        this.certs.set(host, { host, secret: secretKey, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source });
        return null;
    }
    /** `--default-ssl-certificate`: stored under host '' when valid, else a diagnostic on the Secret. */
    defaultCert(ref) {
        const key = `${ref.namespace}/${ref.name}`;
        const origin = { kind: 'Secret', namespace: ref.namespace, name: ref.name };
        const secret = this.secret(key);
        if (this.opts.inspect === undefined)
            return;
        if (secret === undefined) {
            this.report(origin, 'SecretNotFound', `--default-ssl-certificate ${key} not found; serving the generated self-signed certificate`);
            return;
        }
        const check = this.opts.inspect(secret);
        const problem = certProblem(check, '', this.opts.now ?? 0, key);
        if (problem !== null || !check.ok) {
            if (problem)
                this.report(origin, problem.reason, `--default-ssl-certificate: ${problem.message}; serving the generated self-signed certificate`);
            return;
        }
        this.certs.set('', { host: '', secret: key, id: check.id, certPem: check.certPem, keyPem: check.keyPem, notAfter: check.notAfter, source: { kind: 'DefaultBackend', namespace: ref.namespace, name: '' } });
    }
    finish(listeners = []) {
        // sorted by host, then path; Exact, then Prefix, then Regex on the same path; routes of one path in the order added
        const routes = [];
        for (const host of [...this.routes.keys()].sort()) {
            const h = this.routes.get(host);
            const paths = new Set([...h.Exact.keys(), ...h.Prefix.keys(), ...h.Regex.keys()]);
            for (const path of [...paths].sort())
                for (const m of ['Exact', 'Prefix', 'Regex'])
                    for (const r of h[m].get(path) ?? [])
                        routes.push(r);
        }
        const backends = new Map();
        for (const id of [...this.backends.keys()].sort())
            backends.set(id, this.backends.get(id).backend);
        return {
            table: { routes, hostFallbacks: this.hostFallbacks, defaultBackend: this.defaultBackend, backends, certs: this.certs, ...(this.upstreamTls.size > 0 ? { upstreamTls: this.upstreamTls } : {}), ...(this.clientAuth.size > 0 ? { clientAuth: this.clientAuth } : {}), ...(listeners.length > 0 ? { listeners } : {}) },
            diagnostics: this.diagnostics,
            references: { services: this.serviceRefs, secrets: this.secretRefs, configMaps: this.configMapRefs, externalNames: this.externalNames },
        };
    }
}
/** Routes with equal keys cannot both be matched: one shadows the other. */
/** Whether two routes are served on a common port (an Ingress's on both of Portico's; a Gateway route's on its listeners'). */
function sharePort(a, b) {
    const pa = a.ports ?? [80, 443];
    const pb = b.ports ?? [80, 443];
    return pa.some((p) => pb.includes(p));
}
function conditionsKey(r) {
    const c = r.conditions;
    if (c === undefined)
        return '';
    return JSON.stringify([c.method ?? '', c.headers ?? [], c.query ?? []]);
}
//# sourceMappingURL=build.js.map