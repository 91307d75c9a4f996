/** SIGTERM: /readyz fails at once, traffic (plain and upgraded) is still served through the grace period, then a clean exit. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { get } from './lib/http.js';
import { sleep } from './lib/load.js';
import { ingressYaml, join, serviceYaml } from './lib/manifests.js';
import { startPod } from './lib/pods.js';
import { startPortico } from './lib/portico.js';
import { raw } from './lib/raw.js';
import { startWsPod } from './lib/ws.js';
test('draining: /readyz 503 and Connection: close during the grace period, then exit 0', async () => {
    const pod = await startPod('127.0.50.1', 'api');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('a', [{ host: 'a.test', paths: [{ path: '/', service: 'api' }] }]), serviceYaml('api', [pod])) }, [], { grace: '1500ms' });
    try {
        assert.equal((await get(p.adminPort, '/readyz')).status, 200);
        const t0 = Date.now();
        const exited = once(p.proc, 'exit');
        p.proc.kill('SIGTERM');
        await p.waitForLog((l) => l.msg === 'draining: /readyz now fails');
        assert.equal((await get(p.adminPort, '/readyz', { agent: false })).status, 503);
        await sleep(200);
        const r = await get(p.httpPort, '/', { host: 'a.test' });
        assert.equal(r.status, 200, 'still serving during the grace period');
        assert.equal(r.headers.connection, 'close');
        const [code] = (await exited);
        assert.equal(code, 0);
        const took = Date.now() - t0;
        assert.ok(took >= 1400 && took < 10_000, `exited after ${took} ms`);
    }
    finally {
        await p.stop();
        await pod.close();
    }
});
test('draining treats an upgrade as a plain request: admitted during the grace period, closed at the shutdown timeout; refusals close the connection', async () => {
    const ws = await startWsPod('127.0.50.2');
    const p = await startPortico({ 'a.yaml': join(ingressYaml('w', [{ host: 'ws.test', paths: [{ path: '/', service: 'ws' }] }]), serviceYaml('ws', [ws])) }, ['--shutdown-timeout', '800ms'], { grace: '1000ms' });
    const head = (host) => `GET /ws HTTP/1.1\r\nHost: ${host}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`;
    try {
        const exited = once(p.proc, 'exit');
        p.proc.kill('SIGTERM');
        await p.waitForLog((l) => l.msg === 'draining: /readyz now fails');
        // a refused upgrade during the drain is answered and its connection closed, as a plain request's
        const refused = await raw(p.httpPort, head('nothing.test'));
        assert.match(refused.text, /^HTTP\/1\.1 404 [^]*\r\nConnection: close\r\n/i);
        assert.equal(refused.closed, true);
        // an agreed upgrade during the drain is a tunnel until the shutdown timeout cuts it
        const t0 = Date.now();
        const tunnel = await raw(p.httpPort, head('ws.test'), 10_000);
        assert.match(tunnel.text, /^HTTP\/1\.1 101 /);
        assert.equal(tunnel.closed, true, 'closed by the shutdown');
        const held = Date.now() - t0;
        assert.ok(held >= 700 && held < 5000, `the tunnel lived ${held} ms (grace rest + shutdown timeout)`);
        const [code] = (await exited);
        assert.equal(code, 0);
    }
    finally {
        await p.stop();
        await ws.close();
    }
});
//# sourceMappingURL=shutdown.test.js.map