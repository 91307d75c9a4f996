/**
 * The standalone source under a writer's intermediate states: an in-place write passes through an
 * empty file, and some editors move the file away before writing the new one. Neither may drop
 * routes for a moment; a removal that stays is applied once the file has settled.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, renameSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import pino from 'pino';
import { createStore, type Store } from '../control/store.js';
import { createManifestSource, REMOVAL_SETTLE_MS, type ManifestSource } from './source.js';

const ingress = (name: string, path = '/'): string => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name} }
spec:
  rules:
    - host: ${name}.test
      http: { paths: [{ path: ${path}, pathType: Prefix, backend: { service: { name: web, port: { number: 80 } } } }] }
`;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let dir: string;
let store: Store;
let source: ManifestSource | null = null;
/** The Ingress names in the store at every onChange, in order. */
let seen: string[][];

const names = (): string[] => store.snapshot().ingresses.map((i) => i.metadata?.name as string).sort();
/** Resolves when a change makes `want` the current Ingress names; rejects after `ms`. */
async function until(want: string[], ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (JSON.stringify(names()) !== JSON.stringify(want)) {
    if (Date.now() - t0 > ms) assert.fail(`store holds ${JSON.stringify(names())}, waited for ${JSON.stringify(want)}`);
    await sleep(5);
  }
}

/** Starts the source on a.yaml and b.yaml with the given settle time (long where a test must not race it). */
async function open(removalSettleMs: number): Promise<void> {
  store = createStore();
  seen = [];
  source = createManifestSource({ path: dir, store, onChange: () => seen.push(names()), log: pino({ level: 'silent' }), removalSettleMs });
  await source.start();
  assert.deepEqual(names(), ['a', 'b']);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portico-source-'));
  writeFileSync(join(dir, 'a.yaml'), ingress('a'));
  writeFileSync(join(dir, 'b.yaml'), ingress('b'));
});

afterEach(() => {
  source?.close();
  source = null;
  rmSync(dir, { recursive: true, force: true });
});

test('an in-place rewrite passing through an empty file never drops its objects', async () => {
  const settle = 1000;
  await open(settle);
  truncateSync(join(dir, 'a.yaml')); // what `>` and writeFile do first
  await sleep(100); // long enough for the watch event and a scan
  assert.deepEqual(names(), ['a', 'b']);
  writeFileSync(join(dir, 'a.yaml'), ingress('a', '/v2'));
  const t0 = Date.now();
  while (store.snapshot().ingresses.find((i) => i.metadata?.name === 'a')?.spec?.rules?.[0]?.http?.paths?.[0]?.path !== '/v2') {
    assert.ok(Date.now() - t0 < 5000, 'the rewritten file was not picked up');
    await sleep(5);
  }
  await sleep(settle * 1.5); // the settle timer must not apply the stale empty state later
  assert.deepEqual(names(), ['a', 'b']);
  for (const s of seen) assert.deepEqual(s, ['a', 'b'], `a change published ${JSON.stringify(s)}`);
});

test('a file moved away and written anew (editor backup style) never drops its objects', async () => {
  const settle = 1000;
  await open(settle);
  renameSync(join(dir, 'a.yaml'), join(dir, '.a.yaml.swp'));
  await sleep(100);
  assert.deepEqual(names(), ['a', 'b']);
  writeFileSync(join(dir, 'a.yaml'), ingress('a'));
  await sleep(settle * 1.5);
  assert.deepEqual(names(), ['a', 'b']);
  for (const s of seen) assert.deepEqual(s, ['a', 'b'], `a change published ${JSON.stringify(s)}`);
});

test('a file left empty, or deleted, loses its objects once it has settled', async () => {
  await open(100);
  truncateSync(join(dir, 'a.yaml'));
  await until(['b']);
  unlinkSync(join(dir, 'b.yaml'));
  await until([]);
  assert.deepEqual(seen.at(-1), []);
});

test('an object removed from a file that stays goes once the file has settled (250 ms by default)', async () => {
  await open(REMOVAL_SETTLE_MS);
  writeFileSync(join(dir, 'b.yaml'), `${ingress('b')}---\n${ingress('c')}`);
  await until(['a', 'b', 'c']);
  const t0 = Date.now();
  writeFileSync(join(dir, 'b.yaml'), ingress('c'));
  await until(['a', 'c']);
  assert.ok(Date.now() - t0 >= REMOVAL_SETTLE_MS, 'a removal applied before the file settled');
});
