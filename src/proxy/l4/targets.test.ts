/** Layer 4 targets: a backend by weight per connection (weighted.ts, as for HTTP), and an SNI name's route (exact, wildcard by depth, catch-all). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Backend, L4Route, RouteTable, SniRoute } from '../../model/types.js';
import { EMPTY_TABLE } from '../../model/types.js';
import { createEndpointState } from '../endpoints.js';
import { choose } from '../weighted.js';
import { compileL4, compileSni, lookupSni, type L4Target } from './targets.js';

const backend = (id: string): Backend => ({ id, namespace: 'default', service: id.split('/')[1]!.split(':')[0]!, port: '80', protocol: 'TCP', endpoints: [{ ip: '10.0.0.1', port: 80, terminating: false }] });
const table = (...ids: string[]): RouteTable => ({ ...EMPTY_TABLE, backends: new Map(ids.map((id) => [id, backend(id)])) });
const route = (backends: L4Route['backends']): L4Route => ({ source: { kind: 'TCPRoute', namespace: 'default', name: 'r' }, backends });

describe('a compiled route\'s backend choice', () => {
  const t = table('default/a:80+tcp', 'default/b:80+tcp');
  const compile = (backends: L4Route['backends']): L4Target => compileL4(route(backends), t, 'tcp/9000', 'TCP', createEndpointState(), null);

  test('one backend: always it, without arithmetic; weight 0: none', () => {
    const one = compile([{ backend: 'default/a:80+tcp', weight: 1 }]);
    assert.equal(one.cursor, null);
    assert.equal(choose(one)?.service, 'a');
    assert.equal(choose(compile([{ backend: 'default/a:80+tcp', weight: 0 }])), undefined);
  });

  test('70/30: any 100 connections split to within two of the weights, whatever the phase; a zero weight takes none; an invalid ref keeps its share as a backend-less target', () => {
    for (let run = 0; run < 50; run++) {
      // compiled anew each run, as every table compiles its routes: each starts at its own random phase
      const target = compile([{ backend: 'default/a:80+tcp', weight: 70 }, { backend: 'default/b:80+tcp', weight: 0 }, { backend: '', weight: 30 }]);
      const counts = new Map<string, number>();
      for (let i = 0; i < 100; i++) {
        const k = choose(target)?.backend?.id ?? 'rejected';
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      const a = counts.get('default/a:80+tcp') ?? 0;
      const rejected = counts.get('rejected') ?? 0;
      assert.ok(Math.abs(a - 70) <= 2 && a + rejected === 100, JSON.stringify(Object.fromEntries(counts)));
    }
  });

  test('every weight 0: none', () => {
    assert.equal(choose(compile([{ backend: 'default/a:80+tcp', weight: 0 }, { backend: 'default/b:80+tcp', weight: 0 }])), undefined);
  });

  test('a backend the table lacks has no endpoints and no metric series, never a throw', () => {
    const target = compileL4(route([{ backend: 'default/gone:80+tcp', weight: 1 }]), t, 'tcp/9000', 'TCP', createEndpointState(), null);
    assert.equal(target.backends[0]?.backend, undefined);
    assert.deepEqual(target.backends[0]?.slot.endpoints, []);
  });
});

describe('lookupSni', () => {
  const t = table('default/exact:443+tcp', 'default/one:443+tcp', 'default/deep:443+tcp', 'default/any:443+tcp');
  const sni = (host: string, id: string, wildcard?: SniRoute['wildcard']): SniRoute => ({ port: 443, host, ...(wildcard ? { wildcard } : {}), source: { kind: 'Ingress', namespace: 'default', name: id }, backends: [{ backend: `default/${id}:443+tcp`, weight: 1 }] });
  const compile = (routes: SniRoute[]) => compileSni(routes, (r) => compileL4(r, t, 'https', 'TCP', createEndpointState(), null)).get(443)!;
  const name = (target: L4Target | null): string | null => target?.route.source.name ?? null;

  test('exact first, then the most specific wildcard; an Ingress wildcard covers one label, a Gateway API one any number', () => {
    const s = compile([sni('a.example.com', 'exact'), sni('*.example.com', 'one', 'one-label'), sni('*.deep.example.com', 'deep', 'any-labels')]);
    assert.equal(name(lookupSni(s, 'a.example.com')), 'exact');
    assert.equal(name(lookupSni(s, 'b.example.com')), 'one');
    assert.equal(name(lookupSni(s, 'x.b.example.com')), null, 'one label only');
    assert.equal(name(lookupSni(s, 'x.deep.example.com')), 'deep');
    assert.equal(name(lookupSni(s, 'x.y.deep.example.com')), 'deep', 'any depth');
    assert.equal(name(lookupSni(s, 'example.com')), null, 'a wildcard needs a label');
    assert.equal(name(lookupSni(s, null)), null);
  });

  test('a catch-all ("") takes every other name, and a hello without one', () => {
    const s = compile([sni('a.example.com', 'exact'), sni('', 'any')]);
    assert.equal(name(lookupSni(s, 'other.test')), 'any');
    assert.equal(name(lookupSni(s, null)), 'any');
    assert.equal(name(lookupSni(s, 'a.example.com')), 'exact');
  });

  test('routes are grouped by port', () => {
    const m = compileSni([sni('a.test', 'exact'), { ...sni('b.test', 'one'), port: 8443 }], (r) => compileL4(r, t, 'x', 'TCP', createEndpointState(), null));
    assert.deepEqual([...m.keys()].sort(), [443, 8443]);
    assert.equal(name(lookupSni(m.get(8443)!, 'a.test')), null);
  });
});
