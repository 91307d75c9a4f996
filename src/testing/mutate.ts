/** Fuzzing helpers for the translator's tests (only tests import src/testing/). */

/** A copy of `obj` with the value at a random path (`path` picks a key at each level) replaced by `value`. */
export function mutate(obj: unknown, path: number[], value: unknown): unknown {
  if (path.length === 0 || obj === null || typeof obj !== 'object') return value;
  const keys = Object.keys(obj as object);
  if (keys.length === 0) return value;
  const k = keys[(path[0] as number) % keys.length] as string;
  const copy: Record<string, unknown> = Array.isArray(obj) ? ([...obj] as unknown as Record<string, unknown>) : { ...(obj as Record<string, unknown>) };
  copy[k] = mutate((obj as Record<string, unknown>)[k], path.slice(1), value);
  return copy;
}
