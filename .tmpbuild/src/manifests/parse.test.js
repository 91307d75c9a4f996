import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { KINDS } from '../model/k8s.js';
import { repoRoot } from '../paths.js';
import { ALIAS_EXPANSION_LIMIT, aliasExpansion, fileDiagnostics, parseManifests } from './parse.js';
function yamlFiles(dir) {
    return readdirSync(dir).flatMap((f) => {
        const p = join(dir, f);
        if (statSync(p).isDirectory())
            return yamlFiles(p);
        return /\.(ya?ml|json)$/.test(f) ? [p] : [];
    });
}
/** What `yaml` (a YAML 1.2 reference parser, a devDependency only) reads: documents, Lists expanded. */
function reference(text) {
    return parseAllDocuments(text).flatMap((d) => {
        const v = d.toJS();
        if (v === null)
            return [];
        return typeof v.kind === 'string' && v.kind.endsWith('List') && Array.isArray(v.items) ? v.items : [v];
    });
}
test('every bundled manifest reads as the YAML 1.2 reference parser reads it', () => {
    // manifests only: a golden case's out.yaml and options.yaml are not Kubernetes objects
    const files = [...yamlFiles(join(repoRoot, 'src/model/testdata')), ...yamlFiles(join(repoRoot, 'examples'))].filter((f) => !/(out|options)\.yaml$/.test(f));
    assert.ok(files.length > 20, `found ${files.length} files`);
    for (const f of files) {
        const text = readFileSync(f, 'utf8');
        const r = parseManifests(text);
        assert.deepEqual(r.problems, [], f);
        assert.deepEqual(r.objects, reference(text), f);
    }
});
test('scalars mean what YAML 1.2 core says (no timestamps, no yes/no booleans, no 0b integers)', () => {
    const scalars = ['2024-01-01', '2001-12-14t21:59:43.10-05:00', 'yes', 'no', 'on', 'off', 'y', 'n', 'true', 'False', 'TRUE', 'null', '~', 'Null', '', '0777', '0o17', '0x1F', '1_000', '1e3', '.inf', '-.Inf', '.nan', '+12', '012345678901234567890', '1.0', '"quoted"', "'single'", '3:25:45', '0b101', '-0b1', '=', '<<'];
    for (const s of scalars) {
        const text = `apiVersion: v1\nkind: ConfigMap\nv: ${s}\n`;
        const [obj] = parseManifests(text).objects;
        assert.deepEqual(obj?.v, parse(text).v, `scalar ${s}`);
    }
    const [obj] = parseManifests('apiVersion: v1\nkind: ConfigMap\nwhen: 2024-01-01\nbits: 0b101\n').objects;
    assert.deepEqual([obj?.when, obj?.bits], ['2024-01-01', '0b101']);
});
test("a syntax error gives its line and column, the parser's whole message and the offending line", () => {
    const problem = (text) => {
        const r = parseManifests(text);
        assert.equal(r.problems.length, 1, JSON.stringify(r.problems));
        return r.problems[0];
    };
    assert.deepEqual(problem('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n   bad: indent\n'), {
        reason: 'InvalidManifest',
        line: 5,
        column: 7,
        message: 'line 5, column 7: bad indentation of a mapping entry: "   bad: indent"',
    });
    // the text that the e2e test used to see cut after "...at line 4, column 9:"
    assert.deepEqual(problem('apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: site\n  broken: ['), {
        reason: 'InvalidManifest',
        line: 4,
        column: 9,
        message: 'line 4, column 9: missed comma between flow collection entries: "  broken: ["',
    });
    assert.deepEqual(problem('apiVersion: v1\nkind: Service\nmetadata: {name: x\n\n'), {
        reason: 'InvalidManifest',
        line: 5,
        column: 1,
        message: 'line 5, column 1: unexpected end of the stream within a flow collection (at the end of the file; its last line, 3: "metadata: {name: x")',
    });
    assert.deepEqual(problem('apiVersion: v1\r\nkind: ConfigMap\r\ndata: {a: 1}\r\ndata: {b: 2}\r\n'), {
        reason: 'InvalidManifest',
        line: 4,
        column: 1,
        message: 'line 4, column 1: duplicated mapping key: "data: {b: 2}"',
    });
});
test('a broken document costs only itself: the documents around it are read, its line counted in the whole file', () => {
    const cm = (name) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;
    const text = `# leading comment\n${cm('a')}---\n${cm('b')}  oops: [\n---\n${cm('c')}...\n---\n${cm('d')}`;
    const r = parseManifests(text);
    assert.deepEqual(r.objects.map((o) => o.metadata?.name), ['a', 'c', 'd']);
    assert.deepEqual(r.problems, [{ reason: 'InvalidManifest', line: 9, column: 3, message: 'line 9, column 3: bad indentation of a mapping entry: "  oops: ["' }]);
    // directives go with the document they precede; an explicit empty document is still a document
    const directives = `%YAML 1.2\n---\n${cm('a')}---\n---\n%YAML 1.2\n---\nkind: [\n`;
    const d = parseManifests(directives);
    assert.deepEqual(d.objects.map((o) => o.metadata?.name), ['a']);
    assert.equal(d.problems.length, 1);
    assert.equal(d.problems[0].message, 'line 11, column 1: unexpected end of the stream within a flow collection (at the end of the file; its last line, 10: "kind: [")');
});
test('an object Portico cannot read names its document and line; the others in the file are read', () => {
    const text = 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n---\n\n{"kind": "List", "items": [{"kind": "ConfigMap"}, {"no": "kind"}]}\n---\njust: data\n';
    const r = parseManifests(text);
    assert.deepEqual(r.objects.map((o) => o.kind), ['Service', 'ConfigMap']);
    assert.deepEqual(r.problems, [
        { reason: 'InvalidManifest', line: 6, message: 'document 2 (line 6), item 2: not a Kubernetes object (no "kind")' },
        { reason: 'InvalidManifest', line: 8, message: 'document 3 (line 8): not a Kubernetes object (no "kind")' },
    ]);
    assert.deepEqual(parseManifests('---\napiVersion: v1\nkind: Service\n---\n').objects, [{ apiVersion: 'v1', kind: 'Service' }]);
    assert.deepEqual(parseManifests('').objects, []);
});
test('a kind Kubernetes does not have is a problem that suggests the kind meant; other controllers\' kinds are read', () => {
    const kindProblem = (apiVersion, kind) => {
        const r = parseManifests(`${apiVersion === '' ? '' : `apiVersion: ${apiVersion}\n`}kind: ${kind}\nmetadata: {name: web}\n`);
        assert.deepEqual(r.objects, []);
        assert.equal(r.problems[0]?.reason, 'UnknownKind');
        return r.problems[0].message;
    };
    assert.equal(kindProblem('networking.k8s.io/v1', 'Ingres'), 'document 1 (line 1): Ingres web: kind "Ingres" (apiVersion networking.k8s.io/v1) is not a Kubernetes kind, so nothing reads it; did you mean "Ingress"?');
    assert.match(kindProblem('', 'ingress'), /kind "ingress" is not a Kubernetes kind, so nothing reads it; did you mean "Ingress"\?$/);
    assert.match(kindProblem('v1', 'Servce'), /did you mean "Service"\?$/);
    assert.match(kindProblem('discovery.k8s.io/v1', 'EndpointSlices'), /did you mean "EndpointSlice"\?$/);
    assert.match(kindProblem('v1', 'Secrte'), /did you mean "Secret"\?$/);
    assert.ok(kindProblem('v1', 'Frobnicator').endsWith(`Portico reads ${KINDS.slice(0, -1).join(', ')} and ${KINDS.at(-1)}`));
    // the Gateway API's kinds change between releases: only a near miss of one Portico reads is reported
    assert.match(kindProblem('gateway.networking.k8s.io/v1', 'HTTPRoutes'), /HTTPRoutes web: kind "HTTPRoutes" \(apiVersion gateway\.networking\.k8s\.io\/v1\) is not a Gateway API kind Portico reads; did you mean "HTTPRoute"\?$/);
    assert.match(kindProblem('gateway.networking.k8s.io/v1', 'GRPCroute'), /did you mean "GRPCRoute"\?$/);
    // kinds Kubernetes has, and custom resources, belong to other controllers: read, not reported
    for (const [apiVersion, kind] of [['apps/v1', 'Deployment'], ['v1', 'ConfigMap'], ['cert-manager.io/v1', 'Certificate'], ['gateway.networking.k8s.io/v1alpha2', 'TLSRoute'], ['gateway.networking.k8s.io/v1alpha2', 'TCPRoute'], ['example.com/v1', 'Ingres']]) {
        const r = parseManifests(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x}\n`);
        assert.deepEqual(r.problems, [], `${apiVersion} ${kind}`);
        assert.equal(r.objects.length, 1);
    }
});
test('a removed API version is a problem that says which release removed it and what to convert it to', () => {
    const versionProblem = (apiVersion, kind) => {
        const r = parseManifests(`apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: old, namespace: shop}\nspec:\n  rules:\n  - http:\n      paths:\n      - path: /\n        backend: {serviceName: web, servicePort: 80}\n`);
        assert.deepEqual(r.objects, [], 'the object is not served (the translator would only see a missing pathType)');
        assert.equal(r.problems[0]?.reason, 'UnsupportedAPIVersion');
        return r.problems[0].message;
    };
    for (const v of ['extensions/v1beta1', 'networking.k8s.io/v1beta1']) {
        const m = versionProblem(v, 'Ingress');
        assert.ok(m.startsWith(`document 1 (line 1): Ingress shop/old: apiVersion ${v} was removed in Kubernetes 1.22; convert it to networking.k8s.io/v1 (`), m);
        assert.match(m, /backend\.service\.name/);
        assert.match(m, /every path needs a pathType/);
    }
    assert.match(versionProblem('networking.k8s.io/v1beta1', 'IngressClass'), /IngressClass shop\/old: apiVersion networking\.k8s\.io\/v1beta1 was removed in Kubernetes 1\.22; convert it to networking\.k8s\.io\/v1$/);
    assert.match(versionProblem('discovery.k8s.io/v1beta1', 'EndpointSlice'), /removed in Kubernetes 1\.25; convert it to discovery\.k8s\.io\/v1/);
    assert.match(versionProblem('v1', 'Ingress'), /Ingress shop\/old: apiVersion "v1" is not one Portico reads Ingress in; write apiVersion: networking\.k8s\.io\/v1$/);
    assert.match(versionProblem('gateway.networking.k8s.io/v1alpha2', 'HTTPRoute'), /HTTPRoute shop\/old: apiVersion "gateway\.networking\.k8s\.io\/v1alpha2" is not one Portico reads HTTPRoute in; write apiVersion: gateway\.networking\.k8s\.io\/v1$/);
    // the versions Portico reads, and none at all (read as the current one)
    const read = [['networking.k8s.io/v1', 'Ingress'], ['networking.k8s.io/v1', 'IngressClass'], ['v1', 'Service'], ['discovery.k8s.io/v1', 'EndpointSlice'], ['v1', 'Secret'], ['v1', 'Namespace'], ['', 'Ingress']];
    for (const kind of ['GatewayClass', 'Gateway', 'HTTPRoute', 'GRPCRoute'])
        read.push(['gateway.networking.k8s.io/v1', kind]);
    for (const kind of ['GatewayClass', 'Gateway', 'HTTPRoute', 'ReferenceGrant'])
        read.push(['gateway.networking.k8s.io/v1beta1', kind]);
    for (const [apiVersion, kind] of read) {
        const r = parseManifests(`${apiVersion === '' ? '' : `apiVersion: ${apiVersion}\n`}kind: ${kind}\n`);
        assert.deepEqual(r.problems, [], `${apiVersion} ${kind}`);
    }
});
test('aliases are read, and a document whose aliases would expand past the limit is refused, quickly', () => {
    const anchored = 'apiVersion: v1\nkind: ConfigMap\na: &v {x: 1}\nb: *v\n';
    assert.deepEqual(parseManifests(anchored).objects, [{ apiVersion: 'v1', kind: 'ConfigMap', a: { x: 1 }, b: { x: 1 } }]);
    // 10 levels of 10 aliases: 10^10 nodes expanded
    let bomb = 'apiVersion: v1\nkind: ConfigMap\nl0: &l0 [a, a, a, a, a, a, a, a, a, a]\n';
    for (let i = 1; i < 10; i++)
        bomb += `l${i}: &l${i} [${Array(10).fill(`*l${i - 1}`).join(', ')}]\n`;
    const t0 = performance.now();
    const r = parseManifests(`apiVersion: v1\nkind: Service\nmetadata: {name: before}\n---\n${bomb}---\napiVersion: v1\nkind: Service\nmetadata: {name: after}\n`);
    assert.ok(performance.now() - t0 < 1000, `took ${performance.now() - t0} ms`);
    assert.deepEqual(r.objects.map((o) => o.metadata?.name), ['before', 'after']);
    assert.deepEqual(r.problems, [{ reason: 'InvalidManifest', line: 5, message: `document 2 (line 5): its aliases expand to more than ${ALIAS_EXPANSION_LIMIT} nodes (a "billion laughs" document?); write the repeated parts out, or alias less` }]);
});
test('aliasExpansion counts the nodes aliases add, each shared node once per use', () => {
    const shared = [1, 2];
    assert.equal(aliasExpansion({ a: shared, b: shared }), 3);
    assert.equal(aliasExpansion({ a: [1, 2], b: [1, 2] }), 0);
    assert.equal(aliasExpansion('scalar'), 0);
    let level = ['x', 'x'];
    for (let i = 0; i < 40; i++)
        level = [level, level];
    assert.ok(aliasExpansion(level) > 2 ** 40, 'a deep bomb is counted without being walked');
});
test('__proto__ keys stay data', () => {
    const r = parseManifests('apiVersion: v1\nkind: ConfigMap\n__proto__: {polluted: true}\n');
    assert.equal({}.polluted, undefined);
    assert.equal(r.objects[0].polluted, undefined);
});
test('problems become diagnostics of their file', () => {
    const r = parseManifests('apiVersion: networking.k8s.io/v1\nkind: Ingres\n');
    assert.deepEqual(fileDiagnostics('manifests/site.yaml', r.problems), [{ source: { kind: 'File', namespace: '', name: 'manifests/site.yaml' }, reason: 'UnknownKind', message: r.problems[0].message }]);
});
//# sourceMappingURL=parse.test.js.map