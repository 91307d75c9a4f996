/**
 * Golden tests: each folder under src/model/testdata is a case named as a sentence, with the
 * Kubernetes objects in `in.yaml`, optional translator options in `options.yaml`, and the printed
 * table and diagnostics in `out.yaml`. `UPDATE_GOLDEN=1 npm test` rewrites the expected files.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseManifests } from '../manifests/parse.js';
import { repoRoot } from '../paths.js';
import { snapshotOf } from '../control/store.js';
import { inspectClientCaSecret, inspectSecret, inspectUpstreamSecret } from '../tls/inspect.js';
import { printGatewayStatus } from './gateway/status.js';
import { printDiagnostics, printTable } from './print.js';
import type { EndpointSlice, Ingress, KubeObject, Service } from './k8s.js';
import { createTranslator, type TranslateOptions } from './translate.js';
import type { Translation } from './types.js';

const dir = join(repoRoot, 'src/model/testdata');
/** Certificates in testdata are judged at this instant, so expiry cases stay stable. */
const NOW = Date.parse('2026-06-01T00:00:00Z');
const defaults: TranslateOptions = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false, sslRedirect: true, inspect: inspectSecret, inspectUpstream: inspectUpstreamSecret, inspectClientCa: inspectClientCaSecret, now: NOW, gateway: { controllerName: 'portico.dev/gateway-controller', reservedPorts: [8080, 8443, 10254] } };

/** What a golden case prints: the table, the diagnostics, and the Gateway API status when there is any. */
const printed = (t: Translation): string =>
  stringify({ table: printTable(t.table), diagnostics: printDiagnostics(t.diagnostics), ...(t.gateway !== undefined && t.gateway.gatewayClasses.length > 0 ? { gateway: printGatewayStatus(t.gateway) } : {}) }, { lineWidth: 0 });

const cases = readdirSync(dir).sort();
test('there are golden cases', () => assert.ok(cases.length >= 10, `only ${cases.length} cases`));

for (const name of cases) {
  test(name.replaceAll('-', ' '), () => {
    const parsed = parseManifests(readFileSync(join(dir, name, 'in.yaml'), 'utf8'));
    assert.deepEqual(parsed.problems, [], 'in.yaml must parse');
    const optsFile = join(dir, name, 'options.yaml');
    const opts = { ...defaults, ...(existsSync(optsFile) ? (parse(readFileSync(optsFile, 'utf8')) as Partial<TranslateOptions>) : {}) };
    const translator = createTranslator();
    const actual = printed(translator.translate(snapshotOf(parsed.objects), opts));
    const outFile = join(dir, name, 'out.yaml');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(outFile, actual);
    assert.ok(existsSync(outFile), `${outFile} missing: run UPDATE_GOLDEN=1 npm test and review it`);
    assert.equal(actual, readFileSync(outFile, 'utf8'));
    // a second translation of the same objects comes from the per-object memos: the same output
    const again = translator.translate(snapshotOf(parsed.objects), opts);
    assert.equal(printed(again), actual);
  });
}

describe('rebuilds reuse what did not change, and only that', () => {
  const objects = parseManifests(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: site, namespace: default, annotations: { nginx.ingress.kubernetes.io/ssl-redirect: maybe } }
spec:
  ingressClassName: portico
  rules: [{ host: a.test, http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { name: http } } } }] } }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
ports: [{ name: http, port: 8080 }]
endpoints: [{ addresses: [10.0.0.1] }]
`).objects;
  const [ingress, service, slice] = objects as [Ingress, Service, EndpointSlice];
  // one translator for the whole describe: its memos carry from one rebuild to the next, as in the pipeline
  const translator = createTranslator();
  const run = (...objs: KubeObject[]): Translation => translator.translate(snapshotOf(objs), defaults);
  const endpointsOf = (t: Translation): string[] => [...t.table.backends.values()].flatMap((b) => b.endpoints.map((e) => `${e.ip}:${e.port}`));

  test('diagnostics of an unchanged object are reported on every rebuild', () => {
    for (let i = 0; i < 3; i++) assert.deepEqual(run(ingress, service, slice).diagnostics.map((d) => d.reason), ['InvalidAnnotation']);
  });

  test('a changed Ingress (a new object) is checked anew', () => {
    assert.deepEqual(run(ingress, service, slice).table.routes.map((r) => r.path), ['/']);
    const changed = { ...ingress, spec: { ...ingress.spec, rules: [{ host: 'a.test', http: { paths: [{ path: '/v2', pathType: 'Exact', backend: { service: { name: 'web', port: { name: 'http' } } } }] } }] } } as Ingress;
    assert.deepEqual(run(changed, service, slice).table.routes.map((r) => `${r.match} ${r.path}`), ['Exact /v2']);
  });

  test('a changed, added or removed EndpointSlice of an unchanged Service is resolved anew', () => {
    assert.deepEqual(endpointsOf(run(ingress, service, slice)), ['10.0.0.1:8080']);
    const moved = { ...slice, endpoints: [{ addresses: ['10.0.0.2'] }] } as EndpointSlice;
    assert.deepEqual(endpointsOf(run(ingress, service, moved)), ['10.0.0.2:8080']);
    const second = { ...slice, metadata: { ...slice.metadata, name: 'web-2' }, endpoints: [{ addresses: ['10.0.0.3'] }] } as EndpointSlice;
    assert.deepEqual(endpointsOf(run(ingress, service, moved, second)), ['10.0.0.2:8080', '10.0.0.3:8080']);
    const t = run(ingress, service);
    assert.deepEqual(endpointsOf(t), []);
    assert.ok(t.diagnostics.some((d) => d.reason === 'NoEndpoints'));
  });

  test('a changed Service (a new object) is resolved anew', () => {
    assert.deepEqual(endpointsOf(run(ingress, service, slice)), ['10.0.0.1:8080']);
    const renamed = { ...service, spec: { ports: [{ name: 'web', port: 80 }] } } as Service;
    const t = run(ingress, renamed, slice);
    assert.deepEqual(endpointsOf(t), []);
    assert.ok(t.diagnostics.some((d) => d.reason === 'ServicePortNotFound'));
  });
});

describe('diagnostics name the path they are about', () => {
  // a checked path keeps no rule and path index: they are its positions, a rule with a problem included
  const objs = parseManifests(`
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: dup, namespace: default }
spec:
  ingressClassName: portico
  rules:
  - host: "bad host"
  - host: a.test
    http:
      paths:
      - { path: /x, pathType: Exact, backend: { service: { name: web, port: { number: 80 } } } }
      - { path: /x, pathType: Exact, backend: { service: { name: web, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: can
  namespace: default
  annotations: { nginx.ingress.kubernetes.io/canary: "true", nginx.ingress.kubernetes.io/canary-weight: "10" }
spec:
  ingressClassName: portico
  rules:
  - host: "bad host"
  - host: a.test
    http:
      paths:
      - { path: /x, pathType: Exact, backend: { service: { name: web, port: { number: 80 } } } }
      - { path: /nothing, pathType: Exact, backend: { service: { name: web, port: { number: 80 } } } }
`).objects;
  test('DuplicateRoute and CanaryWithoutMain give rules[i].http.paths[j]', () => {
    const d = createTranslator().translate(snapshotOf(objs), defaults).diagnostics.map((x) => `${x.source.name} ${x.reason}: ${x.message.split(':')[0]}`);
    assert.ok(d.includes('dup DuplicateRoute: rules[1].http.paths[1]'), d.join('\n'));
    assert.ok(d.includes('can CanaryWithoutMain: rules[1].http.paths[1]'), d.join('\n'));
  });
});
