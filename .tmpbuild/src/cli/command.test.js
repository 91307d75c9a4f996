import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../config.js';
import { parseCommandLine } from './command.js';
const fails = (args, pattern) => assert.throws(() => parseCommandLine(args, {}), (err) => err instanceof ConfigError && pattern.test(err.message));
test('every command has --help', () => {
    assert.deepEqual(parseCommandLine(['routes', '--help']), { kind: 'help', topic: 'routes' });
    assert.deepEqual(parseCommandLine(['backends', '-h']), { kind: 'help', topic: 'backends' });
    assert.deepEqual(parseCommandLine(['--manifests', 'x', '--help']), { kind: 'help', topic: 'portico' });
});
test('portico routes|backends: --admin-url is checked as a URL; other arguments point at --help', () => {
    assert.deepEqual(parseCommandLine(['routes']), { kind: 'routes', adminUrl: 'http://127.0.0.1:10254' });
    assert.deepEqual(parseCommandLine(['backends', '--admin-url=http://[::1]:9000/']), { kind: 'backends', adminUrl: 'http://[::1]:9000' });
    assert.deepEqual(parseCommandLine(['routes', '--admin-url', 'https://portico.internal']), { kind: 'routes', adminUrl: 'https://portico.internal' });
    for (const bad of ['127.0.0.1:10254', 'http://127.0.0.1:99999', 'http://h/debug', 'ftp://h:1'])
        fails(['routes', '--admin-url', bad], /for --admin-url: expected http:\/\/host:port/);
    fails(['routes', '--verbose'], /^unexpected argument "--verbose" for portico routes \(see portico routes --help\)$/);
});
test('anything else is portico [flags]', () => {
    const c = parseCommandLine(['--manifests', 'x', '--dry-run'], {});
    assert.equal(c.kind, 'check');
    assert.equal(c.kind === 'check' && c.config.manifests, 'x');
});
//# sourceMappingURL=command.test.js.map