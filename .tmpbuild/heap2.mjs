import inspector from 'node:inspector';
const s = new inspector.Session(); s.connect();
const post = (m, p) => new Promise((res, rej) => s.post(m, p, (e, r) => e ? rej(e) : res(r)));
await post('HeapProfiler.enable');
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
const target = new RegExp(process.env.PAT ?? '^Map ');
globalThis.__done = async () => {
  const { profile } = await post('HeapProfiler.stopSampling');
  const name = (cf) => `${cf.functionName || '(anon)'} ${cf.url.replace(/^.*\/(src|bench|node_modules)\//, '$1/').replace('node:internal/', 'ni/')}:${cf.lineNumber}`;
  const paths = new Map();
  const walk = (n, stack) => { const k = name(n.callFrame); const st = [...stack, k]; if (target.test(k) && n.selfSize > 0) { const p = st.slice(-5).join(' < '); paths.set(p, (paths.get(p) ?? 0) + n.selfSize); } for (const c of n.children) walk(c, st); };
  walk(profile.head, []);
  for (const [k, v] of [...paths.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log((v / 1024 / 1024).toFixed(1), 'MB', k);
  process.exit(0);
};
process.argv.push('--runs', '1', '--requests', '50000');
await import('./bench/front.js');
