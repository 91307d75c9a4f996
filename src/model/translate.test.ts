/**
 * Golden tests: each folder under src/model/testdata is a case named as a sentence, with the
 * Kubernetes objects in `in.yaml`, optional translator options in `options.yaml`, and the printed
 * table and diagnostics in `out.yaml`. `UPDATE_GOLDEN=1 npm test` rewrites the expected files.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, stringify } from 'yaml';
import { parseManifests } from '../manifests/parse.js';
import { repoRoot } from '../paths.js';
import { snapshotOf } from '../store.js';
import { inspectSecret } from '../tls/inspect.js';
import { printDiagnostics, printTable } from './print.js';
import { translate, type TranslateOptions } from './translate.js';

const dir = join(repoRoot, 'src/model/testdata');
/** Certificates in testdata are judged at this instant, so expiry cases stay stable. */
const NOW = Date.parse('2026-06-01T00:00:00Z');
const defaults: TranslateOptions = { controllerClass: 'portico.dev/ingress-controller', ingressClass: 'portico', watchWithoutClass: false, sslRedirect: true, inspect: inspectSecret, now: NOW };

const cases = readdirSync(dir).sort();
test('there are golden cases', () => assert.ok(cases.length >= 10, `only ${cases.length} cases`));

for (const name of cases) {
  test(name.replaceAll('-', ' '), () => {
    const parsed = parseManifests(readFileSync(join(dir, name, 'in.yaml'), 'utf8'));
    assert.deepEqual(parsed.errors, [], 'in.yaml must parse');
    const optsFile = join(dir, name, 'options.yaml');
    const opts = { ...defaults, ...(existsSync(optsFile) ? (parse(readFileSync(optsFile, 'utf8')) as Partial<TranslateOptions>) : {}) };
    const { table, diagnostics } = translate(snapshotOf(parsed.objects), opts);
    const actual = stringify({ table: printTable(table), diagnostics: printDiagnostics(diagnostics) }, { lineWidth: 0 });
    const outFile = join(dir, name, 'out.yaml');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(outFile, actual);
    assert.ok(existsSync(outFile), `${outFile} missing: run UPDATE_GOLDEN=1 npm test and review it`);
    assert.equal(actual, readFileSync(outFile, 'utf8'));
  });
}
