/** Runs the real `portico` process (dist/src/cli.js) and reads its JSON log lines. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { NODE_FLAGS, repoRoot } from '../../src/paths.js';

export interface LogLine {
  readonly msg?: string;
  readonly [k: string]: unknown;
}

export interface Portico {
  readonly proc: ChildProcess;
  readonly httpPort: number;
  readonly httpsPort: number;
  readonly adminPort: number;
  readonly dir: string;
  readonly logs: LogLine[];
  readonly stderr: string[];
  /** Resolves with the first log line (already seen or future) that satisfies `pred`. */
  waitForLog(pred: (l: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Writes a manifest file into the watched directory. */
  write(file: string, yaml: string): void;
  stop(): Promise<number | null>;
}

export const CLI = join(repoRoot, 'dist/src/cli.js');

/**
 * PORTICO_HTTP1_SERVER=node|portico runs every test's Portico with that HTTP/1.1 server side
 * (`--http1-server`); e2e/node-front.test.ts runs the key suites again on the one not the default.
 */
const FRONT = process.env.PORTICO_HTTP1_SERVER === undefined || process.env.PORTICO_HTTP1_SERVER === '' ? [] : ['--http1-server', process.env.PORTICO_HTTP1_SERVER];

/** Starts portico on a fresh manifests directory holding `files`. */
export async function startPortico(files: Record<string, string> | null, args: string[] = [], opts: { grace?: string; waitReady?: boolean; env?: Record<string, string> } = {}): Promise<Portico> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-e2e-'));
  for (const [name, yaml] of Object.entries(files ?? {})) writeFileSync(join(dir, name), yaml);
  const source = files === null ? [] : ['--manifests', dir];
  // benchmarks, as bench/lib.ts: PORTICO_CPU_PROF=dir profiles the process, PORTICO_NODE_FLAGS replaces NODE_FLAGS
  const prof = process.env.PORTICO_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PORTICO_CPU_PROF}`] : [];
  const flags = process.env.PORTICO_NODE_FLAGS?.split(' ').filter(Boolean) ?? NODE_FLAGS;
  const proc = spawn(process.execPath, [...flags, ...prof, CLI, ...source, '--bind-address', '127.0.0.1', '--http-port', '0', '--https-port', '0', '--admin-port', '0', '--shutdown-grace-period', opts.grace ?? '0s', ...FRONT, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...opts.env } });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters: { pred: (l: LogLine) => boolean; resolve: (l: LogLine) => void }[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    let l: LogLine;
    try {
      l = JSON.parse(line) as LogLine;
    } catch {
      l = { msg: line };
    }
    logs.push(l);
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.pred(l)) {
        waiters.splice(i, 1);
        w.resolve(l);
      }
    }
  });
  createInterface({ input: proc.stderr! }).on('line', (line) => stderr.push(line));

  const waitForLog = (pred: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> => {
    const found = logs.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching log line within ${timeoutMs} ms; stderr: ${stderr.join(' | ')}; last logs: ${JSON.stringify(logs.slice(-5))}`)), timeoutMs);
      waiters.push({ pred, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      proc.once('exit', (code) => reject(new Error(`portico exited (${code}) before the log line; stderr: ${stderr.join(' | ')}`)));
    });
  };

  let http: LogLine, https: LogLine, admin: LogLine;
  try {
    // start-up is bounded generously: on a loaded machine several processes start at once
    http = await waitForLog((l) => l.msg === 'listening' && l.listener === 'http', 30_000);
    https = await waitForLog((l) => l.msg === 'listening' && l.listener === 'https', 30_000);
    admin = await waitForLog((l) => l.msg === 'listening' && l.listener === 'admin', 30_000);
    if (opts.waitReady !== false) await waitForLog((l) => l.msg === 'ready', 30_000);
  } catch (err) {
    // a process that did not come up must not outlive the test (it would keep the test file running)
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    proc,
    httpPort: http.port as number,
    httpsPort: https.port as number,
    adminPort: admin.port as number,
    dir,
    logs,
    stderr,
    waitForLog,
    write: (file, yaml) => writeFileSync(join(dir, file), yaml),
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = (await once(proc, 'exit')) as [number | null];
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
  };
}
