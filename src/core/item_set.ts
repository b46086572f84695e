// An unordered set for objects that come and go by the thousand per second (sockets, sessions).

const kIndex = Symbol("tandem.itemSetIndex");

type Indexed = { [kIndex]?: number };

/**
 * Add, delete and has in O(1), iteration over a snapshot — like a Set, but not one. V8's Set
 * rehashes into a new table as entries come and go, and the table it leaves keeps a pointer to
 * the new one and to every entry it held. Once one such table is in the old generation (a full
 * GC moves the live one there), each later table and all the connections they held survive
 * young-generation collections until the next full GC: measured under connection churn, every
 * scavenge promoted ~10 MB and paused 8–13 ms, and the tail latency of `Connection: close` traffic
 * was those pauses. Here the items live in an array (swap-remove) and each item carries its
 * position, so nothing outlives its removal.
 *
 * An item may be in one ItemSet at a time (adding it to a second one throws).
 */
export class ItemSet<T extends object> implements Iterable<T> {
  #items: T[] = [];

  get size(): number {
    return this.#items.length;
  }

  /** Adds item (no-op if it is already here). Throws if it is in another ItemSet. */
  add(item: T): this {
    const at = (item as Indexed)[kIndex];
    if (at !== undefined) {
      if (this.#items[at] === item) return this;
      throw new Error("ItemSet.add: the item is already in another ItemSet");
    }
    (item as Indexed)[kIndex] = this.#items.length;
    this.#items.push(item);
    return this;
  }

  has(item: T): boolean {
    const at = (item as Indexed)[kIndex];
    return at !== undefined && this.#items[at] === item;
  }

  /** Removes item; false if it was not here. The last item moves into its place. */
  delete(item: T): boolean {
    const at = (item as Indexed)[kIndex];
    const items = this.#items;
    if (at === undefined || items[at] !== item) return false;
    const last = items.pop()!;
    if (last !== item) {
      items[at] = last;
      (last as Indexed)[kIndex] = at;
    }
    (item as Indexed)[kIndex] = undefined;
    return true;
  }

  /** The items now, as a new array: callers may add or delete while they walk it. */
  values(): T[] {
    return this.#items.slice();
  }

  [Symbol.iterator](): Iterator<T> {
    return this.values()[Symbol.iterator]();
  }
}
