import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FLAGS } from '../config.js';
import { HELP_WIDTH, helpText, wrap } from './help.js';
/** --help's entries: each flag line with its continuation lines joined by a space, by flag name. */
function entries(text) {
    const out = new Map();
    let current = '';
    for (const line of text.split('\n')) {
        const m = /^ {2}--([a-z0-9-]+)/.exec(line);
        if (m)
            out.set((current = m[1]), line.trim());
        else if (current !== '' && line.startsWith(' '.repeat(10)))
            out.set(current, `${out.get(current)} ${line.trim()}`);
        else
            current = '';
    }
    return out;
}
test('--help: every flag with one real default, never "see README", no line wider than the terminal', () => {
    const text = helpText();
    assert.doesNotMatch(text, /README/);
    for (const line of text.split('\n'))
        assert.ok(line.length <= HELP_WIDTH, `too wide: ${line}`);
    const all = entries(text);
    for (const [name, def] of Object.entries(FLAGS)) {
        const entry = all.get(name);
        assert.ok(entry !== undefined, `--help lacks --${name}`);
        assert.ok((entry.match(/\(default/g) ?? []).length <= 1, `two defaults for --${name}: ${entry}`);
        // a long default may be broken across lines, after a ':' or ','
        const unspaced = (s) => s.replace(/\s/g, '');
        if (def.default !== '')
            assert.ok(unspaced(entry).endsWith(unspaced(`(default: ${def.default})`)), `--${name} does not show its default ${def.default}: ${entry}`);
    }
    assert.doesNotMatch(all.get('external-name-denied-cidrs'), /\(default: loopback/, 'the real list, not a description');
    assert.match(all.get('watch-namespace'), /\(default: all\)$/);
    assert.match(all.get('admin-bind-address'), /^--admin-bind-address IP .*\(default: the --bind-address value\)$/);
    assert.match(all.get('debug-endpoints'), /^--debug-endpoints local\|all\|off .*\(default: local\)$/);
    assert.match(all.get('log-level'), /^--log-level trace\|debug\|info\|warn\|error\|fatal /);
});
test('long values wrap after their separators, and nothing is lost', () => {
    const ciphers = FLAGS['ssl-ciphers'].default;
    const lines = wrap(`list (default: ${ciphers})`, 40);
    assert.ok(lines.every((l) => l.length <= 40), lines.join('\n'));
    assert.equal(lines.join(''), `list (default:${ciphers})`, 'a line break stands for the space, or for nothing inside the list');
    assert.ok(lines.slice(1).every((l) => /^ECDHE-/.test(l)), 'each piece starts a cipher name');
    assert.deepEqual(wrap('a 1.1.1.0/24,::1/128,fe80::/10 b', 16), ['a 1.1.1.0/24,', '::1/128,', 'fe80::/10 b']);
    assert.deepEqual(wrap('one two three', 7), ['one two', 'three']);
});
test('portico routes --help and portico backends --help say what they print and how to reach the admin port', () => {
    for (const topic of ['routes', 'backends']) {
        const text = helpText(topic);
        assert.match(text, new RegExp(`^Usage: portico ${topic} \\[--admin-url URL\\]$`, 'm'));
        assert.match(entries(text).get('admin-url'), /^--admin-url URL .*\(default: http:\/\/127\.0\.0\.1:10254\)$/);
        assert.match(text, /kubectl port-forward/);
    }
});
//# sourceMappingURL=help.test.js.map