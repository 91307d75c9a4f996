/**
 * proxy-redirect-from/-to, proxy-cookie-domain and proxy-cookie-path against the real process: a pod
 * that answers with an internal Location, a Refresh and cookies for its own domain and path; the
 * client sees them rewritten (over HTTP/1.1 and HTTP/2), and Portico's own answers are untouched.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect as h2connect } from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { get } from './lib/http.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPortico } from './lib/portico.js';
const N = 'nginx.ingress.kubernetes.io/';
describe('proxy_redirect and proxy_cookie_* rewrite the pod\'s answers', () => {
    let pod;
    let p;
    before(async () => {
        // an app that believes it lives at http://app.internal:8080/app/
        pod = createServer((req, res) => {
            res.writeHead(req.url === '/refresh' ? 200 : 302, [
                'Location', 'http://app.internal:8080/app/login?next=/x',
                'Refresh', '0; url=http://app.internal:8080/app/done',
                'Set-Cookie', 'sid=abc; Domain=app.internal; Path=/app/; HttpOnly',
                'Set-Cookie', 'theme=dark; Path=/other',
                'Content-Length', '0',
            ]);
            res.end();
        });
        await new Promise((r) => pod.listen(0, '127.0.204.1', () => r()));
        const endpoint = { ip: '127.0.204.1', port: pod.address().port };
        const annotations = {
            [`${N}proxy-redirect-from`]: 'http://app.internal:8080/app/',
            [`${N}proxy-redirect-to`]: '$scheme://$host/',
            [`${N}proxy-cookie-domain`]: 'app.internal shop.test',
            [`${N}proxy-cookie-path`]: '/app/ /',
        };
        p = await startPortico({
            'a.yaml': join(ingressYaml('shop', [{ host: 'shop.test', paths: [{ path: '/', service: 'app' }] }], { tls: [{ hosts: ['shop.test'] }] }, { ...annotations, [`${N}ssl-redirect`]: 'false' }), ingressYaml('plain', [{ host: 'plain.test', paths: [{ path: '/', service: 'app' }] }]), serviceYaml('app', [endpoint])),
        });
    });
    after(async () => {
        await p.stop();
        await new Promise((r) => pod.close(r));
    });
    test('Location, Refresh and Set-Cookie over HTTP/1.1', async () => {
        const r = await get(p.httpPort, '/', { host: 'shop.test' });
        assert.equal(r.status, 302);
        assert.equal(r.headers.location, 'http://shop.test/login?next=/x');
        assert.equal(r.headers.refresh, '0; url=http://shop.test/done');
        assert.deepEqual(r.headers['set-cookie'], ['sid=abc; Domain=shop.test; Path=/; HttpOnly', 'theme=dark; Path=/other']);
    });
    test('over HTTP/2 with TLS, $scheme is https', async () => {
        const s = h2connect(`https://127.0.0.1:${p.httpsPort}`, { servername: 'shop.test', rejectUnauthorized: false });
        try {
            const h = await new Promise((resolve, reject) => {
                const r = s.request({ ':path': '/', ':authority': 'shop.test' });
                r.on('response', (head) => {
                    r.resume();
                    resolve(head);
                });
                r.on('error', reject);
                r.end();
            });
            assert.equal(h[':status'], 302);
            assert.equal(h.location, 'https://shop.test/login?next=/x');
            assert.deepEqual(h['set-cookie'], ['sid=abc; Domain=shop.test; Path=/; HttpOnly', 'theme=dark; Path=/other']);
        }
        finally {
            s.close();
        }
    });
    test('an Ingress without the annotations passes the pod\'s headers as they are', async () => {
        const r = await get(p.httpPort, '/', { host: 'plain.test' });
        assert.equal(r.headers.location, 'http://app.internal:8080/app/login?next=/x');
        assert.deepEqual(r.headers['set-cookie'], ['sid=abc; Domain=app.internal; Path=/app/; HttpOnly', 'theme=dark; Path=/other']);
    });
    test('/debug/routes shows the rewrite', async () => {
        const debug = (await get(p.adminPort, '/debug/routes')).body;
        assert.match(debug, /rewrite answers: redirect http:\/\/app\.internal:8080\/app\/ => \$scheme:\/\/\$host\/; cookie domain app\.internal => shop\.test; cookie path \/app\/ => \//);
    });
});
//# sourceMappingURL=response-rewrite.test.js.map