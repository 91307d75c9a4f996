/**
 * Live endpoint lists: proxy state, one slot per backend id, that compiled targets read at pick
 * time. A table swap sets every slot from the new table; the EndpointSlice fast path replaces one
 * slot's list. The table itself is never modified. Slots outlive swaps, so a request in flight on
 * the old table and one on the new see the same live list.
 */
import type { EndpointPatch } from '../model/endpoints.js';
import type { Backend, Endpoint, RouteTable } from '../model/types.js';

export interface EndpointSlot {
  endpoints: readonly Endpoint[];
}

export interface EndpointState {
  /** The slot for a backend of a table being compiled (created with the table's list). */
  slot(b: Backend): EndpointSlot;
  /** After compiling `table`: every slot takes the table's list; slots of backends it dropped are forgotten. */
  apply(table: RouteTable): void;
  /** The fast path: new lists for some backends; `changed` hears of each slot replaced, with its list before. */
  patch(p: EndpointPatch, changed?: (slot: EndpointSlot, before: readonly Endpoint[]) => void): void;
  /** The live list of a backend id (undefined for one the live table does not have). */
  endpoints(id: string): readonly Endpoint[] | undefined;
}

export function createEndpointState(): EndpointState {
  const slots = new Map<string, EndpointSlot>();
  return {
    slot(b) {
      let s = slots.get(b.id);
      if (s === undefined) slots.set(b.id, (s = { endpoints: b.endpoints }));
      return s;
    },
    apply(table) {
      for (const [id, b] of table.backends) {
        const s = slots.get(id);
        if (s === undefined) slots.set(id, { endpoints: b.endpoints });
        else s.endpoints = b.endpoints;
      }
      for (const id of slots.keys()) if (!table.backends.has(id)) slots.delete(id);
    },
    patch(p, changed) {
      for (const [id, endpoints] of p) {
        const s = slots.get(id);
        if (s === undefined) continue;
        const before = s.endpoints;
        s.endpoints = endpoints;
        changed?.(s, before);
      }
    },
    endpoints: (id) => slots.get(id)?.endpoints,
  };
}
