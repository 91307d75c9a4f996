import inspector from 'node:inspector';
const s = new inspector.Session(); s.connect();
const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => e ? rej(e) : res(r)));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
globalThis.__done = async () => {
  const { profile } = await post('HeapProfiler.stopSampling');
  const self = new Map(); let total = 0;
  const walk = (n, stack) => { const cf = n.callFrame; const k = `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/').replace('node:internal/', 'ni/')}:${cf.lineNumber}`; const sz = n.selfSize; total += sz; self.set(k, (self.get(k) ?? 0) + sz); for (const c of n.children) walk(c, stack); };
  walk(profile.head, []);
  for (const [k, v] of [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((100 * v / total).toFixed(1).padStart(5) + '%', (v / 1024 / 1024).toFixed(1).padStart(7) + ' MB', k);
  console.log('total MB', (total / 1024 / 1024).toFixed(0));
  process.exit(0);
};
process.argv.push('--runs', '1', '--requests', '50000');
await import('./bench/front.js');
