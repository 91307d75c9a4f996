/**
 * Client certificates are per host, as in ingress-nginx ("applied per host and it is not possible
 * to specify rules that differ for individual paths"): the oldest Ingress with `auth-tls-secret`
 * on a host sets what the TLS handshake for that host asks for, and every route of the host
 * (whichever Ingress it comes from) checks the outcome. What Portico does where ingress-nginx
 * would open a door or guess:
 * - a missing or unusable Secret refuses every route of the host (ingress-nginx: 403 for the host);
 * - an Ingress whose settings for a host differ from the host's is refused on that host (ingress-
 *   nginx ignores them, which can drop a check its author asked for);
 * - an Ingress with an invalid auth-tls value is refused (ingress-nginx skips it, or uses `on`).
 */
import { sourceName } from '../build.js';
import { samePlain } from '../print.js';
const NONE = { verdict: () => null };
/** The route hosts of an Ingress: its rule hosts ('' for a rule without one), or '' when it has only a default backend. */
export function hostsOf(c) {
    if (c.ruleCount === 0)
        return [''];
    const hosts = new Set();
    for (const r of c.rules)
        if ('host' in r)
            hosts.add(r.host);
    return [...hosts];
}
const shown = (host) => (host === '' ? '(any host)' : host);
/** Decides, for every host, what its routes do about client certificates; records the TLS side in the builder. */
export function resolveClientAuth(b, checked) {
    if (!checked.some((c) => c.clientCert.settings !== null || c.clientCert.invalid.length > 0))
        return NONE;
    const winners = new Map();
    const broken = new Map();
    const refused = new Map();
    const conflicts = new Map();
    for (const c of checked) {
        if (c.invalid)
            continue;
        const { settings, invalid } = c.clientCert;
        if (invalid.length > 0) {
            refused.set(c, [{ kind: 'refuse', because: invalid, message: `its Ingress's ${invalid.join(', ')} cannot be honoured as written (see the InvalidAnnotation diagnostic)` }]);
            continue;
        }
        if (settings === null)
            continue;
        const hosts = hostsOf(c);
        const check = b.clientCa(settings.secret);
        if (!check.ok) {
            b.report(c.origin, check.reason, `${check.message}; client certificates cannot be verified, so ${hosts.length === 1 ? 'host' : 'hosts'} ${hosts.map(shown).join(', ')} ${hosts.length === 1 ? 'is' : 'are'} not served (every route answers 503)`);
            for (const h of hosts) {
                if (broken.has(h))
                    continue;
                const message = `host ${shown(h)} asks for client certificates, and ${sourceName(c.source)} names an auth-tls-secret that cannot be used (see its ${check.reason} diagnostic)`;
                broken.set(h, { by: c, reason: check.reason, refusal: [{ kind: 'refuse', because: ['auth-tls-secret'], message }] });
            }
            continue;
        }
        const policy = {
            kind: 'clientCert',
            secret: settings.secret,
            ca: check.id,
            verify: settings.verify,
            depth: settings.depth,
            ...(settings.errorPage !== undefined ? { errorPage: settings.errorPage } : {}),
            passCertificate: settings.passCertificate,
            ...(settings.matchCn !== undefined ? { matchCn: settings.matchCn } : {}),
        };
        for (const h of hosts) {
            const w = winners.get(h);
            if (w === undefined) {
                const auth = { host: h, secret: settings.secret, id: check.id, caPem: check.caPem, ...(check.crlPem !== undefined ? { crlPem: check.crlPem } : {}), request: settings.verify !== 'off', source: c.source };
                winners.set(h, { by: c, policy, auth });
            }
            else if (!samePlain({ ...w.policy, secret: '' }, { ...policy, secret: '' })) {
                // the same CA under another Secret's name is the same requirement; anything else is not
                b.report(c.origin, 'ClientAuthConflict', `host ${shown(h)}: the auth-tls-* settings differ from those of ${sourceName(w.by.source)}, which is older and sets them for the host; this Ingress's routes on ${shown(h)} are not served (503) until they agree`);
                let m = conflicts.get(c);
                if (m === undefined)
                    conflicts.set(c, (m = new Map()));
                m.set(h, [{ kind: 'refuse', because: ['auth-tls-*'], message: `its Ingress's client-certificate settings for host ${shown(h)} differ from those of ${sourceName(w.by.source)} (see the ClientAuthConflict diagnostic)` }]);
            }
        }
    }
    // a broken Secret anywhere on a host refuses all of it: say so to every Ingress that loses routes
    if (broken.size > 0) {
        for (const c of checked) {
            if (c.invalid)
                continue;
            for (const h of hostsOf(c)) {
                const x = broken.get(h);
                if (x !== undefined && x.by !== c)
                    b.report(c.origin, x.reason, `host ${shown(h)} is not served (its routes answer 503): ${sourceName(x.by.source)} names an auth-tls-secret that cannot be used`);
            }
        }
    }
    for (const [h, w] of winners)
        if (!broken.has(h))
            b.clientAuth.set(h, w.auth);
    return {
        verdict(c, host) {
            const r = refused.get(c);
            if (r !== undefined)
                return { refuse: r };
            const x = broken.get(host);
            if (x !== undefined)
                return { refuse: x.refusal };
            const conflict = conflicts.get(c)?.get(host);
            if (conflict !== undefined)
                return { refuse: conflict };
            const w = winners.get(host);
            return w === undefined ? null : { add: w.policy };
        },
    };
}
//# sourceMappingURL=client-auth.js.map