/** Locations inside the installed package, wherever the compiled file runs from (src/ or dist/src/). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + fileURLToPath(import.meta.url));
    dir = up;
  }
  return dir;
}

/** The package root (the folder holding package.json). */
export const repoRoot = findRoot();

/**
 * V8 flags Portico runs with (the image's entrypoint, the `portico` bin's shebang, benchmarks and
 * tests). A 4 MB young-generation semi-space instead of V8's 16 MB: at 10,000 Ingresses the
 * resident set settles at about 150 MiB instead of 200, and neither rebuilds nor requests got
 * slower (`npm run bench:scale`, `npm run bench`; README "Performance").
 */
export const NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--expose-gc'];
