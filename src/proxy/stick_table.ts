// Stick table: client key (source IP) → server name and/or stick counters, bounded by an LRU and
// expired by a Clock.

import type { Clock } from "../core/clock.ts";
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
 * A backend's table maps a client address to its server (stick on src); a frontend's maps it to
 * counters (`counters:`, made with `options.counters`). An entry may hold both.
 */
export class StickTable {
  readonly size: number;
  readonly expire: number;
  /** The counters each entry keeps (undefined: a table of servers only). */
  readonly counterSpec: CounterSpec | undefined;
  #clock: Clock;
  #index = new Map<string, Node>();
  #head: Node | undefined;
  #tail: Node | undefined;

  /** size: maximum number of entries (≥1); expire: ms of inactivity before an entry is dropped. */
  constructor(options: { size: number; expire: number; clock: Clock; counters?: CounterSpec }) {
    if (!(options.size >= 1)) throw new RangeError(`stick table size ${options.size} must be at least 1`);
    this.size = Math.floor(options.size);
    this.expire = options.expire;
    this.counterSpec = options.counters;
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
    this.#touch(n, now);
    return n.server;
  }

  /** Sticks key to server (creating or updating the entry), evicting the LRU entry when full. */
  store(key: string, server: string): void {
    const n = this.#index.get(key);
    this.#put(key, server, n?.counters, this.#clock.now() + this.expire);
  }

  /**
   * The counters of key, created with the entry when missing (a table made without `counters`
   * throws). Refreshes the entry, as haproxy does when a connection tracks it.
   */
  track(key: string): StickCounters {
    const spec = this.counterSpec;
    if (!spec) throw new Error("this stick table keeps no counters");
    const now = this.#clock.now();
    const n = this.#index.get(key);
    if (n && !expired(n, now)) {
      this.#touch(n, now);
      return (n.counters ??= new StickCounters(spec));
    }
    const counters = new StickCounters(spec);
    this.#put(key, n && !expired(n, now) ? n.server : undefined, counters, now + this.expire);
    return counters;
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
    for (const e of entries) this.#put(e.key, e.server, this.counterSpec ? e.counters : undefined, e.expiresAt);
  }

  #touch(n: Node, now: number): void {
    n.expiresAt = now + this.expire;
    this.#unlink(n);
    this.#append(n);
  }

  #put(key: string, server: string | undefined, counters: StickCounters | undefined, expiresAt: number): void {
    const old = this.#index.get(key);
    if (old) this.#remove(old);
    // Entries share one lifetime and are ordered by last touch, so expired ones sit at the head.
    const now = this.#clock.now();
    for (let i = 0; i < 4 && this.#head && expired(this.#head, now); i++) this.#remove(this.#head);
    if (this.#index.size >= this.size && this.#head) this.#remove(this.#head);
    const n: Node = { key, server, counters, expiresAt, prev: undefined, next: undefined };
    this.#index.set(key, n);
    this.#append(n);
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
  }
}

/** Past its lifetime and tracked by no connection in progress. */
function expired(n: Node, now: number): boolean {
  return n.expiresAt <= now && !(n.counters !== undefined && n.counters.connCur > 0);
}
