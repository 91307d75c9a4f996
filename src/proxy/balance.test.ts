import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Backend } from '../model/types.js';
import { createBalancer } from './balance.js';

const backend = (n: number): Backend => ({ id: 'ns/s:80', namespace: 'ns', service: 's', port: '80', protocol: 'HTTP', endpoints: Array.from({ length: n }, (_, i) => ({ ip: `10.0.0.${i + 1}`, port: 80, terminating: false })) });
const pickMany = (b: ReturnType<typeof createBalancer>, be: Backend, k: number): string[] => Array.from({ length: k }, () => b.pick(be.id, be.endpoints)!.ip);

test('round-robin visits every endpoint in turn', () => {
  assert.deepEqual(pickMany(createBalancer(), backend(3), 6), ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.1', '10.0.0.2', '10.0.0.3']);
});

test('ejected endpoints are skipped', () => {
  const b = createBalancer((k) => k === '10.0.0.2:80');
  assert.deepEqual(pickMany(b, backend(3), 4), ['10.0.0.1', '10.0.0.3', '10.0.0.1', '10.0.0.3']);
});

test('when every endpoint is ejected, all are used rather than none', () => {
  const b = createBalancer(() => true);
  assert.deepEqual(new Set(pickMany(b, backend(3), 6)), new Set(['10.0.0.1', '10.0.0.2', '10.0.0.3']));
});

test('a retry avoids the endpoint that just failed when another exists', () => {
  const b = createBalancer();
  const be = backend(2);
  const first = b.pick(be.id, be.endpoints)!;
  assert.notEqual(b.pick(be.id, be.endpoints, first)!.ip, first.ip);
  assert.equal(b.pick('ns/s:80', backend(1).endpoints, { ip: '10.0.0.1', port: 80, terminating: false })!.ip, '10.0.0.1', 'with one endpoint, retry it');
});

test('no endpoints: undefined', () => assert.equal(createBalancer().pick('ns/s:80', backend(0).endpoints), undefined));
