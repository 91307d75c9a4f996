/**
 * Certificates are re-judged without any object changing: the table is rebuilt when one judged at
 * the last rebuild has crossed its notBefore or notAfter, and not otherwise (a rebuild a minute at
 * 10,000 Ingresses built the whole table beside the live one to find it unchanged).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from '../config.js';
import type { Logger } from '../log.js';
import type { RouteTable } from '../model/types.js';
import { createSelfSigned } from '../tls/selfsigned.js';
import { createInspector } from '../tls/inspect.js';
import { createControlPlane, type ControlPlane } from './controlplane.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function tlsIngress(host: string, notBefore: Date, notAfter: Date): unknown[] {
  const { certPem, keyPem } = createSelfSigned({ commonName: host, dnsNames: [host], notBefore, notAfter });
  const name = host.split('.')[0] as string;
  return [
    { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(certPem), 'tls.key': b64(keyPem) } },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name, namespace: 'default' },
      spec: {
        ingressClassName: 'portico',
        tls: [{ hosts: [host], secretName: name }],
        rules: [{ host, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'svc', port: { number: 80 } } } }] } }],
      },
    },
  ];
}

/** A logger that keeps each message (the pipeline logs every rebuild, changed or not). */
function recordingLogger(messages: string[]): Logger {
  const log: Logger = new Proxy({} as Logger, {
    get: (_t, key) => (key === 'child' ? () => log : key === 'level' ? 'info' : (a: unknown, b?: unknown) => void messages.push(String(typeof a === 'string' ? a : b))),
  });
  return log;
}

describe('certificates re-judged on time', () => {
  const dirs: string[] = [];
  const planes: ControlPlane[] = [];
  after(async () => {
    for (const p of planes) await p.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  async function start(objects: unknown[], recheckMs: number): Promise<{ tables: RouteTable[]; messages: string[] }> {
    const dir = mkdtempSync(join(tmpdir(), 'portico-recheck-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'all.yaml'), objects.map((o) => JSON.stringify(o)).join('\n---\n'));
    const cmd = parseArgs(['--manifests', dir], {});
    assert.equal(cmd.kind, 'run');
    const tables: RouteTable[] = [];
    const messages: string[] = [];
    const plane = await createControlPlane({ config: (cmd as { config: Parameters<typeof createControlPlane>[0]['config'] }).config, log: recordingLogger(messages), metrics: null, swap: (t) => void tables.push(t), patch: () => {}, recheckMs });
    planes.push(plane);
    await plane.start();
    return { tables, messages };
  }
  const rebuilds = (messages: string[]): number => messages.filter((m) => /table swapped|table unchanged/.test(m)).length;

  test('certificates that stay valid: no rebuild at each recheck', async () => {
    const now = Date.now();
    const { tables, messages } = await start(tlsIngress('a.test', new Date(now - 60_000), new Date(now + 365 * 86_400_000)), 20);
    assert.ok(tables.at(-1)?.certs.has('a.test'), 'the certificate is served');
    const before = rebuilds(messages);
    assert.ok(before >= 1, `the first build is logged: ${JSON.stringify(messages)}`);
    await sleep(400);
    assert.equal(rebuilds(messages), before, 'twenty rechecks rebuilt nothing');
  });

  test('a certificate that expires and one that becomes valid are re-judged within the recheck interval', async () => {
    // X.509 validity has one-second precision: boundaries 2 s away, on whole seconds
    const now = Math.ceil(Date.now() / 1000) * 1000;
    const boundary = now + 2000;
    const { tables } = await start([...tlsIngress('old.test', new Date(now - 60_000), new Date(boundary)), ...tlsIngress('new.test', new Date(boundary), new Date(now + 86_400_000))], 50);
    const first = tables.at(-1) as RouteTable;
    assert.ok(first.certs.has('old.test') && !first.certs.has('new.test'), 'at start: the old certificate served, the new one not yet valid');
    const deadline = boundary + 3000;
    while (Date.now() < deadline) {
      const t = tables.at(-1) as RouteTable;
      if (!t.certs.has('old.test') && t.certs.has('new.test')) break;
      await sleep(25);
    }
    const last = tables.at(-1) as RouteTable;
    assert.ok(Date.now() > boundary, 'not re-judged before the boundary');
    assert.ok(!last.certs.has('old.test'), 'the expired certificate is no longer served');
    assert.ok(last.certs.has('new.test'), 'the certificate that became valid is served');
  });
});

describe('the inspector: when its certificates are next judged differently', () => {
  const secret = (name: string, notBefore: number, notAfter: number): Parameters<ReturnType<typeof createInspector>>[0] => {
    const { certPem, keyPem } = createSelfSigned({ commonName: `${name}.test`, dnsNames: [`${name}.test`], notBefore: new Date(notBefore), notAfter: new Date(notAfter) });
    return { apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default', uid: name, resourceVersion: '1' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64(certPem), 'tls.key': b64(keyPem) } } as Parameters<ReturnType<typeof createInspector>>[0];
  };
  const now = Math.floor(Date.now() / 1000) * 1000;
  const valid = secret('valid', now - 60_000, now + 10_000);
  const notYet = secret('later', now + 5_000, now + 20_000);
  const expired = secret('expired', now - 60_000, now - 1_000);

  test('the nearest notBefore ahead, or just past the nearest notAfter ahead; Infinity when none', () => {
    const inspect = createInspector();
    inspect.sweep();
    inspect(valid);
    assert.equal(inspect.nextChange(now), now + 10_001, 'just past notAfter (expired when now > notAfter)');
    inspect(notYet);
    assert.equal(inspect.nextChange(now), now + 5_000, 'notBefore comes first');
    assert.equal(inspect.nextChange(now + 5_000), now + 10_001, 'then the first notAfter');
    assert.equal(inspect.nextChange(now + 10_001), now + 20_001);
    assert.equal(inspect.nextChange(now + 20_001), Infinity);
    inspect.sweep();
    inspect(expired);
    inspect({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad', namespace: 'default' }, type: 'kubernetes.io/tls', data: { 'tls.crt': b64('nope'), 'tls.key': b64('nope') } } as Parameters<typeof inspect>[0]);
    assert.equal(inspect.nextChange(now), Infinity, 'only certificates of the latest build count; an expired or unusable one never changes');
  });
});
