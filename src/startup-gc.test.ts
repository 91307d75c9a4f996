import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { startupGcArgs } from './main.js';

test("the start-up collection asks Node 24 and later for a memory-reducing one, older Node for a plain full one", () => {
  assert.deepEqual(startupGcArgs('20.20.0'), []);
  assert.deepEqual(startupGcArgs('22.21.1'), []);
  assert.deepEqual(startupGcArgs('24.22.3'), [{ type: 'major', execution: 'sync', flavor: 'last-resort' }]);
  assert.deepEqual(startupGcArgs('25.1.0'), startupGcArgs('24.0.0'));
});

test('on this Node, the start-up collection is a full one: old-generation garbage is gone', () => {
  // a child with --expose-gc: fill and drop old-generation garbage, run the start-up collection, read the heap
  const script = `
    const { startupGcArgs } = await import(${JSON.stringify(new URL('./main.js', import.meta.url).href)});
    const v8 = await import('node:v8');
    globalThis.junk = [];
    for (let i = 0; i < 200000; i++) globalThis.junk.push({ i, s: 'x' + i });
    globalThis.gc(); // promoted to the old generation
    globalThis.junk = null;
    const before = v8.getHeapStatistics().used_heap_size;
    globalThis.gc(...startupGcArgs());
    console.log(JSON.stringify({ before, after: v8.getHeapStatistics().used_heap_size }));`;
  const out = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], { encoding: 'utf8' })) as { before: number; after: number };
  assert.ok(out.after < out.before / 2, `old garbage collected: ${out.before} -> ${out.after}`);
});
