/**
 * How requests reach the API server: its URL, TLS settings and credentials. Portico reads the
 * in-cluster service account and kubeconfig files itself for the common cases (certificate
 * authority, client certificates, bearer tokens and token files, basic auth); a kubeconfig user
 * with an `exec` or `auth-provider` plugin is handed to @kubernetes/client-node's KubeConfig.
 *
 * Why: importing client-node costs 0.9 s of start-up and 46 MiB of memory (its KubeConfig module
 * loads the whole generated API), and the production path (in-cluster) needs none of it.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { CORE_SCHEMA, load } from 'js-yaml';
/** A kubeconfig whose user needs client-node (an exec or auth-provider plugin). */
export class NeedsPlugin extends Error {
}
/** Bound service-account tokens rotate (about hourly); re-read the file at most this often. */
const TOKEN_TTL_MS = 60_000;
function tokenFile(path) {
    let token = '';
    let readAt = -Infinity;
    return () => {
        const now = Date.now();
        if (now - readAt > TOKEN_TTL_MS) {
            token = readFileSync(path, 'utf8').trim();
            readAt = now;
        }
        return token;
    };
}
function credentials(server, tls, authorization) {
    return {
        server: server.replace(/\/+$/, ''),
        async apply(opts) {
            Object.assign(opts, tls);
            const auth = authorization();
            if (auth !== undefined)
                opts.headers = { ...opts.headers, authorization: auth };
        },
    };
}
/** The in-cluster service account: `dir` holds token and ca.crt; the address comes from the environment. */
export function inCluster(dir, env) {
    const host = env.KUBERNETES_SERVICE_HOST.includes(':') ? `[${env.KUBERNETES_SERVICE_HOST}]` : env.KUBERNETES_SERVICE_HOST;
    const token = tokenFile(join(dir, 'token'));
    return credentials(`https://${host}:${env.KUBERNETES_SERVICE_PORT || '443'}`, { ca: readFileSync(join(dir, 'ca.crt')) }, () => `Bearer ${token()}`);
}
const rec = (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? v : {});
const text = (v) => (typeof v === 'string' ? v : '');
/** Reads a kubeconfig file; throws with a one-line message, or {@link NeedsPlugin}. */
export function readKubeconfig(file) {
    const doc = rec(load(readFileSync(file, 'utf8'), { schema: CORE_SCHEMA }));
    const base = dirname(file);
    const byName = (list, field) => {
        const m = new Map();
        for (const e of Array.isArray(list) ? list : []) {
            const entry = rec(e);
            if (typeof entry.name === 'string')
                m.set(entry.name, rec(entry[field]));
        }
        return m;
    };
    const clusters = byName(doc.clusters, 'cluster');
    const users = byName(doc.users, 'user');
    const contexts = byName(doc.contexts, 'context');
    // file references are relative to the kubeconfig's folder; *-data fields are base64
    const bytes = (o, field) => {
        const data = text(o[`${field}-data`]);
        if (data !== '')
            return Buffer.from(data, 'base64');
        const path = text(o[field]);
        return path === '' ? undefined : readFileSync(isAbsolute(path) ? path : join(base, path));
    };
    return {
        contexts: [...contexts.keys()],
        currentContext: text(doc['current-context']),
        select(context = text(doc['current-context'])) {
            const ctx = contexts.get(context);
            if (ctx === undefined)
                throw new Error(`no context ${JSON.stringify(context)}`);
            const cluster = clusters.get(text(ctx.cluster));
            if (cluster === undefined || text(cluster.server) === '')
                throw new Error(`no cluster for context ${JSON.stringify(context)}`);
            const user = users.get(text(ctx.user)) ?? {};
            if (user.exec !== undefined || user['auth-provider'] !== undefined)
                throw new NeedsPlugin(`user ${text(ctx.user)} uses a credential plugin`);
            const tls = {};
            const ca = bytes(cluster, 'certificate-authority');
            if (ca !== undefined)
                tls.ca = ca;
            if (cluster['insecure-skip-tls-verify'] === true)
                tls.rejectUnauthorized = false;
            if (text(cluster['tls-server-name']) !== '')
                tls.servername = text(cluster['tls-server-name']);
            const cert = bytes(user, 'client-certificate');
            const key = bytes(user, 'client-key');
            if (cert !== undefined)
                tls.cert = cert;
            if (key !== undefined)
                tls.key = key;
            let authorization = () => undefined;
            if (text(user.token) !== '')
                authorization = () => `Bearer ${text(user.token)}`;
            else if (text(user.tokenFile) !== '') {
                const read = tokenFile(isAbsolute(text(user.tokenFile)) ? text(user.tokenFile) : join(base, text(user.tokenFile)));
                authorization = () => `Bearer ${read()}`;
            }
            else if (text(user.username) !== '') {
                const basic = `Basic ${Buffer.from(`${text(user.username)}:${text(user.password)}`).toString('base64')}`;
                authorization = () => basic;
            }
            return { creds: credentials(text(cluster.server), tls, authorization), namespace: text(ctx.namespace) };
        },
    };
}
/** client-node's KubeConfig behind the same interface, for credential plugins. Loaded only then. */
export async function viaClientNode(file, context) {
    const { KubeConfig } = await import('@kubernetes/client-node');
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    if (context !== '')
        kc.setCurrentContext(context);
    return {
        creds: { server: (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, ''), apply: (opts) => kc.applyToHTTPSOptions(opts) },
        namespace: kc.getContextObject(kc.getCurrentContext())?.namespace ?? '',
    };
}
//# sourceMappingURL=credentials.js.map