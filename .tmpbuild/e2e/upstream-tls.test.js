/** TLS to the pods (backend-protocol HTTPS): no SNI by default, as ingress-nginx; proxy-ssl-server-name sends one. */
import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { ca, cert, client } from './lib/certs.js';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPortico } from './lib/portico.js';
test('SNI to an HTTPS backend: none by default; proxy-ssl-name, else the upstream-vhost host, with proxy-ssl-server-name on', async () => {
    const c = cert(['pod.internal']);
    const seen = [];
    const pod = createServer({ key: c.keyPem, cert: c.certPem }, (req, res) => {
        seen.push(req.socket.servername ?? false);
        res.end('ok');
    });
    await new Promise((r) => pod.listen(0, '127.0.134.1', r));
    const ep = { ip: '127.0.134.1', port: pod.address().port };
    const https = { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' };
    const rule = (host) => [{ host, paths: [{ path: '/', service: 'secure' }] }];
    const p = await startPortico({
        'site.yaml': join(ingressYaml('plain', rule('plain.test'), {}, https), ingressYaml('named', rule('named.test'), {}, { ...https, 'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on', 'nginx.ingress.kubernetes.io/proxy-ssl-name': 'API.Internal' }), ingressYaml('vhost', rule('vhost.test'), {}, { ...https, 'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on', 'nginx.ingress.kubernetes.io/upstream-vhost': 'backend.example.com:8443' }), ingressYaml('name-only', rule('name-only.test'), {}, { ...https, 'nginx.ingress.kubernetes.io/proxy-ssl-name': 'ignored.internal' }), serviceYaml('secure', [ep])),
    });
    try {
        const sniFor = async (host) => {
            const r = await get(p.httpPort, '/', { host });
            assert.equal(r.status, 200, `${host}: ${r.body}`);
            return seen.at(-1);
        };
        assert.equal(await sniFor('plain.test'), false, 'no SNI by default (proxy_ssl_server_name off)');
        assert.equal(await sniFor('named.test'), 'api.internal');
        assert.equal(await sniFor('vhost.test'), 'backend.example.com');
        assert.equal(await sniFor('name-only.test'), false, 'proxy-ssl-name alone does not turn SNI on, as in nginx');
        assert.equal(await sniFor('named.test'), 'api.internal', 'a pool per SNI name: the named route keeps its own');
        assert.equal(await sniFor('plain.test'), false);
    }
    finally {
        await p.stop();
        await new Promise((r) => pod.close(() => r()));
    }
});
test('proxy-ssl-verify: a certificate from a trusted CA with the SNI name passes; a wrong name or an untrusted CA is a 502', async () => {
    const trusted = cert(['api.internal'], { isCA: true });
    const untrusted = cert(['api.internal']);
    const dir = mkdtempSync(pathJoin(tmpdir(), 'portico-ca-'));
    writeFileSync(pathJoin(dir, 'ca.pem'), trusted.certPem);
    const pods = [];
    const start = async (ip, c) => {
        const s = createServer({ key: c.keyPem, cert: c.certPem }, (_req, res) => res.end('ok'));
        pods.push(s);
        await new Promise((r) => s.listen(0, ip, r));
        return { ip, port: s.address().port };
    };
    const good = await start('127.0.134.2', trusted);
    const bad = await start('127.0.134.3', untrusted);
    const verify = (name) => ({
        'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
        'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-name': name,
    });
    const p = await startPortico({
        'site.yaml': join(ingressYaml('ok', [{ host: 'ok.test', paths: [{ path: '/', service: 'good' }] }], {}, verify('api.internal')), ingressYaml('wrong-name', [{ host: 'wrong-name.test', paths: [{ path: '/', service: 'good' }] }], {}, verify('other.internal')), ingressYaml('untrusted', [{ host: 'untrusted.test', paths: [{ path: '/', service: 'bad' }] }], {}, verify('api.internal')), ingressYaml('unverified', [{ host: 'unverified.test', paths: [{ path: '/', service: 'bad' }] }], {}, { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' }), serviceYaml('good', [good]), serviceYaml('bad', [bad])),
    }, [], { env: { NODE_EXTRA_CA_CERTS: pathJoin(dir, 'ca.pem') } });
    try {
        assert.equal((await get(p.httpPort, '/', { host: 'ok.test' })).status, 200);
        const wrong = await get(p.httpPort, '/', { host: 'wrong-name.test' });
        assert.equal(wrong.status, 502);
        assert.match(wrong.body, /certificate was not accepted/);
        assert.equal((await get(p.httpPort, '/', { host: 'untrusted.test' })).status, 502);
        assert.equal((await get(p.httpPort, '/', { host: 'unverified.test' })).status, 200, 'without proxy-ssl-verify nothing is checked, as ingress-nginx');
        const metrics = (await get(p.adminPort, '/metrics')).body;
        assert.match(metrics, /portico_upstream_errors_total\{[^}]*cause="tls_verify"[^}]*\} [1-9]/);
    }
    finally {
        await p.stop();
        await Promise.all(pods.map((s) => new Promise((r) => s.close(() => r()))));
        rmSync(dir, { recursive: true, force: true });
    }
});
test('proxy-ssl-secret: the client certificate a pod requires, and ca.crt to verify the pod, from a Secret', async () => {
    const podCert = cert(['api.internal'], { isCA: true });
    const client = cert(['portico-client'], { isCA: true });
    const clients = [];
    // the pod accepts only clients with `client`'s certificate
    const pod = createServer({ key: podCert.keyPem, cert: podCert.certPem, requestCert: true, rejectUnauthorized: true, ca: client.certPem }, (req, res) => {
        clients.push(String(req.socket.getPeerCertificate().subject?.CN));
        res.end('ok');
    });
    await new Promise((r) => pod.listen(0, '127.0.134.4', r));
    const ep = { ip: '127.0.134.4', port: pod.address().port };
    const b64 = (s) => Buffer.from(s).toString('base64');
    const secret = `apiVersion: v1
kind: Secret
metadata: { name: backend-tls, namespace: default }
type: kubernetes.io/tls
data:
  ca.crt: ${b64(podCert.certPem)}
  tls.crt: ${b64(client.certPem)}
  tls.key: ${b64(client.keyPem)}
`;
    const mtls = {
        'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
        'nginx.ingress.kubernetes.io/proxy-ssl-secret': 'backend-tls',
        'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-name': 'api.internal',
    };
    const p = await startPortico({
        'site.yaml': join(ingressYaml('mtls', [{ host: 'mtls.test', paths: [{ path: '/', service: 'pod' }] }], {}, mtls), ingressYaml('wrong-ca', [{ host: 'wrong-ca.test', paths: [{ path: '/', service: 'pod' }] }], {}, { ...mtls, 'nginx.ingress.kubernetes.io/proxy-ssl-name': 'other.internal' }), ingressYaml('no-client', [{ host: 'no-client.test', paths: [{ path: '/', service: 'pod' }] }], {}, { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' }), serviceYaml('pod', [ep]), secret),
    });
    try {
        const ok = await get(p.httpPort, '/', { host: 'mtls.test' });
        assert.equal(ok.status, 200, ok.body);
        assert.equal(clients.at(-1), 'portico-client', 'the pod saw the client certificate from the Secret');
        assert.equal((await get(p.httpPort, '/', { host: 'wrong-ca.test' })).status, 502, 'ca.crt verification still checks the name');
        assert.equal((await get(p.httpPort, '/', { host: 'no-client.test' })).status, 502, 'without the client certificate the pod refuses the handshake');
        const debug = (await get(p.adminPort, '/debug/routes')).body;
        assert.doesNotMatch(debug, /BEGIN/, 'no key material in /debug/routes');
    }
    finally {
        await p.stop();
        await new Promise((r) => pod.close(() => r()));
    }
});
test('proxy-ssl-verify-depth, proxy-ssl-protocols and proxy-ssl-ciphers: what Portico offers and accepts from a pod', async () => {
    // root -> intermediate -> pod: one intermediate CA between the pod's certificate and the trusted root
    const root = ca('Backend Root');
    const mid = ca('Backend Intermediate', root);
    const leaf = client([['CN', 'api.internal']], mid, { commonName: 'api.internal', dnsNames: ['api.internal'] });
    const dir = mkdtempSync(pathJoin(tmpdir(), 'portico-ca-'));
    writeFileSync(pathJoin(dir, 'ca.pem'), root.certPem);
    const versions = [];
    const ciphers = [];
    const pod = createServer({ key: leaf.keyPem, cert: `${leaf.certPem}${mid.certPem}` }, (req, res) => {
        const s = req.socket;
        versions.push(s.getProtocol() ?? '');
        ciphers.push(s.getCipher().name);
        res.end('ok');
    });
    await new Promise((r) => pod.listen(0, '127.0.134.4', r));
    const ep = { ip: '127.0.134.4', port: pod.address().port };
    const base = {
        'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
        'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-name': 'api.internal',
    };
    const on = (name, extra) => ingressYaml(name, [{ host: `${name}.test`, paths: [{ path: '/', service: 'api' }] }], {}, { ...base, ...extra });
    const p = await startPortico({
        'site.yaml': join(on('depth1', { 'nginx.ingress.kubernetes.io/proxy-ssl-verify-depth': '1' }), on('depth0', { 'nginx.ingress.kubernetes.io/proxy-ssl-verify-depth': '0' }), on('tls12', { 'nginx.ingress.kubernetes.io/proxy-ssl-protocols': 'TLSv1.2', 'nginx.ingress.kubernetes.io/proxy-ssl-ciphers': 'ECDHE-ECDSA-AES128-GCM-SHA256' }), on('tls13', { 'nginx.ingress.kubernetes.io/proxy-ssl-protocols': 'TLSv1.3' }), on('nociphers', { 'nginx.ingress.kubernetes.io/proxy-ssl-protocols': 'TLSv1.2', 'nginx.ingress.kubernetes.io/proxy-ssl-ciphers': 'NOSUCHCIPHER' }), serviceYaml('api', [ep])),
    }, [], { env: { NODE_EXTRA_CA_CERTS: pathJoin(dir, 'ca.pem') } });
    try {
        assert.equal((await get(p.httpPort, '/', { host: 'depth1.test' })).status, 200, 'one intermediate is within depth 1 (OpenSSL counts intermediates)');
        // 0 is ingress-nginx's default, 1
        assert.equal((await get(p.httpPort, '/', { host: 'depth0.test' })).status, 200);
        assert.equal((await get(p.httpPort, '/', { host: 'tls12.test' })).status, 200);
        assert.deepEqual([versions.at(-1), ciphers.at(-1)], ['TLSv1.2', 'ECDHE-ECDSA-AES128-GCM-SHA256']);
        assert.equal((await get(p.httpPort, '/', { host: 'tls13.test' })).status, 200);
        assert.equal(versions.at(-1), 'TLSv1.3');
        // a cipher list OpenSSL matches nothing with: a 502 naming the settings, and Portico keeps serving
        const none = await get(p.httpPort, '/', { host: 'nociphers.test' });
        assert.equal(none.status, 502);
        assert.match(none.body, /backend TLS settings cannot be used/);
        assert.equal((await get(p.httpPort, '/', { host: 'depth1.test' })).status, 200);
    }
    finally {
        await p.stop();
        await new Promise((r) => pod.close(() => r()));
        rmSync(dir, { recursive: true, force: true });
    }
});
test('proxy-ssl-verify-depth 1 refuses a chain with two intermediate CAs (502, nothing sent)', async () => {
    const root = ca('Deep Root');
    const mid1 = ca('Deep Intermediate 1', root);
    const mid2 = ca('Deep Intermediate 2', mid1);
    const leaf = client([['CN', 'api.internal']], mid2, { commonName: 'api.internal', dnsNames: ['api.internal'] });
    const dir = mkdtempSync(pathJoin(tmpdir(), 'portico-ca-'));
    writeFileSync(pathJoin(dir, 'ca.pem'), root.certPem);
    let requests = 0;
    const pod = createServer({ key: leaf.keyPem, cert: `${leaf.certPem}${mid2.certPem}${mid1.certPem}` }, (_req, res) => {
        requests++;
        res.end('ok');
    });
    await new Promise((r) => pod.listen(0, '127.0.134.5', r));
    const ep = { ip: '127.0.134.5', port: pod.address().port };
    const verify = (depth) => ({
        'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS',
        'nginx.ingress.kubernetes.io/proxy-ssl-verify': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on',
        'nginx.ingress.kubernetes.io/proxy-ssl-name': 'api.internal',
        ...(depth !== undefined ? { 'nginx.ingress.kubernetes.io/proxy-ssl-verify-depth': depth } : {}),
    });
    const p = await startPortico({
        'site.yaml': join(ingressYaml('shallow', [{ host: 'shallow.test', paths: [{ path: '/', service: 'deep' }] }], {}, verify('1')), ingressYaml('deep', [{ host: 'deep.test', paths: [{ path: '/', service: 'deep' }] }], {}, verify('2')), serviceYaml('deep', [ep])),
    }, [], { env: { NODE_EXTRA_CA_CERTS: pathJoin(dir, 'ca.pem') } });
    try {
        const r = await get(p.httpPort, '/', { host: 'shallow.test' });
        assert.equal(r.status, 502);
        assert.match(r.body, /longer than proxy-ssl-verify-depth/);
        assert.equal(requests, 0);
        assert.equal((await get(p.httpPort, '/', { host: 'deep.test' })).status, 200);
    }
    finally {
        await p.stop();
        await new Promise((r) => pod.close(() => r()));
        rmSync(dir, { recursive: true, force: true });
    }
});
//# sourceMappingURL=upstream-tls.test.js.map