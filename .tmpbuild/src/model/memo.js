/**
 * A memo keyed by object identity that lives from one translation to the next: what the last
 * translation used, and what this one has used so far. `advance()` at the end of a translation
 * forgets the objects that were not used, so the memo holds only what the current snapshot holds.
 *
 * Not a WeakMap: with tens of thousands of entries, V8's ephemeron handling made every garbage
 * collection slower than the memo saved on a translation of all-new objects (start-up, a re-list).
 * Keys must be objects that are never modified (the store's objects: a change is a new object).
 */
export class Memo {
    previous = new Map();
    current = new Map();
    get(key) {
        const v = this.current.get(key);
        if (v !== undefined)
            return v;
        const old = this.previous.get(key);
        if (old !== undefined)
            this.current.set(key, old);
        return old;
    }
    set(key, value) {
        this.current.set(key, value);
    }
    /** Ends a translation: entries it did not use are dropped at the end of the next one. */
    advance() {
        this.previous = this.current;
        this.current = new Map();
    }
}
//# sourceMappingURL=memo.js.map