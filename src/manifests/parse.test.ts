import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../paths.js';
import { parseCarefully, parseManifests, parseQuickly } from './parse.js';

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) return yamlFiles(p);
    return /\.(ya?ml|json)$/.test(f) ? [p] : [];
  });
}

test('the quick parser reads every bundled manifest exactly as the careful one', () => {
  // manifests only: a golden case's out.yaml and options.yaml are not Kubernetes objects
  const files = [...yamlFiles(join(repoRoot, 'src/model/testdata')), ...yamlFiles(join(repoRoot, 'examples'))].filter((f) => !/(out|options)\.yaml$/.test(f));
  assert.ok(files.length > 20, `found ${files.length} files`);
  let quick = 0;
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    const q = parseQuickly(text);
    if (q === null) continue;
    quick++;
    assert.deepEqual(q, parseCarefully(text), f);
  }
  assert.ok(quick > files.length / 2, `${quick} of ${files.length} took the quick path`);
});

test('scalars mean the same in both parsers (YAML 1.2 core: no timestamps, no yes/no booleans)', () => {
  const scalars = ['2024-01-01', '2001-12-14t21:59:43.10-05:00', 'yes', 'no', 'on', 'off', 'y', 'n', 'true', 'False', 'TRUE', 'null', '~', 'Null', '', '0777', '0o17', '0x1F', '1_000', '1e3', '.inf', '-.Inf', '.nan', '+12', '012345678901234567890', '1.0', '"quoted"', "'single'", '3:25:45', '0b101', '=', '<<'];
  for (const s of scalars) {
    const text = `kind: X\nv: ${s}\n`;
    assert.deepEqual(parseManifests(text), parseCarefully(text), `scalar ${s}`);
  }
  assert.equal(parseQuickly('kind: X\nv: 0b101\n'), null, 'binary integers are for the careful parser');
  const [obj] = parseManifests('kind: X\nwhen: 2024-01-01\n').objects;
  assert.equal((obj as unknown as { when: unknown }).when, '2024-01-01');
});

test('anchors and aliases go to the careful parser, which bounds their expansion', () => {
  const anchored = 'kind: X\na: &v {x: 1}\nb: *v\n';
  assert.equal(parseQuickly(anchored), null);
  assert.deepEqual(parseManifests(anchored).objects, [{ kind: 'X', a: { x: 1 }, b: { x: 1 } }]);
  let bomb = 'kind: X\nl0: &l0 [a, a, a, a, a, a, a, a, a, a]\n';
  for (let i = 1; i < 10; i++) bomb += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]\n`;
  const r = parseManifests(bomb);
  assert.equal(r.objects.length, 0);
  assert.match(r.errors[0] ?? '', /alias/i);
});

test('errors name the document, from either parser', () => {
  assert.match(parseManifests('kind: A\n---\nkind: B\n  bad: indent\n').errors[0] ?? '', /^document 2: /);
  assert.match(parseManifests('kind: A\na: 1\na: 2\n').errors[0] ?? '', /^document 1: .*(duplicate|unique)/i);
  assert.deepEqual(parseManifests('kind: A\n---\njust: data\n').errors, ['document 2: not a Kubernetes object (no "kind")']);
  assert.deepEqual(parseManifests('{"kind": "List", "items": [{"kind": "A"}, {"kind": "B"}]}').objects, [{ kind: 'A' }, { kind: 'B' }]);
  assert.deepEqual(parseManifests('---\nkind: A\n---\n').objects, [{ kind: 'A' }]);
});

test('__proto__ keys stay data', () => {
  const r = parseManifests('kind: A\n__proto__: {polluted: true}\n');
  assert.equal(({} as { polluted?: boolean }).polluted, undefined);
  assert.equal((r.objects[0] as unknown as { polluted?: boolean }).polluted, undefined);
});
