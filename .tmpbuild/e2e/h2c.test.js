/**
 * HTTP/2 with prior knowledge (h2c) on the plain HTTP port, beside HTTP/1.1: what gRPC clients
 * without TLS and the Gateway API's h2c tests speak. The same admission as every other request
 * shape (hygiene, routing), idle sessions closed, and a client that never finishes the preface
 * closed after the headers timeout.
 */
import assert from 'node:assert/strict';
import { connect as h2connect } from 'node:http2';
import { connect as netConnect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
describe('h2c (HTTP/2 with prior knowledge) on the plain HTTP port', () => {
    let p;
    let pod;
    before(async () => {
        pod = await startPod('127.0.203.1', 'h2c-pod');
        p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'h2c.test', paths: [{ path: '/', service: 'web' }] }]), serviceYaml('web', [pod])) }, ['--keep-alive-timeout', '1s', '--client-header-timeout', '1s']);
    });
    after(async () => {
        await p.stop();
        await pod.close();
    });
    const session = () => h2connect(`http://127.0.0.1:${p.httpPort}`);
    const request = (s, headers) => new Promise((resolve, reject) => {
        const r = s.request({ ':path': '/x?y=1', ':authority': 'h2c.test', ...headers });
        let body = '';
        let status = 0;
        r.on('response', (h) => (status = Number(h[':status'])));
        r.on('data', (d) => (body += d.toString()));
        r.on('end', () => resolve({ status, body }));
        r.on('error', reject);
        r.end();
    });
    test('requests are routed and proxied as over HTTP/1.1, several streams on one connection', async () => {
        const s = session();
        try {
            const replies = await Promise.all([1, 2, 3].map(() => request(s, {})));
            for (const r of replies) {
                assert.equal(r.status, 200);
                const seen = JSON.parse(r.body);
                assert.equal(seen.pod, 'h2c-pod');
                assert.equal(seen.url, '/x?y=1');
                assert.equal(seen.headers.host, 'h2c.test');
                assert.equal(seen.headers['x-forwarded-proto'], 'http');
            }
            assert.equal((await request(s, { ':authority': 'elsewhere.test' })).status, 404);
            // HTTP/1.1 on the same port still works
            assert.equal((await get(p.httpPort, '/', { host: 'h2c.test' })).status, 200);
        }
        finally {
            s.close();
        }
    });
    test('the HTTP/2 hygiene rules hold: a Host that differs from :authority is malformed (400)', async () => {
        const s = session();
        try {
            const before = pod.seen.length;
            assert.equal((await request(s, { host: 'other.test' })).status, 400);
            assert.equal(pod.seen.length, before);
        }
        finally {
            s.close();
        }
    });
    test('an idle h2c session is closed after the keep-alive timeout', async () => {
        const s = session();
        await request(s, {});
        const closed = await new Promise((resolve) => {
            const t = setTimeout(() => resolve(false), 5000);
            s.once('close', () => (clearTimeout(t), resolve(true)));
        });
        assert.ok(closed);
    });
    test('a client that stops inside the preface is closed after the headers timeout; a broken preface gets 400', async () => {
        const s = netConnect(p.httpPort, '127.0.0.1');
        s.write('PRI * HTTP/2.0\r\n');
        const t0 = Date.now();
        await new Promise((resolve) => s.once('close', () => resolve()));
        const took = Date.now() - t0;
        assert.ok(took >= 800 && took < 5000, `closed after ${took} ms`);
        const b = netConnect(p.httpPort, '127.0.0.1');
        let text = '';
        b.on('data', (d) => (text += d.toString('latin1')));
        b.write('PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n');
        await eventually(() => text.length > 0, { what: 'an answer to a broken preface' });
        assert.match(text, /^HTTP\/1\.1 400 /);
        b.destroy();
        await sleep(10);
    });
});
//# sourceMappingURL=h2c.test.js.map