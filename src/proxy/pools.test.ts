import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { createPools, dispatcherSuffix, endpointKey, keyOf, sanProblem, tlsOptions } from './pools.js';

test('dispatchers are interned by settings; TLS settings count only for TLS backends', () => {
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  const a = pools.dispatch('HTTPS');
  assert.equal(pools.dispatch('HTTPS'), a, 'same settings, same dispatcher');
  assert.notEqual(pools.dispatch('HTTPS', { servername: 'x.internal' }), a);
  assert.notEqual(pools.dispatch('HTTPS', { material: { id: 'v1' } }), a);
  const plain = pools.dispatch('HTTP');
  assert.equal(pools.dispatch('HTTP', { servername: 'x.internal', verify: true }), plain);
  assert.notEqual(pools.dispatch('HTTP', { connectTimeout: 5000 }), plain, 'a connect timeout is a setting of every protocol');
  assert.equal(dispatcherSuffix('HTTP', { connectTimeout: 5000, verify: true }), ' t=5000');
  assert.equal(dispatcherSuffix('HTTPS', { connectTimeout: 5000, servername: 's', verify: true, material: { id: 'v1' } }), ' t=5000 sni=s verify tls=v1');
  // one pool per endpoint of a dispatcher
  assert.equal(pools.get(a, '10.0.0.1', 443), pools.get(a, '10.0.0.1', 443));
  assert.notEqual(pools.get(a, '10.0.0.1', 443), pools.get(a, '10.0.0.2', 443));
  assert.equal(pools.size(), 2);
  void pools.close();
});

test('retain closes the pools of endpoints gone and of settings no route uses any more (a rotated secret)', () => {
  const pools = createPools({ connectTimeout: 1000, keepAliveTimeout: 1000 });
  const v1 = pools.dispatch('HTTPS', { material: { id: 'v1' } });
  const v2 = pools.dispatch('HTTPS', { material: { id: 'v2' } });
  const plain = pools.dispatch('HTTPS');
  const gone = pools.get(v1, '10.0.0.1', 443);
  const kept = pools.get(v2, '10.0.0.1', 443);
  pools.get(plain, '10.0.0.1', 443);
  const dropped = pools.get(plain, '10.0.0.9', 443);
  assert.equal(pools.size(), 4);
  pools.retain(new Map([[v2, new Set(['10.0.0.1:443'])], [plain, new Set(['10.0.0.1:443'])]]));
  assert.equal(pools.size(), 2, 'kept: v2 and the plain one on the live endpoint');
  assert.equal(pools.get(v2, '10.0.0.1', 443), kept, 'the v2 pool was kept, not recreated');
  assert.notEqual(pools.dispatch('HTTPS', { material: { id: 'v1' } }), v1, 'the unused v1 dispatcher was forgotten: a new one is interned');
  assert.notEqual(pools.get(pools.dispatch('HTTPS', { material: { id: 'v1' } }), '10.0.0.1', 443), gone);
  assert.notEqual(pools.get(plain, '10.0.0.9', 443), dropped, 'a closed pool is never handed out again');
  // release: one endpoint's pool (IPv6 addresses hold colons of their own)
  const v6 = pools.get(plain, 'fd00::1', 8443);
  const other = pools.get(plain, 'fd00::1', 8444);
  pools.release(plain, 'fd00::1:8443');
  assert.notEqual(pools.get(plain, 'fd00::1', 8443), v6, 'released: a new pool');
  assert.equal(pools.get(plain, 'fd00::1', 8444), other, 'the same address on another port is kept');
  // a dispatcher a live route still uses, with no endpoint right now, stays interned
  pools.retain(new Map([[v2, new Set<string>()]]));
  assert.equal(pools.dispatch('HTTPS', { material: { id: 'v2' } }), v2);
  void pools.close();
});

test('BackendTLSPolicy subjectAltNames: one must be in the certificate (DNS as TLS matches it, URI exactly); they are part of the key', () => {
  const cert = { subject: { CN: 'pod' }, subjectaltname: 'DNS:abc.example.com, DNS:*.wild.example.com, URI:spiffe://cluster.local/ns/infra/sa/app' } as unknown as PeerCertificate;
  const ok = (type: 'Hostname' | 'URI', value: string): boolean => sanProblem([{ type, value }], cert) === undefined;
  assert.ok(ok('Hostname', 'abc.example.com'));
  assert.ok(ok('Hostname', 'ABC.example.com'), 'DNS names compare case-insensitively');
  assert.ok(ok('Hostname', 'x.wild.example.com'), 'a wildcard in the certificate covers one label');
  assert.ok(ok('Hostname', '*.wild.example.com'), 'a wildcard SAN written as the certificate has it');
  assert.ok(!ok('Hostname', 'a.b.wild.example.com'));
  assert.ok(!ok('Hostname', 'other.example.com'));
  assert.ok(ok('URI', 'spiffe://cluster.local/ns/infra/sa/app'));
  assert.ok(!ok('URI', 'spiffe://cluster.local/ns/infra/sa/ap'), 'URIs compare exactly');
  assert.ok(!ok('URI', 'abc.example.com'), 'a DNS name is no URI');
  assert.equal(sanProblem([{ type: 'Hostname', value: 'other.example.com' }, { type: 'URI', value: 'spiffe://cluster.local/ns/infra/sa/app' }], cert), undefined, 'any one of them');
  assert.match(String(sanProblem([{ type: 'Hostname', value: 'other.example.com' }], cert)?.message), /none of the subjectAltNames Hostname:other.example.com/);
  // with them the name checked is a SAN, not the SNI name; without verification they mean nothing
  const o = tlsOptions({ servername: 'sni.example.com', verify: true, subjectAltNames: [{ type: 'Hostname', value: 'abc.example.com' }] });
  assert.equal(o.servername, 'sni.example.com');
  assert.equal(o.checkServerIdentity?.('sni.example.com', cert), undefined);
  assert.equal(tlsOptions({ servername: 's', verify: false, subjectAltNames: [{ type: 'Hostname', value: 'a' }] }).checkServerIdentity, undefined);
  assert.equal(dispatcherSuffix('HTTPS', { servername: 's', verify: true, subjectAltNames: [{ type: 'Hostname', value: 'a' }, { type: 'URI', value: 'u:x' }] }), ' sni=s verify san=Hostname:a,URI:u:x');
});

test('keyOf: an endpoint\'s key is endpointKey of its address, the same for equal endpoints in other objects', () => {
  const eps = [
    { ip: '10.0.0.1', port: 80, terminating: false },
    { ip: '10.0.0.1', port: 8080, terminating: false },
    { ip: 'fd00::1', port: 80, terminating: true },
  ];
  for (let round = 0; round < 2; round++) for (const ep of eps) assert.equal(keyOf(ep), endpointKey(ep.ip, ep.port));
  assert.equal(keyOf({ ...eps[0]! }), keyOf(eps[0]!));
  assert.notEqual(keyOf(eps[0]!), keyOf(eps[1]!));
});
