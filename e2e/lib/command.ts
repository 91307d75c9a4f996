/** Running a command line tool (curl, openssl, grpcurl...) from a test. */
import { spawn } from 'node:child_process';

/** What a command did. */
export interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a command without blocking the event loop (the pods live in this process), with `input` on
 * its stdin (then EOF), for at most 10 s; never rejects (a command that cannot start is code 1).
 */
export function run(cmd: string, args: readonly string[], input = ''): Promise<Ran> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], timeout: 10_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.on('error', (err) => resolve({ code: 1, stdout, stderr: err.message }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}
