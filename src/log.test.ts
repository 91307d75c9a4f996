/** The stdout line writer batches lines (nginx's `access_log ... flush=`) without reordering or losing any. */
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineSink } from './log.js';

function withFile(run: (fd: number, read: () => string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-log-'));
  const path = join(dir, 'out');
  const fd = openSync(path, 'w');
  return run(fd, () => readFileSync(path, 'utf8')).finally(() => {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
}

const until = async (ok: () => boolean, ms = 2000): Promise<void> => {
  for (const end = Date.now() + ms; !ok() && Date.now() < end; ) await new Promise((r) => setTimeout(r, 2));
};

test('lines wait for their batch, then go out together and in order', () =>
  withFile(async (fd, read) => {
    const sink = new LineSink(fd);
    for (let i = 0; i < 100; i++) sink.write(`line ${i}\n`);
    // nothing is written in the turn the lines came in: they wait for the batch
    assert.equal(sink.busy, false);
    assert.equal(read(), '');
    const want = Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join('');
    await until(() => read() === want);
    assert.equal(read(), want);
  }));

test('64 KiB waiting starts a write at once, without waiting for the timer', () =>
  withFile(async (fd, read) => {
    const sink = new LineSink(fd);
    const line = 'x'.repeat(1023) + '\n';
    for (let i = 0; i < 64; i++) sink.write(line);
    assert.equal(sink.busy, true);
    sink.write('last\n');
    await until(() => read().endsWith('last\n'));
    assert.equal(read(), line.repeat(64) + 'last\n');
  }));

test('flushSync writes what waits now, after a write in flight has finished', () =>
  withFile(async (fd, read) => {
    const sink = new LineSink(fd);
    sink.write('a\n');
    sink.flush();
    sink.write('b\n');
    await until(() => !sink.busy);
    sink.flushSync();
    assert.equal(read(), 'a\nb\n');
  }));
