// A Map split over several Maps by a hash of the key, so that growing never rehashes everything at
// once: a V8 Map doubles its table in one step, and at a million string keys that step alone took
// 290–380 ms here (docs/performance.md, "Stick-table replication").

/** Number of inner maps: 64 (the top 6 bits of the hash). A million keys make ~16k per map. */
const SHARD_BITS = 6;
const SHARDS = 1 << SHARD_BITS;

/**
 * The last four UTF-16 units, Fibonacci-hashed: keys such as IP addresses differ at their end, and
 * this costs a few ns where hashing the whole key (FNV) cost ~300 ns per lookup here. A missing
 * unit (a key shorter than 4) reads as NaN, which `|` and `<<` turn into 0.
 */
function shardOf(key: string): number {
  const n = key.length;
  const h = key.charCodeAt(n - 1) | (key.charCodeAt(n - 2) << 8) | (key.charCodeAt(n - 3) << 16) | (key.charCodeAt(n - 4) << 24);
  return Math.imul(h, 0x9e3779b1) >>> (32 - SHARD_BITS);
}

/** The part of Map<string, V> a table needs, spread over SHARDS maps. Iteration order is per shard. */
export class ShardedMap<V> {
  readonly #shards: Map<string, V>[] = Array.from({ length: SHARDS }, () => new Map());
  #size = 0;

  get size(): number {
    return this.#size;
  }

  get(key: string): V | undefined {
    return this.#shards[shardOf(key)].get(key);
  }

  has(key: string): boolean {
    return this.#shards[shardOf(key)].has(key);
  }

  set(key: string, value: V): this {
    const m = this.#shards[shardOf(key)];
    const before = m.size;
    m.set(key, value);
    this.#size += m.size - before;
    return this;
  }

  delete(key: string): boolean {
    const deleted = this.#shards[shardOf(key)].delete(key);
    if (deleted) this.#size--;
    return deleted;
  }

  clear(): void {
    for (const m of this.#shards) m.clear();
    this.#size = 0;
  }
}
