/**
 * Standalone source: Kubernetes YAML in a file or directory -> the store, followed live.
 * A file that fails to parse is logged with its name and keeps its last good objects.
 *
 * Additions and changes apply at once; removals wait until the file has stayed the same for
 * REMOVAL_SETTLE_MS. A writer's intermediate states look like removals: an in-place write
 * truncates the file before writing it (`>`, writeFile, most editors' default), and some editors
 * move the file away before writing the new one. Applying those would drop routes for a moment.
 */
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, extname, join } from 'node:path';
import type { Logger } from '../log.js';
import { KINDS, keyOf, withDefaultNamespace, type KubeObject } from '../model/k8s.js';
import { isKind, type Store } from '../control/store.js';
import { parseManifests } from './parse.js';

export interface ManifestSource {
  /** Reads everything once and starts following changes. Rejects if the path cannot be read at all. */
  start(): Promise<void>;
  close(): void;
}

interface FileState {
  readonly sig: string;
  readonly objects: readonly KubeObject[];
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Safety net for missed fs events (fs.watch is best-effort on some filesystems). */
const POLL_MS = 2000;
const DEBOUNCE_MS = 10;
/** How long a file that would remove objects (or a vanished file) must stay unchanged to count. */
export const REMOVAL_SETTLE_MS = 250;

const idsOf = (objects: readonly KubeObject[]): Set<string> => new Set(objects.map((o) => `${String(o.kind)}/${keyOf(o)}`));
const removesAny = (before: readonly KubeObject[], after: readonly KubeObject[]): boolean => {
  if (before.length === 0) return false;
  const now = idsOf(after);
  for (const id of idsOf(before)) if (!now.has(id)) return true;
  return false;
};

async function listFiles(root: string): Promise<string[]> {
  const st = await stat(root);
  if (!st.isDirectory()) return [root];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const ent of await readdir(dir, { withFileTypes: true })) {
      if (ent.name.startsWith('.')) continue; // hidden files, and ConfigMap mounts' ..data/ twins
      const p = join(dir, ent.name);
      const s = await stat(p).catch(() => null); // follows symlinks; a dangling one is skipped
      if (s?.isDirectory()) await walk(p);
      else if (s?.isFile() && EXTENSIONS.has(extname(ent.name))) out.push(p);
    }
  };
  await walk(root);
  return out.sort();
}

export function createManifestSource(opts: { path: string; store: Store; onChange: () => void; log: Logger; removalSettleMs?: number }): ManifestSource {
  const { path, store, log } = opts;
  const settleMs = opts.removalSettleMs ?? REMOVAL_SETTLE_MS;
  const files = new Map<string, FileState>();
  let watcher: FSWatcher | null = null;
  let poll: NodeJS.Timeout | null = null;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;
  let closed = false;
  /** Files whose current state would remove objects: that state (sig) and when it was first seen. */
  const unsettled = new Map<string, { sig: string; since: number }>();
  let settleTimer: NodeJS.Timeout | null = null;
  /** The files found unsettled by the scan in progress; the others' entries are dropped after it. */
  const waiting = new Set<string>();

  /** True once `file` has shown `sig` for REMOVAL_SETTLE_MS; until then a rescan is due. */
  function settled(file: string, sig: string): boolean {
    const now = Date.now();
    const u = unsettled.get(file);
    if (u?.sig === sig && now - u.since >= settleMs) {
      unsettled.delete(file);
      return true;
    }
    if (u?.sig !== sig) unsettled.set(file, { sig, since: now });
    waiting.add(file);
    return false;
  }

  function armSettleTimer(): void {
    if (settleTimer) clearTimeout(settleTimer);
    settleTimer = null;
    if (closed || unsettled.size === 0) return;
    const now = Date.now();
    let wait = settleMs;
    for (const u of unsettled.values()) wait = Math.min(wait, u.since + settleMs - now);
    settleTimer = setTimeout(rescan, Math.max(wait, 1));
    settleTimer.unref();
  }

  /** Re-reads changed files; returns true when the set of objects changed. */
  async function scan(): Promise<boolean> {
    const paths = await listFiles(path);
    waiting.clear();
    let changed = false;
    const seen = new Set(paths);
    for (const f of [...files.keys()]) {
      if (seen.has(f)) continue;
      if (files.get(f)!.objects.length > 0 && !settled(f, 'gone')) continue;
      files.delete(f);
      changed = true;
      log.info({ file: f }, 'manifest file removed');
    }
    for (const f of paths) {
      const st = await stat(f).catch(() => null);
      if (!st) continue;
      const sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
      const prev = files.get(f);
      if (prev?.sig === sig) continue;
      const text = await readFile(f, 'utf8').catch((err: Error) => {
        log.error({ file: f, err: err.message }, 'manifest file unreadable; keeping its last good objects');
        return null;
      });
      if (text === null) continue;
      const parsed = parseManifests(text);
      if (parsed.errors.length > 0) {
        for (const e of parsed.errors) log.error({ file: f, problem: e }, 'manifest file rejected; keeping its last good objects');
        files.set(f, { sig, objects: prev?.objects ?? [] });
        continue;
      }
      const objects = parsed.objects.map(withDefaultNamespace);
      if (removesAny(prev?.objects ?? [], objects) && !settled(f, sig)) {
        log.debug({ file: f }, 'manifest file would remove objects; waiting for it to settle');
        continue;
      }
      files.set(f, { sig, objects });
      changed = true;
    }
    for (const f of unsettled.keys()) if (!waiting.has(f)) unsettled.delete(f);
    armSettleTimer();
    if (changed) publish();
    return changed;
  }

  /**
   * When each object was first seen: its creationTimestamp when the file gives none, as the API
   * server would set it (conflicts between routes go to the older object). Millisecond precision,
   * so objects written one after another keep their order.
   */
  const firstSeen = new Map<string, string>();
  /** The stamped copy of each parsed object, so an unchanged file yields the same objects (translation memos key on them). */
  const stamped = new WeakMap<KubeObject, KubeObject>();

  function publish(): void {
    const byKind = new Map<string, Map<string, KubeObject>>();
    const present = new Set<string>();
    for (const [file, fs] of files) {
      for (const obj of fs.objects) {
        const kind = obj.kind as string;
        if (!isKind(kind)) continue;
        let m = byKind.get(kind);
        if (!m) byKind.set(kind, (m = new Map()));
        const key = keyOf(obj);
        const id = `${kind}/${key}`;
        present.add(id);
        let since = firstSeen.get(id);
        if (since === undefined) firstSeen.set(id, (since = new Date().toISOString()));
        let o = typeof obj.metadata?.creationTimestamp === 'string' ? obj : stamped.get(obj);
        if (o === undefined) stamped.set(obj, (o = { ...obj, metadata: { ...obj.metadata, creationTimestamp: since } }));
        if (m.has(key)) log.warn({ file, kind, object: key }, 'object defined twice; the later file wins');
        m.set(key, o);
      }
    }
    for (const id of firstSeen.keys()) if (!present.has(id)) firstSeen.delete(id);
    for (const kind of KINDS) store.replace(kind, [...(byKind.get(kind)?.values() ?? [])]);
  }

  /** Runs scans one at a time; a change during a scan triggers one more. */
  function rescan(): void {
    if (closed) return;
    if (running) {
      again = true;
      return;
    }
    running = scan()
      .then((changed) => {
        if (changed) opts.onChange();
      })
      .catch((err: Error) => log.error({ path, err: err.message }, 'manifests path unreadable; keeping the last good table'))
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          rescan();
        }
      });
  }

  function schedule(): void {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      rescan();
    }, DEBOUNCE_MS);
  }

  return {
    async start() {
      await scan();
      opts.onChange();
      const st = await stat(path);
      const dir = st.isDirectory() ? path : dirname(path);
      try {
        watcher = watch(dir, { recursive: st.isDirectory(), persistent: false }, schedule);
        watcher.on('error', (err) => log.warn({ path: dir, err: err.message }, 'file watch failed; polling only'));
      } catch (err) {
        log.warn({ path: dir, err: (err as Error).message }, 'file watch unavailable; polling only');
      }
      poll = setInterval(rescan, POLL_MS);
      poll.unref();
    },
    close() {
      closed = true;
      watcher?.close();
      if (poll) clearInterval(poll);
      if (timer) clearTimeout(timer);
      if (settleTimer) clearTimeout(settleTimer);
    },
  };
}
