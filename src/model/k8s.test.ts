/** Helpers the processors share for Kubernetes objects' fields. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localRef } from './k8s.js';

test('localRef: "namespace/name" or "name" in the Ingress\'s namespace, the same for every annotation that names a Secret or ConfigMap', () => {
  assert.deepEqual(localRef('users', 'shop', 'Secret'), { ref: 'shop/users' });
  assert.deepEqual(localRef('shop/users', 'shop', 'Secret'), { ref: 'shop/users' });
  // surrounding spaces are dropped (auth-secret dropped them; proxy-ssl-secret, auth-tls-secret and custom-headers refused them)
  assert.deepEqual(localRef(' shop/users ', 'shop', 'ConfigMap'), { ref: 'shop/users' });
  assert.deepEqual(localRef('other/users', 'shop', 'Secret'), { error: 'the Secret must be in the Ingress\'s namespace (shop), got "other/users"' });
  // an empty namespace is a malformed value (two of the four copies said it was another namespace)
  for (const v of ['/users', 'a/b/c', '', 'Users', 'shop/', 3, null]) assert.deepEqual(localRef(v, 'shop', 'ConfigMap'), { error: `expected "namespace/name" or "name" of a ConfigMap, got ${JSON.stringify(v)}` }, String(v));
});
