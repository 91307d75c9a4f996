/** The command line: help, and one-line errors with exit code 2 for bad input. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CLI } from './lib/portico.js';

const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 10_000 });

test('--help lists every flag and exits 0', () => {
  const r = run('--help');
  assert.equal(r.status, 0);
  for (const flag of ['--manifests', '--http-port', '--https-port', '--admin-port', '--bind-address', '--ingress-class', '--controller-class', '--watch-ingress-without-class', '--default-backend-service', '--proxy-connect-timeout', '--proxy-read-timeout', '--access-log']) {
    assert.ok(r.stdout.includes(flag), `--help lacks ${flag}`);
  }
});

for (const [args, pattern] of [
  [['--manifests', 'x', '--no-such-flag'], /unknown flag --no-such-flag/],
  [['--manifests', 'x', '--http-port', '99999'], /invalid value "99999" for --http-port/],
  [['--manifests', 'x', '--proxy-read-timeout', 'soon'], /invalid value "soon" for --proxy-read-timeout/],
  [['--manifests', 'x', '--default-backend-service', 'just-a-name'], /expected namespace\/name:port/],
  [['--manifests', 'x', '--watch-ingress-without-class=maybe'], /expected true or false/],
  [['--manifests'], /--manifests needs a value/],
  [['--manifests', '/nonexistent/portico/dir', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--bind-address', '127.0.0.1'], /--manifests \/nonexistent\/portico\/dir: no such file or directory/],
] as const) {
  test(`${args.join(' ')} -> exit 2 with one line`, () => {
    const r = run(...args);
    assert.equal(r.status, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /^portico: /);
    assert.match(lines[0]!, pattern);
  });
}

test('--dry-run parses flags, prints the configuration and exits 0', () => {
  const r = run('--manifests', 'x', '--http-port', '80', '--proxy-read-timeout', '1.5s', '--dry-run');
  assert.equal(r.status, 0, r.stderr);
  const cfg = JSON.parse(r.stdout);
  assert.equal(cfg.httpPort, 80);
  assert.equal(cfg.proxyReadTimeout, 1500);
});
