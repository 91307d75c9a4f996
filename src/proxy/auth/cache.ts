/**
 * A bounded map with expiry: verified credentials and external-auth decisions. Past `max`
 * entries the oldest is dropped, so memory stays bounded whatever the number of clients.
 */
export interface TtlCache<V> {
  get(key: string, now?: number): V | undefined;
  set(key: string, value: V, ttlMs: number, now?: number): void;
  readonly size: number;
  clear(): void;
}

export function createTtlCache<V>(max: number): TtlCache<V> {
  const m = new Map<string, { readonly value: V; readonly expires: number }>();
  return {
    get(key, now = Date.now()) {
      const e = m.get(key);
      if (e === undefined) return undefined;
      if (e.expires <= now) {
        m.delete(key);
        return undefined;
      }
      return e.value;
    },
    set(key, value, ttlMs, now = Date.now()) {
      if (!(ttlMs > 0)) return;
      m.delete(key);
      m.set(key, { value, expires: now + ttlMs });
      while (m.size > max) m.delete(m.keys().next().value as string);
    },
    get size() {
      return m.size;
    },
    clear() {
      m.clear();
    },
  };
}
