/**
 * A weighted TCPRoute end to end (standalone): 70/30 over two Services splits 100 real TCP
 * connections to within two of the weights, as HTTP routes split requests (one golden-ratio
 * sequence per compiled route, src/proxy/weighted.ts), where a random draw per connection strays
 * by several. Addresses: 127.0.208.0/24.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { eventually } from './lib/eventually.js';
import { freePort, startTcpEcho, tcpExchange, type TcpPod } from './lib/l4.js';
import { yaml } from './lib/manifests.js';
import { gateway, gatewayClass, serviceWithPorts, sliceWithPorts, tcpRoute, type Obj } from './lib/objects.js';
import { startPortico, type Portico } from './lib/portico.js';

const HOST = '127.0.208.1';

describe('a weighted TCPRoute (standalone)', () => {
  let p: Portico;
  let heavy: TcpPod;
  let light: TcpPod;
  let port: number;

  before(async () => {
    [heavy, light] = await Promise.all([startTcpEcho('127.0.208.11', 'heavy'), startTcpEcho('127.0.208.12', 'light')]);
    port = await freePort(HOST);
    const objects: Obj[] = [
      gatewayClass(),
      gateway('edge', 'default', [{ name: 'tcp', port, protocol: 'TCP' }]),
      serviceWithPorts('heavy', 'default', [{ name: 'echo', port: 7000 }]),
      sliceWithPorts('heavy-1', 'heavy', [heavy.ip], [{ name: 'echo', port: heavy.port }]),
      serviceWithPorts('light', 'default', [{ name: 'echo', port: 7000 }]),
      sliceWithPorts('light-1', 'light', [light.ip], [{ name: 'echo', port: light.port }]),
      tcpRoute('split', 'default', { parentRefs: [{ name: 'edge', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'heavy', port: 7000, weight: 70 }, { name: 'light', port: 7000, weight: 30 }] }] }),
    ];
    p = await startPortico({ 'objects.yaml': yaml(objects) }, ['--bind-address', HOST, '--admin-bind-address', '127.0.0.1']);
    await p.waitForLog((l) => l.msg === 'listening' && l.port === port);
  });

  after(async () => {
    await p?.stop();
    await Promise.all([heavy?.close(), light?.close()]);
  });

  test('70/30: 100 connections, ten at a time, land within two of 70 and 30', async () => {
    await eventually(async () => ((await tcpExchange(HOST, port, 'up', 3000)).data.toString() === 'up' ? true : null), { what: 'the route serves' });
    const before = [heavy.connections, light.connections];
    for (let batch = 0; batch < 10; batch++) {
      const got = await Promise.all(Array.from({ length: 10 }, (_, i) => tcpExchange(HOST, port, `c${batch}-${i}`).then((r) => r.data.toString())));
      assert.deepEqual(got, Array.from({ length: 10 }, (_, i) => `c${batch}-${i}`), 'every connection is spliced and echoed');
    }
    const split = [heavy.connections - (before[0] as number), light.connections - (before[1] as number)];
    assert.equal(split[0]! + split[1]!, 100);
    assert.ok(Math.abs(split[0]! - 70) <= 2, `heavy/light got ${split.join('/')} of 100`);
  });
});
