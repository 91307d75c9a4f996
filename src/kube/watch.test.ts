/** ConfigMaps are watched for header edits: only what is read is kept, and only referenced ones rebuild. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { relevant } from './source.js';
import { RESOURCES, trimConfigMap } from './watch.js';

test('a ConfigMap is kept as its name and data only (no binaryData, annotations or managedFields)', () => {
  const cm = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'h', namespace: 'ns', resourceVersion: '7', uid: 'u', annotations: { 'kubectl.kubernetes.io/last-applied-configuration': 'x'.repeat(10_000) }, managedFields: [{}] },
    data: { 'X-A': 'a' },
    binaryData: { big: 'AAAA' },
  };
  assert.deepEqual(trimConfigMap(cm), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'h', namespace: 'ns', resourceVersion: '7' }, data: { 'X-A': 'a' } });
  assert.deepEqual(trimConfigMap({ metadata: { name: 'e', namespace: 'ns' } }), { apiVersion: undefined, kind: 'ConfigMap', metadata: { name: 'e', namespace: 'ns', resourceVersion: undefined } });
  assert.equal(RESOURCES.find((r) => r.kind === 'ConfigMap')?.trim, trimConfigMap);
});

test('a ConfigMap change rebuilds only when the last translation referred to it', () => {
  const refs = { services: new Set<string>(), secrets: new Set<string>(), configMaps: new Set(['ns/h']), externalNames: new Set<string>() };
  const change = (name: string) => ({ kind: 'ConfigMap' as const, type: 'MODIFIED' as const, object: { kind: 'ConfigMap', metadata: { name, namespace: 'ns' } } });
  assert.equal(relevant(change('h'), refs), true);
  assert.equal(relevant(change('other'), refs), false);
});
