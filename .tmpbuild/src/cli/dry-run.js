/**
 * `portico --dry-run --manifests PATH`: reads the manifests once, translates them as the running
 * control plane would, and returns every problem (files that do not parse, the translation's
 * diagnostics), so a CI job can gate on the exit code. No listener, no watch, no DNS.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { ConfigError } from '../config.js';
import { snapshotOf } from '../control/store.js';
import { fileDiagnostics, parseManifests } from '../manifests/parse.js';
import { withDefaultNamespace } from '../model/k8s.js';
import { printDiagnostics } from '../model/print.js';
import { translate } from '../model/translate.js';
import { translateOptionsFor } from '../control/controlplane.js';
import { createInspector } from '../tls/inspect.js';
/** The manifest files under `root` as the manifests source reads them: .yaml, .yml, .json; hidden entries skipped; symlinks followed. */
async function manifestFiles(root) {
    if (!(await stat(root)).isDirectory())
        return [root];
    const found = [];
    const visit = async (dir) => {
        const names = (await readdir(dir)).filter((n) => !n.startsWith('.'));
        for (const name of names) {
            const path = join(dir, name);
            const kind = await stat(path).catch(() => null);
            if (kind?.isDirectory())
                await visit(path);
            else if (kind?.isFile() && ['.yaml', '.yml', '.json'].includes(extname(name)))
                found.push(path);
        }
    };
    await visit(root);
    return found.sort();
}
/** Reads and translates `config.manifests`. Throws ConfigError when the path cannot be read at all. */
export async function dryRun(config, now = Date.now()) {
    const path = config.manifests;
    const files = await manifestFiles(path).catch((err) => {
        throw new ConfigError(`--manifests ${path}: ${err.code === 'ENOENT' ? 'no such file or directory' : err.message}`);
    });
    const objects = [];
    const unreadable = [];
    for (const file of files) {
        const text = await readFile(file, 'utf8').catch((err) => err);
        // as the manifests source reads them: what can be read is served, the rest is a problem
        const parsed = typeof text === 'string' ? parseManifests(text) : { objects: [], problems: [{ reason: 'InvalidManifest', message: `cannot be read: ${text.message}` }] };
        unreadable.push(...fileDiagnostics(file, parsed.problems));
        objects.push(...parsed.objects.map(withDefaultNamespace));
    }
    // the control plane's options; ExternalName names are left unresolved (no DNS here)
    const t = translate(snapshotOf(objects), { ...translateOptionsFor(config, createInspector(), config.allowExternalNameServices ? { allow: true, lookup: () => undefined } : null), now });
    const problems = printDiagnostics([...unreadable, ...t.diagnostics]);
    return { files: files.length, objects: objects.length, routes: t.table.routes.length, problems };
}
const count = (n, what) => `${n} ${what}${n === 1 ? '' : 's'}`;
/** What `--dry-run` writes on stderr: a summary line, then the problems, one a line. */
export function dryRunReport(config, r) {
    const problems = r.problems.length === 0 ? 'no problems' : `${count(r.problems.length, 'problem')}:`;
    return [`portico: --manifests ${config.manifests}: ${count(r.files, 'file')}, ${count(r.objects, 'object')}, ${count(r.routes, 'route')}, ${problems}`, ...r.problems.map((p) => `  ${p}`)].join('\n') + '\n';
}
//# sourceMappingURL=dry-run.js.map