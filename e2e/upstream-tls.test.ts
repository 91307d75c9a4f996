/** TLS to the pods (backend-protocol HTTPS): no SNI by default, as ingress-nginx; proxy-ssl-server-name sends one. */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { test } from 'node:test';
import { cert } from './lib/certs.js';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPortico } from './lib/portico.js';

test('SNI to an HTTPS backend: none by default; proxy-ssl-name, else the upstream-vhost host, with proxy-ssl-server-name on', async () => {
  const c = cert(['pod.internal']);
  const seen: (string | false)[] = [];
  const pod: Server = createServer({ key: c.keyPem, cert: c.certPem }, (req, res) => {
    seen.push((req.socket as TLSSocket).servername ?? false);
    res.end('ok');
  });
  await new Promise<void>((r) => pod.listen(0, '127.0.134.1', r));
  const ep = { ip: '127.0.134.1', port: (pod.address() as AddressInfo).port };
  const https = { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' };
  const rule = (host: string): { host: string; paths: { path: string; service: string }[] }[] => [{ host, paths: [{ path: '/', service: 'secure' }] }];
  const p = await startPortico({
    'site.yaml': join(
      ingressYaml('plain', rule('plain.test'), {}, https),
      ingressYaml('named', rule('named.test'), {}, { ...https, 'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on', 'nginx.ingress.kubernetes.io/proxy-ssl-name': 'API.Internal' }),
      ingressYaml('vhost', rule('vhost.test'), {}, { ...https, 'nginx.ingress.kubernetes.io/proxy-ssl-server-name': 'on', 'nginx.ingress.kubernetes.io/upstream-vhost': 'backend.example.com:8443' }),
      ingressYaml('name-only', rule('name-only.test'), {}, { ...https, 'nginx.ingress.kubernetes.io/proxy-ssl-name': 'ignored.internal' }),
      serviceYaml('secure', [ep]),
    ),
  });
  try {
    const sniFor = async (host: string): Promise<string | false> => {
      const r = await get(p.httpPort, '/', { host });
      assert.equal(r.status, 200, `${host}: ${r.body}`);
      return seen.at(-1)!;
    };
    assert.equal(await sniFor('plain.test'), false, 'no SNI by default (proxy_ssl_server_name off)');
    assert.equal(await sniFor('named.test'), 'api.internal');
    assert.equal(await sniFor('vhost.test'), 'backend.example.com');
    assert.equal(await sniFor('name-only.test'), false, 'proxy-ssl-name alone does not turn SNI on, as in nginx');
    assert.equal(await sniFor('named.test'), 'api.internal', 'a pool per SNI name: the named route keeps its own');
    assert.equal(await sniFor('plain.test'), false);
  } finally {
    await p.stop();
    await new Promise<void>((r) => pod.close(() => r()));
  }
});
