/** The pure parts of authentication: nginx variables in templates and auth-cache-duration. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseTemplate } from '../vars.js';
import { cacheDurations } from './auth.js';
describe('nginx variables', () => {
    test('text and variables, as nginx splits them', () => {
        assert.deepEqual(parseTemplate('http://$host/auth?rd=$escaped_request_uri&x=${http_x_team}y'), {
            parts: [{ text: 'http://' }, { var: 'host' }, { text: '/auth?rd=' }, { var: 'escaped_request_uri' }, { text: '&x=' }, { var: 'http', name: 'x-team' }, { text: 'y' }],
        });
        assert.deepEqual(parseTemplate('$scheme://$http_host$request_uri'), { parts: [{ var: 'scheme' }, { text: '://' }, { var: 'http', name: 'host' }, { var: 'request_uri' }] });
        assert.deepEqual(parseTemplate('$arg_Team-$cookie__oauth2_proxy$remote_user$request_method$remote_addr'), {
            parts: [{ var: 'arg', name: 'Team' }, { text: '-' }, { var: 'cookie', name: '_oauth2_proxy' }, { var: 'remote_user' }, { var: 'request_method' }, { var: 'remote_addr' }],
        });
        assert.deepEqual(parseTemplate('plain'), { parts: [{ text: 'plain' }] });
    });
    test('any other variable, a lone $ or an unclosed ${ is an error naming it', () => {
        for (const [v, err] of [
            ['http://$server_name/', /\$server_name is not a variable Portico reads/],
            ['http://a/$hostx', /\$hostx is not/],
            ['$', /must start a variable name/],
            ['a$-b', /must start a variable name/],
            ['${host', /unclosed/],
            ['${}', /must start a variable name/],
            ['$http_', /\$http_ is not/],
        ]) {
            const t = parseTemplate(v);
            assert.ok('error' in t, v);
            assert.match(t.error, err);
        }
    });
});
describe('auth-cache-duration', () => {
    test('codes then times (summed), several entries; no code means nginx\'s 200 301 302', () => {
        assert.deepEqual(cacheDurations('200 202 401 5m'), [{ statuses: [200, 202, 401], ms: 300_000 }]);
        assert.deepEqual(cacheDurations('200 1h 30m, any 10s'), [{ statuses: [200], ms: 5_400_000 }, { statuses: ['any'], ms: 10_000 }]);
        assert.deepEqual(cacheDurations('5m'), [{ statuses: [200, 301, 302], ms: 300_000 }]);
        assert.deepEqual(cacheDurations(' 401  250ms ,'), [{ statuses: [401], ms: 250 }]);
    });
    test('a code after a time, codes alone, unknown units and words are refused', () => {
        for (const v of ['5m 200', '200', '200 5q', 'soon', '', ',', '200 0s', '2000 5m', '200 -5m'])
            assert.equal(cacheDurations(v), undefined, v);
    });
});
//# sourceMappingURL=auth.test.js.map