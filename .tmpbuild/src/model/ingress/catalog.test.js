/**
 * The annotation catalog is the docs page: docs/annotations.md holds the catalog rendered between
 * two markers, and this test fails when they disagree (`UPDATE_GOLDEN=1 npm test` rewrites it).
 * It also holds the catalog to the issue's rules: every ingress-nginx key present, every family
 * that restricts access or moves traffic refused until implemented.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../paths.js';
import { ANNOTATIONS, lookup } from './catalog.js';
const DOC = join(repoRoot, 'docs/annotations.md');
const START = '<!-- catalog:start (generated from src/model/ingress/catalog.ts; UPDATE_GOLDEN=1 npm test) -->';
const END = '<!-- catalog:end -->';
const STATUS = { implemented: 'implemented', ignored: 'ignored (info)', unsupported: 'not supported' };
function render() {
    const byFamily = new Map();
    for (const [key, e] of Object.entries(ANNOTATIONS)) {
        const list = byFamily.get(e.family) ?? [];
        list.push([key, e]);
        byFamily.set(e.family, list);
    }
    const lines = [START, '', `${Object.keys(ANNOTATIONS).length} annotations. **refused**: an Ingress carrying it is not served (its routes answer 503) unless \`--unsupported-annotations=warn\`; values in *inert* ask for nothing and are accepted.`, ''];
    for (const [family, entries] of byFamily) {
        lines.push(`### ${family[0]?.toUpperCase()}${family.slice(1)}`, '', '| Annotation | Portico | Notes |', '|---|---|---|');
        for (const [key, e] of entries.sort(([a], [b]) => (a < b ? -1 : 1))) {
            const status = `${STATUS[e.status]}${e.refuse === true ? ', **refused**' : ''}`;
            const notes = [e.aliasOf !== undefined ? `alias of \`${e.aliasOf}\`` : '', e.note ?? '', e.inert !== undefined ? `inert: ${e.inert.map((v) => `\`${v}\``).join(', ')}` : ''].filter(Boolean).join('; ');
            lines.push(`| \`${key}\` | ${status} | ${notes} |`);
        }
        lines.push('');
    }
    lines.push(END);
    return lines.join('\n');
}
test('docs/annotations.md lists every annotation of the catalog with its status', () => {
    const doc = readFileSync(DOC, 'utf8');
    const a = doc.indexOf(START);
    const b = doc.indexOf(END);
    const want = render();
    if (process.env.UPDATE_GOLDEN === '1') {
        const next = a >= 0 && b > a ? doc.slice(0, a) + want + doc.slice(b + END.length) : `${doc.trimEnd()}\n\n## Every ingress-nginx annotation\n\n${want}\n`;
        writeFileSync(DOC, next);
        return;
    }
    assert.ok(a >= 0 && b > a, 'the catalog markers are in docs/annotations.md (UPDATE_GOLDEN=1 npm test writes them)');
    assert.equal(doc.slice(a, b + END.length), want);
});
test('the catalog has every key ingress-nginx parses (136 and 2 aliases)', () => {
    assert.equal(Object.keys(ANNOTATIONS).length, 138);
    for (const k of ['auth-url', 'whitelist-source-range', 'limit-whitelist', 'canary-by-header-pattern', 'configuration-snippet', 'proxy-busy-buffers-size', 'opentelemetry-operation-name'])
        assert.ok(Object.hasOwn(ANNOTATIONS, k), k);
});
test('what restricts access or moves traffic is refused, never served open, until implemented', () => {
    const sensitive = /^(auth-|.*source-range|limit-|satisfy|canary|.*modsecurity|.*owasp|ssl-passthrough|mirror-|.*snippet)/;
    for (const [key, e] of Object.entries(ANNOTATIONS)) {
        if (!sensitive.test(key) || e.status !== 'unsupported')
            continue;
        assert.equal(e.refuse, true, `${key} is unsupported and in a sensitive family: it must refuse`);
    }
    for (const [key, e] of Object.entries(ANNOTATIONS))
        if (e.status === 'ignored')
            assert.ok((e.note ?? '').length > 10, `${key} says why it is ignored`);
});
test('unknown keys: a warning, refused in a sensitive family; odd keys are not looked up on the prototype', () => {
    assert.equal(lookup('whitelist-source-ranges').refuse, true);
    assert.equal(lookup('auth-urll').refuse, true);
    assert.equal(lookup('proxy-read-timout').refuse, undefined);
    assert.equal(lookup('proxy-read-timout').status, 'unsupported');
    for (const odd of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
        assert.equal(lookup(odd).status, 'unsupported', odd);
});
//# sourceMappingURL=catalog.test.js.map