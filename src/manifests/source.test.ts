/**
 * The standalone source under a writer's intermediate states: an in-place write passes through an
 * empty file, and some editors move the file away before writing the new one. Neither may drop
 * routes for a moment; a removal that stays is applied once the file has settled. What a file holds
 * that cannot be read is reported (status, one log line per problem) and costs only itself.
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
/** Everything the source logged, parsed. */
let logged: { msg: string; [k: string]: unknown }[] = [];
const captured = (): pino.Logger => pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line) as { msg: string }) });
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
  source = createManifestSource({ path: dir, store, onChange: () => seen.push(names()), log: captured(), removalSettleMs });
  await source.start();
  assert.deepEqual(names(), ['a', 'b']);
}

beforeEach(() => {
  logged = [];
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

const problemLines = (): { msg: string; [k: string]: unknown }[] => logged.filter((l) => l.msg.startsWith('manifest file problem'));

test('a file that turns bad keeps the objects it defined before, reads its good documents, and says so once per problem', async () => {
  await open(REMOVAL_SETTLE_MS);
  const file = join(dir, 'a.yaml');
  // document 1 (a) breaks, document 2 (c) is new and good
  writeFileSync(file, `${ingress('a').replace('spec:', 'spec:\n   bad: indent')}---\n${ingress('c')}`);
  await until(['a', 'b', 'c']);
  const st = source!.status();
  assert.deepEqual(st.files, { valid: 1, invalid: 1 });
  assert.deepEqual(
    st.diagnostics.map((d) => [d.source, d.reason]),
    [[{ kind: 'File', namespace: '', name: file }, 'InvalidManifest']],
  );
  // js-yaml reads `   bad: indent` as spec's first key: the line after it is the one out of place
  assert.equal(st.diagnostics[0]!.message, 'line 6, column 3: bad indentation of a mapping entry: "  rules:"');
  assert.deepEqual(
    problemLines().map((l) => [l.msg, l.file, l.line, l.column, l.reason]),
    [['manifest file problem; keeping its last good objects', file, 6, 3, 'InvalidManifest']],
  );
  // the same problem after another edit is not logged again
  writeFileSync(file, `${ingress('a').replace('spec:', 'spec:\n   bad: indent')}---\n${ingress('c')}---\n${ingress('d')}`);
  await until(['a', 'b', 'c', 'd']);
  assert.equal(problemLines().length, 1);
  // fixed: the file's objects are what it says now (the removal of c and d waits for the file to settle)
  writeFileSync(file, ingress('a'));
  await until(['a', 'b']);
  assert.deepEqual(source!.status(), { diagnostics: [], files: { valid: 2, invalid: 0 } });
  assert.ok(logged.some((l) => l.msg === 'manifest file fixed' && l.file === file));
});

test('a bad file at start-up says that nothing in it is served (it has no last good objects); an unknown kind is a problem too', async () => {
  writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n');
  writeFileSync(join(dir, 'typo.yaml'), `${ingress('t').replace('kind: Ingress', 'kind: Ingres')}---\n${ingress('u')}`);
  await open(REMOVAL_SETTLE_MS).catch(() => undefined);
  assert.deepEqual(names(), ['a', 'b', 'u']);
  assert.deepEqual(
    problemLines().map((l) => [l.msg, l.reason]),
    [
      ['manifest file problem; nothing in the file is served', 'InvalidManifest'],
      ['manifest file problem; serving the rest of the file', 'UnknownKind'],
    ],
  );
  assert.ok(!logged.some((l) => /last good/.test(l.msg)), 'no file had last good objects');
  const st = source!.status();
  assert.deepEqual(st.files, { valid: 2, invalid: 2 });
  assert.match(st.diagnostics[1]!.message, /Ingres t: kind "Ingres" \(apiVersion networking\.k8s\.io\/v1\) is not a Kubernetes kind, so nothing reads it; did you mean "Ingress"\?$/);
});

test('objects get the time they were first seen as creationTimestamp, the rest as written; an unchanged file keeps its very objects', async () => {
  writeFileSync(join(dir, 'c.yaml'), ingress('c').replace('metadata: { name: c }', "metadata: { name: c, creationTimestamp: '2020-01-01T00:00:00Z', labels: { app: c } }"));
  store = createStore();
  source = createManifestSource({ path: dir, store, onChange: () => {}, log: captured(), removalSettleMs: 60_000 });
  await source.start();
  const get = (name: string): { metadata: Record<string, unknown>; spec: { rules: { host: string; http: { paths: { path: string }[] } }[] }; kind: string } => store.snapshot().ingresses.find((i) => i.metadata?.name === name) as never;
  const a = get('a');
  assert.equal(a.kind, 'Ingress');
  assert.equal(a.metadata.name, 'a');
  assert.match(String(a.metadata.creationTimestamp), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/);
  assert.equal(a.spec.rules[0]?.host, 'a.test');
  assert.deepEqual(get('c').metadata, { name: 'c', creationTimestamp: '2020-01-01T00:00:00Z', labels: { app: 'c' }, namespace: 'default' });
  writeFileSync(join(dir, 'b.yaml'), ingress('b', '/x'));
  const t0 = Date.now();
  while (get('b').spec.rules[0]?.http.paths[0]?.path !== '/x') {
    if (Date.now() - t0 > 5000) assert.fail('b.yaml was not read again');
    await sleep(5);
  }
  assert.equal(get('a'), a, 'a.yaml did not change: the same stored object (translation memos key on it)');
});
