/**
 * The CORS annotation parser beyond the golden cases: Go's boolean and integer forms, YAML
 * scalars in standalone manifests, the prefixes, and ingress-nginx's nested-quantifier validators
 * running in linear time on hostile input.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CORS_DEFAULTS, goBool, parseCors } from './cors.js';
const N = 'nginx.ingress.kubernetes.io/';
function parse(annotations) {
    const problems = [];
    const read = (name) => {
        for (const p of [N, 'portico.dev/'])
            if (Object.hasOwn(annotations, p + name))
                return { key: p + name, value: annotations[p + name] };
        return undefined;
    };
    const policy = parseCors(read, (reason, message) => problems.push(`${reason}: ${message}`));
    return { policy, problems };
}
test("booleans are read as Go's strconv.ParseBool reads them", () => {
    for (const t of ['1', 't', 'T', 'TRUE', 'true', 'True', true])
        assert.equal(goBool(t), true, String(t));
    for (const f of ['0', 'f', 'F', 'FALSE', 'false', 'False', false])
        assert.equal(goBool(f), false, String(f));
    for (const bad of ['yes', 'on', ' true', 'tRUE', '', 1, null, undefined, {}])
        assert.equal(goBool(bad), undefined, String(bad));
});
test('enable-cors alone: the defaults', () => {
    assert.deepEqual(parse({ [`${N}enable-cors`]: 'true' }), { policy: { kind: 'cors', origins: '*', methods: CORS_DEFAULTS.methods, headers: CORS_DEFAULTS.headers, exposeHeaders: '', credentials: true, maxAge: 1728000 }, problems: [] });
});
test('YAML scalars from standalone manifests: a boolean and a number are taken', () => {
    const { policy, problems } = parse({ [`${N}enable-cors`]: true, [`${N}cors-max-age`]: 600, [`${N}cors-allow-credentials`]: false });
    assert.deepEqual(problems, []);
    assert.equal(policy?.maxAge, 600);
    assert.equal(policy?.credentials, false);
});
test("max-age: Go's Atoi (a sign, digits); beyond what a double holds exactly is a bad value", () => {
    assert.equal(parse({ [`${N}enable-cors`]: 'true', [`${N}cors-max-age`]: '+0200' }).policy?.maxAge, 200);
    assert.equal(parse({ [`${N}enable-cors`]: 'true', [`${N}cors-max-age`]: '-1' }).policy?.maxAge, -1);
    for (const bad of ['1.5', '1e3', ' 60', '9007199254740993', 1.5]) {
        const r = parse({ [`${N}enable-cors`]: 'true', [`${N}cors-max-age`]: bad });
        assert.equal(r.policy?.maxAge, 1728000, String(bad));
        assert.equal(r.problems.length, 1);
    }
});
test('an origin list that is not a string sends no CORS headers', () => {
    const r = parse({ [`${N}enable-cors`]: 'true', [`${N}cors-allow-origin`]: ['https://a.example'] });
    assert.equal(r.policy, undefined);
    assert.match(r.problems.join('\n'), /no CORS headers are sent \(ingress-nginx would allow every origin\)/);
});
test('nginx.ingress.kubernetes.io/ wins over portico.dev/ for the same annotation', () => {
    const r = parse({ [`${N}enable-cors`]: 'true', [`${N}cors-allow-origin`]: 'https://a.example', 'portico.dev/cors-allow-origin': 'https://b.example' });
    assert.deepEqual(r.policy?.origins, ['https://a.example']);
});
test("ingress-nginx's validators nest quantifiers; on RE2 a hostile value costs linear time", () => {
    const long = `${'a,'.repeat(20_000)}!`;
    const t0 = performance.now();
    for (const name of ['cors-allow-methods', 'cors-expose-headers', 'cors-allow-origin']) {
        const r = parse({ [`${N}enable-cors`]: 'true', [`${N}${name}`]: long });
        assert.equal(r.problems.length, 1, name);
    }
    assert.ok(performance.now() - t0 < 2000, `took ${performance.now() - t0} ms`);
});
//# sourceMappingURL=cors.test.js.map