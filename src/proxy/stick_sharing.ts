// Stick entries shared beyond one table: with the proxy worker processes and with the pair link
// (src/pair/), which watches the entries made here and applies the peer's.

import type { Clock } from "../core/clock.ts";
import type { Backend } from "./backend.ts";
import type { WorkerPool } from "./workers.ts";

/** Told of a stick entry made or refreshed here or in a worker (at most once per announceEvery per entry). */
export type StickWatcher = (proxy: string, key: string, server: string) => void;

/** One entry as it travels to the peer: its server by name and the ms it has left to live. */
export interface SharedStickEntry {
  key: string;
  server: string;
  expiresIn: number;
}

/** What applying the peer's entries did: stored, older than ours, or refused. */
export interface StickApplyResult {
  stored: number;
  /** Entries this table knew with a later expiry (touched here more recently). */
  older: number;
  /** Entries naming a server this backend does not have. */
  unknownServer: number;
  /** The backend does not exist here or has no stick table. */
  noTable: boolean;
}

/**
 * Reads a table for a full resync without copying its entries: the keys are taken once, each
 * entry is read when its turn comes (one that expired or left meanwhile is skipped), so the cost
 * is one reference per entry however large the table.
 */
export interface StickReader {
  readonly total: number;
  /** Up to max entries; an empty array once every key was read. */
  next(max: number): SharedStickEntry[];
}

/** A worker process's side: what it tells the main process. */
export interface WorkerStickSide {
  onStick(proxy: string, key: string, server: string, changed: boolean): void;
}

/** Wires each backend's onStick to the workers and the watchers, and applies entries from the peer. */
export class StickSharing {
  readonly #watchers = new Set<StickWatcher>();
  readonly #backends: () => ReadonlyMap<string, Backend>;
  readonly #clock: Clock;
  #pool: WorkerPool | undefined;
  readonly #worker: WorkerStickSide | undefined;

  constructor(deps: { backends: () => ReadonlyMap<string, Backend>; clock: Clock; worker?: WorkerStickSide }) {
    this.#backends = deps.backends;
    this.#clock = deps.clock;
    this.#worker = deps.worker;
  }

  /** The worker pool of the main process (set once it exists). */
  set pool(pool: WorkerPool | undefined) {
    this.#pool = pool;
  }

  /** Told by the pool: a worker announced an entry. */
  tell(proxy: string, key: string, server: string): void {
    for (const w of this.#watchers) w(proxy, key, server);
  }

  /** Sets b.onStick for whoever needs the entries; none (no workers, no watcher): no cost per connection. */
  wire(b: Backend): void {
    const worker = this.#worker;
    const pool = this.#pool;
    if (worker) b.onStick = (key, server, changed) => worker.onStick(b.name, key, server, changed);
    else if (pool || this.#watchers.size > 0) {
      b.onStick = (key, server, changed) => {
        if (changed) pool?.shareStick(b.name, key, server);
        this.tell(b.name, key, server);
      };
    } else b.onStick = undefined;
  }

  /** Adds a watcher; returns the function that removes it. */
  watch(fn: StickWatcher): () => void {
    this.#watchers.add(fn);
    this.#rewire();
    return () => {
      this.#watchers.delete(fn);
      this.#rewire();
    };
  }

  /** Stores the peer's entries (a later local expiry wins) and passes them to the workers. */
  apply(proxy: string, entries: readonly SharedStickEntry[]): StickApplyResult {
    const b = this.#backends().get(proxy);
    const table = b?.stick;
    const out: StickApplyResult = { stored: 0, older: 0, unknownServer: 0, noTable: !table };
    if (!b || !table) return out;
    const now = this.#clock.now();
    const forWorkers: [string, string, number][] = [];
    for (const e of entries) {
      if (!b.servers.has(e.server)) {
        out.unknownServer++;
        continue;
      }
      if (table.merge(e.key, e.server, now + e.expiresIn)) {
        out.stored++;
        if (this.#pool) forWorkers.push([e.key, e.server, e.expiresIn]);
      } else out.older++;
    }
    this.#pool?.shareSticks(proxy, forWorkers);
    return out;
  }

  /** A reader over a backend's table (every key: a full resync; or the keys given); undefined without a table. */
  reader(proxy: string, only?: readonly string[]): StickReader | undefined {
    const table = this.#backends().get(proxy)?.stick;
    if (!table) return undefined;
    const keys = only ?? table.keys();
    let at = 0;
    const clock = this.#clock;
    const backends = this.#backends;
    return {
      total: keys.length,
      next(max) {
        const out: SharedStickEntry[] = [];
        const now = clock.now();
        // A reload may have replaced the backend's table (or removed it) since the keys were taken.
        const current = backends().get(proxy)?.stick;
        if (!current) at = keys.length;
        while (at < keys.length && out.length < max) {
          const e = current!.peek(keys[at++]);
          if (e) out.push({ key: e.key, server: e.server, expiresIn: Math.max(0, Math.round(e.expiresAt - now)) });
        }
        return out;
      },
    };
  }

  #rewire(): void {
    for (const b of this.#backends().values()) this.wire(b);
  }
}
