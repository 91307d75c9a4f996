/**
 * A proxy and its backend left running for outside tools (strace -c, perf): prints the proxy's pid
 * and port, then waits for SIGINT/SIGTERM. `node dist/bench/probe.js [portico|nginx-1w|raw-both] [portico flags...]`
 */
import { processTree, startNginxBackend, startNginxProxy, startPortico, startReference } from './lib.js';

const [what = 'portico', ...flags] = process.argv.slice(2);
const backend = await startNginxBackend('127.0.60.9');
const be = { ip: '127.0.60.9', port: backend.port };
const p = what === 'nginx-1w' ? await startNginxProxy(be, 1) : what === 'raw-both' ? await startReference('raw-both', be) : await startPortico(be, ['--access-log=false', ...flags]);
console.log(JSON.stringify({ pids: processTree(p.proc.pid as number), port: p.port }));
const stop = (): void => {
  void p.stop();
  void backend.stop();
  setTimeout(() => process.exit(0), 200);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
setInterval(() => {}, 1 << 30);
