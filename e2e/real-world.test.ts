/**
 * The real-world corpus (issue #15, "done when"): Ingresses written in the style public Helm
 * charts and docs ship for real applications, one YAML file per application in
 * e2e/testdata/real-world/, all served by ONE Portico process in standalone mode, taking over
 * ingress-nginx's class (`--ingress-class nginx --controller-class k8s.io/ingress-nginx`, the
 * migration of docs/migrating.md). Each test sends the requests a user of that application would
 * send and asserts what ingress-nginx would answer (per its docs and test/e2e/annotations/*.go),
 * or, where Portico differs on purpose, Portico's documented behaviour (a comment names the
 * documented difference).
 *
 * What the corpus does not hold is made here, as a cluster would have it: a Service and
 * EndpointSlices for every backend the Ingresses name (pods on 127.0.220.x-127.0.228.x, see
 * lib/apps.ts), the TLS Secrets their `spec.tls` names, the partners' CA, and cluster DNS for
 * `<service>.<namespace>.svc.cluster.local` names in annotations (replaced by the pod's
 * address). Clients that must come from given addresses bind to 127.0.229.x.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { join as joinPath } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../src/paths.js';
import { echoOf, startApp, type App, type AppKind } from './lib/apps.js';
import { ca, caSecretYaml, cert, client, secretYaml, type Issued } from './lib/certs.js';
import type { SelfSigned } from '../src/tls/selfsigned.js';
import { get } from './lib/http.js';
import { startPortico, type Portico } from './lib/portico.js';

const CORPUS = joinPath(repoRoot, 'e2e/testdata/real-world');
const TAKEOVER = ['--ingress-class', 'nginx', '--controller-class', 'k8s.io/ingress-nginx'];
const N = 'nginx.ingress.kubernetes.io/';
const run = promisify(execFile);

// ---------------------------------------------------------------------------------------------
// The corpus, and the cluster around it

type Doc = { kind?: string; metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown>; [k: string]: unknown };
interface BackendRef {
  readonly namespace: string;
  readonly service: string;
  readonly port: { number?: number; name?: string };
}

const corpusFiles = (): string[] => readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort();
const docsOf = (text: string): Doc[] => parseAllDocuments(text).map((d) => d.toJS() as Doc).filter((d) => d !== null);

/** `<service>.<namespace>.svc.cluster.local[:port]`. */
const CLUSTER_DNS = /\b([a-z0-9-]+)\.([a-z0-9-]+)\.svc\.cluster\.local(?::(\d+))?/g;

/** Every Service port the corpus points at: rules, spec.defaultBackend, the default-backend annotation, cluster DNS names in annotations. */
function backendRefs(docs: readonly Doc[]): BackendRef[] {
  const refs: BackendRef[] = [];
  for (const d of docs) {
    if (d.kind !== 'Ingress') continue;
    const namespace = d.metadata?.namespace ?? 'default';
    const spec = d.spec as { rules?: { http?: { paths?: { backend: { service: { name: string; port: BackendRef['port'] } } }[] } }[]; defaultBackend?: { service: { name: string; port: BackendRef['port'] } } };
    for (const r of spec.rules ?? []) for (const p of r.http?.paths ?? []) refs.push({ namespace, service: p.backend.service.name, port: p.backend.service.port });
    if (spec.defaultBackend) refs.push({ namespace, service: spec.defaultBackend.service.name, port: spec.defaultBackend.service.port });
    const db = d.metadata?.annotations?.[`${N}default-backend`];
    if (db !== undefined) refs.push({ namespace, service: db, port: { number: 80 } });
    // Services named by their cluster DNS name in annotations (auth-url)
    for (const v of Object.values(d.metadata?.annotations ?? {})) {
      for (const m of v.matchAll(CLUSTER_DNS)) refs.push({ namespace: m[2]!, service: m[1]!, port: { number: Number(m[3] ?? 80) } });
    }
  }
  return refs;
}

/** Backends that are not one plain echo pod: what runs behind them. */
const SPECIAL: Record<string, { kind?: AppKind; replicas?: number; serviceUpstream?: boolean }> = {
  'argocd/argocd-server': { kind: 'argocd' },
  'kubernetes-dashboard/kubernetes-dashboard': { kind: 'https' },
  'monitoring/oauth2-proxy': { kind: 'oauth2-proxy' },
  'shop/shop-auth': { kind: 'oauth2-proxy' },
  'gitlab/gitlab-webservice-default': { serviceUpstream: true },
  'shop/custom-error-pages': { kind: 'x-code' },
  'shop/product-feed': { replicas: 0 },
  'shop/checkout-stable': { replicas: 2 },
  'erp/erp-web': { replicas: 3 },
  'media/thumbor': { replicas: 4 },
  'chat/chat-gateway': { kind: 'ws' },
};

interface Cluster {
  /** Pods by `namespace/service`. */
  readonly pods: Map<string, App[]>;
  /** The pod behind a service-upstream Service's ClusterIP (kube-proxy's view of it). */
  readonly clusterIpPods: Map<string, App>;
  readonly all: App[];
  /** The TLS certificates made for the corpus's `spec.tls`, by `namespace/secretName`. */
  readonly certs: Map<string, SelfSigned>;
  /** Manifests: Services, EndpointSlices and TLS Secrets. */
  readonly manifests: string;
}

let nextIp = 1;
/** 127.0.220.1, 127.0.220.2, ... (this file's range: 127.0.220.0-127.0.228.255 for pods). */
const allocIp = (): string => {
  const n = nextIp++;
  return `127.0.${220 + Math.floor(n / 250)}.${(n % 250) + 1}`;
};

async function buildCluster(docs: readonly Doc[]): Promise<Cluster> {
  const byService = new Map<string, BackendRef[]>();
  for (const r of backendRefs(docs)) byService.set(`${r.namespace}/${r.service}`, [...(byService.get(`${r.namespace}/${r.service}`) ?? []), r]);
  const pods = new Map<string, App[]>();
  const clusterIpPods = new Map<string, App>();
  const all: App[] = [];
  const out: unknown[] = [];
  for (const [key, refs] of [...byService].sort(([a], [b]) => a.localeCompare(b))) {
    const [namespace, name] = key.split('/') as [string, string];
    const special = SPECIAL[key] ?? {};
    const replicas = special.replicas ?? 1;
    const apps: App[] = [];
    for (let i = 0; i < replicas; i++) apps.push(await startApp(allocIp(), replicas === 1 ? name : `${name}-${i}`, special.kind ?? 'echo'));
    pods.set(key, apps);
    all.push(...apps);
    let clusterIP = `10.96.${Math.floor(nextIp / 250)}.${nextIp % 250}`;
    let namedPort = 8080;
    if (special.serviceUpstream === true) {
      const viaClusterIp = await startApp(allocIp(), `${name}-via-cluster-ip`);
      clusterIpPods.set(key, viaClusterIp);
      all.push(viaClusterIp);
      clusterIP = viaClusterIp.ip;
      namedPort = viaClusterIp.port;
    }
    const ports = new Map<string, number>();
    for (const r of refs) {
      if (r.port.name !== undefined) ports.set(r.port.name, namedPort);
      else ports.set(`tcp-${r.port.number}`, r.port.number!);
    }
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace }, spec: { type: 'ClusterIP', clusterIP, ports: [...ports].map(([n, port]) => ({ name: n, port, targetPort: n, protocol: 'TCP' })) } });
    apps.forEach((a, i) =>
      out.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: { name: `${name}-${i}`, namespace, labels: { 'kubernetes.io/service-name': name } },
        addressType: 'IPv4',
        ports: [...ports.keys()].map((n) => ({ name: n, port: a.port, protocol: 'TCP' })),
        endpoints: [{ addresses: [a.ip], conditions: { ready: true } }],
      }),
    );
  }
  // TLS Secrets for every spec.tls the corpus does not ship a Secret for
  const shipped = new Set(docs.filter((d) => d.kind === 'Secret').map((d) => `${d.metadata?.namespace}/${d.metadata?.name}`));
  const tlsHosts = new Map<string, Set<string>>();
  for (const d of docs) {
    if (d.kind !== 'Ingress') continue;
    for (const t of ((d.spec as { tls?: { hosts?: string[]; secretName?: string }[] }).tls ?? [])) {
      if (t.secretName === undefined) continue;
      const key = `${d.metadata?.namespace ?? 'default'}/${t.secretName}`;
      if (!shipped.has(key)) tlsHosts.set(key, new Set([...(tlsHosts.get(key) ?? []), ...(t.hosts ?? [])]));
    }
  }
  const certs = new Map([...tlsHosts].map(([key, hosts]) => [key, cert([...hosts])]));
  const secrets = [...certs].map(([key, pem]) => secretYaml(key.split('/')[1]!, pem, key.split('/')[0]));
  return { pods, clusterIpPods, all, certs, manifests: [...out.map((o) => stringify(o)), ...secrets].join('---\n') };
}

/** Cluster DNS: `<service>.<namespace>.svc.cluster.local[:port]` in annotations becomes the pod's address. */
function resolveClusterDns(text: string, c: Cluster): string {
  return text.replace(CLUSTER_DNS, (all, svc: string, ns: string) => {
    const pod = c.pods.get(`${ns}/${svc}`)?.[0];
    return pod ? `${pod.ip}:${pod.port}` : all;
  });
}

// ---------------------------------------------------------------------------------------------
// Clients

interface Answer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

interface Req {
  readonly method?: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Buffer;
  /** Bind the client to this source address (127.0.229.x). */
  readonly from?: string;
  /** A client certificate (HTTPS). */
  readonly cert?: Issued;
}

function collect(res: import('node:http').IncomingMessage, resolve: (a: Answer) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString() }));
  res.on('error', reject);
}

/** The answer of the pod that served it: who, and what it saw. */
const seen = (a: Answer): ReturnType<typeof echoOf> => {
  assert.equal(a.status, 200, `an answer from a pod expected, got ${a.status}: ${a.body.slice(0, 200)}`);
  return echoOf(a.body);
};
const header = (a: Answer, name: string): string | undefined => {
  const v = a.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
};

describe('the real-world corpus (e2e/testdata/real-world), served by one Portico', () => {
  let p: Portico;
  let c: Cluster;
  let docs: Doc[];
  const partnerCa = ca('Partners CA');
  const otherCa = ca('Somebody Else CA');
  const partner = client([['O', 'Acme Logistics'], ['CN', 'acme-erp']], partnerCa);
  const stranger = client([['O', 'Acme Logistics'], ['CN', 'acme-erp']], otherCa);

  /** Plain HTTP to Portico's HTTP port, with a Host header. */
  const http = (host: string, path: string, o: Req = {}): Promise<Answer> => {
    if (o.from === undefined) return get(p.httpPort, path, { host, method: o.method ?? 'GET', headers: o.headers ?? {}, ...(o.body === undefined ? {} : { body: o.body }) });
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: p.httpPort, localAddress: o.from, path, method: o.method ?? 'GET', agent: false, headers: { host, ...o.headers } }, (res) => collect(res, resolve, reject));
      req.on('error', reject);
      req.end(o.body);
    });
  };
  /**
   * An upload as curl sends a large one: `Expect: 100-continue`, the body only after `100 Continue`
   * (an answer without it, such as a 413, ends the request).
   */
  const upload = (host: string, path: string, body: Buffer): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: p.httpPort, path, method: 'POST', agent: false, headers: { host, expect: '100-continue', 'content-type': 'application/octet-stream', 'content-length': body.length } }, (res) => collect(res, resolve, reject));
      req.on('continue', () => req.end(body));
      req.on('error', reject);
      req.flushHeaders();
    });
  /** HTTPS (HTTP/1.1) with SNI and Host = `host`; any server certificate is accepted. */
  const https = (host: string, path: string, o: Req = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const req = httpsRequest(
        {
          host: '127.0.0.1',
          port: p.httpsPort,
          servername: host,
          path,
          method: o.method ?? 'GET',
          agent: false,
          rejectUnauthorized: false,
          maxHeaderSize: 128 * 1024, // as browsers, which take far larger heads than Node's 16 KiB
          headers: { host, ...o.headers },
          ...(o.from === undefined ? {} : { localAddress: o.from }),
          ...(o.cert === undefined ? {} : { cert: o.cert.certPem, key: o.cert.keyPem }),
        },
        (res) => collect(res, resolve, reject),
      );
      req.on('error', reject);
      req.end(o.body);
    });
  /** HTTP/2 over TLS, as browsers send requests (a session per call: SNI = `host`). */
  const h2 = (host: string, path: string, o: Req = {}): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const session = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: host, rejectUnauthorized: false, ...(o.cert === undefined ? {} : { cert: o.cert.certPem, key: o.cert.keyPem }) });
      session.on('error', reject);
      const req = session.request({ ':method': o.method ?? 'GET', ':path': path, ':authority': host, ...o.headers });
      const chunks: Buffer[] = [];
      let headers: Record<string, string | string[] | undefined> = {};
      req.on('response', (h) => (headers = h as never));
      req.on('data', (d: Buffer) => chunks.push(d));
      req.on('end', () => {
        session.close();
        resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString() });
      });
      req.on('error', reject);
      req.end(o.body);
    });
  /** curl, as a user would run it (basic auth). */
  const curl = async (host: string, path: string, args: string[] = []): Promise<{ status: number; headers: Record<string, string>; body: string }> => {
    const { stdout } = await run('curl', ['-sS', '--max-time', '10', '-D', '-', '-H', `Host: ${host}`, ...args, `http://127.0.0.1:${p.httpPort}${path}`], { encoding: 'utf8' });
    const split = stdout.indexOf('\r\n\r\n');
    const head = stdout.slice(0, split).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of head.slice(1)) headers[line.slice(0, line.indexOf(':')).toLowerCase()] = line.slice(line.indexOf(':') + 1).trim();
    return { status: Number(head[0]?.split(' ')[1]), headers, body: stdout.slice(split + 4) };
  };
  const pod = (key: string, i = 0): App => {
    const a = c.pods.get(key)?.[i];
    assert.ok(a, `no pod for ${key}`);
    return a;
  };

  before(async () => {
    const texts = new Map(corpusFiles().map((f) => [f, readFileSync(joinPath(CORPUS, f), 'utf8')]));
    docs = [...texts.values()].flatMap(docsOf);
    c = await buildCluster(docs);
    const files: Record<string, string> = {};
    for (const [f, text] of texts) files[f] = resolveClusterDns(text, c);
    files['zz-cluster.yaml'] = c.manifests;
    files['zz-partner-ca.yaml'] = caSecretYaml('partner-ca', partnerCa.certPem, undefined, 'payments');
    p = await startPortico(files, TAKEOVER);
  });
  after(async () => {
    await p?.stop();
    await Promise.all((c?.all ?? []).map((a) => a.close()));
  });

  // -------------------------------------------------------------------------------------------
  test('the corpus: 30+ files covering every family, every backend running; the only diagnostics are the expected ones', async () => {
    const files = corpusFiles();
    assert.ok(files.length >= 30 && files.length <= 40, `${files.length} files`);
    const keys = new Set(docs.flatMap((d) => Object.keys(d.metadata?.annotations ?? {})).filter((k) => k.startsWith(N)).map((k) => k.slice(N.length)));
    for (const family of ['use-regex', 'rewrite-target', 'x-forwarded-prefix', 'app-root', 'permanent-redirect', 'temporal-redirect', 'from-to-www-redirect', 'server-alias', 'canary-weight', 'canary-by-header', 'canary-by-cookie', 'affinity', 'upstream-hash-by', 'custom-http-errors', 'default-backend', 'service-upstream', 'configuration-snippet', 'server-snippet', 'enable-access-log', 'auth-url', 'auth-signin', 'auth-type', 'whitelist-source-range', 'denylist-source-range', 'limit-rps', 'limit-connections', 'enable-cors', 'auth-tls-secret', 'backend-protocol', 'proxy-body-size', 'proxy-read-timeout', 'ssl-redirect', 'force-ssl-redirect', 'proxy-next-upstream', 'proxy-redirect-from', 'proxy-cookie-domain', 'proxy-cookie-path']) {
      assert.ok(keys.has(family), `no manifest uses ${family}`);
    }
    for (const [key, apps] of c.pods) assert.ok(apps.length > 0 || SPECIAL[key]?.replicas === 0, key);
    for (const key of Object.keys(SPECIAL)) assert.ok(c.pods.has(key), `${key} is named by no manifest`);
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    // each diagnostic by its object, reason and subject (the annotation, or the Service)
    const got = debug.diagnostics.map((d) => /^Ingress \S+: \w+: (?:not served: )?[^\s:]+/.exec(d)?.[0] ?? d).sort();
    assert.deepEqual(got, [
      'Ingress billing/billing-metrics: UnsupportedAnnotation: nginx.ingress.kubernetes.io/configuration-snippet',
      'Ingress billing/billing-metrics: UnsupportedAnnotation: not served: nginx.ingress.kubernetes.io/configuration-snippet',
      'Ingress gitlab/gitlab-registry: IgnoredAnnotation: nginx.ingress.kubernetes.io/proxy-buffering',
      'Ingress gitlab/gitlab-registry: IgnoredAnnotation: nginx.ingress.kubernetes.io/proxy-request-buffering',
      'Ingress gitlab/gitlab-webservice-default: IgnoredAnnotation: nginx.ingress.kubernetes.io/proxy-buffering',
      'Ingress identity/keycloak-admin: IgnoredAnnotation: nginx.ingress.kubernetes.io/proxy-buffer-size',
      'Ingress identity/keycloak: IgnoredAnnotation: nginx.ingress.kubernetes.io/proxy-buffer-size',
      'Ingress jenkins/jenkins: IgnoredAnnotation: nginx.ingress.kubernetes.io/proxy-request-buffering',
      'Ingress logging/kibana-8-canary: IgnoredAnnotation: nginx.ingress.kubernetes.io/rewrite-target',
      'Ingress logging/kibana-8-canary: IgnoredAnnotation: nginx.ingress.kubernetes.io/use-regex',
      'Ingress media/uploads: UnsupportedAnnotation: nginx.ingress.kubernetes.io/proxy-body-sise',
      'Ingress nextcloud/nextcloud: InvalidAnnotation: nginx.ingress.kubernetes.io/server-snippet',
      'Ingress nextcloud/nextcloud: UnsupportedAnnotation: not served: nginx.ingress.kubernetes.io/server-snippet',
      'Ingress partners/partner-api: InvalidAnnotation: nginx.ingress.kubernetes.io/configuration-snippet',
      'Ingress partners/partner-api: UnsupportedAnnotation: not served: nginx.ingress.kubernetes.io/configuration-snippet',
      'Ingress shop/storefront-web: NoEndpoints: Service',
      'Ingress tools/redis-commander: UnsupportedAnnotation: nginx.ingress.kubernetes.io/whitelist-source-ranges',
      'Ingress tools/redis-commander: UnsupportedAnnotation: not served: nginx.ingress.kubernetes.io/whitelist-source-ranges',
    ], debug.diagnostics.join('\n'));
  });

  // -------------------------------------------------------------------------------------------
  test('argocd.yaml: force-ssl-redirect to the UI; the UI over HTTPS to an HTTP backend; the CLI\'s gRPC to its own host (h2c)', async () => {
    const r = await http('argocd.example.com', '/applications?proj=default');
    assert.equal(r.status, 308);
    assert.equal(header(r, 'location'), 'https://argocd.example.com/applications?proj=default');
    const ui = await https('argocd.example.com', '/api/v1/applications?fields=items.metadata.name');
    const s = seen(ui);
    assert.deepEqual([s.pod, s.url, s.headers['x-forwarded-proto'], s.headers['x-forwarded-host']], ['argocd-server', '/api/v1/applications?fields=items.metadata.name', 'https', 'argocd.example.com']);
    assert.equal(header(ui, 'strict-transport-security'), 'max-age=31536000; includeSubDomains', 'ingress-nginx\'s default HSTS on HTTPS');
    // argocd's CLI: gRPC over TLS to grpc.argocd.example.com (backend-protocol GRPC: h2c to the pod)
    const svc = { List: { path: '/application.ApplicationService/List', requestStream: false, responseStream: false, requestSerialize: (v: Buffer) => v, requestDeserialize: (v: Buffer) => v, responseSerialize: (v: Buffer) => v, responseDeserialize: (v: Buffer) => v } } satisfies grpc.ServiceDefinition;
    const Client = grpc.makeGenericClientConstructor(svc, 'ApplicationService');
    const tlsCert = c.certs.get('argocd/argocd-ingress-grpc')!;
    const cli = new Client(`127.0.0.1:${p.httpsPort}`, grpc.credentials.createSsl(Buffer.from(tlsCert.certPem)), { 'grpc.ssl_target_name_override': 'grpc.argocd.example.com', 'grpc.default_authority': 'grpc.argocd.example.com' }) as unknown as {
      List(req: Buffer, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void;
      close(): void;
    };
    try {
      const md = new grpc.Metadata();
      md.set('authorization', 'Bearer argocd-token');
      const reply = await new Promise<Buffer>((resolve, reject) => cli.List(Buffer.from('project=default'), md, (e, b) => (e ? reject(e) : resolve(b!))));
      assert.equal(reply.toString(), 'argocd-server:project=default');
    } finally {
      cli.close();
    }
    const call = pod('argocd/argocd-server').grpc.at(-1)!;
    assert.deepEqual([call.headers[':authority'], call.headers[':path'], call.headers['content-type'], call.headers.authorization], ['grpc.argocd.example.com', '/application.ApplicationService/List', 'application/grpc', 'Bearer argocd-token']);
  });

  test('kubernetes-dashboard.yaml: backend-protocol HTTPS to a pod with its own self-signed certificate; HTTP goes to HTTPS', async () => {
    const s = seen(await https('dashboard.example.com', '/api/v1/namespace?itemsPerPage=10'));
    assert.deepEqual([s.pod, s.url, s.headers.host], ['kubernetes-dashboard', '/api/v1/namespace?itemsPerPage=10', 'dashboard.example.com']);
    const r = await http('dashboard.example.com', '/');
    // ssl-redirect (a TLS host), one trailing slash dropped: ingress-nginx's "https://forcesslredirect.bar.com"
    assert.deepEqual([r.status, header(r, 'location')], [308, 'https://dashboard.example.com']);
  });

  test('grafana-oauth2-proxy.yaml: no session: 302 to oauth2-proxy\'s sign-in; a session: the user\'s headers reach Grafana, a forged one never', async () => {
    const auth = pod('monitoring/oauth2-proxy');
    const grafana = pod('monitoring/kube-prometheus-stack-grafana');
    const before = grafana.seen.length;
    const r = await https('grafana.example.com', '/d/k8s-cluster/kubernetes?orgId=1&refresh=30s');
    assert.equal(r.status, 302);
    // $escaped_request_uri in the sign-in URL, whose query already has rd=: left as it is
    assert.equal(header(r, 'location'), 'https://grafana.example.com/oauth2/start?rd=%2Fd%2Fk8s-cluster%2Fkubernetes%3ForgId%3D1%26refresh%3D30s');
    assert.equal(grafana.seen.length, before, 'Grafana never saw the request');
    const sub = auth.seen.at(-1)!;
    assert.deepEqual(
      [sub.method, sub.url, sub.headers['x-original-url'], sub.headers['x-original-method'], sub.headers['x-auth-request-redirect'], sub.headers['content-length']],
      ['GET', '/oauth2/auth', 'https://grafana.example.com/d/k8s-cluster/kubernetes?orgId=1&refresh=30s', 'GET', '/d/k8s-cluster/kubernetes?orgId=1&refresh=30s', undefined],
    );
    const ok = await https('grafana.example.com', '/api/dashboards/home', { headers: { cookie: 'grafana_session=g1; _oauth2_proxy=alice-session', 'x-auth-request-user': 'admin' } });
    const s = seen(ok);
    assert.deepEqual([s.pod, s.url, s.headers['x-auth-request-user'], s.headers['x-auth-request-email']], ['kube-prometheus-stack-grafana', '/api/dashboards/home', 'alice', 'alice@example.com']);
    assert.equal(auth.seen.at(-1)?.headers.cookie, 'grafana_session=g1; _oauth2_proxy=alice-session', 'the auth service gets the browser\'s cookies');
    // oauth2-proxy's own paths are not behind the check (another Ingress)
    const start = seen(await https('grafana.example.com', '/oauth2/start?rd=%2F'));
    assert.deepEqual([start.pod, start.url], ['oauth2-proxy', '/oauth2/start?rd=%2F']);
    assert.equal((await http('grafana.example.com', '/')).status, 308, 'plain HTTP goes to HTTPS before anything else');
    // Grafana Live's WebSocket: the upgrade is checked like any request, never tunnelled without a session
    const upgrade = (cookie: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const s2 = tlsConnect({ host: '127.0.0.1', port: p.httpsPort, servername: 'grafana.example.com', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () =>
          s2.write(`GET /api/live/ws HTTP/1.1\r\nHost: grafana.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: Z3JhZmFuYS1saXZlLWtleQ==\r\nSec-WebSocket-Version: 13\r\n${cookie}\r\n`),
        );
        let text = '';
        s2.on('data', (d: Buffer) => {
          text += d.toString('latin1');
          if (text.includes('\r\n\r\n')) {
            s2.destroy();
            resolve(text.slice(0, text.indexOf('\r\n\r\n')));
          }
        });
        s2.on('error', reject);
      });
    const seenBefore = grafana.seen.length;
    const anonymous = await upgrade('');
    assert.match(anonymous, /^HTTP\/1\.1 302 /);
    assert.match(anonymous, /\r\nlocation: https:\/\/grafana\.example\.com\/oauth2\/start\?rd=%2Fapi%2Flive%2Fws\r\n/i);
    assert.equal(grafana.seen.length, seenBefore, 'the upgrade never reached Grafana');
    await upgrade('Cookie: _oauth2_proxy=alice-session\r\n');
    assert.deepEqual([grafana.seen.at(-1)?.url, grafana.seen.at(-1)?.headers.upgrade, grafana.seen.at(-1)?.headers['x-auth-request-user']], ['/api/live/ws', 'websocket', 'alice']);
  });

  test('keycloak.yaml: public realm endpoints for everyone; the admin console only from the allowed range (403 otherwise)', async () => {
    const kc = pod('identity/keycloak-http');
    const oidc = seen(await https('sso.example.com', '/realms/master/.well-known/openid-configuration', { from: '127.0.229.30' }));
    assert.deepEqual([oidc.pod, oidc.url], ['keycloak-http', '/realms/master/.well-known/openid-configuration']);
    assert.equal(seen(await https('sso.example.com', '/admin/master/console/', { from: '127.0.229.3' })).url, '/admin/master/console/');
    const before = kc.seen.length;
    const denied = await https('sso.example.com', '/admin/master/console/', { from: '127.0.229.30' });
    assert.equal(denied.status, 403);
    assert.equal((await https('sso.example.com', '/admin/realms/master/users')).status, 403, '127.0.0.1 is outside the list');
    assert.equal(kc.seen.length, before, 'Keycloak never saw a refused request');
    assert.equal((await https('sso.example.com', '/')).status, 404, 'no rule for /');
    // Keycloak's login answers carry large cookies (why its charts raise nginx's proxy-buffer-size):
    // 24 cookies of 1 KB in one response head pass whole
    const login = await https('sso.example.com', '/realms/shop/protocol/openid-connect/auth?client_id=web&cookies=24', { from: '127.0.229.31' });
    assert.equal(login.status, 200);
    assert.equal([login.headers['set-cookie'] ?? []].flat().length, 24);
  });

  test('harbor.yaml: API, registry and chart paths to harbor-core, the rest to the portal; an unlimited body (a 20 MB layer)', async () => {
    const r = await http('core.harbor.example.com', '/');
    assert.deepEqual([r.status, header(r, 'location')], [308, 'https://core.harbor.example.com']);
    for (const [path, want] of [
      ['/', 'harbor-portal'],
      ['/harbor/projects', 'harbor-portal'],
      ['/api/v2.0/projects?page=1&page_size=15', 'harbor-core'],
      ['/service/token?scope=repository:library/nginx:pull', 'harbor-core'],
      ['/v2/library/nginx/manifests/1.27', 'harbor-core'],
      ['/chartrepo/library/index.yaml', 'harbor-core'],
      ['/c/login', 'harbor-core'],
    ] as const) {
      const s = seen(await https('core.harbor.example.com', path));
      assert.deepEqual([s.pod, s.url], [want, path], path);
    }
    const layer = Buffer.alloc(20 * 1024 * 1024, 7);
    const up = seen(await https('core.harbor.example.com', '/v2/library/app/blobs/uploads/4f1c2a?digest=sha256:abc', { method: 'PUT', body: layer, headers: { 'content-type': 'application/octet-stream' } }));
    assert.deepEqual([up.pod, up.method, up.bodyLength], ['harbor-core', 'PUT', layer.length], 'proxy-body-size "0": no limit');
  });

  test('jenkins.yaml: the legacy class annotation is served (taking over the nginx class); a 5 MB plugin upload fits in 50m', async () => {
    const s = seen(await http('jenkins.example.com', '/job/release/lastBuild/console'));
    assert.deepEqual([s.pod, s.url, s.headers['x-forwarded-proto'], s.headers['x-forwarded-host'], s.headers['x-real-ip']], ['jenkins', '/job/release/lastBuild/console', 'http', 'jenkins.example.com', '127.0.0.1']);
    const hpi = Buffer.alloc(5 * 1024 * 1024, 1);
    const up = seen(await http('jenkins.example.com', '/pluginManager/uploadPlugin', { method: 'POST', body: hpi, headers: { 'content-type': 'application/octet-stream' } }));
    assert.equal(up.bodyLength, hpi.length);
  });

  test('gitlab.yaml: service-upstream: the webservice is reached through its ClusterIP, not its endpoints; the registry takes any body', async () => {
    const endpoint = pod('gitlab/gitlab-webservice-default');
    const before = endpoint.seen.length;
    for (let i = 0; i < 3; i++) {
      const s = seen(await https('gitlab.example.com', '/api/v4/projects?membership=true'));
      assert.deepEqual([s.pod, s.url], ['gitlab-webservice-default-via-cluster-ip', '/api/v4/projects?membership=true']);
    }
    assert.equal(endpoint.seen.length, before, 'the endpoint pod itself is never addressed');
    const push = seen(await https('gitlab.example.com', '/group/project.git/git-receive-pack', { method: 'POST', body: Buffer.alloc(3 * 1024 * 1024), headers: { 'content-type': 'application/x-git-receive-pack-request' } }));
    assert.equal(push.bodyLength, 3 * 1024 * 1024);
    const blob = seen(await https('registry.gitlab.example.com', '/v2/group/project/blobs/uploads/0b2d?_state=x', { method: 'PATCH', body: Buffer.alloc(2 * 1024 * 1024) }));
    assert.deepEqual([blob.pod, blob.bodyLength], ['gitlab-registry', 2 * 1024 * 1024]);
  });

  test('prometheus-alertmanager.yaml: basic authentication with curl -u (bcrypt and apr1 users), realm per Ingress', async () => {
    const none = await curl('prometheus.example.com', '/api/v1/query?query=up');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="Authentication Required - Prometheus"');
    assert.equal((await curl('prometheus.example.com', '/', ['-u', 'prometheus:wrong'])).status, 401);
    const ok = await curl('prometheus.example.com', '/api/v1/query?query=up', ['-u', 'prometheus:Pr0m-reader!']);
    assert.equal(ok.status, 200);
    const s = echoOf(ok.body);
    assert.deepEqual([s.pod, s.url, s.headers.authorization], ['kube-prometheus-stack-prometheus', '/api/v1/query?query=up', undefined], 'the credentials are not passed on');
    const am = await curl('alertmanager.example.com', '/api/v2/alerts', ['-u', 'oncall:alert-ops-2024']);
    assert.deepEqual([am.status, echoOf(am.body).pod], [200, 'kube-prometheus-stack-alertmanager']);
    assert.equal((await curl('alertmanager.example.com', '/')).headers['www-authenticate'], 'Basic realm="Alertmanager"');
  });

  test('kibana.yaml: /kibana(/|$)(.*) with rewrite-target /$2: the prefix is cut, the query kept, case-insensitive; the Kibana 8 canary by header, rewritten too', async () => {
    for (const [path, pod_, want] of [
      ['/kibana', 'kibana-kibana', '/'],
      ['/kibana/', 'kibana-kibana', '/'],
      ['/kibana/app/discover?_a=x&_g=y', 'kibana-kibana', '/app/discover?_a=x&_g=y'],
      ['/Kibana/app/home', 'kibana-kibana', '/app/home'],
      ['/elasticsearch/_cluster/health?pretty', 'elasticsearch-master', '/_cluster/health?pretty'],
    ] as const) {
      const s = seen(await http('logs.example.com', path));
      assert.deepEqual([s.pod, s.url], [pod_, want], path);
    }
    assert.equal((await http('logs.example.com', '/kibanana')).status, 404, '(/|$) after the prefix');
    // the Kibana 8 canary: by header only, with the main route's rewrite
    const canary = seen(await http('logs.example.com', '/kibana/app/dashboards?x=1', { headers: { 'x-kibana-canary': 'always' } }));
    assert.deepEqual([canary.pod, canary.url], ['kibana-8-kibana', '/app/dashboards?x=1']);
    for (let i = 0; i < 10; i++) assert.equal(seen(await http('logs.example.com', '/kibana/app/dashboards')).pod, 'kibana-kibana');
  });

  test('shop-api.yaml: CORS for the storefront and its preview subdomains (preflights answered before the token check), bearer tokens, limit-rps 2 per client', async () => {
    const api = pod('shop/shop-api');
    const auth = pod('shop/shop-auth');
    const before = [api.seen.length, auth.seen.length];
    const bearer = { authorization: 'Bearer alice-token' };
    // a browser's preflight carries no credentials: answered at the edge, before authentication
    const pre = await http('api.shop.example.com', '/v1/cart/items', { method: 'OPTIONS', from: '127.0.229.41', headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
    assert.equal(pre.status, 204);
    assert.deepEqual(
      ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age'].map((h) => header(pre, h)),
      ['https://shop.example.com', 'true', 'GET, POST, PUT, DELETE, OPTIONS', 'Authorization, Content-Type, X-Request-ID', '600'],
    );
    assert.deepEqual([api.seen.length, auth.seen.length], before, 'the preflight reached neither the API nor the auth service');
    // without a token: the auth service's 401, with the CORS headers so that the page can read it
    const anon = await http('api.shop.example.com', '/v1/cart', { from: '127.0.229.41', headers: { origin: 'https://shop.example.com' } });
    assert.deepEqual([anon.status, header(anon, 'access-control-allow-origin'), header(anon, 'access-control-allow-credentials')], [401, 'https://shop.example.com', 'true']);
    const preview = await http('api.shop.example.com', '/v1/products?q=shoes', { from: '127.0.229.41', headers: { ...bearer, origin: 'https://pr-42.preview.shop.example.com', 'x-auth-request-user': 'admin' } });
    const s = seen(preview);
    assert.deepEqual([s.url, s.headers['x-auth-request-user'], s.headers.authorization], ['/v1/products?q=shoes', 'alice', 'Bearer alice-token']);
    assert.equal(header(preview, 'access-control-allow-origin'), 'https://pr-42.preview.shop.example.com');
    assert.equal(header(preview, 'access-control-expose-headers'), 'X-Request-ID, X-RateLimit-Remaining');
    // documented difference (annotations.md, CORS): with a list of origins Portico adds Vary: Origin
    assert.equal(header(preview, 'vary'), 'Origin');
    const evil = await http('api.shop.example.com', '/v1/products', { from: '127.0.229.41', headers: { ...bearer, origin: 'https://shop.example.com.evil.test' } });
    assert.deepEqual([evil.status, header(evil, 'access-control-allow-origin')], [200, undefined]);
    // limit-rps 2: burst 2 x 5 = 10, so 11 requests at once pass (nginx's limit_req burst nodelay), the rest get 503
    const t0 = Date.now();
    const burst = await Promise.all(Array.from({ length: 24 }, () => http('api.shop.example.com', '/v1/products', { from: '127.0.229.42', headers: bearer })));
    const ok = burst.filter((x) => x.status === 200).length;
    // one more may pass for each half second the burst took to arrive
    assert.ok(ok >= 11 && ok <= 12 + Math.ceil(((Date.now() - t0) / 1000) * 2), `${ok} of 24 passed in ${Date.now() - t0} ms`);
    assert.equal(burst.filter((x) => x.status === 503).length, 24 - ok);
  });

  test('legacy-portal.yaml: app-root sends / to /portal (302); the app\'s internal redirects and cookie domain are fixed; the old host name redirects permanently to the new address, as written', async () => {
    for (const path of ['/', '/?lang=de']) {
      const r = await http('portal.corp.example.com', path);
      assert.deepEqual([r.status, header(r, 'location')], [302, 'http://portal.corp.example.com/portal'], path);
    }
    // approot.go: $scheme://$http_host$app_root, the Host header as sent
    assert.equal(header(await http('portal.corp.example.com:8080', '/'), 'location'), 'http://portal.corp.example.com:8080/portal');
    assert.equal(seen(await http('portal.corp.example.com', '/portal/index.jsp?id=4')).url, '/portal/index.jsp?id=4');
    // the portal's own redirect and cookie name its internal address: proxy_redirect and proxy_cookie_domain fix them
    const login = await http('portal.corp.example.com', `/portal/login.jsp?redirect=${encodeURIComponent('http://portal-web.legacy.svc:8080/portal/home.jsp?tab=news')}&set-cookie=${encodeURIComponent('JSESSIONID=4F2A; Domain=portal-web.legacy.svc; Path=/portal; HttpOnly')}`);
    assert.deepEqual([login.status, header(login, 'location'), header(login, 'set-cookie')], [302, 'http://portal.corp.example.com/portal/home.jsp?tab=news', 'JSESSIONID=4F2A; Domain=portal.corp.example.com; Path=/portal; HttpOnly']);
    const elsewhere = await http('portal.corp.example.com', `/portal/sso?redirect=${encodeURIComponent('https://sso.example.com/realms/corp')}`);
    assert.equal(header(elsewhere, 'location'), 'https://sso.example.com/realms/corp', 'other Locations are left alone');
    for (const path of ['/', '/news/2019/party.html?x=1']) {
      const r = await http('intranet.example.com', path);
      assert.deepEqual([r.status, header(r, 'location')], [301, 'https://portal.corp.example.com/portal/'], path);
    }
  });

  test('company-website.yaml: the apex redirects to www. (308, path and query kept, the port written) with the certificate covering both', async () => {
    const r = await https('example.org', '/about/team?lang=en');
    assert.deepEqual([r.status, header(r, 'location')], [308, 'https://www.example.org:443/about/team?lang=en']);
    // fromtowwwredirect.go: GET / on the apex gives "https://www.<host>:443" (one trailing slash dropped)
    assert.equal(header(await https('example.org', '/'), 'location'), 'https://www.example.org:443');
    assert.equal(seen(await https('www.example.org', '/about/team')).pod, 'website');
    const san = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: p.httpsPort, servername: 'example.org', rejectUnauthorized: false }, () => {
        resolve(s.getPeerCertificate().subjectaltname ?? '');
        s.destroy();
      });
      s.on('error', reject);
    });
    assert.match(san, /DNS:example\.org\b/);
    // plain HTTP keeps its scheme, as in ingress-nginx's redirect server (it has no HTTPS redirect of
    // its own); the www. host then sends the browser to HTTPS
    const plain = await http('example.org', '/about/team?lang=en');
    assert.deepEqual([plain.status, header(plain, 'location')], [308, 'http://www.example.org:80/about/team?lang=en']);
    const www = await http('www.example.org', '/about/team?lang=en');
    assert.deepEqual([www.status, header(www, 'location')], [308, 'https://www.example.org/about/team?lang=en']);
  });

  test('storefront-aliases.yaml: server-alias names (and a wildcard alias) serve the storefront; the pod sees the name used', async () => {
    for (const host of ['shop.example.net', 'store.example.net', 'shop.example.de', 'eu.stores.example.net']) {
      const s = seen(await http(host, '/cart'));
      assert.deepEqual([s.pod, s.headers.host], ['storefront', host], host);
    }
    assert.equal((await http('store.example.org', '/cart')).status, 404);
  });

  test('checkout-canary.yaml: canary-weight 20 takes about 20% of 300 requests; X-Canary: always/never decides for testers', async () => {
    const counts = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const s = seen(await http('checkout.shop.example.com', '/checkout/session'));
      counts.set(s.pod, (counts.get(s.pod) ?? 0) + 1);
    }
    const canary = counts.get('checkout-canary') ?? 0;
    assert.ok(canary >= 300 * 0.12 && canary <= 300 * 0.28, `canary took ${canary} of 300: ${JSON.stringify([...counts])}`);
    assert.ok((counts.get('checkout-stable-0') ?? 0) > 0 && (counts.get('checkout-stable-1') ?? 0) > 0, JSON.stringify([...counts]));
    for (let i = 0; i < 10; i++) assert.equal(seen(await http('checkout.shop.example.com', '/', { headers: { 'x-canary': 'always' } })).pod, 'checkout-canary');
    for (let i = 0; i < 10; i++) assert.match(seen(await http('checkout.shop.example.com', '/', { headers: { 'x-canary': 'never' } })).pod, /^checkout-stable-/);
  });

  test('search-canary.yaml: the beta cookie and the QA header value reach v2; the header wins over the cookie; everyone else v1', async () => {
    const who = async (headers: Record<string, string>): Promise<string> => seen(await http('search.shop.example.com', '/api/search?q=boots', { headers })).pod;
    for (let i = 0; i < 10; i++) assert.equal(await who({}), 'search-v1', 'canary-weight unset: 0');
    assert.equal(await who({ cookie: 'session=1; search_beta=always' }), 'search-v2');
    assert.equal(await who({ cookie: 'search_beta=never' }), 'search-v1');
    assert.equal(await who({ 'x-search-backend': 'v2' }), 'search-v2');
    assert.equal(await who({ 'x-search-backend': 'v2', cookie: 'search_beta=never' }), 'search-v2', 'header before cookie');
    assert.equal(await who({ 'x-search-backend': 'always', cookie: 'search_beta=never' }), 'search-v1', 'with a header value, always means nothing: the cookie decides');
    assert.equal(await who({ 'x-search-backend': 'v3', cookie: 'search_beta=always' }), 'search-v2', 'another value falls through to the cookie');
  });

  test('erp-sticky-sessions.yaml: the ERPROUTE cookie (ingress-nginx\'s persistent format) pins a browser to one of 3 replicas for 20 requests', async () => {
    const first = await http('erp.corp.example.com', '/erp/login.xhtml');
    const setCookie = [first.headers['set-cookie'] ?? []].flat().find((x) => x.startsWith('ERPROUTE='));
    assert.ok(setCookie, JSON.stringify(first.headers));
    const attrs = setCookie.split(/;\s*/);
    for (const a of ['Path=/', 'Max-Age=28800', 'HttpOnly', 'SameSite=Lax']) assert.ok(attrs.includes(a), `${a} in ${setCookie}`);
    const expires = Date.parse(attrs.find((a) => a.startsWith('Expires='))!.slice('Expires='.length));
    assert.ok(Math.abs(expires - (Date.now() + 28_800_000)) < 120_000, `Expires ${new Date(expires).toISOString()}`);
    // persistent mode: md5(<upstream name> + "<ip>:<port>") | md5(md5(<upstream name>) + <upstream name>), upstream erp-erp-web-8080
    const md5 = (s: string): string => createHash('md5').update(s).digest('hex');
    const upstream = 'erp-erp-web-8080';
    const value = setCookie.slice('ERPROUTE='.length, setCookie.indexOf(';'));
    const pinned = c.pods.get('erp/erp-web')!.find((a) => value === `${md5(`${upstream}${a.ip}:${a.port}`)}|${md5(md5(upstream) + upstream)}`);
    assert.ok(pinned, `the cookie ${value} names none of the endpoints as ingress-nginx would`);
    assert.equal(seen(first).pod, pinned.name);
    for (let i = 0; i < 20; i++) {
      const r = await http('erp.corp.example.com', `/erp/orders.xhtml?page=${i}`, { headers: { cookie: `JSESSIONID=abc; ERPROUTE=${value}` } });
      assert.equal(seen(r).pod, pinned.name);
      assert.equal(r.headers['set-cookie'], undefined, 'a valid cookie is not set again');
    }
    const fresh = new Set<string>();
    for (let i = 0; i < 12; i++) fresh.add(seen(await http('erp.corp.example.com', '/erp/login.xhtml')).pod);
    assert.ok(fresh.size > 1, 'new browsers are spread over the replicas');
  });

  test('the same over HTTP/2, as browsers send it: sign-in redirect and session, client certificates, rewrites, snippet headers, a sticky cookie marked Secure', async () => {
    const signin = await h2('grafana.example.com', '/explore?left=%7B%7D');
    assert.deepEqual([signin.status, header(signin, 'location')], [302, 'https://grafana.example.com/oauth2/start?rd=%2Fexplore%3Fleft%3D%257B%257D']);
    const dash = await h2('grafana.example.com', '/api/search', { headers: { cookie: '_oauth2_proxy=alice-session' } });
    assert.deepEqual([seen(dash).pod, seen(dash).headers['x-auth-request-user']], ['kube-prometheus-stack-grafana', 'alice']);
    assert.equal((await h2('pay.example.com', '/v1/payments')).status, 400);
    assert.equal(seen(await h2('pay.example.com', '/v1/payments', { cert: partner })).headers['ssl-client-verify'], 'SUCCESS');
    assert.equal(seen(await h2('logs.example.com', '/kibana/api/status')).url, '/api/status');
    const wp = await h2('blog.example.com', '/wp-login.php');
    assert.deepEqual([header(wp, 'x-frame-options'), header(wp, 'referrer-policy'), header(wp, 'x-powered-by')], ['SAMEORIGIN', 'strict-origin-when-cross-origin', undefined]);
    // affinity.go: the cookie is Secure on a TLS server
    const erp = await h2('erp.corp.example.com', '/erp/login.xhtml');
    const cookie = [erp.headers['set-cookie'] ?? []].flat().find((x) => x.startsWith('ERPROUTE='));
    assert.ok(cookie?.split(/;\s*/).includes('Secure'), cookie);
    const pre = await h2('api.shop.example.com', '/v1/cart', { method: 'OPTIONS', headers: { origin: 'https://shop.example.com', 'access-control-request-method': 'PUT' } });
    assert.deepEqual([pre.status, header(pre, 'access-control-allow-origin')], [204, 'https://shop.example.com']);
  });

  test('image-cache.yaml: upstream-hash-by $request_uri: a URL always reaches the same replica, URLs spread over the 4; a crashed replica\'s URLs are retried elsewhere', async () => {
    const owners = new Map<string, string>();
    // 48 URLs: the ring hashes with CRC-32 (as ingress-nginx), and URLs this alike land on few arcs;
    // with 16 of them, about 1 pod port draw in 2,500 put them all on 2 of the 4 replicas
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 48; i++) {
        const path = `/unsafe/300x200/smart/images/products/photo-${i}.jpg`;
        const who = seen(await http('img.example.com', path)).pod;
        if (round === 0) owners.set(path, who);
        else assert.equal(who, owners.get(path), path);
      }
    }
    assert.ok(new Set(owners.values()).size >= 3, JSON.stringify([...owners.values()]));
    // a replica crashes (its endpoint still listed): proxy-next-upstream "error" sends its URLs to
    // another replica. Documented difference (annotations.md, load balancing): the retry goes to the
    // next endpoint on the ring, where ingress-nginx retries the same one (and answers 502)
    const [victimUrl, victim] = [...owners][0]!;
    await c.pods.get('media/thumbor')!.find((a) => a.name === victim)!.close();
    for (let i = 0; i < 3; i++) assert.notEqual(seen(await http('img.example.com', victimUrl)).pod, victim);
    for (const [url, who] of owners) if (who !== victim) assert.equal(seen(await http('img.example.com', url)).pod, who, `${url} stays where it was`);
  });

  test('storefront-error-pages.yaml: a listed status from the shop becomes the error service\'s page, with ingress-nginx\'s headers; a Service without endpoints is served by it', async () => {
    const errors = pod('shop/custom-error-pages');
    const r = await http('www.shop.example.com', '/status/404?ref=newsletter', { headers: { accept: 'text/html', 'x-request-id': 'req-404-1' } });
    assert.equal(r.status, 404, 'custom-error-pages answers with the X-Code status');
    const e = echoOf(r.body);
    assert.deepEqual([e.pod, e.method, e.url], ['custom-error-pages', 'GET', '/?ref=newsletter']);
    const h = e.headers;
    assert.deepEqual(
      [h['x-code'], h['x-format'], h['x-original-uri'], h['x-namespace'], h['x-ingress-name'], h['x-service-name'], h['x-service-port'], h['x-request-id']],
      ['404', 'text/html', '/status/404?ref=newsletter', 'shop', 'storefront-web', 'storefront-web', '80', 'req-404-1'],
    );
    assert.equal((await http('www.shop.example.com', '/status/503')).status, 503);
    assert.equal(echoOf((await http('www.shop.example.com', '/status/503')).body).pod, 'custom-error-pages');
    const gone = await http('www.shop.example.com', '/status/410');
    assert.deepEqual([gone.status, echoOf(gone.body).pod], [410, 'storefront-web'], 'a status not listed passes');
    assert.equal(seen(await http('www.shop.example.com', '/products/boots')).pod, 'storefront-web');
    const before = errors.seen.length;
    const feed = await http('www.shop.example.com', '/feeds/google-shopping.xml');
    assert.deepEqual([feed.status, echoOf(feed.body).pod], [503, 'custom-error-pages']);
    const asked = errors.seen.slice(before);
    assert.ok(asked.some((x) => x.headers['x-code'] === '503' && x.headers['x-service-name'] === 'product-feed'), JSON.stringify(asked.map((x) => [x.url, x.headers['x-code']])));
  });

  test('wordpress.yaml: the security headers of the configuration snippet (add_header only on 2xx/3xx unless always), X-Powered-By cleared', async () => {
    const ok = await http('blog.example.com', '/2024/05/hello-world/');
    assert.equal(seen(ok).headers['x-forwarded-host'], 'blog.example.com');
    assert.deepEqual(
      ['x-frame-options', 'x-content-type-options', 'referrer-policy', 'permissions-policy', 'x-powered-by'].map((n) => header(ok, n)),
      ['SAMEORIGIN', 'nosniff', 'strict-origin-when-cross-origin', 'geolocation=(), camera=()', undefined],
    );
    const missing = await http('blog.example.com', '/status/404');
    assert.equal(missing.status, 404);
    assert.deepEqual(
      ['x-frame-options', 'x-content-type-options', 'referrer-policy', 'permissions-policy', 'x-powered-by'].map((n) => header(missing, n)),
      ['SAMEORIGIN', 'nosniff', undefined, 'geolocation=(), camera=()', undefined],
    );
  });

  test('docs-site.yaml: the server snippet\'s headers on every route of the host, the other team\'s Ingress included', async () => {
    for (const [path, who] of [
      ['/guides/install', 'docs-site'],
      ['/api-reference/v2/objects', 'api-reference'],
    ] as const) {
      const r = await http('docs.example.com', path);
      assert.equal(seen(r).pod, who);
      assert.deepEqual([header(r, 'strict-transport-security'), header(r, 'x-robots-tag'), header(r, 'server')], ['max-age=63072000; includeSubDomains; preload', 'noindex', undefined], path);
    }
  });

  test('nextcloud.yaml, internal-metrics.yaml, openresty-lua.yaml: snippets that are not header edits refuse the Ingress (503 naming the annotation), never served open', async () => {
    for (const [host, paths, annotation, key] of [
      ['cloud.example.com', ['/', '/.well-known/carddav', '/remote.php/dav'], 'server-snippet', 'nextcloud/nextcloud'],
      ['billing.example.com', ['/metrics', '/'], 'configuration-snippet', 'billing/billing'],
      ['partners.example.com', ['/', '/orders'], 'configuration-snippet', 'partners/partner-api'],
    ] as const) {
      const app = pod(key);
      for (const path of paths) {
        const r = await http(host, path, { headers: { 'x-partner-token': 's3cr3t' } });
        assert.equal(r.status, 503, `${host}${path}`);
        assert.match(r.body, new RegExp(`nginx\\.ingress\\.kubernetes\\.io/${annotation}\\b`));
      }
      assert.equal(app.seen.length, 0, `${key} never saw a request`);
    }
  });

  test('payments-mtls.yaml: a partner certificate is required (400 without, 400 from another CA); the pod gets the verified identity and the certificate', async () => {
    const none = await https('pay.example.com', '/v1/payments');
    assert.equal(none.status, 400);
    assert.match(none.body, /No required SSL certificate was sent/);
    const wrong = await https('pay.example.com', '/v1/payments', { cert: stranger });
    assert.equal(wrong.status, 400);
    assert.match(wrong.body, /The SSL certificate error/);
    const ok = await https('pay.example.com', '/v1/payments?status=open', { cert: partner, headers: { 'ssl-client-verify': 'forged' } });
    const s = seen(ok);
    assert.deepEqual([s.pod, s.url, s.headers['ssl-client-verify'], s.headers['ssl-client-subject-dn'], s.headers['ssl-client-issuer-dn']], ['payments-api', '/v1/payments?status=open', 'SUCCESS', 'CN=acme-erp,O=Acme Logistics', 'CN=Partners CA,O=Portico Tests']);
    // nginx's $ssl_client_escaped_cert: the PEM with every byte but unreserved ones escaped
    assert.equal(s.headers['ssl-client-cert'], encodeURIComponent(partner.certPem));
    assert.equal((await http('pay.example.com', '/v1/payments')).status, 308);
  });

  test('webhook-receiver.yaml: proxy-body-size 64k: a 10 KB payload passes, a 100 KB one gets 413 and never reaches the pod', async () => {
    const hooks = pod('integrations/webhook-receiver');
    const s = seen(await http('hooks.example.com', '/github', { method: 'POST', body: JSON.stringify({ zen: 'x'.repeat(10_000) }), headers: { 'content-type': 'application/json', 'x-github-event': 'push' } }));
    assert.deepEqual([s.pod, s.headers['x-github-event']], ['webhook-receiver', 'push']);
    const before = hooks.seen.length;
    const big = await http('hooks.example.com', '/stripe', { method: 'POST', body: JSON.stringify({ data: 'x'.repeat(100_000) }), headers: { 'content-type': 'application/json' } });
    assert.equal(big.status, 413);
    assert.equal(hooks.seen.length, before);
    assert.equal((await http('hooks.example.com', '/github/extra', { method: 'POST', body: '{}' })).status, 404, 'Exact paths');
  });

  test('status-page.yaml: ssl-redirect "false": served over plain HTTP and HTTPS (HSTS only on HTTPS)', async () => {
    const plain = await http('status.example.com', '/');
    assert.deepEqual([seen(plain).pod, header(plain, 'strict-transport-security')], ['cachet', undefined]);
    const tls = await https('status.example.com', '/api/v1/components');
    assert.deepEqual([seen(tls).url, header(tls, 'strict-transport-security')], ['/api/v1/components', 'max-age=31536000; includeSubDomains']);
  });

  test('marketing-behind-cdn.yaml: force-ssl-redirect without a tls section: 308 to https (forcesslredirect.go), a query left as it is', async () => {
    const r = await http('promo.example.com', '/');
    assert.deepEqual([r.status, header(r, 'location')], [308, 'https://promo.example.com']);
    const q = await http('promo.example.com', '/spring-sale/?utm_source=mail');
    assert.deepEqual([q.status, header(q, 'location')], [308, 'https://promo.example.com/spring-sale/?utm_source=mail']);
    assert.equal(seen(await https('promo.example.com', '/spring-sale/')).pod, 'marketing');
  });

  test('spring-boot-admin.yaml and pgadmin.yaml: two sub-path apps of one host, prefixes stripped, X-Forwarded-Prefix and X-Script-Name sent', async () => {
    const sba = seen(await http('tools.example.com', '/boot-admin/applications?view=list'));
    assert.deepEqual([sba.pod, sba.url, sba.headers['x-forwarded-prefix']], ['spring-boot-admin', '/applications?view=list', '/boot-admin']);
    assert.equal(seen(await http('tools.example.com', '/boot-admin')).url, '/');
    const pga = seen(await http('tools.example.com', '/pgadmin/browser/'));
    assert.deepEqual([pga.pod, pga.url, pga.headers['x-script-name'], pga.headers['x-forwarded-prefix']], ['pgadmin', '/browser/', '/pgadmin', undefined]);
    const session = await http('tools.example.com', `/pgadmin/login?set-cookie=${encodeURIComponent('pga4_session=8c1e; Path=/; HttpOnly; SameSite=Lax')}`);
    assert.equal(header(session, 'set-cookie'), 'pga4_session=8c1e; Path=/pgadmin/; HttpOnly; SameSite=Lax', 'proxy-cookie-path "/ /pgadmin/"');
    assert.equal(seen(await http('tools.example.com', '/pgadmin')).url, '/');
    assert.equal((await http('tools.example.com', '/')).status, 404);
  });

  test('api-gateway.yaml: regex captures rewrite the versioned paths; the monolith keeps the rest of the host', async () => {
    for (const [path, who, want] of [
      ['/api/v1/users/42', 'users', '/users/42'],
      ['/api/v1/accounts/7/settings?fields=email', 'users', '/accounts/7/settings?fields=email'],
      ['/API/V1/USERS/42', 'users', '/USERS/42'],
      ['/api/v1/orders/2024/0001', 'orders', '/orders/2024/0001'],
      ['/api/v1/products/9', 'monolith', '/api/v1/products/9'],
      ['/api', 'monolith', '/api'],
      ['/healthz', 'monolith', '/healthz'],
    ] as const) {
      const s = seen(await http('api.example.com', path));
      assert.deepEqual([s.pod, s.url], [who, want], path);
    }
    // documented difference (routing.md, annotations.md "Only the Ingress that asks has regex paths"):
    // ingress-nginx would turn the monolith's paths into case-insensitive regexes too, so that
    // /apidocs and /healthz/ready reached the monolith; in Portico they stay Prefix and Exact
    for (const path of ['/apidocs', '/healthz/ready']) assert.equal((await http('api.example.com', path)).status, 404, path);
  });

  test('healthcheck-quiet.yaml: enable-access-log "false": the health checks leave no access log line; the shop\'s requests do', async () => {
    for (let i = 0; i < 3; i++) assert.equal(seen(await http('catalog.example.com', '/healthz')).pod, 'catalog');
    assert.equal(seen(await http('catalog.example.com', '/products?page=2')).pod, 'catalog');
    await p.waitForLog((l) => l.msg === 'request' && l.host === 'catalog.example.com' && l.path === '/products?page=2');
    assert.deepEqual(p.logs.filter((l) => l.msg === 'request' && l.host === 'catalog.example.com' && l.path === '/healthz'), []);
  });

  test('typo-harmless.yaml: the mistyped proxy-body-sise is ignored with a warning: served, with the default 1m body limit', async () => {
    assert.equal(seen(await http('uploads.example.com', '/')).pod, 'uploads');
    assert.equal((await upload('uploads.example.com', '/upload', Buffer.alloc(2 * 1024 * 1024))).status, 413);
    // as a browser uploads (no Expect: 100-continue, the body sent at once): the 413 is read every
    // time, not a reset (Portico lingers after it as nginx does, src/proxy/linger.ts)
    for (let i = 0; i < 5; i++) assert.equal((await http('uploads.example.com', '/upload', { method: 'POST', body: Buffer.alloc(10 * 1024 * 1024), headers: { 'content-type': 'multipart/form-data; boundary=x' } })).status, 413);
    assert.equal(echoOf((await upload('uploads.example.com', '/upload', Buffer.alloc(512 * 1024))).body).bodyLength, 512 * 1024);
    const debug = JSON.parse((await get(p.adminPort, '/debug/routes')).body) as { diagnostics: string[] };
    assert.ok(debug.diagnostics.some((d) => d.startsWith('Ingress media/uploads: UnsupportedAnnotation: nginx.ingress.kubernetes.io/proxy-body-sise: not supported') && d.includes('served without it')), debug.diagnostics.join('\n'));
  });

  test('typo-allowlist.yaml: a mistyped whitelist-source-ranges refuses the Ingress (503 naming it) instead of serving it open', async () => {
    // documented difference (annotations.md: an unknown key in an access-control family is refused);
    // ingress-nginx ignores the unknown key and serves the tool to everyone
    const r = await http('redis.tools.example.com', '/');
    assert.equal(r.status, 503);
    assert.match(r.body, /nginx\.ingress\.kubernetes\.io\/whitelist-source-ranges/);
    assert.equal(pod('tools/redis-commander').seen.length, 0);
  });

  test('chat-websocket.yaml: a WebSocket upgrade through the long-timeout Ingress; a frame goes there and back', async () => {
    const socket = netConnect({ host: '127.0.0.1', port: p.httpPort });
    try {
      await new Promise<void>((r, j) => socket.once('connect', () => r()).once('error', j));
      socket.write('GET /ws/rooms/general HTTP/1.1\r\nHost: chat.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: cG9ydGljby1jaGF0LWtleQ==\r\nSec-WebSocket-Version: 13\r\nOrigin: https://chat.example.com\r\n\r\n');
      let buf = Buffer.alloc(0);
      const until = (pred: (b: Buffer) => boolean): Promise<void> =>
        new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(buf.toString('latin1'))}`)), 5000);
          const check = (): void => {
            if (pred(buf)) {
              clearTimeout(timer);
              socket.off('data', onData);
              resolve();
            }
          };
          const onData = (d: Buffer): void => {
            buf = Buffer.concat([buf, d]);
            check();
          };
          socket.on('data', onData);
          check();
        });
      await until((b) => b.includes('\r\n\r\n'));
      const head = buf.subarray(0, buf.indexOf('\r\n\r\n')).toString();
      assert.match(head, /^HTTP\/1\.1 101 /);
      assert.match(head, /\r\nsec-websocket-accept: [A-Za-z0-9+/=]+/i);
      buf = buf.subarray(buf.indexOf('\r\n\r\n') + 4);
      const text = Buffer.from('hello, room');
      const mask = Buffer.from([1, 2, 3, 4]);
      socket.write(Buffer.concat([Buffer.from([0x81, 0x80 | text.length]), mask, Buffer.from(text.map((b, i) => b ^ mask[i % 4]!))]));
      await until((b) => b.length >= 2 + text.length);
      assert.deepEqual([buf[0], buf.subarray(2, 2 + text.length).toString()], [0x81, 'hello, room']);
    } finally {
      socket.destroy();
    }
  });

  test('reports-timeouts.yaml: proxy-read-timeout 2: a quick report is served, a stuck one is a 504 after about 2 s', async () => {
    assert.equal(seen(await http('reports.example.com', '/reports/daily?delay=50')).url, '/reports/daily?delay=50');
    const t0 = Date.now();
    const r = await http('reports.example.com', '/reports/yearly?delay=4000');
    const took = Date.now() - t0;
    assert.equal(r.status, 504);
    assert.ok(took >= 1900 && took < 3800, `${took} ms`);
  });

  test('preview-environments.yaml: a wildcard host serves every review app by its own name', async () => {
    for (const host of ['pr-1234.preview.example.com', 'feature-login.preview.example.com']) {
      const s = seen(await http(host, '/'));
      assert.deepEqual([s.pod, s.headers.host], ['review-router', host]);
    }
    assert.equal((await http('preview.example.com', '/')).status, 404, 'the bare domain is not a review app');
    // documented difference (routing.md, migrating.md): as the Ingress spec says, "*.preview.example.com"
    // matches exactly one more label (nginx's server_name wildcard would also take deeper names)
    assert.equal((await http('a.pr-1.preview.example.com', '/')).status, 404);
  });

  test('maintenance-redirect.yaml: temporal-redirect with code 307 for every path, to the URL as written', async () => {
    for (const path of ['/', '/invoices/2024-05.pdf?download=1']) {
      const r = await http('my.billing.example.com', path, path === '/' ? {} : { method: 'POST', body: 'a=1' });
      assert.deepEqual([r.status, header(r, 'location')], [307, 'https://status.example.com/incidents/maintenance'], path);
    }
    assert.equal(pod('billing/billing-portal').seen.length, 0);
  });

  test('public-api-cors.yaml: enable-cors alone: ingress-nginx\'s defaults, every origin (*)', async () => {
    const r = await http('data.example.gov', '/v1/datasets?limit=10', { headers: { origin: 'https://someones-dashboard.example' } });
    assert.equal(seen(r).url, '/v1/datasets?limit=10');
    assert.deepEqual(
      ['access-control-allow-origin', 'access-control-allow-credentials', 'access-control-allow-methods', 'access-control-allow-headers', 'access-control-max-age', 'vary'].map((h) => header(r, h)),
      ['*', 'true', 'GET, PUT, POST, DELETE, PATCH, OPTIONS', 'DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,Content-Type,Range,Authorization', '1728000', undefined],
    );
    const pre = await http('data.example.gov', '/v1/datasets', { method: 'OPTIONS', headers: { origin: 'https://someones-dashboard.example', 'access-control-request-method': 'GET' } });
    assert.deepEqual([pre.status, header(pre, 'access-control-allow-origin'), header(pre, 'content-length')], [204, '*', '0']);
  });

  test('forum-denylist.yaml: the blocked range gets 403, others are served; a 5 MB upload fits in 10m', async () => {
    assert.equal((await http('forum.example.com', '/latest', { from: '127.0.229.70' })).status, 403);
    assert.equal(seen(await http('forum.example.com', '/latest', { from: '127.0.229.90' })).pod, 'discourse');
    const up = seen(await http('forum.example.com', '/uploads.json', { method: 'POST', body: Buffer.alloc(5 * 1024 * 1024) }));
    assert.equal(up.bodyLength, 5 * 1024 * 1024);
  });

  test('downloads-limit-connections.yaml: limit-connections 2: a third and fourth download at once from one client get 503', async () => {
    const all = await Promise.all(Array.from({ length: 4 }, (_, i) => http('mirror.example.com', `/pub/debian/debian-12.iso?part=${i}&delay=1500`, { from: '127.0.229.100' })));
    assert.deepEqual(all.map((r) => r.status).sort(), [200, 200, 503, 503]);
    assert.equal(seen(await http('mirror.example.com', '/pub/debian/SHA256SUMS', { from: '127.0.229.100' })).pod, 'mirror', 'once they are done, the next one is served');
    assert.equal(seen(await http('mirror.example.com', '/pub/debian/debian-12.iso?delay=10', { from: '127.0.229.101' })).pod, 'mirror');
  });
});
