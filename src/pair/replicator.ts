// Stick-table replication over the pair link: entries made or refreshed here go to the peer in
// batches (within ~100 ms), the whole table goes when the link comes up, and the peer's batches
// are applied here. Nothing here can hold the proxy up: pending keys are bounded (past the bound
// they are dropped and a full resync follows), a resync yields to the event loop between batches
// and waits for the socket to drain.

import type { Clock, TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import type { ProxyService } from "../proxy/subsystem.ts";
import type { PairConnection } from "./connection.ts";
import { encodeBinary, encodeJson, MSG, type ResyncMessage } from "./messages.ts";
import { decodeAck, decodeSticks, encodeAck, encodeSticks, MAX_BATCH } from "./stick_codec.ts";

/** Changes are gathered this long, then sent together. */
export const FLUSH_DELAY = 50;
/** Keys waiting to be sent, across tables; past it they are dropped and a full resync is sent. */
export const MAX_PENDING = 100_000;
/** Past this many bytes queued in the socket, batches wait (pending keys keep coalescing). */
const HIGH_WATER = 1 << 20;
/** Batches remembered until acknowledged (for the lag); the oldest are forgotten past it. */
const MAX_IN_FLIGHT = 4096;

/** What status and metrics show of replication. */
export interface ReplicationStats {
  sentEntries: number;
  receivedEntries: number;
  /** Received entries this host had with a later expiry, or for an unknown server or table. */
  ignoredEntries: number;
  /** Keys dropped from the pending set when it was full (a resync followed). */
  droppedKeys: number;
  resyncsSent: number;
  resyncsReceived: number;
  /** ms from a change here to the peer's acknowledgement of the batch carrying it (last one). */
  lagMs?: number;
  pending: number;
  /** A resync being sent now: entries sent of total. */
  resyncProgress?: { sent: number; total: number };
  lastResync?: { direction: "sent" | "received"; entries: number; ms: number; at: number };
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

export class StickReplicator {
  readonly stats: ReplicationStats = { sentEntries: 0, receivedEntries: 0, ignoredEntries: 0, droppedKeys: 0, resyncsSent: 0, resyncsReceived: 0, pending: 0 };
  readonly #proxy: () => ProxyService | undefined;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #bus: EventBus;
  #conn: PairConnection | undefined;
  #pending = new Map<string, Set<string>>();
  #oldest = 0;
  #timer: TimerHandle | undefined;
  #seq = 0;
  readonly #inFlight = new Map<number, number>();
  #resyncRun = 0;
  #resyncing = false;
  #resyncAgain = false;
  #unwatch: (() => void) | undefined;
  #incoming: { started: number; entries: number } | undefined;

  constructor(deps: { proxy: () => ProxyService | undefined; clock: Clock; log: Logger; bus: EventBus }) {
    this.#proxy = deps.proxy;
    this.#clock = deps.clock;
    this.#log = deps.log;
    this.#bus = deps.bus;
  }

  /** Starts watching the proxy's stick entries (once the proxy runs). */
  watch(): void {
    this.#unwatch ??= this.#proxy()?.watchStick((proxy, key) => this.#changed(proxy, key));
  }

  stop(): void {
    this.#unwatch?.();
    this.#unwatch = undefined;
    this.detach();
  }

  /** The link is up: the whole table goes to the peer, then changes as they come. */
  attach(conn: PairConnection): void {
    this.#conn = conn;
    this.#pending.clear();
    this.stats.pending = 0;
    this.#inFlight.clear();
    this.#incoming = undefined;
    void this.#resync();
  }

  /** The link is down: nothing is kept (the next link sends everything again). */
  detach(): void {
    this.#conn = undefined;
    this.#resyncRun++;
    this.#resyncing = false;
    this.#resyncAgain = false;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#pending.clear();
    this.stats.pending = 0;
    this.stats.resyncProgress = undefined;
    this.#inFlight.clear();
  }

  /** A batch from the peer: applied, then acknowledged. */
  received(conn: PairConnection, body: Buffer): void {
    const batch = decodeSticks(body);
    const proxy = this.#proxy();
    const r = proxy?.applyStick(batch.table, batch.entries);
    this.stats.receivedEntries += batch.entries.length;
    this.stats.ignoredEntries += r ? r.older + r.unknownServer + (r.noTable ? batch.entries.length : 0) : batch.entries.length;
    if (this.#incoming && batch.resync) this.#incoming.entries += batch.entries.length;
    conn.send(encodeBinary(MSG.sticksAck, encodeAck(batch.seq)));
  }

  /** The peer acknowledged a batch: the lag of its oldest change. */
  acknowledged(body: Buffer): void {
    const seq = decodeAck(body);
    const changedAt = this.#inFlight.get(seq);
    if (changedAt === undefined) return;
    this.#inFlight.delete(seq);
    if (changedAt >= 0) this.stats.lagMs = Math.max(0, this.#clock.now() - changedAt);
  }

  /** The peer starts or ends sending its whole table. */
  resyncMarker(m: ResyncMessage): void {
    if (m.phase === "begin") {
      this.#incoming = { started: this.#clock.now(), entries: 0 };
      return;
    }
    const inc = this.#incoming;
    this.#incoming = undefined;
    if (!inc) return;
    const ms = Math.round(this.#clock.now() - inc.started);
    this.stats.resyncsReceived++;
    this.stats.lastResync = { direction: "received", entries: inc.entries, ms, at: this.#clock.wallNow() };
    this.#bus.emit("pair.resync", { direction: "received", entries: inc.entries, ms });
  }

  #changed(proxy: string, key: string): void {
    if (!this.#conn) return;
    let keys = this.#pending.get(proxy);
    if (!keys) this.#pending.set(proxy, (keys = new Set()));
    if (keys.has(key)) return;
    if (this.stats.pending >= MAX_PENDING) return this.#overflow();
    if (this.stats.pending === 0) this.#oldest = this.#clock.now();
    keys.add(key);
    this.stats.pending++;
    this.#timer ??= this.#clock.setTimeout(() => this.#flush(), FLUSH_DELAY);
  }

  /** Too many changes waiting (a slow or stuck link): drop them and send everything again. */
  #overflow(): void {
    this.stats.droppedKeys += this.stats.pending;
    this.#log.warn(`Pair link: ${this.stats.pending} stick changes waiting, more than ${MAX_PENDING}: dropped, a full resync follows`);
    this.#pending.clear();
    this.stats.pending = 0;
    if (this.#resyncing) this.#resyncAgain = true;
    else void this.#resync();
  }

  #flush(): void {
    this.#timer = undefined;
    const conn = this.#conn;
    const proxy = this.#proxy();
    if (!conn || conn.closed || !proxy) return;
    if (conn.writableLength > HIGH_WATER) {
      void conn.drained().then(() => {
        if (this.#conn === conn) this.#timer ??= this.#clock.setTimeout(() => this.#flush(), 0);
      });
      return;
    }
    const changedAt = this.#oldest;
    const pending = this.#pending;
    this.#pending = new Map();
    this.stats.pending = 0;
    try {
      for (const [table, keys] of pending) {
        const reader = proxy.stickReader(table, [...keys]);
        if (!reader) continue;
        for (let entries = reader.next(MAX_BATCH); entries.length > 0; entries = reader.next(MAX_BATCH)) {
          this.#send(conn, table, entries, false, changedAt);
        }
      }
    } catch (err) {
      // Runs from a timer: a failure is logged, and the next link's resync sends everything.
      this.#log.error(`Pair link: cannot send stick changes: ${describeError(err)}`);
    }
  }

  #send(conn: PairConnection, table: string, entries: { key: string; server: string; expiresIn: number }[], resync: boolean, changedAt: number): boolean {
    const seq = (this.#seq = (this.#seq + 1) >>> 0);
    this.#inFlight.set(seq, changedAt);
    if (this.#inFlight.size > MAX_IN_FLIGHT) this.#inFlight.delete(this.#inFlight.keys().next().value!);
    this.stats.sentEntries += entries.length;
    return conn.send(encodeBinary(MSG.sticks, encodeSticks({ seq, resync, table, entries })));
  }

  /** Sends every table, batch by batch, yielding between batches and waiting for the socket. */
  async #resync(): Promise<void> {
    const conn = this.#conn;
    const proxy = this.#proxy();
    if (!conn || !proxy) return;
    const run = ++this.#resyncRun;
    this.#resyncing = true;
    const started = this.#clock.now();
    try {
      const readers = proxy.stickTables().map((t) => ({ table: t, reader: proxy.stickReader(t) })).filter((r) => r.reader);
      const total = readers.reduce((n, r) => n + r.reader!.total, 0);
      let sent = 0;
      this.stats.resyncProgress = { sent, total };
      conn.send(encodeJson(MSG.resync, { phase: "begin", entries: total }));
      for (const { table, reader } of readers) {
        for (let entries = reader!.next(MAX_BATCH); entries.length > 0; entries = reader!.next(MAX_BATCH)) {
          if (!this.#send(conn, table, entries, true, -1)) await conn.drained();
          await nextTurn();
          if (run !== this.#resyncRun || conn.closed) return;
          sent += entries.length;
          this.stats.resyncProgress = { sent, total };
        }
      }
      conn.send(encodeJson(MSG.resync, { phase: "end", entries: sent }));
      const ms = Math.round(this.#clock.now() - started);
      this.stats.resyncsSent++;
      this.stats.lastResync = { direction: "sent", entries: sent, ms, at: this.#clock.wallNow() };
      this.#bus.emit("pair.resync", { direction: "sent", entries: sent, ms });
    } catch (err) {
      this.#log.error(`Pair link: stick resync failed: ${describeError(err)}`);
    } finally {
      if (run === this.#resyncRun) {
        this.#resyncing = false;
        this.stats.resyncProgress = undefined;
        if (this.#resyncAgain) {
          this.#resyncAgain = false;
          void this.#resync();
        }
      }
    }
  }
}
