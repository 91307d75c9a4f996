/**
 * The npm package and the `portico` bin: `npm pack` ships the compiled program and nothing of the
 * tests (its "files" list), the packed program runs from the unpacked tarball, every package it
 * imports is a runtime dependency, and `npx portico` works in the clone (package.json's "prepare"
 * builds dist/src on `npm ci`). Offline: npm runs with --offline and --ignore-scripts (a "prepare"
 * here would rebuild dist/ under the other tests).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { repoRoot } from '../src/paths.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string>; dependencies: Record<string, string>; scripts: Record<string, string> };
// no scripts: a "prepare" run by npm here would rebuild dist/src under the test files running beside this one
const env = { ...process.env, npm_config_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_ignore_scripts: 'true' };

function npm(args: string[], cwd = repoRoot): string {
  const r = spawnSync('npm', args, { cwd, env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Specifiers of static and dynamic imports in compiled ES modules. */
function imports(js: string): string[] {
  const out: string[] = [];
  for (const m of js.matchAll(/^\s*(?:import|export)\s(?:[^'";]*?\sfrom\s*)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)/gm)) out.push((m[1] ?? m[2])!);
  return out;
}

const packageName = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

describe('npm pack', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'portico-pack-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));

  test('the file list is the compiled program, package.json and README: no tests, sources or maps', () => {
    const [info] = JSON.parse(npm(['pack', '--dry-run', '--json', '--ignore-scripts'])) as [{ files: { path: string }[] }];
    const files = info.files.map((f) => f.path).sort();
    for (const f of ['package.json', 'README.md', 'dist/src/cli.js', 'dist/src/main.js']) assert.ok(files.includes(f), `${f} is packed`);
    assert.ok(files.includes(pkg.bin.portico!), 'the bin is packed');
    const stray = files.filter((f) => !['package.json', 'README.md', 'LICENSE'].includes(f) && !/^dist\/src\/.+\.js$/.test(f));
    assert.deepEqual(stray, [], 'only dist/src/**/*.js besides package.json, README.md and LICENSE');
    assert.deepEqual(files.filter((f) => /\.test\.js$|(^|\/)testdata\/|^dist\/src\/testing\//.test(f)), [], 'no unit tests or their fakes');
    // every module of the build (not a test or a test's fake) is there
    const built = walk(join(repoRoot, 'dist/src')).map((f) => relative(repoRoot, f)).filter((f) => f.endsWith('.js') && !f.endsWith('.test.js') && !f.startsWith('dist/src/testing/'));
    assert.deepEqual(built.filter((f) => !files.includes(f)), [], 'no module of dist/src is left out');
  });

  test('the tarball unpacks into a program that runs, with an executable bin, importing only its dependencies', () => {
    const [info] = JSON.parse(npm(['pack', '--json', '--ignore-scripts', '--pack-destination', tmp])) as [{ filename: string }];
    const tgz = join(tmp, info.filename);
    const untar = spawnSync('tar', ['-xzf', tgz, '-C', tmp], { encoding: 'utf8' });
    assert.equal(untar.status, 0, untar.stderr);
    const root = join(tmp, 'package');
    const bin = join(root, pkg.bin.portico!);
    assert.ok((statSync(bin).mode & 0o111) !== 0, 'the bin is executable in the tarball');
    // Every bare import is a node builtin or one of "dependencies" (not a devDependency).
    const deps = new Set(Object.keys(pkg.dependencies));
    const foreign = new Set<string>();
    for (const f of walk(join(root, 'dist/src')))
      for (const spec of imports(readFileSync(f, 'utf8'))) if (!spec.startsWith('.') && !isBuiltin(spec) && !deps.has(packageName(spec))) foreign.add(`${relative(root, f)}: ${spec}`);
    assert.deepEqual([...foreign], [], 'imports of packages that are not runtime dependencies');
    // It runs, with the repository's node_modules standing in for an install's.
    symlinkSync(join(repoRoot, 'node_modules'), join(root, 'node_modules'), 'dir');
    const version = spawnSync(process.execPath, [bin, '--version'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), `portico ${pkg.version}`);
    const dry = spawnSync(process.execPath, [bin, '--manifests', join(repoRoot, 'examples/manifests'), '--dry-run'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(dry.status, 0, `the packed program loads every module and reads the examples: ${dry.stderr}`);
  });
});

describe('the portico command in a clone', () => {
  test('"prepare" builds the bin, so `npm ci` leaves a working `npx portico`', () => {
    assert.match(pkg.scripts.prepare ?? '', /tsc -p tsconfig\.build\.json/);
    assert.match(pkg.scripts.prepare ?? '', /chmod \+x dist\/src\/cli\.js/);
    assert.ok((statSync(join(repoRoot, pkg.bin.portico!)).mode & 0o111) !== 0, 'dist/src/cli.js is executable');
    const r = spawnSync('npx', ['--no-install', 'portico', '--version'], { cwd: repoRoot, env, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `portico ${pkg.version}`);
  });
});
