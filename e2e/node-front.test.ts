/**
 * The key end-to-end suites once more on the HTTP/1.1 server side that is not the default
 * (`--http1-server=node`, through PORTICO_HTTP1_SERVER, which e2e/lib/portico.ts passes on): both
 * front ends must give the same answers until the old one is retired. The rest of the suite runs
 * on the default only.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../src/paths.js';

const SUITES = ['security', 'hardening', 'framing-fuzz', 'proxy', 'shutdown', 'tls', 'h2c'];

test('the key suites pass on --http1-server=node', { timeout: 15 * 60_000 }, async () => {
  const files = SUITES.map((s) => join(repoRoot, 'dist/e2e', `${s}.test.js`));
  // a test runner of its own (the one running this file marks its children with NODE_TEST_CONTEXT)
  const env: NodeJS.ProcessEnv = { ...process.env, PORTICO_HTTP1_SERVER: 'node' };
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=tap', ...files], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  const failed = out.split('\n').filter((l) => /^\s*not ok /.test(l));
  assert.equal(code, 0, `on --http1-server=node:\n${failed.join('\n')}\n${out.slice(-4000)}`);
  assert.match(out, /# fail 0/);
  assert.doesNotMatch(out, /# pass 0\b/, 'the suites ran');
});
