// The delivery worker of one notifier: spool first, then deliver with backoff until done or too old.

import type { RetryPolicy } from "./config.ts";
import type { Clock, TimerHandle } from "../core/clock.ts";
import { describeError } from "../core/errors.ts";
import type { EventBus } from "../core/events.ts";
import type { Logger } from "../core/log.ts";
import type { OutgoingMessage } from "./message.ts";
import { type AttemptResult, backoffDelay, decideAfterAttempt, isExpired, pendingRecipients } from "./retry.ts";
import { newSpoolId, Spool, type SpoolEntry } from "./spool.ts";

/** A delivery channel (email, webhook). */
export interface Transport {
  /** The addresses a new message goes to (email: the To list; webhook: the URL). */
  recipients(): string[];
  /** One attempt to the given still-pending recipients. Must not throw: failures are results. */
  deliver(entry: SpoolEntry, recipients: string[]): Promise<AttemptResult>;
}

/** Counters and state of one notifier, for status() and the admin API. */
export interface QueueStatus {
  notifier: string;
  dir: string;
  pending: number;
  oldestPendingAt?: string;
  queued: number;
  delivered: number;
  dropped: number;
  attempts: number;
  failedAttempts: number;
  rejectedRecipients: number;
  lastDeliveryAt?: string;
  lastError?: string;
  /** The worker waits until then before the next attempt (after failures). */
  backoffUntil?: string;
}

export interface QueueOptions {
  notifier: string;
  dir: string;
  transport: Transport;
  retry: RetryPolicy;
  clock: Clock;
  bus: EventBus;
  log: Logger;
}

/** Longest single timer: wake at least this often and re-read the wall clock. */
const MAX_TIMER_MS = 30_000;

/**
 * Spools messages for one notifier and delivers them. Entries are kept in memory and on disk;
 * the disk copy is the truth after a restart. Attempts run one at a time; after a failure that
 * hit the whole server, the queue backs off as a whole (no hammering a dead server per message).
 */
export class DeliveryQueue {
  readonly notifier: string;
  #spool: Spool;
  #transport: Transport;
  #retry: RetryPolicy;
  #clock: Clock;
  #bus: EventBus;
  #log: Logger;
  #entries = new Map<string, SpoolEntry>();
  #timer: TimerHandle | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #dirReady: Promise<void> | undefined;
  #stopped = false;
  #blockedUntil = 0;
  #consecutiveFailures = 0;
  #counters = { queued: 0, delivered: 0, dropped: 0, attempts: 0, failedAttempts: 0, rejectedRecipients: 0 };
  #lastDeliveryAt: number | undefined;
  #lastError: string | undefined;

  constructor(options: QueueOptions) {
    this.notifier = options.notifier;
    this.#spool = new Spool(options.dir);
    this.#transport = options.transport;
    this.#retry = options.retry;
    this.#clock = options.clock;
    this.#bus = options.bus;
    this.#log = options.log;
  }

  /** Creates the spool directory and picks up messages left by a previous run. */
  async start(): Promise<void> {
    await this.#ensureDir();
    const { entries, bad } = await this.#spool.loadAll();
    for (const b of bad) this.#log.error("unreadable spool file set aside", { notifier: this.notifier, file: `${b.file}.bad`, reason: b.reason });
    for (const e of entries) this.#entries.set(e.id, { ...e, nextAttemptAt: Math.min(e.nextAttemptAt, this.#clock.wallNow()) });
    if (entries.length > 0) this.#log.info("pending messages found in spool", { notifier: this.notifier, count: entries.length, dir: this.#spool.dir });
    this.#kick();
  }

  /** Swaps transport and retry policy (reload); pending messages stay. */
  update(transport: Transport, retry: RetryPolicy): void {
    this.#transport = transport;
    this.#retry = retry;
    this.#blockedUntil = 0;
    this.#consecutiveFailures = 0;
    this.#kick();
  }

  /** Writes the message to the spool (durably) and returns its id; delivery happens afterwards. */
  async enqueue(message: OutgoingMessage): Promise<string> {
    const now = this.#clock.wallNow();
    const recipients: Record<string, "pending"> = {};
    for (const r of this.#transport.recipients()) recipients[r] = "pending";
    const entry: SpoolEntry = {
      version: 1,
      id: newSpoolId(now),
      notifier: this.notifier,
      createdAt: now,
      message,
      attempts: 0,
      nextAttemptAt: now,
      recipients,
    };
    await this.#ensureDir();
    await this.#spool.write(entry);
    this.#entries.set(entry.id, entry);
    this.#counters.queued++;
    this.#kick();
    return entry.id;
  }

  status(): QueueStatus {
    let oldest: number | undefined;
    for (const e of this.#entries.values()) oldest = oldest === undefined ? e.createdAt : Math.min(oldest, e.createdAt);
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    return {
      notifier: this.notifier,
      dir: this.#spool.dir,
      pending: this.#entries.size,
      oldestPendingAt: iso(oldest),
      ...this.#counters,
      lastDeliveryAt: iso(this.#lastDeliveryAt),
      lastError: this.#lastError,
      backoffUntil: this.#blockedUntil > this.#clock.wallNow() ? iso(this.#blockedUntil) : undefined,
    };
  }

  /** Resolves once nothing is due right now and no attempt runs (tests, graceful stop). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Stops timers and waits for the attempt in flight; pending messages stay in the spool. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    await this.idle();
  }

  async #ensureDir(): Promise<void> {
    this.#dirReady ??= this.#spool.init().catch((err) => {
      this.#dirReady = undefined;
      throw err;
    });
    await this.#dirReady;
  }

  #kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#running = this.#pump().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        this.#kick();
      } else {
        this.#schedule();
      }
    });
  }

  #schedule(): void {
    if (this.#stopped || this.#entries.size === 0) return;
    let earliest = Infinity;
    for (const e of this.#entries.values()) earliest = Math.min(earliest, e.nextAttemptAt);
    const due = Math.max(earliest, this.#blockedUntil);
    const wait = Math.min(Math.max(due - this.#clock.wallNow(), 0), MAX_TIMER_MS);
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, wait);
  }

  #nextDue(): SpoolEntry | undefined {
    const now = this.#clock.wallNow();
    let best: SpoolEntry | undefined;
    for (const e of this.#entries.values()) {
      if (e.nextAttemptAt > now) continue;
      if (!best || e.createdAt < best.createdAt) best = e;
    }
    return best;
  }

  async #pump(): Promise<void> {
    for (;;) {
      if (this.#stopped) return;
      const now = this.#clock.wallNow();
      const entry = this.#nextDue();
      if (!entry) return;
      if (isExpired(entry, now, this.#retry)) {
        await this.#drop(entry, `not delivered within max age (${entry.attempts} attempts; last error: ${entry.lastError ?? "none"})`);
        continue;
      }
      if (now < this.#blockedUntil) return;
      await this.#attempt(entry);
    }
  }

  async #attempt(entry: SpoolEntry): Promise<void> {
    const recipients = pendingRecipients(entry);
    this.#counters.attempts++;
    let result: AttemptResult;
    try {
      result = await this.#transport.deliver(entry, recipients);
    } catch (err) {
      result = { kind: "error", permanent: false, error: describeError(err) };
    }
    const now = this.#clock.wallNow();
    const decision = decideAfterAttempt(entry, result, now, this.#retry);
    for (const r of decision.rejected) {
      this.#counters.rejectedRecipients++;
      this.#log.error("recipient rejected permanently, dropped for this message", { notifier: this.notifier, id: entry.id, recipient: r.recipient, reason: r.detail });
    }
    if (decision.delivered.length > 0) {
      this.#lastDeliveryAt = now;
      this.#consecutiveFailures = 0;
      this.#blockedUntil = 0;
      // The server is back: bring every waiting message forward instead of sitting out its backoff.
      for (const e of this.#entries.values()) if (e !== entry) e.nextAttemptAt = Math.min(e.nextAttemptAt, now);
    }
    if (decision.action === "done") {
      this.#entries.delete(entry.id);
      await this.#removeFile(entry.id);
      this.#counters.delivered++;
      this.#log.info("message delivered", { notifier: this.notifier, id: entry.id, attempts: decision.entry.attempts, to: Object.keys(entry.recipients).filter((r) => decision.entry.recipients[r] === "delivered").join(",") });
      this.#bus.emit("notify.delivered", { notifier: this.notifier, id: entry.id });
      return;
    }
    if (decision.action === "drop") {
      await this.#drop(decision.entry, decision.reason ?? "rejected");
      return;
    }
    this.#counters.failedAttempts++;
    this.#lastError = decision.reason;
    if (decision.delivered.length === 0 && decision.rejected.length === 0) {
      // No progress at all: the server as a whole is failing, so back off the whole queue.
      this.#consecutiveFailures++;
      this.#blockedUntil = now + backoffDelay(this.#retry, this.#consecutiveFailures);
    }
    this.#log.warn("delivery failed, will retry", { notifier: this.notifier, id: entry.id, attempt: decision.entry.attempts, retryIn: decision.entry.nextAttemptAt - now, reason: decision.reason });
    this.#entries.set(entry.id, decision.entry);
    try {
      await this.#spool.write(decision.entry);
    } catch (err) {
      // The previous copy is still on disk; only the attempt count and recipient states are stale.
      this.#log.error("cannot update spool file", { notifier: this.notifier, id: entry.id, reason: describeError(err) });
    }
  }

  async #drop(entry: SpoolEntry, reason: string): Promise<void> {
    this.#entries.delete(entry.id);
    await this.#removeFile(entry.id);
    this.#counters.dropped++;
    this.#lastError = reason;
    this.#log.error("message dropped", { notifier: this.notifier, id: entry.id, subject: entry.message.subject, reason });
    this.#bus.emit("notify.dropped", { notifier: this.notifier, id: entry.id, reason });
  }

  async #removeFile(id: string): Promise<void> {
    try {
      await this.#spool.remove(id);
    } catch (err) {
      this.#log.error("cannot remove spool file", { notifier: this.notifier, id, reason: describeError(err) });
    }
  }
}
