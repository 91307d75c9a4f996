/**
 * A Kubernetes API-server double that speaks the real wire protocol to the real client library:
 * LIST with limit/continue, WATCH (chunked newline-delimited events, headers flushed at once,
 * bookmarks, 410 Gone for an expired resourceVersion), the Ingress status subresource, create and
 * update with optimistic concurrency (409), metadata.generation bumped by spec changes, CRD kinds
 * that answer 404 until installed, field and label selectors, bearer tokens (401) and
 * RBAC-style rules (403), over HTTPS with a self-signed CA and a generated kubeconfig. Faults:
 * drop every watch, answer 500s for a while, stall, expire resourceVersions.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { stringify } from 'yaml';
import { createSelfSigned } from '../../src/tls/selfsigned.js';

type Obj = { apiVersion?: string | undefined; kind?: string | undefined; metadata?: (Record<string, unknown> & { name?: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string> }) | undefined; [k: string]: unknown };

interface ResourceInfo {
  readonly kind: string;
  readonly group: string; // '' = core
  readonly version: string;
  readonly namespaced: boolean;
  /** Defined by a CRD: 404 until the double's CRDs are installed. */
  readonly crd?: boolean;
  /** In the Gateway API's experimental channel only: 404 until the experimental CRDs are installed. */
  readonly experimental?: boolean;
}

/** The resources the double serves, by plural. */
export const RESOURCES: Record<string, ResourceInfo> = {
  ingresses: { kind: 'Ingress', group: 'networking.k8s.io', version: 'v1', namespaced: true },
  ingressclasses: { kind: 'IngressClass', group: 'networking.k8s.io', version: 'v1', namespaced: false },
  services: { kind: 'Service', group: '', version: 'v1', namespaced: true },
  endpointslices: { kind: 'EndpointSlice', group: 'discovery.k8s.io', version: 'v1', namespaced: true },
  secrets: { kind: 'Secret', group: '', version: 'v1', namespaced: true },
  leases: { kind: 'Lease', group: 'coordination.k8s.io', version: 'v1', namespaced: true },
  events: { kind: 'Event', group: 'events.k8s.io', version: 'v1', namespaced: true },
  configmaps: { kind: 'ConfigMap', group: '', version: 'v1', namespaced: true },
  namespaces: { kind: 'Namespace', group: '', version: 'v1', namespaced: false },
  gatewayclasses: { kind: 'GatewayClass', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: false, crd: true },
  gateways: { kind: 'Gateway', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true, crd: true },
  httproutes: { kind: 'HTTPRoute', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true, crd: true },
  grpcroutes: { kind: 'GRPCRoute', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true, crd: true },
  referencegrants: { kind: 'ReferenceGrant', group: 'gateway.networking.k8s.io', version: 'v1beta1', namespaced: true, crd: true },
  backendtlspolicies: { kind: 'BackendTLSPolicy', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true, crd: true },
  // one at v1 (as Gateway API v1.5 serves TLSRoute), one at the older v1alpha2 only (as experimental channels before v1.6 serve TCPRoute)
  tlsroutes: { kind: 'TLSRoute', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true, crd: true, experimental: true },
  tcproutes: { kind: 'TCPRoute', group: 'gateway.networking.k8s.io', version: 'v1alpha2', namespaced: true, crd: true, experimental: true },
  udproutes: { kind: 'UDPRoute', group: 'gateway.networking.k8s.io', version: 'v1', namespaced: true, crd: true },
};
const PLURAL_OF: Record<string, string> = Object.fromEntries(Object.entries(RESOURCES).map(([p, r]) => [r.kind, p]));

/** An RBAC PolicyRule, optionally limited to one namespace (a Role rather than a ClusterRole). */
export interface Rule {
  readonly apiGroups: readonly string[];
  readonly resources: readonly string[];
  readonly verbs: readonly string[];
  readonly resourceNames?: readonly string[];
  readonly namespace?: string;
}

export interface Identity {
  readonly name: string;
  /** 'all' = cluster-admin. */
  readonly rules: readonly Rule[] | 'all';
}

interface Watcher {
  readonly plural: string;
  readonly namespace: string;
  readonly filter: (o: Obj) => boolean;
  readonly res: ServerResponse;
  timer: NodeJS.Timeout | null;
}

interface HistoryEntry {
  readonly rv: number;
  readonly plural: string;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly obj: Obj;
}

export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  readonly user: string;
  readonly status: number;
}

const status = (code: number, reason: string, message: string): Obj => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });

function selector(fieldSelector: string | null, labelSelector: string | null): (o: Obj) => boolean {
  const fields = (fieldSelector ?? '').split(',').filter(Boolean).map((t) => t.split(/!?=/) as [string, string]);
  const fieldNeg = (fieldSelector ?? '').split(',').filter(Boolean).map((t) => t.includes('!='));
  const labels = (labelSelector ?? '').split(',').filter(Boolean).map((t) => t.split('=') as [string, string]);
  const get = (o: Obj, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined), o);
  return (o) =>
    fields.every(([k, v], i) => (String(get(o, k) ?? '') === v) !== fieldNeg[i]) &&
    labels.every(([k, v]) => o.metadata?.labels?.[k] === v);
}

export interface ApiDouble {
  readonly url: string;
  readonly caPem: string;
  readonly requests: RequestRecord[];
  /** Writes a kubeconfig for `token` (default: the admin token) and returns its path. */
  kubeconfig(path: string, token?: string, namespace?: string): string;
  /** Registers a bearer token with its permissions. */
  addToken(token: string, identity: Identity): void;
  /** Creates or replaces an object (server-side fields assigned), emitting ADDED or MODIFIED. */
  apply(obj: Obj): Obj;
  remove(kind: string, namespace: string, name: string): void;
  get(kind: string, namespace: string, name: string): Obj | undefined;
  list(kind: string): Obj[];
  /** Fault injection. */
  dropWatches(): void;
  failFor(ms: number): void;
  stallFor(ms: number): void;
  expire(): void;
  watchCount(): number;
  /** Installs the Gateway API CRDs (when started with `crds: false`): their paths stop answering 404; `experimental`: TLSRoute and TCPRoute too (the default). */
  installCrds(which?: 'standard' | 'experimental'): void;
  close(): Promise<void>;
}

/** `crds`: the Gateway API CRDs are installed (default true); `experimentalCrds`: TLSRoute and TCPRoute too (default: as `crds`). */
export async function startApiDouble(opts: { ip?: string; bookmarkMs?: number; crds?: boolean; experimentalCrds?: boolean } = {}): Promise<ApiDouble> {
  const ip = opts.ip ?? '127.0.0.1';
  const tls = createSelfSigned({ commonName: 'api-double', dnsNames: ['kubernetes.default.svc'], ipAddresses: [ip], isCA: true, keyType: 'ec' });
  const store = new Map<string, Map<string, Obj>>(Object.keys(RESOURCES).map((p) => [p, new Map()]));
  const history: HistoryEntry[] = [];
  let rv = 100;
  let compactedBelow = 0;
  const watchers = new Set<Watcher>();
  const tokens = new Map<string, Identity>([['admin-token', { name: 'admin', rules: 'all' }]]);
  const sockets = new Set<Socket>();
  const requests: RequestRecord[] = [];
  let failUntil = 0;
  let stallUntil = 0;
  let crds = opts.crds ?? true;
  let experimental = opts.experimentalCrds ?? crds;

  const keyOf = (o: Obj): string => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
  const plural = (kind: string): string => {
    const p = PLURAL_OF[kind];
    if (!p) throw new Error(`double does not serve kind ${kind}`);
    return p;
  };
  const withType = (p: string, o: Obj): Obj => {
    const r = RESOURCES[p]!;
    return { apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind, ...o };
  };

  function emit(p: string, type: HistoryEntry['type'], obj: Obj): void {
    const entry = { rv, plural: p, type, obj: withType(p, obj) };
    history.push(entry);
    if (history.length > 10_000) history.splice(0, history.length - 10_000);
    for (const w of watchers) send(w, entry);
  }

  function send(w: Watcher, e: HistoryEntry): void {
    if (w.plural !== e.plural) return;
    if (w.namespace && e.obj.metadata?.namespace !== w.namespace) return;
    if (!w.filter(e.obj)) return;
    // a watch the double ended (timeoutSeconds) stays listed until its 'close'
    if (!w.res.writableEnded) w.res.write(JSON.stringify({ type: e.type, object: e.obj }) + '\n');
  }

  function write(p: string, obj: Obj, expectRv?: string): Obj {
    const m = store.get(p)!;
    const key = keyOf(obj);
    const prev = m.get(key);
    if (expectRv !== undefined && expectRv !== '' && prev && prev.metadata?.resourceVersion !== expectRv) {
      throw Object.assign(new Error('conflict'), { code: 409 });
    }
    rv++;
    const meta = { ...(obj.metadata ?? {}) };
    meta.resourceVersion = String(rv);
    meta.uid = (prev?.metadata?.uid as string | undefined) ?? randomUUID();
    meta.creationTimestamp = (prev?.metadata?.creationTimestamp as string | undefined) ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    // metadata.generation counts spec changes (what observedGeneration in status refers to)
    const specOf = (o: Obj | undefined): string => JSON.stringify(o === undefined ? null : Object.fromEntries(Object.entries(o).filter(([k]) => !['metadata', 'status', 'kind', 'apiVersion'].includes(k))));
    const prevGen = typeof prev?.metadata?.generation === 'number' ? prev.metadata.generation : 0;
    meta.generation = prev === undefined ? 1 : specOf(prev) === specOf(obj) ? prevGen : prevGen + 1;
    const stored = withType(p, { ...obj, metadata: meta });
    m.set(key, stored);
    emit(p, prev ? 'MODIFIED' : 'ADDED', stored);
    return stored;
  }

  /** `name`: the object's, or for list and watch the one a `metadata.name=` field selector names (as RBAC's resourceNames allow). */
  function allowed(id: Identity, verb: string, p: string, sub: string, ns: string, name: string): boolean {
    if (id.rules === 'all') return true;
    const r = RESOURCES[p]!;
    const resource = sub ? `${p}/${sub}` : p;
    return id.rules.some(
      (rule) =>
        (rule.apiGroups.includes('*') || rule.apiGroups.includes(r.group)) &&
        (rule.resources.includes('*') || rule.resources.includes(resource)) &&
        (rule.verbs.includes('*') || rule.verbs.includes(verb)) &&
        (rule.namespace === undefined || rule.namespace === ns) &&
        (rule.resourceNames === undefined || rule.resourceNames.length === 0 || (name !== '' && rule.resourceNames.includes(name))),
    );
  }

  function json(res: ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function readBody(req: IncomingMessage): Promise<Obj> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Obj;
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    const auth = req.headers.authorization ?? '';
    const id = auth.startsWith('Bearer ') ? tokens.get(auth.slice(7)) : undefined;
    const record = (code: number): void => void requests.push({ method: req.method ?? '', path: url.pathname + url.search, user: id?.name ?? '', status: code });
    if (!id) {
      record(401);
      return json(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    if (Date.now() < stallUntil) await new Promise((r) => setTimeout(r, stallUntil - Date.now()));
    if (Date.now() < failUntil) {
      record(500);
      return json(res, 500, status(500, 'InternalError', 'injected failure'));
    }
    const m = /^\/(?:api\/v1|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(url.pathname);
    const p = m?.[4] ?? '';
    const info = RESOURCES[p];
    const apiVersion = m?.[1] ? `${m[1]}/${m[2]}` : 'v1';
    if (!m || !info || apiVersion !== (info.group ? `${info.group}/${info.version}` : info.version) || (info.crd === true && !crds) || (info.experimental === true && !experimental)) {
      // as the real API server: a resource whose CRD is not installed (or another version) is not found
      record(404);
      return json(res, 404, status(404, 'NotFound', `no route for ${url.pathname}`));
    }
    const ns = m[3] ?? '';
    const name = m[5] ?? '';
    const sub = m[6] ?? '';
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    const method = req.method ?? 'GET';
    const verb = method === 'GET' ? (name ? 'get' : watch ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'PUT' ? 'update' : method === 'PATCH' ? 'patch' : method === 'DELETE' ? 'delete' : '';
    const selectedName = /(?:^|,)metadata\.name=([^,]+)/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1] ?? '';
    if (!allowed(id, verb, p, sub, ns, name || (verb === 'list' || verb === 'watch' ? selectedName : ''))) {
      record(403);
      return json(res, 403, status(403, 'Forbidden', `${p}${sub ? '/' + sub : ''} is forbidden: User "${id.name}" cannot ${verb} resource "${p}"${ns ? ` in the namespace "${ns}"` : ' at the cluster scope'}`));
    }
    const objects = store.get(p)!;
    const filter = selector(url.searchParams.get('fieldSelector'), url.searchParams.get('labelSelector'));

    if (method === 'GET' && watch) {
      record(200);
      return startWatch(req, res, p, ns, filter, url.searchParams);
    }
    if (method === 'GET' && !name) {
      const all = [...objects.values()].filter((o) => (!ns || o.metadata?.namespace === ns) && filter(o)).sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : 1));
      const limit = Number(url.searchParams.get('limit') ?? 0);
      const cont = url.searchParams.get('continue');
      const offset = cont ? (JSON.parse(Buffer.from(cont, 'base64').toString()) as { offset: number }).offset : 0;
      const page = limit > 0 ? all.slice(offset, offset + limit) : all.slice(offset);
      const next = limit > 0 && offset + limit < all.length ? Buffer.from(JSON.stringify({ offset: offset + limit })).toString('base64') : undefined;
      record(200);
      return json(res, 200, {
        kind: `${info.kind}List`,
        apiVersion: info.group ? `${info.group}/${info.version}` : info.version,
        metadata: { resourceVersion: String(rv), ...(next ? { continue: next } : {}) },
        items: page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest),
      });
    }
    const key = `${ns}/${name}`;
    if (method === 'GET') {
      const o = objects.get(key);
      record(o ? 200 : 404);
      return o ? json(res, 200, o) : json(res, 404, status(404, 'NotFound', `${p} "${name}" not found`));
    }
    if (method === 'DELETE') {
      const o = objects.get(key);
      if (!o) return record(404), json(res, 404, status(404, 'NotFound', `${p} "${name}" not found`));
      objects.delete(key);
      rv++;
      emit(p, 'DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } });
      record(200);
      return json(res, 200, status(200, '', 'deleted'));
    }
    const body = await readBody(req);
    const target = { ...body, metadata: { ...(body.metadata ?? {}), namespace: info.namespaced ? ns : undefined, name: name || body.metadata?.name } } as Obj;
    try {
      if (method === 'POST') {
        if (objects.has(`${ns}/${target.metadata?.name ?? ''}`)) return record(409), json(res, 409, status(409, 'AlreadyExists', `${p} "${target.metadata?.name}" already exists`));
        const out = write(p, target);
        record(201);
        return json(res, 201, out);
      }
      const prev = objects.get(key);
      if (!prev) return record(404), json(res, 404, status(404, 'NotFound', `${p} "${name}" not found`));
      if (sub === 'status') {
        // The status subresource changes status only, with the object's resourceVersion as precondition.
        const status2 = method === 'PATCH' ? { ...(prev.status as object), ...((body.status as object) ?? {}) } : body.status;
        const out = write(p, { ...prev, status: status2 }, method === 'PUT' ? (body.metadata?.resourceVersion ?? '') : undefined);
        record(200);
        return json(res, 200, out);
      }
      const out = write(p, method === 'PATCH' ? { ...prev, ...body, metadata: prev.metadata } : { ...target, status: prev.status }, method === 'PUT' ? (body.metadata?.resourceVersion ?? '') : undefined);
      record(200);
      return json(res, 200, out);
    } catch (err) {
      if ((err as { code?: number }).code === 409) {
        record(409);
        return json(res, 409, status(409, 'Conflict', `Operation cannot be fulfilled on ${p} "${name}": the object has been modified; please apply your changes to the latest version and try again`));
      }
      throw err;
    }
  }

  function startWatch(req: IncomingMessage, res: ServerResponse, p: string, ns: string, filter: (o: Obj) => boolean, q: URLSearchParams): void {
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const from = q.get('resourceVersion') ?? '';
    const w: Watcher = { plural: p, namespace: ns, filter, res, timer: null };
    if (from !== '' && from !== '0' && Number(from) < compactedBelow) {
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${compactedBelow})`) }) + '\n');
      return;
    }
    if (from === '' || from === '0') {
      for (const o of store.get(p)!.values()) send(w, { rv, plural: p, type: 'ADDED', obj: o });
    } else {
      for (const e of history) if (e.rv > Number(from)) send(w, e);
    }
    watchers.add(w);
    const bookmarks = q.get('allowWatchBookmarks') === 'true';
    const tick = setInterval(() => {
      if (bookmarks && !res.writableEnded) res.write(JSON.stringify({ type: 'BOOKMARK', object: withType(p, { metadata: { resourceVersion: String(rv) } }) }) + '\n');
    }, opts.bookmarkMs ?? 1000);
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    w.timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : null;
    const cleanup = (): void => {
      clearInterval(tick);
      if (w.timer) clearTimeout(w.timer);
      watchers.delete(w);
    };
    res.on('close', cleanup);
    req.on('close', cleanup);
  }

  const server: Server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
    handle(req, res).catch((err: Error) => {
      if (!res.headersSent) json(res, 500, status(500, 'InternalError', err.message));
      else res.destroy();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, ip, () => r()));
  const url = `https://${ip}:${(server.address() as AddressInfo).port}`;

  return {
    url,
    caPem: tls.certPem,
    requests,
    kubeconfig(path, token = 'admin-token', namespace = 'default') {
      writeFileSync(
        path,
        stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'double', cluster: { server: url, 'certificate-authority-data': Buffer.from(tls.certPem).toString('base64') } }],
          users: [{ name: 'portico', user: { token } }],
          contexts: [{ name: 'double', context: { cluster: 'double', user: 'portico', namespace } }],
          'current-context': 'double',
        }),
      );
      return path;
    },
    addToken: (token, identity) => void tokens.set(token, identity),
    apply(obj) {
      const p = plural(obj.kind ?? '');
      const withNs = RESOURCES[p]!.namespaced ? { ...obj, metadata: { ...obj.metadata, namespace: obj.metadata?.namespace ?? 'default' } } : obj;
      const prev = store.get(p)!.get(keyOf(withNs));
      return write(p, prev ? { ...withNs, status: (withNs as { status?: unknown }).status ?? prev.status } : withNs);
    },
    remove(kind, namespace, name) {
      const p = plural(kind);
      const key = `${RESOURCES[p]!.namespaced ? namespace : ''}/${name}`;
      const o = store.get(p)!.get(key);
      if (!o) return;
      store.get(p)!.delete(key);
      rv++;
      emit(p, 'DELETED', { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) } });
    },
    get: (kind, namespace, name) => store.get(plural(kind))!.get(`${RESOURCES[plural(kind)]!.namespaced ? namespace : ''}/${name}`),
    list: (kind) => [...store.get(plural(kind))!.values()],
    dropWatches() {
      for (const w of watchers) w.res.destroy();
      watchers.clear();
    },
    failFor(ms) {
      failUntil = Date.now() + ms;
    },
    stallFor(ms) {
      stallUntil = Date.now() + ms;
    },
    expire() {
      compactedBelow = rv; // every event up to now is gone; watching from the current version is still fine
      for (const w of watchers) w.res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', 'too old resource version') }) + '\n');
      watchers.clear();
    },
    watchCount: () => watchers.size,
    installCrds(which = 'experimental') {
      crds = true;
      if (which === 'experimental') experimental = true;
    },
    close: () =>
      new Promise((r) => {
        for (const w of watchers) w.res.destroy();
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
