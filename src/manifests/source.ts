/**
 * Standalone source: Kubernetes YAML in a file or directory -> the store, followed live.
 * What a file holds that cannot be read (a syntax error, an unknown kind, a removed API version) is
 * a diagnostic naming the file and line, logged once; the rest of the file is read. A file that
 * turns bad keeps the objects it defined before that are no longer found in it, until it is fixed:
 * the broken part may be where they were.
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
import type { Diagnostic } from '../model/types.js';
import type { SourceStatus } from '../control/pipeline.js';
import { isKind, type Store } from '../control/store.js';
import { fileDiagnostics, parseManifests, type ManifestProblem } from './parse.js';

export interface ManifestSource {
  /** Reads everything once and starts following changes. Rejects if the path cannot be read at all. */
  start(): Promise<void>;
  close(): void;
  /** The files' problems and how many files are valid; `onChange` follows every change of it. */
  status(): SourceStatus;
}

interface FileState {
  /** `ino:size:mtime` when read; '' for a file that could not be read (read again at every scan). */
  readonly sig: string;
  readonly objects: readonly KubeObject[];
  /** What in the file could not be read; empty for a valid file. */
  readonly problems: readonly Diagnostic[];
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);
/** Safety net for missed fs events (fs.watch is best-effort on some filesystems). */
const POLL_MS = 2000;
const DEBOUNCE_MS = 10;
/** How long a file that would remove objects (or a vanished file) must stay unchanged to count. */
export const REMOVAL_SETTLE_MS = 250;

const idOf = (o: KubeObject): string => `${String(o.kind)}/${keyOf(o)}`;
const idsOf = (objects: readonly KubeObject[]): Set<string> => new Set(objects.map(idOf));
const removesAny = (before: readonly KubeObject[], after: readonly KubeObject[]): boolean => {
  if (before.length === 0) return false;
  const now = idsOf(after);
  for (const id of idsOf(before)) if (!now.has(id)) return true;
  return false;
};

/** The same objects (the very same, as kept from before) and the same problems. */
const sameState = (a: FileState, b: FileState): boolean =>
  a.objects.length === b.objects.length &&
  a.objects.every((o, i) => o === b.objects[i]) &&
  a.problems.length === b.problems.length &&
  a.problems.every((d, i) => d.message === b.problems[i]?.message && d.reason === b.problems[i]?.reason);

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
  let status: SourceStatus | null = null;
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

  /** Re-reads changed files; returns true when their objects or their problems changed. */
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
      const prev = files.get(f);
      const sig = `${st.ino}:${st.size}:${st.mtimeMs}`;
      if (prev?.sig === sig) continue;
      const text = await readFile(f, 'utf8').catch((err: Error) => err);
      const parsed = typeof text === 'string' ? parseManifests(text) : { objects: [], problems: [{ reason: 'InvalidManifest' as const, message: `cannot be read: ${text.message}` }] };
      let objects = parsed.objects.map(withDefaultNamespace);
      if (parsed.problems.length > 0) {
        // the broken part may be where some of its last good objects were: they stay until it is fixed
        const now = idsOf(objects);
        const stay = (prev?.objects ?? []).filter((o) => !now.has(idOf(o)));
        report(f, prev, parsed.problems, stay.length, objects.length);
        objects = [...objects, ...stay];
      } else {
        if (removesAny(prev?.objects ?? [], objects) && !settled(f, sig)) {
          log.debug({ file: f }, 'manifest file would remove objects; waiting for it to settle');
          continue;
        }
        if ((prev?.problems.length ?? 0) > 0) log.info({ file: f }, 'manifest file fixed');
      }
      const next: FileState = { sig: typeof text === 'string' ? sig : '', objects, problems: fileDiagnostics(f, parsed.problems) };
      files.set(f, next);
      // an unreadable file is read again at every scan: only a different outcome is a change
      if (prev === undefined || !sameState(prev, next)) changed = true;
    }
    if (changed) status = null;
    for (const f of unsettled.keys()) if (!waiting.has(f)) unsettled.delete(f);
    armSettleTimer();
    if (changed) publish();
    return changed;
  }

  /**
   * Logs each problem once while it lasts, saying what happens to the file's objects: kept from
   * before (`kept`), or the rest of the file served, or nothing served.
   */
  function report(file: string, prev: FileState | undefined, problems: readonly ManifestProblem[], kept: number, read: number): void {
    const before = new Set(prev?.problems.map((d) => d.message));
    const what = kept > 0 ? 'keeping its last good objects' : read > 0 ? 'serving the rest of the file' : 'nothing in the file is served';
    for (const p of problems) {
      if (before.has(p.message)) continue;
      log.error({ file, line: p.line, column: p.column, reason: p.reason, problem: p.message }, `manifest file problem; ${what}`);
    }
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
        if (o === undefined) stamped.set(obj, (o = stamp(obj, since)));
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
    status() {
      if (status !== null) return status;
      const diagnostics: Diagnostic[] = [];
      let invalid = 0;
      for (const fs of files.values()) {
        diagnostics.push(...fs.problems);
        if (fs.problems.length > 0) invalid++;
      }
      return (status = { diagnostics, files: { valid: files.size - invalid, invalid } });
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

/** A shallow copy, built key by key (see stamp). */
function copyOf(o: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) out[k] = (o as Record<string, unknown>)[k];
  return out;
}

/**
 * The object with metadata.creationTimestamp set (to when Portico first saw it). Copied key by
 * key: a spread into a literal with one more property gave every copy, and its metadata, a hidden
 * class of its own (at 10,000 Ingresses about 12 MiB of maps; docs/performance.md, "Memory").
 */
function stamp(obj: KubeObject, since: string): KubeObject {
  const metadata = copyOf(obj.metadata ?? {});
  metadata.creationTimestamp = since;
  const out = copyOf(obj);
  out.metadata = metadata;
  return out as unknown as KubeObject;
}
