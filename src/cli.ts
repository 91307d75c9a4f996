#!/usr/bin/env -S node --max-semi-space-size=4 --expose-gc
/** The `portico` command: parse flags (exit 2 with one line on error), then run until a signal. */
import cluster from 'node:cluster';
import { ConfigError } from './config.js';
import { parseCommandLine, type Command } from './cli/command.js';
import { helpText } from './cli/help.js';
import { createLogger } from './log.js';
import { exit, exitOnSignals, run } from './main.js';
import { printView } from './cli/print.js';
import { version } from './version.js';


let cmd: Command;
try {
  cmd = parseCommandLine(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`portico: ${err.message}\n`);
  process.exit(2);
}

if (cmd.kind === 'help') {
  process.stdout.write(helpText(cmd.topic) + '\n');
} else if (cmd.kind === 'version') {
  process.stdout.write(`portico ${version()}\n`);
} else if (cmd.kind === 'routes' || cmd.kind === 'backends' || cmd.kind === 'status') {
  try {
    process.stdout.write(await printView(cmd.kind, cmd.adminUrl));
  } catch (err) {
    process.stderr.write(`portico: ${(err as Error).message}\n`);
    process.exit(1);
  }
} else if (cmd.kind === 'check') {
  // The configuration as JSON on stdout; with --manifests, what reading them found on stderr.
  const { config } = cmd;
  if (config.manifests === '') process.stdout.write(JSON.stringify(config) + '\n');
  else {
    const { dryRun, dryRunReport } = await import('./cli/dry-run.js');
    try {
      const result = await dryRun(config);
      process.stdout.write(JSON.stringify(config) + '\n');
      process.stderr.write(dryRunReport(config, result));
      if (result.problems.length > 0) process.exitCode = 1;
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      process.stderr.write(`portico: ${err.message}\n`);
      process.exit(2);
    }
  }
} else if (cmd.kind === 'run' && cluster.isWorker) {
  // a worker of --workers N: the primary coordinates everything, including its exit
  const { runWorker } = await import('./workers/worker.js');
  runWorker(cmd.config);
} else if (cmd.kind === 'run') {
  const { config } = cmd;
  const log = createLogger(config.logLevel);
  try {
    exitOnSignals(await run(config, log));
  } catch (err) {
    process.stderr.write(err instanceof ConfigError ? `portico: ${err.message}\n` : `portico: cannot start: ${(err as Error).message}\n`);
    await exit(log, err instanceof ConfigError ? 2 : 1, { err: (err as Error).message });
  }
}
