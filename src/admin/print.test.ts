import assert from 'node:assert/strict';
import { test } from 'node:test';
import { routesText } from './print.js';

test('portico routes keeps columns for routes with redirects and per-Ingress limits', () => {
  const text = routesText({
    hosts: { 'a.test': { routes: ['Prefix /up -> ns/s:80 (ns/ing) [https redirect] {bodySize=1024 readTimeout=5000}', 'Exact /x -> ns/s:80 (ns/ing)'] } },
    defaultBackend: null,
    backends: {},
    certs: {},
  });
  assert.match(text, /^a\.test\s+Prefix\s+\/up\s+ns\/s:80\s+ns\/ing \(redirects to https\) \{bodySize=1024 readTimeout=5000\}$/m);
  assert.match(text, /^a\.test\s+Exact\s+\/x\s+ns\/s:80\s+ns\/ing$/m);
});
