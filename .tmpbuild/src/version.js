/** The package version, read once from package.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from './paths.js';
let cached;
export function version() {
    return (cached ??= JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
}
//# sourceMappingURL=version.js.map