/**
 * Where a `--cpu-prof` profile's time went: the top functions by self time (share of samples) and
 * the shares of Portico's code, Node's internals, dependencies, GC and idle.
 * `node dist/bench/profile.js FILE.cpuprofile [--top 25]` (profiles from `PORTICO_CPU_PROF=dir npm run bench`).
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}
interface Node {
  readonly id: number;
  readonly callFrame: CallFrame;
}
interface Profile {
  readonly nodes: readonly Node[];
  readonly samples: readonly number[];
}

const [file, ...rest] = process.argv.slice(2);
if (file === undefined) {
  console.error('usage: node dist/bench/profile.js FILE.cpuprofile [--top N]');
  process.exit(2);
}
const top = Number(rest[rest.indexOf('--top') + 1] ?? 25) || 25;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));

/** Where a frame's code lives: Portico's own, Node's, a dependency's, or V8's pseudo-frames. */
function where(f: CallFrame): string {
  if (f.url === '') return f.functionName.startsWith('(') ? f.functionName : '(native)';
  if (f.url.startsWith('node:')) return 'node internals';
  if (f.url.includes('/node_modules/')) return 'dependencies';
  if (f.url.includes('/dist/src/')) return 'portico';
  return 'other';
}
const short = (url: string): string => url.replace(/^.*\/(dist|node_modules)\//, '$1/').replace(/^file:\/\//, '');

const fns = new Map<string, number>();
const groups = new Map<string, number>();
for (const id of profile.samples) {
  const f = byId.get(id);
  if (f === undefined) continue;
  const name = `${f.functionName || '(anonymous)'} ${f.url === '' ? '' : `${short(f.url)}:${f.lineNumber + 1}`}`.trimEnd();
  fns.set(name, (fns.get(name) ?? 0) + 1);
  const g = where(f);
  groups.set(g, (groups.get(g) ?? 0) + 1);
}
const total = profile.samples.length;
const pct = (n: number): string => `${((100 * n) / total).toFixed(1)}%`;
console.log(`${total} samples`);
console.log('| where | self time |\n|---|---|');
for (const [g, n] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`| ${g} | ${pct(n)} |`);
console.log(`\n| function (top ${top} by self time) | self time |\n|---|---|`);
for (const [name, n] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`| \`${name}\` | ${pct(n)} |`);
