/**
 * Renders charts/portico like `helm template`: values merged over the chart's defaults and checked
 * against values.schema.json (as Helm does before rendering), then the Go renderer
 * (tools/chart-render, built from Debian's Go packages).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../../src/paths.js';
import { CLI } from './portico.js';
export const CHART = join(repoRoot, 'charts/portico');
let renderer = '';
/** Builds the renderer once per process (a no-op when the cached binary is current). */
export function buildRenderer() {
    if (renderer)
        return renderer;
    const r = spawnSync('bash', [join(repoRoot, 'tools/chart-render/build.sh')], { encoding: 'utf8' });
    if (r.status !== 0)
        throw new Error(`building chart-render failed: ${r.stderr}`);
    renderer = r.stdout.trim();
    return renderer;
}
function merge(a, b) {
    if (b === null || typeof b !== 'object' || Array.isArray(b) || a === null || typeof a !== 'object' || Array.isArray(a))
        return b;
    const out = { ...a };
    for (const [k, v] of Object.entries(b))
        out[k] = k in a ? merge(a[k], v) : v;
    return out;
}
const ajv = new Ajv({ allErrors: true, strict: false });
const validate = ajv.compile(JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')));
/** Schema errors for values merged over the defaults, as readable lines (empty = valid). */
export function schemaErrors(values) {
    const merged = merge(parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')), values);
    if (validate(merged))
        return [];
    return (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}${e.params && 'allowedValues' in e.params ? ` (${e.params.allowedValues.join(', ')})` : ''}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params.additionalProperty)}` : ''}`);
}
/** Renders the chart with `values`; throws on schema errors or template errors. */
export function render(values = {}, opts = {}) {
    const errs = schemaErrors(values);
    if (errs.length > 0)
        throw new Error(`values do not match values.schema.json:\n${errs.join('\n')}`);
    const dir = mkdtempSync(join(tmpdir(), 'chart-'));
    try {
        const f = join(dir, 'values.yaml');
        writeFileSync(f, stringify(values));
        const r = spawnSync(buildRenderer(), ['-f', f, '--namespace', opts.namespace ?? 'ingress-system', '--name', opts.name ?? 'portico', ...(opts.apiVersions ?? []).flatMap((v) => ['--api-versions', v]), ...(opts.notes ? ['--notes'] : []), CHART], { encoding: 'utf8' });
        if (r.status !== 0)
            throw new Error(`render failed: ${r.stderr}`);
        const docs = opts.notes ? [] : parseAllDocuments(r.stdout).map((d) => d.toJS()).filter((d) => d !== null);
        return Object.assign(docs, { text: r.stdout });
    }
    finally {
        rmSync(dir, { recursive: true, force: true });
    }
}
export const find = (docs, kind, name) => docs.find((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
/** The controller container of the Deployment or DaemonSet. */
export function container(docs) {
    const w = docs.find((d) => d.kind === 'Deployment' || d.kind === 'DaemonSet');
    return w?.spec.template.spec.containers[0];
}
/**
 * Flags the chart renders ahead of Portico's CLI (issue #19: --admin-bind-address and
 * --debug-endpoints). Until `portico --help` lists one, runnableArgs() leaves it out, so the rest
 * of the chart's args still run for real; once the CLI has it, it is run too.
 */
export const AHEAD_OF_CLI = ['--admin-bind-address', '--debug-endpoints'];
let help;
/** The container args as Portico would get them: $(VAR) expanded as the kubelet does, flags ahead of the CLI left out. */
export function runnableArgs(args, env = { POD_IP: '192.0.2.10' }) {
    help ??= spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' }).stdout;
    return args
        .filter((a) => {
        const flag = a.split('=')[0];
        return !AHEAD_OF_CLI.includes(flag) || new RegExp(`^\\s*${flag}[\\s=]`, 'm').test(help);
    })
        .map((a) => a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, v) => env[v] ?? m));
}
//# sourceMappingURL=chart.js.map