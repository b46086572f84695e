// Stick table: client key (source IP) → server name and/or stick counters, bounded by an LRU and
// expired by a Clock.

import type { Clock } from "../core/clock.ts";
import { ShardedMap } from "../core/sharded_map.ts";
import { StickCounters } from "./stick_counters.ts";
import type { CounterSpec } from "./stick_counters.ts";

/** One entry, as exported for reload carry-over and the stats page. */
export interface StickEntry {
  key: string;
  /** The server the key sticks to (backend tables); undefined in a counters-only entry. */
  server?: string;
  /** The key's counters (tables made with `counters`); the same object the table keeps. */
  counters?: StickCounters;
  /** Monotonic ms at which the entry expires unless touched again. */
  expiresAt: number;
}

interface Node {
  key: string;
  server: string | undefined;
  counters: StickCounters | undefined;
  expiresAt: number;
  /** Monotonic ms the entry was last told to others (announce), -Infinity: never. */
  announced: number;
  prev: Node | undefined;
  next: Node | undefined;
}

/**
 * A Map from key to a node of a doubly linked list ordered by last touch (head = least recently
 * used): lookup, store and eviction are O(1). (A bare Map's insertion order is not enough: V8
 * leaves deleted slots in place, so "the first key" can cost a scan.) Expiry is checked on lookup
 * and, a few entries at a time from the LRU end, on store — no timer per entry. As in haproxy,
 * a match or a store refreshes the expiry, and an entry a connection still tracks (conn_cur > 0)
 * does not expire.
 *
 * A backend's table maps a client address to its server (stick on src; what the pair link
 * replicates); a frontend's maps it to counters (`counters:`, made with `options.counters`).
 */
export class StickTable {
  readonly size: number;
  readonly expire: number;
  /** The counters each entry keeps (undefined: a table of servers only). */
  readonly counterSpec: CounterSpec | undefined;
  /** A refreshed entry is told to others again (announce) at most this often: a quarter of its lifetime, 1..60 s. */
  readonly announceEvery: number;
  #clock: Clock;
  /** Sharded: a table of a million entries never rehashes its whole index in one step. */
  #index = new ShardedMap<Node>();
  /** The node store() touched last (announce() follows it). */
  #last: Node | undefined;
  #head: Node | undefined;
  #tail: Node | undefined;

  /** size: maximum number of entries (≥1); expire: ms of inactivity before an entry is dropped. */
  constructor(options: { size: number; expire: number; clock: Clock; counters?: CounterSpec }) {
    if (!(options.size >= 1)) throw new RangeError(`stick table size ${options.size} must be at least 1`);
    this.size = Math.floor(options.size);
    this.expire = options.expire;
    this.counterSpec = options.counters;
    this.announceEvery = Math.min(60_000, Math.max(1_000, options.expire / 4));
    this.#clock = options.clock;
  }

  get length(): number {
    return this.#index.size;
  }

  /** The server name stuck to this key, refreshing the entry; undefined if none or expired. */
  lookup(key: string): string | undefined {
    const n = this.#index.get(key);
    if (!n) return undefined;
    const now = this.#clock.now();
    if (expired(n, now)) {
      this.#remove(n);
      return undefined;
    }
    n.expiresAt = now + this.expire;
    this.#unlink(n);
    this.#append(n);
    return n.server;
  }

  /**
   * The counters of key, created with the entry when missing (a table made without `counters`
   * throws). Refreshes the entry, as haproxy does when a connection tracks it. Counters are
   * not announced: conn_cur is this host's own; the rates would be the ones to share.
   */
  track(key: string): StickCounters {
    const spec = this.counterSpec;
    if (!spec) throw new Error("this stick table keeps no counters");
    const now = this.#clock.now();
    const old = this.#index.get(key);
    const live = old !== undefined && !expired(old, now);
    const n = this.#put(key, live ? old.server : undefined, now + this.expire, old);
    if (!live) n.counters = undefined;
    return (n.counters ??= new StickCounters(spec));
  }

  /**
   * Sticks key to server (creating or updating the entry), evicting the LRU entry when full.
   * Returns true when the entry is new (or had expired) or now names another server.
   */
  store(key: string, server: string): boolean {
    const now = this.#clock.now();
    const old = this.#index.get(key);
    const changed = old === undefined || old.server !== server || expired(old, now);
    this.#last = this.#put(key, server, now + this.expire, old);
    return changed;
  }

  /**
   * Whether the entry of key should be told to the processes and the peer that share the table:
   * always when `changed` (new entry, other server), else when it was last told more than
   * announceEvery ago (a refresh, so their copy does not expire while the client is active).
   * Records the telling.
   */
  announce(key: string, changed: boolean): boolean {
    // Called right after store() of the same key: no second lookup.
    const n = this.#last?.key === key ? this.#last : this.#index.get(key);
    if (!n) return false;
    const now = this.#clock.now();
    if (!changed && now - n.announced < this.announceEvery) return false;
    n.announced = now;
    return true;
  }

  /** The live server entry of key without refreshing it (replication reads it), or undefined (none, or counters only). */
  peek(key: string): (StickEntry & { server: string }) | undefined {
    const n = this.#index.get(key);
    return n && n.server !== undefined && !expired(n, this.#clock.now()) ? { key: n.key, server: n.server, expiresAt: n.expiresAt } : undefined;
  }

  /** Every key, least recently used first (a full resync walks them; entries are read with peek()). */
  keys(): string[] {
    const out: string[] = new Array(this.#index.size);
    let i = 0;
    for (let n = this.#head; n; n = n.next) out[i++] = n.key;
    out.length = i;
    return out;
  }

  /**
   * Stores an entry learned from the peer with its own expiry (monotonic ms here), unless this
   * table knows the key with a later expiry (touched more recently). Returns whether it was stored.
   */
  merge(key: string, server: string, expiresAt: number): boolean {
    const old = this.#index.get(key);
    if (old && !expired(old, this.#clock.now()) && old.expiresAt >= expiresAt) return false;
    // Told by the peer: not ours to announce back until it changes or is refreshed here.
    this.#put(key, server, expiresAt, old).announced = this.#clock.now();
    return true;
  }

  /** Drops one key. */
  delete(key: string): boolean {
    const n = this.#index.get(key);
    if (n) this.#remove(n);
    return n !== undefined;
  }

  /** Drops every entry. */
  clear(): void {
    this.#index.clear();
    this.#last = undefined;
    this.#head = this.#tail = undefined;
  }

  /** Drops every entry pointing at a server (used when a server is removed by reload). */
  deleteServer(server: string): number {
    let count = 0;
    for (let n = this.#head; n; ) {
      const next = n.next;
      if (n.server === server) {
        this.#remove(n);
        count++;
      }
      n = next;
    }
    return count;
  }

  /** Live entries, least recently used first. */
  entries(): StickEntry[] {
    const now = this.#clock.now();
    const out: StickEntry[] = [];
    for (let n = this.#head; n; n = n.next) {
      if (!expired(n, now)) out.push({ key: n.key, ...(n.server !== undefined ? { server: n.server } : {}), ...(n.counters ? { counters: n.counters } : {}), expiresAt: n.expiresAt });
    }
    return out;
  }

  /** Re-inserts exported entries (reload), keeping their remaining lifetime, counters and LRU order. */
  import(entries: readonly StickEntry[]): void {
    for (const e of entries) {
      const n = this.#put(e.key, e.server, e.expiresAt);
      if (this.counterSpec && e.counters) n.counters = e.counters;
    }
  }

  /** Creates or updates the entry; `found`: the caller's lookup of key (undefined: look it up). */
  #put(key: string, server: string | undefined, expiresAt: number, found: Node | undefined | null = null): Node {
    let n = found === null ? this.#index.get(key) : found;
    if (n) this.#unlink(n);
    // Entries share one lifetime and are ordered by last touch, so expired ones sit at the head.
    const now = this.#clock.now();
    for (let i = 0; i < 4 && this.#head && expired(this.#head, now); i++) this.#remove(this.#head);
    if (n) {
      n.server = server;
      n.expiresAt = expiresAt;
    } else {
      if (this.#index.size >= this.size && this.#head) this.#remove(this.#head);
      n = { key, server, counters: undefined, expiresAt, announced: -Infinity, prev: undefined, next: undefined };
      this.#index.set(key, n);
    }
    this.#append(n);
    return n;
  }

  #append(n: Node): void {
    n.prev = this.#tail;
    n.next = undefined;
    if (this.#tail) this.#tail.next = n;
    else this.#head = n;
    this.#tail = n;
  }

  #unlink(n: Node): void {
    if (n.prev) n.prev.next = n.next;
    else this.#head = n.next;
    if (n.next) n.next.prev = n.prev;
    else this.#tail = n.prev;
    n.prev = n.next = undefined;
  }

  #remove(n: Node): void {
    this.#unlink(n);
    this.#index.delete(n.key);
    if (this.#last === n) this.#last = undefined;
  }
}

/** Past its lifetime and tracked by no connection in progress. */
function expired(n: Node, now: number): boolean {
  return n.expiresAt <= now && !(n.counters !== undefined && n.counters.connCur > 0);
}
