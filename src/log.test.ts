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

/** Writes held until released, checked to be unchanged meanwhile; `most`: bytes taken a write (partial writes). */
class HeldWrites {
  readonly out: Buffer[] = [];
  private readonly held: Array<() => void> = [];
  most = Infinity;
  /** EAGAIN for the next this many writes. */
  again = 0;
  readonly write = (_fd: number, buf: Buffer, off: number, len: number, _pos: null, cb: (err: NodeJS.ErrnoException | null, n: number) => void): void => {
    const copy = Buffer.from(buf.subarray(off, off + len));
    this.held.push(() => {
      // the buffer in flight was not written into meanwhile
      assert.deepEqual(buf.subarray(off, off + len), copy);
      if (this.again > 0) {
        this.again--;
        return cb(Object.assign(new Error('EAGAIN'), { code: 'EAGAIN' }), 0);
      }
      const n = Math.min(len, this.most);
      this.out.push(copy.subarray(0, n));
      cb(null, n);
    });
  };
  readonly writeSync = (_fd: number, buf: Buffer, off: number, len: number): number => {
    const n = Math.min(len, this.most);
    this.out.push(Buffer.from(buf.subarray(off, off + n)));
    return n;
  };
  get inFlight(): number {
    return this.held.length;
  }
  /** Completes the writes in flight (and those they start), until none is left. */
  async drain(): Promise<void> {
    for (let i = 0; i < 100000; i++) {
      if (this.held.length === 0) {
        // a retry (EAGAIN) or a batch's timer may start another
        await new Promise((r) => setTimeout(r, 15));
        if (this.held.length === 0) return;
      }
      (this.held.shift() as () => void)();
    }
  }
  text(): string {
    return Buffer.concat(this.out).toString('utf8');
  }
}

const held = (io: HeldWrites): LineSink => new LineSink(99, io as never);

test('lines written while a batch is in flight go into another buffer and follow it, in order', async () => {
  const io = new HeldWrites();
  const sink = held(io);
  const want: string[] = [];
  const line = (i: number): string => `line ${i} ${'x'.repeat(200)}\n`;
  // past 64 KiB a batch starts at once; it stays in flight while many more lines come
  for (let i = 0; i < 2000; i++) {
    sink.write(line(i));
    want.push(line(i));
  }
  assert.equal(io.inFlight, 1);
  assert.equal(sink.busy, true);
  await io.drain();
  assert.equal(io.text(), want.join(''));
  assert.equal(sink.busy, false);
});

test('partial writes and EAGAIN: the rest of the same bytes goes out, then what follows', async () => {
  const io = new HeldWrites();
  io.most = 1000;
  io.again = 3;
  const sink = held(io);
  let want = '';
  for (let i = 0; i < 700; i++) {
    const l = `{"n":${i},"pad":"${'p'.repeat(i % 300)}"}\n`;
    sink.write(l);
    want += l;
  }
  await io.drain();
  assert.equal(io.text(), want);
});

test('a line larger than the buffers goes out whole, between its neighbours', async () => {
  const io = new HeldWrites();
  const sink = held(io);
  const big = `{"msg":"${'é'.repeat(200 * 1024)}"}\n`;
  sink.write('before\n');
  sink.write(big);
  // a formatter's line (the access log) of more than a buffer, written into the room it asked for
  const huge = 'b'.repeat(300 * 1024) + '\n';
  const buf = sink.room(huge.length) as Buffer;
  sink.commit(sink.filled + buf.write(huge, sink.filled, 'latin1'));
  sink.write('after\n');
  await io.drain();
  assert.equal(io.text(), `before\n${big}${huge}after\n`);
});

test('a reader that stops reading: past 16 MiB lines are dropped and counted, and the count is written when writing resumes', async () => {
  const io = new HeldWrites();
  const sink = held(io);
  const line = (i: number): string => `{"n":${String(i).padStart(8, '0')},"pad":"${'x'.repeat(1000)}"}\n`;
  let accepted = '';
  let i = 0;
  // the first batch goes out and never completes: the rest waits, up to 16 MiB
  for (; accepted.length <= 16 * 1024 * 1024 + 64 * 1024; i++) {
    sink.write(line(i));
    accepted += line(i);
  }
  for (let d = 0; d < 250; d++) sink.write(line(i + d));
  assert.equal(io.inFlight, 1);
  assert.equal(sink.room(10), null, 'an access-log line is dropped too');
  await io.drain();
  const out = io.text();
  assert.ok(out.startsWith(accepted.slice(0, 1024 * 1024)));
  const warning = out.slice(accepted.length);
  assert.equal(out.slice(0, accepted.length), accepted);
  const w = JSON.parse(warning) as Record<string, unknown>;
  assert.equal(w.msg, 'log lines dropped: stdout was not being read');
  assert.equal(w.level, 'warn');
  assert.equal(w.dropped, 251);
  // and lines are taken again
  sink.write('later\n');
  await io.drain();
  assert.ok(io.text().endsWith(`${warning}later\n`));
});

test("pino's lines and access-log lines share the buffer in the order they were logged", async () => {
  const io = new HeldWrites();
  const sink = held(io);
  const { default: pino } = await import('pino');
  const logger = pino({ base: null, timestamp: false }, sink);
  const { createAccessLog } = await import('./proxy/access-log.js');
  const access = createAccessLog('json', sink);
  const req = { method: 'GET', url: '/', httpVersion: '1.1', headers: { host: 'h' }, socket: { remoteAddress: '10.0.0.1' } } as never;
  const o = { time: 0, status: 200, bytes: 1, requestLength: 0, durationMs: 1, upstream: '', upstreamStatus: 0, upstreamMs: 0, requestId: '', cause: '', remote: '' };
  for (let i = 0; i < 3000; i++) {
    if (i % 3 === 0) logger.info({ i }, 'control');
    else access(req, null, { ...o, status: i });
  }
  await io.drain();
  const lines = io.text().trimEnd().split('\n').map((l) => JSON.parse(l) as { i?: number; status?: number });
  assert.equal(lines.length, 3000);
  lines.forEach((l, i) => assert.equal(l.i ?? l.status, i));
});

test('flushSync writes every waiting buffer now, whole, after partial writes', () => {
  const io = new HeldWrites();
  io.most = 4096;
  const sink = held(io);
  let want = '';
  for (let i = 0; i < 100; i++) {
    const l = `${i} ${'y'.repeat(3000)}\n`;
    sink.write(l);
    want += l;
  }
  // a batch started (held); what follows waits in the other buffers
  assert.equal(io.inFlight, 1);
  const first = io.out.length;
  sink.flushSync();
  assert.equal(first, 0);
  // written synchronously: everything after the batch in flight
  assert.ok(want.endsWith(io.text()));
  assert.ok(io.text().length > 200 * 1024);
});
